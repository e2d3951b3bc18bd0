"""Dashboards through GraphQL and CSV only, on a scripted scenario whose every figure is known.

Two real certifications imported from France Compétences exports (RNCP40344, four blocks; RNCP37488, two
blocks), owned by the VETERINAIRE branch; two evaluation centres; nine candidacies of eight candidates:
six evaluated (some blocks failed) and decided at two sessions (two full awards, two partial validations,
two refusals), one only positioned, one withdrawn, one VAE only opened. LEEM, another branch, has none.

The services stamp events with the time they happen and a jury decides on the day it is asked, so the
whole scenario happens today; to measure known times to decision, the decided candidacies' opening is
then moved back in the gateway's read model by 30, 60, 90, 120, 150 and 400 days before their decision
(at noon, whatever the time zone). The commands go straight to the services, as in test_lists.
"""

from __future__ import annotations

import asyncio
import functools
import csv
import io
import subprocess
import sys
from datetime import date, timedelta

import httpx
import pytest_asyncio

from tests.e2e import test_lists
from tests.harness import ROOT, System, eventually

DATA = ROOT.parent / "shared" / "data" / "france-competences" / "04_mcp-rncp_FC-xml-V4.1_fixture"
A, B = "RNCP40344", "RNCP37488"
BLOCKS = {A: [f"{A}BC0{n}" for n in (1, 2, 3, 4)], B: [f"{B}BC0{n}" for n in (1, 2)]}
TODAY = date.today().isoformat()
EXPERIENCE = [{"start": "2018-01-01", "end": "2024-12-31", "activity": "Soins aux animaux"}]
LEARNING = {"EvaluatorNotAccredited", "NotReadyForJury", "NotEligible"}
command = functools.partial(test_lists.command, learning=LEARNING)

# name: (certification, centre, route, failed blocks (None: not evaluated), session, decision, days before it)
DECIDED = {
    "A1": (A, "C1", "TRAINING", [], "S1", "FULL_AWARD", 30),
    "A2": (A, "C1", "TRAINING", [f"{A}BC04"], "S1", "PARTIAL_VALIDATION", 60),
    "A3": (A, "C2", "TRAINING", [f"{A}BC02", f"{A}BC03"], "S2", "REFUSAL", 90),
    "A4": (A, "C2", "DIRECT_ACCESS", [], "S2", "FULL_AWARD", 120),
    "B1": (B, "C1", "TRAINING", [f"{B}BC02"], "S2", "PARTIAL_VALIDATION", 150),
    "B2": (B, "C2", "TRAINING", [f"{B}BC01", f"{B}BC02"], "S2", "REFUSAL", 400),
}

DASHBOARD = """query($scope: DashboardScope!, $from: Date, $to: Date, $top: Int! = 10) {
  dashboard(scope: $scope, from: $from, to: $to, top: $top) { __typename
    ... on Error { code message }
    ... on Dashboard { kind key from to
      byStatus { status count } byRoute { route count }
      funnel { candidates opened positioned evaluated presented decided awarded }
      passRates { byCertification { ...Rate } byEvaluator { ...Rate } bySession { ...Rate } }
      timeToDecision { decided medianDays p90Days }
      mostFailedBlocks { block certification failures } } } }
fragment Rate on PassRateRow { key label decided fullAwards partialValidations refusals fullRate partialRate
                               refusalRate }"""


def run_import(system: System, path, *options: str) -> None:
    done = subprocess.run([sys.executable, "-m", "tools.cli", "catalog", "import", str(path), *options],
                          cwd=ROOT, env=system.importer_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


async def count(system, sql: str, *args) -> int:
    return (await system.sql(f"SELECT count(*) AS n FROM gateway.{sql}", *args))[0]["n"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world():
    system = await System.create()
    try:
        await system.start()
        admin = await system.token()
        for branch in ("VETERINAIRE", "LEEM"):
            await command(system, "catalog", "create-branch", {"code": branch, "name": branch}, admin)
        await eventually(lambda: count(system, "branches WHERE code = 'LEEM'"))
        await asyncio.to_thread(run_import, system, DATA / "RNCP40344_ASV_branch-cert_paritaire-jury.xml", "--all",
                                "--owner", "VETERINAIRE")
        await asyncio.to_thread(run_import, system, DATA / "export_fiches_RNCP_fixture.xml", "--fiche", B,
                                "--owner", "VETERINAIRE")
        await eventually(lambda: _equal(count(system, "certifications WHERE current_version IS NOT NULL"), 2))
        token = system.operator = await system.token()
        system.centres = {}
        for name in ("C1", "C2"):
            system.centres[name] = (await command(system, "catalog", "register-organisation",
                                                  {"name": f"Centre {name}", "kinds": ["EVALUATION_CENTRE"]}, token))["id"]
            await command(system, "catalog", "accredit", {
                "organisation_id": system.centres[name], "branch": "VETERINAIRE", "certifications": [A, B],
                "scope": "EVALUATION", "valid_from": "2024-01-01"}, token)
        evaluators = {name: await system.token(organisation=org, role="evaluator")
                      for name, org in system.centres.items()}

        async def open_candidacy(certification, centre, route, candidate=None):
            if candidate is None:
                candidate = (await command(system, "candidacy", "register-candidate", {
                    "given_name": "Prénom", "family_name": "Nom", "email": "p@example.org", "status": "EMPLOYEE"},
                    token))["id"]
            body = {"candidate_id": candidate, "certification": certification, "route": route,
                    "evaluator_id": system.centres[centre]}
            if route == "VAE":
                body["experience"] = EXPERIENCE
            return candidate, (await command(system, "candidacy", "open-candidacy", body, token))["id"]

        sessions = {}
        for name, certifications in (("S1", [A]), ("S2", [A, B])):
            sessions[name] = (await command(system, "jury", "schedule-session", {
                "branch": "VETERINAIRE", "certifications": certifications, "on": TODAY, "place": f"Lyon {name}",
                "capacity": 10}, token))["id"]
            members = [(await command(system, "jury", "appoint-member", {
                "session_id": sessions[name], "name": f"M{n}", "college": college, "role": role}, token))["member_id"]
                for n, (college, role) in enumerate([("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT")])]
            sessions[name] = (sessions[name], members)
        system.sessions = {name: s for name, (s, _) in sessions.items()}

        system.candidacies, candidates = {}, {}
        for name, (certification, centre, route, failed, session, decision, _) in DECIDED.items():
            candidates[name], candidacy = await open_candidacy(certification, centre, route)
            system.candidacies[name] = candidacy
            await command(system, "candidacy", "position", {"candidacy_id": candidacy}, token)
            for block in BLOCKS[certification]:
                await command(system, "jury", "record-evaluation", {
                    "candidacy_id": candidacy, "block": block, "modality": "TEST", "evaluator": "Jean Dupont",
                    "competences": [{"competence": "C1", "acquired": block not in failed}], "on": TODAY,
                    "evidence": "dossier"}, evaluators[centre])
            session_id, members = sessions[session]
            await command(system, "jury", "present", {"session_id": session_id, "candidacy_id": candidacy}, token)
            await command(system, "jury", "decide", {"session_id": session_id, "candidacy_id": candidacy,
                                                      "decision": decision, "present_members": members,
                                                      "votes_for": 2}, token)
        for session_id, members in sessions.values():  # the results published, so the awarded candidacies close
            await command(system, "jury", "close-session", {"session_id": session_id, "president": members[0]}, token)
            await command(system, "jury", "publish-session-results", {"session_id": session_id}, token)
        # B3: A2's candidate again, positioned only; B4 withdrawn as opened; A5 a VAE only opened.
        _, system.candidacies["B3"] = await open_candidacy(B, "C1", "TRAINING", candidates["A2"])
        await command(system, "candidacy", "position", {"candidacy_id": system.candidacies["B3"]}, token)
        _, system.candidacies["B4"] = await open_candidacy(B, "C2", "DIRECT_ACCESS")
        await command(system, "candidacy", "withdraw", {"candidacy_id": system.candidacies["B4"],
                                                        "reason": "changed jobs"}, token)
        _, system.candidacies["A5"] = await open_candidacy(A, "C1", "VAE")

        async def projected():
            return [await count(system, "candidacies"), await count(system, "jury_decisions"),
                    await count(system, "certificates"), await count(system, "jury_evaluations"),
                    await count(system, "candidacies WHERE status IN ('CLOSED', 'WITHDRAWN')"),
                    await count(system, "candidacies WHERE status = 'POSITIONED'")] == [9, 6, 4, 20, 3, 5]

        await eventually(projected, timeout=60)
        system.decided_on = (await system.sql("SELECT min(decided_on) AS d FROM gateway.jury_decisions"))[0]["d"]
        for name, (*_, days) in DECIDED.items():
            await system.sql("UPDATE gateway.candidacies SET opened_at = (($2::date - $3::int) + time '12:00')"
                             "::timestamptz WHERE id = $1::uuid", system.candidacies[name], system.decided_on, days)
        yield system
    finally:
        system.stop()


async def _equal(value, expected) -> bool:
    return await value == expected


async def dashboard(system, scope: dict, token="operator", **variables) -> dict:
    token = system.operator if token == "operator" else token
    return (await system.graphql(DASHBOARD, {"scope": scope, **variables}, token=token))["dashboard"]


def rate(key, label, decided, full, partial, refusals):
    return {"key": key, "label": label, "decided": decided, "fullAwards": full, "partialValidations": partial,
            "refusals": refusals, "fullRate": round(full / decided, 4), "partialRate": round(partial / decided, 4),
            "refusalRate": round(refusals / decided, 4)}


def by_key(rows: list[dict]) -> dict:
    return {r["key"]: r for r in rows}


async def test_a_branch_dashboard_counts_its_candidacies_by_status_and_route_and_through_the_funnel(world):
    found = await dashboard(world, {"branch": "VETERINAIRE"})
    assert (found["__typename"], found["kind"], found["key"], found["from"], found["to"]) == (
        "Dashboard", "BRANCH", "VETERINAIRE", None, None)
    assert {r["status"]: r["count"] for r in found["byStatus"]} == {"CLOSED": 2, "POSITIONED": 5, "WITHDRAWN": 1,
                                                                    "OPEN": 1}
    assert {r["route"]: r["count"] for r in found["byRoute"]} == {"TRAINING": 6, "DIRECT_ACCESS": 2, "VAE": 1}
    assert found["funnel"] == {"candidates": 8, "opened": 9, "positioned": 7, "evaluated": 6, "presented": 6,
                               "decided": 6, "awarded": 2}


async def test_pass_rates_count_full_awards_partial_validations_and_refusals_per_certification_centre_and_session(
        world):
    rates = (await dashboard(world, {"branch": "VETERINAIRE"}))["passRates"]
    assert by_key(rates["byCertification"]) == {
        A: rate(A, "Auxiliaire spécialisé vétérinaire", 4, 2, 1, 1), B: rate(B, "Cybersécurité", 2, 0, 1, 1)}
    c1, c2 = world.centres["C1"], world.centres["C2"]
    assert by_key(rates["byEvaluator"]) == {c1: rate(c1, "Centre C1", 3, 1, 2, 0),
                                            c2: rate(c2, "Centre C2", 3, 1, 0, 2)}
    s1, s2 = world.sessions["S1"], world.sessions["S2"]
    day = world.decided_on.isoformat()
    assert by_key(rates["bySession"]) == {s1: rate(s1, f"{day} Lyon S1", 2, 1, 1, 0),
                                          s2: rate(s2, f"{day} Lyon S2", 4, 1, 1, 2)}
    assert by_key(rates["byEvaluator"])[c1]["partialRate"] == 0.6667


async def test_the_time_to_decision_is_the_median_and_90th_percentile_of_days_from_opening_to_first_outcome(world):
    found = await dashboard(world, {"branch": "VETERINAIRE"})
    # 30, 60, 90, 120, 150 and 400 days: the median between 90 and 120, the 90th percentile halfway 150 to 400.
    assert found["timeToDecision"] == {"decided": 6, "medianDays": 105.0, "p90Days": 275.0}


async def test_the_most_failed_blocks_come_first_then_by_code_and_top_cuts_the_list(world):
    found = await dashboard(world, {"branch": "VETERINAIRE"})
    assert [(r["block"], r["certification"], r["failures"]) for r in found["mostFailedBlocks"]] == [
        (f"{B}BC02", B, 2), (f"{B}BC01", B, 1), (f"{A}BC02", A, 1), (f"{A}BC03", A, 1), (f"{A}BC04", A, 1)]
    top = await dashboard(world, {"branch": "VETERINAIRE"}, top=2)
    assert [r["block"] for r in top["mostFailedBlocks"]] == [f"{B}BC02", f"{B}BC01"]


async def test_the_period_counts_only_the_candidacies_opened_in_it(world):
    since = (world.decided_on - timedelta(days=200)).isoformat()
    found = await dashboard(world, {"branch": "VETERINAIRE"}, **{"from": since})  # B2, opened 400 days before
    assert found["from"] == since
    assert found["funnel"] == {"candidates": 7, "opened": 8, "positioned": 6, "evaluated": 5, "presented": 5,
                               "decided": 5, "awarded": 2}
    assert found["timeToDecision"] == {"decided": 5, "medianDays": 90.0, "p90Days": 138.0}
    assert by_key(found["passRates"]["byCertification"])[B] == rate(B, "Cybersécurité", 1, 0, 1, 0)
    assert [(r["block"], r["failures"]) for r in found["mostFailedBlocks"]] == [
        (f"{B}BC02", 1), (f"{A}BC02", 1), (f"{A}BC03", 1), (f"{A}BC04", 1)]
    yesterday = (world.decided_on - timedelta(days=1)).isoformat()  # without those opened on the day
    until = await dashboard(world, {"branch": "VETERINAIRE"}, **{"from": since, "to": yesterday})
    assert until["funnel"]["opened"] == 5 and until["byStatus"] == [{"status": "CLOSED", "count": 2},
                                                                    {"status": "POSITIONED", "count": 3}]


async def test_a_certification_dashboard_counts_only_that_certification(world):
    auditor = await world.token(organisation="VETERINAIRE", role="auditor", branches=("VETERINAIRE",))
    found = await dashboard(world, {"certification": B}, auditor)
    assert found["funnel"] == {"candidates": 4, "opened": 4, "positioned": 3, "evaluated": 2, "presented": 2,
                               "decided": 2, "awarded": 0}
    assert [r["key"] for r in found["passRates"]["byCertification"]] == [B]
    assert found["timeToDecision"] == {"decided": 2, "medianDays": 275.0, "p90Days": 375.0}


async def test_a_centre_sees_the_dashboard_of_its_own_candidacies_and_is_forbidden_any_other(world):
    c1 = world.centres["C1"]
    evaluator = await world.token(organisation=c1, role="evaluator")
    own = await dashboard(world, {"organisation": c1}, evaluator)
    assert own["funnel"] == {"candidates": 4, "opened": 5, "positioned": 4, "evaluated": 3, "presented": 3,
                             "decided": 3, "awarded": 1}
    assert [r["key"] for r in own["passRates"]["byEvaluator"]] == [c1]
    assert by_key(own["passRates"]["byCertification"]) == {
        A: rate(A, "Auxiliaire spécialisé vétérinaire", 2, 1, 1, 0), B: rate(B, "Cybersécurité", 1, 0, 1, 0)}
    assert own["timeToDecision"] == {"decided": 3, "medianDays": 60.0, "p90Days": 132.0}
    # The branch's admin sees the same figures of that centre (accredited by its branch).
    branch_admin = await world.token(organisation="VETERINAIRE", role="branch-admin", branches=("VETERINAIRE",))
    assert await dashboard(world, {"organisation": c1}, branch_admin) == own
    for scope in ({"organisation": world.centres["C2"]}, {"branch": "VETERINAIRE"}, {"certification": A}):
        assert (await dashboard(world, scope, evaluator))["__typename"] == "Forbidden", scope


async def test_another_branch_is_forbidden_the_branchs_dashboards_and_sees_nothing_in_its_own(world):
    leem = await world.token(organisation="LEEM", role="branch-admin", branches=("LEEM",))
    for scope in ({"branch": "VETERINAIRE"}, {"certification": A}, {"organisation": world.centres["C1"]}):
        refused = await dashboard(world, scope, leem)
        assert refused["__typename"] == "Forbidden" and refused["code"] == "Forbidden", scope
    own = await dashboard(world, {"branch": "LEEM"}, leem)
    assert own["funnel"] == {"candidates": 0, "opened": 0, "positioned": 0, "evaluated": 0, "presented": 0,
                             "decided": 0, "awarded": 0}
    assert own["byStatus"] == [] and own["passRates"]["byCertification"] == [] and own["mostFailedBlocks"] == []
    assert own["timeToDecision"] == {"decided": 0, "medianDays": None, "p90Days": None}
    jury_member = await world.token(organisation="VETERINAIRE", role="jury-member", branches=("VETERINAIRE",))
    assert (await dashboard(world, {"branch": "VETERINAIRE"}, jury_member))["__typename"] == "Forbidden"


async def test_an_unknown_target_is_not_found_and_a_bad_scope_or_period_is_invalid_input(world):
    for scope in ({"certification": "RNCP00000"}, {"organisation": "00000000-0000-0000-0000-000000000000"},
                  {"organisation": "not-an-id"}, {"branch": "NOPE"}):
        assert (await dashboard(world, scope))["__typename"] == "NotFound", scope
    for scope, variables in (({}, {}), ({"branch": "VETERINAIRE", "certification": A}, {}),
                             ({"branch": "VETERINAIRE"}, {"from": "2025-02-01", "to": "2025-01-01"}),
                             ({"branch": "VETERINAIRE"}, {"top": 0})):
        assert (await dashboard(world, scope, **variables))["__typename"] == "InvalidInput", (scope, variables)


async def export(system, query: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=system["gateway"].url, timeout=60) as http:
        return await http.get(f"/exports/dashboard/pass-rates.csv{query}", headers=headers)


async def test_the_csv_of_the_pass_rates_is_the_dashboards_table_and_is_scoped_the_same_way(world):
    answer = await export(world, "?branch=VETERINAIRE", world.operator)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    rates = (await dashboard(world, {"branch": "VETERINAIRE"}))["passRates"]
    for grouping, field in (("CERTIFICATION", "byCertification"), ("EVALUATOR", "byEvaluator"),
                            ("SESSION", "bySession")):
        assert [(r["key"], r["label"], int(r["decided"]), int(r["full_awards"]), int(r["partial_validations"]),
                 int(r["refusals"]), float(r["full_rate"]), float(r["refusal_rate"]))
                for r in rows if r["grouping"] == grouping] == [
            (r["key"], r["label"], r["decided"], r["fullAwards"], r["partialValidations"], r["refusals"],
             r["fullRate"], r["refusalRate"]) for r in rates[field]]
    period = await export(world, f"?certification={B}&from={(world.decided_on - timedelta(days=200)).isoformat()}",
                          world.operator)
    assert [(r["grouping"], r["decided"]) for r in csv.DictReader(io.StringIO(period.text))] == [
        ("CERTIFICATION", "1"), ("EVALUATOR", "1"), ("SESSION", "1")]
    leem = await world.token(organisation="LEEM", role="branch-admin", branches=("LEEM",))
    assert (await export(world, "?branch=VETERINAIRE", leem)).status_code == 403
    assert (await export(world, "?branch=VETERINAIRE", None)).status_code == 401
    assert (await export(world, "?branch=NOPE", world.operator)).status_code == 404
    assert (await export(world, "?branch=VETERINAIRE&colour=red", world.operator)).status_code == 400
    assert (await export(world, "?branch=VETERINAIRE&from=yesterday", world.operator)).status_code == 400
