"""Lists done right, through the real gateway: keyset pages stay exact while rows are inserted and
change status between two pages, under two sorts; a cursor of another list or sort is refused; a page
of candidacies with everything nested costs the same few SQL statements (and one call for the names)
whatever its size; the CSV export of a list is the GraphQL list with the same filter, and is scoped
the same way. The data is set up with commands sent straight to the services (fast), the reads go
through GraphQL and the CSV routes only."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from datetime import date

import httpx
import pytest
import pytest_asyncio

from tests.documents import paper, upload
from tests.harness import System, eventually

TODAY = date.today().isoformat()
CERT_A, CERT_B = "RNCP95001", "RNCP95002"
BLOCKS_A = [f"{CERT_A}BC01", f"{CERT_A}BC02"]
PAGE_OF = 100
_keys = itertools.count()
# Refusals of a service that has not yet learnt, through Kafka, what the command relies on.
LEARNING = {"EvaluatorNotAccredited", "NotReadyForJury"}


def key() -> str:
    return f"lists-{next(_keys)}"


async def command(system, service: str, name: str, body: dict, token: str, learning: set[str] = LEARNING) -> dict:
    """A command straight to its service; refused while the service learns of a record through Kafka
    (UnknownCandidacy, `learning`): again (a refusal writes nothing)."""
    async def attempt():
        answer = await system.command(service, name, body, key(), token=token)
        if answer.status_code == 200:
            return answer.json()
        error = answer.json().get("error", {})
        assert error.get("type", "").startswith("Unknown") or error.get("type") in learning, (name, answer.text)
        return None

    return await eventually(attempt)


async def in_batches(calls, size: int = 8) -> list:
    results = []
    for start in range(0, len(calls), size):
        results += await asyncio.gather(*calls[start:start + size])
    return results


async def gateway_count(system, sql: str, *args) -> int:
    return (await system.sql(f"SELECT count(*) AS n FROM gateway.{sql}", *args))[0]["n"]


async def candidacies(system, token, certification: str, n: int, family_name=lambda i: f"Nom{i:03d}") -> list[str]:
    """`n` candidates, each with a candidacy for `certification` (registered and opened in that order)."""
    people = await in_batches([command(system, "candidacy", "register-candidate", {
        "given_name": f"Prénom{i}", "family_name": family_name(i), "email": f"p{i}@example.org",
        "status": "EMPLOYEE"}, token) for i in range(n)])
    ids = []
    for person in people:  # one by one: their opening order is their order by opening date
        ids.append((await command(system, "candidacy", "open-candidacy", {
            "candidate_id": person["id"], "certification": certification, "route": "TRAINING",
            "evaluator_id": system.centre}, token))["id"])
    return ids


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def lists():
    """UIMM with two certifications and 100 candidacies of the first: ten of them positioned, evaluated
    and presented to a session, four of those awarded (and so closed); LEEM with nothing of UIMM's."""
    system = await System.create()
    try:
        await system.start(CQP_COUNT_QUERIES="true")
        admin = await system.token()
        for branch in ("UIMM", "LEEM"):
            await command(system, "catalog", "create-branch", {"code": branch, "name": branch}, admin)
        await eventually(lambda: gateway_count(system, "branches WHERE code = 'LEEM'"))
        token = system.operator = await system.token()  # the operator, admin of both branches now known
        system.centre = (await command(system, "catalog", "register-organisation",
                                       {"name": "Centre", "kinds": ["EVALUATION_CENTRE"]}, token))["id"]
        for code in (CERT_A, CERT_B):
            await command(system, "catalog", "create-certification", {
                "code": code, "kind": "CQP", "title": f"CQP {code}", "owners": ["UIMM"],
                "blocks": [{"code": f"{code}BC0{n}", "title": f"Bloc {n}"} for n in (1, 2)]}, token)
        await command(system, "catalog", "accredit", {
            "organisation_id": system.centre, "branch": "UIMM", "certifications": [CERT_A, CERT_B],
            "scope": "EVALUATION", "valid_from": "2024-01-01"}, token)
        # A name a spreadsheet would run as a formula: the CSV must quote it.
        system.candidacies = await candidacies(system, token, CERT_A, PAGE_OF,
                                               lambda i: "=HYPERLINK(1)" if i == 0 else f"Nom{i:03d}")
        session = (await command(system, "jury", "schedule-session", {
            "branch": "UIMM", "certifications": [CERT_A], "on": TODAY, "place": "Paris", "capacity": 20}, token))["id"]
        members = [(await command(system, "jury", "appoint-member", {
            "session_id": session, "name": f"M{n}", "college": college, "role": role}, token))["member_id"]
            for n, (college, role) in enumerate([("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT")])]
        evaluator = await system.token(organisation=system.centre, role="evaluator")
        system.awarded = []
        for n, candidacy in enumerate(system.candidacies[:10]):
            await command(system, "candidacy", "position", {"candidacy_id": candidacy}, token)
            for block in BLOCKS_A:
                await command(system, "jury", "record-evaluation", {
                    "candidacy_id": candidacy, "block": block, "competences": [{"competence": "C1", "acquired": True}],
                    "modality": "TEST", "evaluator": "Jean Dupont", "on": TODAY, "evidence": "dossier"}, evaluator)
            await command(system, "jury", "present", {"session_id": session, "candidacy_id": candidacy}, token)
            if n < 4:
                await command(system, "jury", "decide", {"session_id": session, "candidacy_id": candidacy,
                                                          "decision": "FULL_AWARD", "present_members": members,
                                                          "votes_for": 2}, token)
                system.awarded.append(candidacy)
        # Published with uploaded minutes (the session stays open: six presented are not yet decided).
        minutes = await upload(system, "attachJuryPaper", "AttachJuryPaperInput",
                               {"sessionId": session, "kind": "JURY_MINUTES"}, paper("minutes"), key(), token,
                               success="JuryPaperAttached")
        assert minutes["__typename"] == "JuryPaperAttached", minutes
        await command(system, "jury", "publish-session-results", {"session_id": session}, token)

        counts = []

        async def projected():
            counts[:] = [await gateway_count(system, "candidacies"), await gateway_count(system, "certificates"),
                         await gateway_count(system, "jury_evaluations"),
                         await gateway_count(system, "candidacies WHERE status = 'OPEN'"),
                         await gateway_count(system, "candidacies WHERE status = 'CLOSED'")]  # the awarded
            return counts == [PAGE_OF, 4, 20, PAGE_OF - 10, 4]

        try:
            await eventually(projected, timeout=60)
        except TimeoutError:
            raise AssertionError(f"the gateway shows {counts}") from None
        yield system
    finally:  # a setup that fails stops its processes too
        system.stop()


# ------------------------------------------------------------------------------ keyset pages

PAGE = """query($filter: CandidacyFilter, $sort: CandidacySort, $first: Int!, $after: String) {
  candidacies(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount edges { cursor node { id status } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


async def page(system, filter: dict, sort: dict, first: int, after: str | None = None, token="default") -> dict:
    token = system.operator if token == "default" else token
    return (await system.graphql(PAGE, {"filter": filter, "sort": sort, "first": first, "after": after},
                                 token=token))["candidacies"]


@pytest.mark.parametrize("sort", [{"field": "OPENED_AT", "direction": "DESC"},
                                  {"field": "CERTIFICATION", "direction": "ASC"}],
                         ids=["newest-first", "by-certification"])
async def test_pages_give_every_row_once_though_rows_are_inserted_before_the_cursor_and_leave_the_filter(
        lists, sort):
    token = lists.operator
    mine = await candidacies(lists, token, CERT_B, 9, lambda i: f"Page{i}")
    await eventually(lambda: gateway_count(lists, "candidacies WHERE id = ANY($1::uuid[])", mine))
    filter = {"status": "OPEN", "certification": CERT_B}  # this test's rows (and an earlier run's)
    first = await page(lists, filter, sort, 4)
    assert first["totalCount"] >= 9 and first["pageInfo"]["hasNextPage"]
    seen = [e["node"]["id"] for e in first["edges"]]
    existing = {e["node"]["id"] for e in (await page(lists, filter, sort, 200))["edges"]}

    # Between two pages: two candidacies opened now (first under "newest first"; under "by certification"
    # they tie on CERT_B and fall among the rest by id), and one row of the first page leaves the filter.
    inserted = await candidacies(lists, token, CERT_B, 2, lambda i: f"Late{i}")
    await command(lists, "candidacy", "position", {"candidacy_id": seen[0]}, token)

    async def projected():
        rows = await lists.sql("SELECT count(*) AS n FROM gateway.candidacies WHERE id = ANY($1::uuid[])"
                               " OR (id = $2::uuid AND status = 'POSITIONED')", inserted, seen[0])
        return rows[0]["n"] == 3

    await eventually(projected)
    after = first["pageInfo"]["endCursor"]
    while after:
        next_page = await page(lists, filter, sort, 4, after)
        assert next_page["pageInfo"]["hasPreviousPage"]
        seen += [e["node"]["id"] for e in next_page["edges"]]
        after = next_page["pageInfo"]["endCursor"] if next_page["pageInfo"]["hasNextPage"] else None

    assert len(seen) == len(set(seen)), "a row was given twice"
    assert existing - {seen[0]} <= set(seen), "a row that matched throughout was skipped"
    assert set(seen) - existing <= set(inserted)


async def test_the_same_rows_come_in_the_same_order_page_by_page_as_in_one_page(lists):
    for sort in ({"field": "OPENED_AT", "direction": "ASC"}, {"field": "STATUS", "direction": "DESC"}):
        whole = [e["node"]["id"] for e in (await page(lists, {"certification": CERT_A}, sort, 200))["edges"]]
        paged, after = [], None
        while True:
            p = await page(lists, {"certification": CERT_A}, sort, 30, after)
            paged += [e["node"]["id"] for e in p["edges"]]
            if not p["pageInfo"]["hasNextPage"]:
                break
            after = p["pageInfo"]["endCursor"]
        assert paged == whole and len(whole) == PAGE_OF


async def test_a_cursor_of_another_sort_or_list_or_not_made_here_is_refused_with_a_typed_error(lists):
    by_date = await page(lists, {}, {"field": "OPENED_AT"}, 2)
    cursor = by_date["pageInfo"]["endCursor"]
    other_sort = await lists.graphql_answer(PAGE, {"sort": {"field": "STATUS"}, "first": 2, "after": cursor},
                                            token=lists.operator)
    assert other_sort["errors"][0]["extensions"]["code"] == "InvalidCursor"
    assert other_sort["errors"][0]["extensions"]["given"] == {"list": "candidacies", "sort": "OPENED_AT",
                                                              "direction": "ASC"}
    other_list = await lists.graphql_answer(
        "query($a: String) { certifications(first: 2, after: $a) { totalCount } }", {"a": cursor}, token=None)
    assert other_list["errors"][0]["extensions"]["code"] == "InvalidCursor"
    forged = cursor.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA"
    for bad in (forged, "b2Zmc2V0OjQ="):  # the second: an offset cursor of the old API
        refused = await lists.graphql_answer(PAGE, {"sort": {"field": "OPENED_AT"}, "first": 2, "after": bad},
                                             token=lists.operator)
        assert refused["errors"][0]["extensions"]["code"] == "InvalidCursor"


# ------------------------------------------------------------------------------ cost of a page

NESTED = """query($first: Int!, $filter: CandidacyFilter) { candidacies(first: $first, filter: $filter) {
  edges { node { id status
    certification { code title }
    blocks { code title state }
    evaluations { block validated }
    decisions { decision blocksAcquired }
    certificates { number holder }
    candidate { familyName }
  } } } }"""


async def cost(system, first: int) -> tuple[dict, dict]:
    async with httpx.AsyncClient(timeout=60) as http:
        answer = (await http.post(system.graphql_url, json={
            "query": NESTED, "variables": {"first": first, "filter": {"certification": CERT_A}}},
            headers={"authorization": f"Bearer {system.operator}"})).json()
    assert "errors" not in answer, answer["errors"]
    return answer["data"]["candidacies"], answer["extensions"]


async def test_a_page_of_candidacies_with_everything_nested_costs_the_same_few_statements_whatever_its_size(lists):
    small, small_cost = await cost(lists, 10)
    large, large_cost = await cost(lists, PAGE_OF)
    nodes = [e["node"] for e in large["edges"]]
    assert len(nodes) == PAGE_OF
    # The page does hold what it is about: evaluations, decisions, certificates and names.
    assert sum(len(n["evaluations"]) for n in nodes) == 20
    assert sum(len(n["certificates"]) for n in nodes) == 4
    assert sum(len(n["decisions"]) for n in nodes) == 4
    assert all(n["certification"]["code"] == CERT_A and len(n["blocks"]) == 2 for n in nodes)
    assert {n["candidate"]["familyName"] for n in nodes} >= {"Nom001", "=HYPERLINK(1)"}
    # One statement per kind of thing (the caller's check, count, rows, certifications, versions for the
    # blocks, evaluations, decisions, certificates, candidates), not one per row; the names in one call.
    assert large_cost["sqlStatements"] == small_cost["sqlStatements"] <= 9, (small_cost, large_cost)
    # Names: one call per depth at which the query shows them (the candidates', the holders'), at most.
    assert large_cost["peopleCalls"] <= 2 and small_cost["peopleCalls"] <= 2


# ------------------------------------------------------------------------------ CSV exports

async def export(system, path: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=system["gateway"].url, timeout=60) as http:
        return await http.get(path, headers=headers)


async def test_the_csv_export_of_a_filtered_list_is_the_graphql_list_with_the_same_filter(lists):
    listed = await page(lists, {"certification": CERT_A, "status": "OPEN"}, {"field": "OPENED_AT",
                                                                            "direction": "DESC"}, 200)
    answer = await export(lists, f"/exports/candidacies.csv?certification={CERT_A}&status=OPEN"
                                 "&sort=OPENED_AT&direction=DESC", lists.operator)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["id"] for r in rows] == [e["node"]["id"] for e in listed["edges"]]
    assert len(rows) == listed["totalCount"] == 90
    assert "Nom099" in {r["family_name"] for r in rows}


async def test_a_csv_export_needs_a_token_and_shows_a_branch_admin_of_another_branch_nothing(lists):
    """And its own branch's admin every row, a name that looks like a formula quoted."""
    assert (await export(lists, "/exports/candidacies.csv", None)).status_code == 401
    leem = await lists.token(organisation="LEEM", role="branch-admin", branches=("LEEM",))
    scoped = await export(lists, f"/exports/candidacies.csv?certification={CERT_A}", leem)
    assert scoped.status_code == 200 and scoped.text.strip().splitlines()[1:] == []
    listed = await page(lists, {"certification": CERT_A}, {}, 10, token=leem)
    assert listed["totalCount"] == 0
    uimm = await lists.token(organisation="UIMM", role="branch-admin", branches=("UIMM",))
    rows = list(csv.DictReader(io.StringIO((await export(lists, f"/exports/candidacies.csv?certification={CERT_A}",
                                                         uimm)).text)))
    assert len(rows) == PAGE_OF
    assert "'=HYPERLINK(1)" in {r["family_name"] for r in rows}  # a formula, quoted for spreadsheets


async def test_a_csv_export_refuses_a_filter_or_sort_the_list_does_not_have(lists):
    unknown = await export(lists, "/exports/candidacies.csv?colour=red", lists.operator)
    assert (unknown.status_code, unknown.json()["error"]["type"]) == (400, "InvalidInput")
    bad_sort = await export(lists, "/exports/candidacies.csv?sort=NAME", lists.operator)
    assert bad_sort.status_code == 400
    assert (await export(lists, "/exports/nothing.csv", lists.operator)).status_code == 404


async def test_the_public_lists_export_without_a_token(lists):
    certifications = await export(lists, "/exports/certifications.csv?sort=CODE&direction=DESC", None)
    assert [r["code"] for r in csv.DictReader(io.StringIO(certifications.text))] == [CERT_B, CERT_A]
    sessions = await export(lists, "/exports/jury-sessions.csv", lists.operator)
    assert len(list(csv.DictReader(io.StringIO(sessions.text)))) == 1
