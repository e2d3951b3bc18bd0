"""The role table (shared/roles.toml), cell by cell, through GraphQL with real Keycloak tokens.

One world of two branches (UIMM and LEEM), each with its certification, its evaluation centre, and
organisations around one candidacy of UIMM. For every operation and every role the table allows, the
role does it on a record within its scope (anything but Forbidden), and a caller of the same role
outside that scope is refused (nothing written: as an unknown id when it may not even read the record, else
Forbidden) or sees nothing. A role the table does not
list for a command is refused. The cells are generated from the table: adding a row adds its tests.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import httpx
import jwt
import pytest
import pytest_asyncio

from shared.documents import KINDS
from shared.policy import ANYONE, Scope, operations
from tests.documents import download, paper, upload
from tests.e2e.test_subscriptions import live
from tests.harness import System, eventually

CERT_A, CERT_B = "RNCP90001", "RNCP90002"
BLOCKS_A = [f"{CERT_A}BC01", f"{CERT_A}BC02"]
TODAY = date.today().isoformat()
_keys = itertools.count()

# The commands of the table, but those a service runs itself on its own events (no endpoint: no caller's cell).
INTERNAL = {"issue-certificate-document"}
COMMANDS = {name: op for name, op in operations().items() if op.service != "gateway" and name not in INTERNAL}
# The rows reading a kind of document: the owning service serves its bytes (GET /documents/<id> on the gateway).
DOCUMENT_READS = {rule.read for rule in KINDS.values()}
# The commands carrying a document (a GraphQL multipart upload), each with its mutation's success type.
UPLOADS = {"attach-vae-paper": "DocumentAttached", "attach-identity-document": "DocumentAttached",
           "attach-evaluation-evidence": "DocumentAttached", "attach-jury-paper": "JuryPaperAttached"}
READS = {name: op for name, op in operations().items() if op.service == "gateway" and ANYONE not in op.scopes}


def key() -> str:
    return f"role-table-{next(_keys)}"


async def mutate(system, field, input_type, data, token="default", selection=""):
    query = (f"mutation($input: {input_type}!, $key: String!) {{ {field}(input: $input, idempotencyKey: $key) {{"
             f" __typename ... on Error {{ code message details }} {selection} }} }}")
    return (await system.graphql(query, {"input": data, "key": key()}, token=token))[field]


async def ok(system, field, input_type, data, selection, token="default"):
    result = await mutate(system, field, input_type, data, token, selection)
    assert "code" not in result, result
    return result


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world():
    w = await System.create()
    await w.start()
    for code in ("UIMM", "LEEM"):
        await ok(w, "createBranch", "CreateBranchInput", {"code": code, "name": code, "idcc": []}, "")
    w.orgs = {}
    for name, kinds in [("centre_a", ["EVALUATION_CENTRE"]), ("centre_b", ["EVALUATION_CENTRE"]),
                        ("trainer_a", ["TRAINING_ORGANISATION"]), ("trainer_b", ["TRAINING_ORGANISATION"]),
                        ("funder_a", ["FUNDER"]), ("funder_b", ["FUNDER"]),
                        ("employer_a", ["EMPLOYER"]), ("employer_b", ["EMPLOYER"])]:
        result = await ok(w, "registerOrganisation", "RegisterOrganisationInput", {"name": name, "kinds": kinds},
                          "... on OrganisationRegistered { organisation { id } }")
        w.orgs[name] = result["organisation"]["id"]
    for code, branch, centre in ((CERT_A, "UIMM", "centre_a"), (CERT_B, "LEEM", "centre_b")):
        await ok(w, "createCertification", "CreateCertificationInput", {
            "code": code, "kind": "CQP", "title": f"CQP {code}", "owners": [branch],
            "blocks": [{"code": f"{code}BC0{n}", "title": f"Bloc {n}"} for n in (1, 2)]}, "")
        await ok(w, "accredit", "AccreditInput", {"organisationId": w.orgs[centre], "branch": branch,
                                                  "certifications": [code], "scope": "EVALUATION",
                                                  "validFrom": "2024-01-01"}, "")
    w.account = f"candidate-{uuid.uuid4().hex[:8]}"
    w.tokens = await tokens(w)
    w.candidate = await register(w, w.tokens["evaluator"][0], account=w.account)
    await confirmed(w, w.candidate)
    opened = await once_known(w, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": w.candidate, "certification": CERT_A, "route": "TRAINING", "evaluatorId": w.orgs["centre_a"],
        "trainerId": w.orgs["trainer_a"], "employerId": w.orgs["employer_a"]},
        "... on CandidacyChanged { candidacy { id } }", token=w.tokens["evaluator"][0])  # it registered them
    w.candidacy = opened["candidacy"]["id"]
    await ok(w, "positionCandidacy", "CandidacyInput", {"candidacyId": w.candidacy}, "")  # ready for the jury
    funded = await ok(w, "requestFunding", "RequestFundingInput", {
        "candidacyId": w.candidacy, "funder": "OPCO", "amount": "900.00", "funderId": w.orgs["funder_a"]},
        "... on CandidacyChanged { candidacy { fundings { id } } }")
    w.funding = funded["candidacy"]["fundings"][0]["id"]
    session = await ok(w, "scheduleJurySession", "ScheduleJurySessionInput", {
        "branch": "UIMM", "certifications": [CERT_A], "on": TODAY, "place": "Paris", "capacity": 10},
        "... on JurySessionChanged { session { id } }")
    w.session = session["session"]["id"]
    for block in BLOCKS_A:  # every block evaluated, so the candidacy can sit before the UIMM session
        await once_known(w, "recordEvaluation", "RecordEvaluationInput", evaluation(w, block),
                         "... on EvaluationRecorded { validated }", token=w.tokens["evaluator"][0])
    await once_known(w, "presentCandidacy", "PresentCandidacyInput",
                     {"sessionId": w.session, "candidacyId": w.candidacy}, "")
    # One document of each read row, attached while the candidacy is under way: what the read cells download.
    w.documents = {}
    for row, (mutation, input_type, data, success) in {
            "read-vae-paper": ("attachVaePaper", "AttachVaePaperInput",
                               {"candidacyId": w.candidacy, "kind": "LIVRET_2"}, "DocumentAttached"),
            "read-identity-document": ("attachIdentityDocument", "AttachIdentityDocumentInput",
                                       {"candidacyId": w.candidacy}, "DocumentAttached"),
            "read-evaluation-evidence": ("attachEvaluationEvidence", "AttachEvaluationEvidenceInput",
                                         {"candidacyId": w.candidacy, "block": BLOCKS_A[0]}, "DocumentAttached"),
            "read-jury-paper": ("attachJuryPaper", "AttachJuryPaperInput",
                                {"sessionId": w.session, "kind": "ATTENDANCE_SHEET"}, "JuryPaperAttached")}.items():
        attached = await upload(w, mutation, input_type, data, paper(row), key(), success=success)
        assert attached["__typename"] == success, attached
        w.documents[row] = attached["document"]["id"]
    members = []
    for n, (college, role) in enumerate([("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT")]):
        appointed = await ok(w, "appointJuryMember", "AppointJuryMemberInput",
                             {"sessionId": w.session, "name": f"M{n}", "college": college, "role": role},
                             "... on JurySessionChanged { memberId }")
        members.append(appointed["memberId"])
    awarded = await ok(w, "decide", "DecideInput", {"sessionId": w.session, "candidacyId": w.candidacy,
                                                     "decision": "FULL_AWARD", "presentMembers": members,
                                                     "votesFor": 2}, "... on JurySessionChanged { certificateNumber }")
    w.certificate = awarded["certificateNumber"]

    async def certificate_pdf():  # the jury service makes it on its own CertificateIssued (services/jury/certificates.py)
        found = await w.graphql("query($id: ID!) { candidacy(id: $id) { documents { id kind } } }", {"id": w.candidacy})
        return next((d["id"] for d in found["candidacy"]["documents"] if d["kind"] == "CERTIFICATE_PDF"), None)

    w.documents["read-certificate-document"] = await eventually(certificate_pdf, timeout=60)
    # The session closed with its minutes, its results published: the candidate and their organisations see them.
    await ok(w, "closeJurySession", "CloseSessionInput", {"sessionId": w.session, "president": members[0]}, "")
    await ok(w, "publishSessionResults", "PublishSessionResultsInput", {"sessionId": w.session}, "")
    # A second session of UIMM, not yet held to its end: its results are due (what deadlinesDue pushes).
    due = await ok(w, "scheduleJurySession", "ScheduleJurySessionInput", {
        "branch": "UIMM", "certifications": [CERT_A], "on": TODAY, "place": "Lyon", "capacity": 10},
        "... on JurySessionChanged { session { id } }")
    w.due_session = due["session"]["id"]

    async def results_due():  # the jury's deadline engine opened it and found it due; the gateway shows it
        found = await w.graphql("{ deadlines(filter: {state: DUE}) { edges { node { sessionId } } } }")
        return any(e["node"]["sessionId"] == w.due_session for e in found["deadlines"]["edges"])

    await eventually(results_due, timeout=60)
    # Something the UIMM organisation's admin did itself: its own trail (auditTrail, own-organisation).
    await ok(w, "registerOrganisation", "RegisterOrganisationInput", {"name": "by UIMM", "kinds": ["EMPLOYER"]},
             "", token=w.tokens["branch-admin"][0])
    yield w
    w.stop()


async def once_known(w, field, input_type, data, selection, token="default"):
    """The services learn the catalog and each other through Kafka: retry (same effect) until they know."""
    async def attempt():
        result = await mutate(w, field, input_type, data, token, selection)
        return None if result.get("code") in ("UnknownCandidacy", "UnknownCertification", "NotEligible",
                                               "NotReadyForJury") else result
    result = await eventually(attempt)
    assert "code" not in result, result
    return result


async def register(w, token, account=None) -> str:
    data = {"givenName": "Léa", "familyName": "Roux", "email": "lea.roux@example.org", "status": "EMPLOYEE",
            **({"account": account} if account else {})}
    result = await ok(w, "registerCandidate", "RegisterCandidateInput", data,
                      "... on CandidateRegistered { candidate { id } }", token)
    return result["candidate"]["id"]


async def confirmed(w, person: str) -> None:
    """The person, signed in as the login named at registration, confirms it: only then does it reach them."""
    await ok(w, "confirmAccount", "ConfirmAccountInput", {"candidateId": person}, "", w.tokens["candidate"][0])


async def registered_person(w, registrar: str, account=None, confirm: bool = True) -> tuple[str, str]:
    """A new person registered by the registrar's organisation when its role may register people, else by
    the operator; and the token that registered them (the person rule: only it acts on them)."""
    data = {"givenName": "Noé", "familyName": "Blanc", "email": "noe@example.org", "status": "EMPLOYEE",
            **({"account": account} if account else {})}
    for token in (registrar, "default"):
        result = await mutate(w, "registerCandidate", "RegisterCandidateInput", data, token,
                              "... on CandidateRegistered { candidate { id } }")
        if "candidate" in result:
            if account and confirm:
                await confirmed(w, result["candidate"]["id"])
            return result["candidate"]["id"], token
    raise AssertionError(result)


def evaluation(w, block: str) -> dict:
    return {"candidacyId": w.candidacy, "block": block, "competences": [{"competence": "C1", "acquired": True}],
            "modality": "TEST", "evaluator": "Jean Dupont", "on": TODAY, "evidence": "dossier 12"}


async def tokens(w) -> dict[str, tuple[str, str | None]]:
    """Per role: a token within the world's UIMM records, and one of the same role outside them."""
    async def pair(role, inside, outside):
        return (await w.token(**inside, role=role), await w.token(**outside, role=role) if outside else None)

    uimm, leem = {"organisation": "UIMM", "branches": ("UIMM",)}, {"organisation": "LEEM", "branches": ("LEEM",)}
    o = w.orgs
    return {
        "platform-admin": await pair("platform-admin", {"organisation": "platform"}, None),
        "branch-admin": await pair("branch-admin", uimm, leem),
        "certifier": await pair("certifier", uimm, leem),
        "jury-secretary": await pair("jury-secretary", uimm, leem),
        "jury-member": await pair("jury-member", uimm, leem),
        "auditor": await pair("auditor", uimm, leem),
        "evaluator": await pair("evaluator", {"organisation": o["centre_a"]}, {"organisation": o["centre_b"]}),
        "trainer": await pair("trainer", {"organisation": o["trainer_a"]}, {"organisation": o["trainer_b"]}),
        "funder": await pair("funder", {"organisation": o["funder_a"]}, {"organisation": o["funder_b"]}),
        "employer": await pair("employer", {"organisation": o["employer_a"]}, {"organisation": o["employer_b"]}),
        "candidate": await pair("candidate", {"username": w.account}, {"username": f"other-{w.account}"}),
    }


# ------------------------------------------------------------------------------ reads

async def sees(w, name: str, token: str) -> bool:
    """Whether the caller sees the world's record through that query or CSV export."""
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    exports = {"exportRoster": f"/exports/sessions/{w.session}/roster.csv",
               "exportDecisions": f"/exports/sessions/{w.session}/decisions.csv",
               "exportHolders": "/exports/branches/UIMM/holders.csv",
               "exportCandidates": "/exports/candidates.csv", "exportCandidacies": "/exports/candidacies.csv",
               "exportJurySessions": "/exports/jury-sessions.csv",
               "exportUndeclaredAwards": f"/exports/undeclared-awards.csv?awardedBefore={tomorrow}"}
    markers = {"exportHolders": w.certificate, "exportUndeclaredAwards": w.certificate,
               "exportCandidates": w.candidate, "exportCandidacies": w.candidacy, "exportJurySessions": w.session}
    if name in ("dashboard", "exportDashboard"):
        return await sees_in_dashboard(w, name, token)
    if name in LIVE:
        return await sees_live(w, name, token)
    if name in exports:
        async with httpx.AsyncClient(base_url=w["gateway"].url, timeout=30) as http:
            answer = await http.get(exports[name], headers={"authorization": f"Bearer {token}"})
        if answer.status_code == 404:
            return False
        assert answer.status_code == 200, answer.text
        return markers.get(name, "Roux") in answer.text  # by default, the candidate's family name
    queries = {
        "candidate": ('query($id: ID!) { candidate(id: $id) { id familyName } }', {"id": w.candidate},
                      lambda d: d["candidate"] is not None),
        "candidacy": ('query($id: ID!) { candidacy(id: $id) { id } }', {"id": w.candidacy},
                      lambda d: d["candidacy"] is not None),
        "undeclaredAwards": ('query($d: Date) { undeclaredAwards(filter: {awardedBefore: $d}) { edges { node {'
                             ' number } } } }', {"d": tomorrow},
                             lambda d: w.certificate in [e["node"]["number"] for e in d["undeclaredAwards"]["edges"]]),
        "candidates": ('{ candidates(first: 100) { totalCount edges { node { id } } } }', {},
                       lambda d: w.candidate in [e["node"]["id"] for e in d["candidates"]["edges"]]),
        "candidacies": ('{ candidacies(first: 100) { totalCount edges { node { id } } } }', {},
                        lambda d: w.candidacy in [e["node"]["id"] for e in d["candidacies"]["edges"]]),
        "jurySession": ('query($id: ID!) { jurySession(id: $id) { id } }', {"id": w.session},
                        lambda d: d["jurySession"] is not None),
        "jurySessions": ('{ jurySessions { edges { node { id } } } }', {},
                         lambda d: w.session in [e["node"]["id"] for e in d["jurySessions"]["edges"]]),
        # The world's session's results to enter, its award's declaration: a deadline about its records.
        "deadlines": ('{ deadlines(first: 100) { edges { node { candidacyId sessionId } } } }', {},
                      lambda d: any(w.candidacy == e["node"]["candidacyId"] or w.session == e["node"]["sessionId"]
                                    for e in d["deadlines"]["edges"])),
        "deadlineFigures": ('{ deadlineFigures { branch total } }', {},
                            lambda d: any(f["branch"] == "UIMM" and f["total"] for f in d["deadlineFigures"])),
    }
    histories = {"candidacyHistory": w.candidacy, "candidateHistory": w.candidate, "jurySessionHistory": w.session,
                 "organisationHistory": w.orgs["centre_a"]}  # accredited by UIMM
    if name == "certificationHistory":
        histories[name] = (await w.graphql("query($c: String!) { certification(code: $c) { id } }",
                                           {"c": CERT_A}))["certification"]["id"]
    for history, aggregate_id in histories.items():
        queries[history] = ("query($id: ID!) { history(aggregateId: $id) { __typename } }", {"id": aggregate_id},
                            lambda d: d["history"]["__typename"] == "AggregateHistory")
    # A trail shows the world's record: the events about its candidacy, or those UIMM's organisation recorded.
    queries["auditTrail"] = (
        "query($to: DateTime!) { auditTrail(from: \"2000-01-01T00:00:00Z\", to: $to, first: 200) {"
        " ... on AuditTrail { edges { node { aggregateId actor { organisationId } } } } } }",
        {"to": (date.today() + timedelta(days=1)).isoformat() + "T00:00:00Z"},
        lambda d: any(e["node"]["aggregateId"] == w.candidacy or e["node"]["actor"]["organisationId"] == "UIMM"
                      for e in d["auditTrail"].get("edges", [])))
    query, variables, seen = queries[name]
    return seen(await w.graphql(query, variables, token=token))


async def sees_in_dashboard(w, name: str, token: str) -> bool:
    """Whether the world's candidacy counts in the dashboard of UIMM, or else of the caller's organisation."""
    for scope in caller_scopes(token):
        if name == "exportDashboard":
            async with httpx.AsyncClient(base_url=w["gateway"].url, timeout=30) as http:
                answer = await http.get("/exports/dashboard/pass-rates.csv", params=scope,
                                        headers={"authorization": f"Bearer {token}"})
            if answer.status_code == 200 and len(answer.text.strip().splitlines()) > 1:
                return True
            continue
        found = (await w.graphql("query($s: DashboardScope!) { dashboard(scope: $s) {"
                                 " ... on Dashboard { funnel { opened } } } }", {"s": scope}, token=token))["dashboard"]
        if found.get("funnel", {}).get("opened"):
            return True
    return False


def caller_scopes(token: str) -> list[dict]:
    """The dashboards to look in: UIMM's, else the caller's organisation's."""
    return [{"branch": "UIMM"}, {"organisation": jwt.decode(token, options={"verify_signature": False})
                                 .get("organisation", "")}]


# subscription → (document, its variables for a world and a token, whether its first push shows the world's record)
LIVE = {
    "candidacyChanged": ("subscription($id: ID!) { candidacyChanged(id: $id) { id } }",
                         lambda w, token: [{"id": w.candidacy}], lambda w, d: d["candidacyChanged"]["id"]),
    "candidacyCounters": ("subscription { candidacyCounters { total } }",
                          lambda w, token: [{}], lambda w, d: d["candidacyCounters"]["total"] > 0),
    "dashboardChanged": ("subscription($s: DashboardScope!) { dashboardChanged(scope: $s) { funnel { opened } } }",
                         lambda w, token: [{"s": scope} for scope in caller_scopes(token)],
                         lambda w, d: d["dashboardChanged"]["funnel"]["opened"] > 0),
    "deadlinesDue": ("subscription { deadlinesDue { sessionId } }", lambda w, token: [{}],
                     lambda w, d: any(due["sessionId"] == w.due_session for due in d["deadlinesDue"])),
}


async def sees_live(w, name: str, token: str) -> bool:
    """Whether a subscription's first push shows the world's record (a refusal ends it with an error)."""
    document, variables, seen = LIVE[name]
    async with live(w, token) as subscriber:
        for n, values in enumerate(variables(w, token)):
            await subscriber.subscribe(str(n), document, values)
            pushed = (await subscriber.message(str(n)))["payload"]
            if pushed.get("data") and seen(w, pushed["data"]):
                return True
    return False


READ_CELLS = [(name, role) for name, op in READS.items() for role in op.scopes]


@pytest.mark.parametrize("name, role", READ_CELLS, ids=[f"{n}-{r}" for n, r in READ_CELLS])
async def test_a_role_reads_within_its_scope_and_sees_nothing_outside_it(world, name, role):
    inside, outside = world.tokens[role]
    assert await sees(world, name, inside)
    if outside is not None:
        assert not await sees(world, name, outside)


@pytest.mark.parametrize("name", READS)
async def test_a_role_the_table_does_not_list_for_a_read_sees_nothing(world, name):
    unlisted = [r for r in world.tokens if r not in READS[name].scopes]
    for role in unlisted:
        assert not await sees(world, name, world.tokens[role][0]), role


async def test_counts_agree_with_what_the_caller_may_see(world):
    data = await world.graphql('{ candidacies { totalCount edges { node { id } } } }',
                               token=world.tokens["evaluator"][1])
    assert data["candidacies"]["totalCount"] == len(data["candidacies"]["edges"]) == 0


# ------------------------------------------------------------------------------ commands
# (after the reads: a command cell may change the world, e.g. a correction revokes the award)

async def command_input(w, name: str, registrar: str = "default") -> tuple[str, str, dict]:
    """(mutation, input type, input) of a command aimed at the world's UIMM records. `registrar`: the token
    of the role's caller within the records, whose organisation registers the people a command acts on."""
    n = next(_keys)
    c = {"candidacyId": w.candidacy}
    match name:
        case "create-branch":
            return "createBranch", "CreateBranchInput", {"code": f"BR{n}", "name": "Branche", "idcc": []}
        case "set-branch-deadlines":
            return "setBranchDeadlines", "SetBranchDeadlinesInput", {"code": "UIMM",
                                                                     "deadlines": {"resultsDaysAfter": 10 + n % 20}}
        case "set-branch-contact":
            return "setBranchContact", "SetBranchContactInput", {"code": "UIMM", "email": f"office-{n}@uimm.example.org"}
        case "register-organisation":
            return "registerOrganisation", "RegisterOrganisationInput", {"name": f"Org {n}", "kinds": ["EMPLOYER"]}
        case "create-certification":
            return "createCertification", "CreateCertificationInput", {
                "code": f"RNCP9{n:04d}", "kind": "CQP", "title": "CQP", "owners": ["UIMM"]}
        case "publish-version":
            return "publishVersion", "PublishVersionInput", {
                "code": CERT_A, "blocks": [{"code": b, "title": f"Bloc {b}"} for b in BLOCKS_A]}
        case "change-owners":
            return "changeOwners", "ChangeOwnersInput", {"code": CERT_A, "owners": ["UIMM"]}
        case "record-registration":
            return "recordRegistration", "RecordRegistrationInput", {
                "code": CERT_A, "registry": "RNCP", "number": CERT_A, "endDate": "2030-01-01", "routes": ["FC"]}
        case "declare-succession":
            # Both of the world's UIMM (a succession touches the predecessor's owners too).
            predecessor = f"RNCP8{n:04d}"
            await ok(w, "createCertification", "CreateCertificationInput", {
                "code": predecessor, "kind": "CQP", "title": "CQP", "owners": ["UIMM"]}, "")
            return "declareSuccession", "DeclareSuccessionInput", {"predecessor": predecessor, "successor": CERT_A}
        case "declare-equivalence":
            return "declareEquivalence", "DeclareEquivalenceInput", {
                "code": CERT_A, "block": BLOCKS_A[0], "target": CERT_B, "targetBlock": f"{CERT_B}BC01"}
        case "accredit":
            return "accredit", "AccreditInput", {"organisationId": w.orgs["centre_a"], "branch": "UIMM",
                                                 "certifications": [CERT_A], "scope": "TRAINING",
                                                 "validFrom": "2024-01-01"}
        case "withdraw-accreditation":
            made = await ok(w, "accredit", "AccreditInput", {
                "organisationId": w.orgs["trainer_a"], "branch": "UIMM", "certifications": [CERT_A],
                "scope": "TRAINING", "validFrom": "2024-01-01"}, "... on AccreditationChanged { accreditation { id } }")
            return "withdrawAccreditation", "WithdrawAccreditationInput", {
                "organisationId": w.orgs["trainer_a"], "accreditationId": made["accreditation"]["id"], "on": TODAY,
                "reason": "fin"}
        case "register-candidate":
            return "registerCandidate", "RegisterCandidateInput", {
                "givenName": "Noé", "familyName": "Blanc", "email": "noe@example.org", "status": "EMPLOYEE"}
        case "correct-candidate":
            person, _ = await registered_person(w, registrar, account=w.account)
            return "correctCandidate", "CorrectCandidateInput", {"candidateId": person, "phone": f"01 23 {n:04d}"}
        case "erase-candidate":
            # Another person of the same organisations (the world's candidate holds a certificate): the
            # candidacy under way refuses the erasure itself, after the rights were checked.
            person, by = await registered_person(w, registrar, account=w.account)
            await once_known(w, "openCandidacy", "OpenCandidacyInput", {
                "candidateId": person, "certification": CERT_A, "route": "TRAINING",
                "evaluatorId": w.orgs["centre_a"]}, "", token=by)
            return "eraseCandidate", "EraseCandidateInput", {"candidateId": person}
        case "confirm-account":
            person, _ = await registered_person(w, registrar, account=w.account, confirm=False)
            return "confirmAccount", "ConfirmAccountInput", {"candidateId": person}
        case "entrust-candidate":
            person, _ = await registered_person(w, registrar, account=w.account)
            return "entrustCandidate", "EntrustCandidateInput", {"candidateId": person,
                                                                 "organisationId": w.orgs["centre_b"]}
        case "open-candidacy":
            candidate, _ = await registered_person(w, registrar)
            return "openCandidacy", "OpenCandidacyInput", {
                "candidateId": candidate, "certification": CERT_A, "route": "TRAINING",
                "evaluatorId": w.orgs["centre_a"]}
        case "check-eligibility" | "position" | "file-admissibility" | "submit-validation-file":
            field = {"position": "positionCandidacy"}.get(name, "".join(
                p if i == 0 else p.title() for i, p in enumerate(name.split("-"))))
            return field, "CandidacyInput", c
        case "declare-experience":
            return "declareExperience", "DeclareExperienceInput", {**c, "periods": [
                {"start": "2020-01-01", "end": "2020-12-31", "activity": "Soudage"}]}
        case "set-path":
            return "setPath", "SetPathInput", {**c, "blocks": [{"block": BLOCKS_A[0], "hours": 10}]}
        case "request-funding":
            return "requestFunding", "RequestFundingInput", {**c, "funder": "OPCO", "amount": "10.00",
                                                             "funderId": w.orgs["funder_a"]}
        case "decide-funding":
            return "decideFunding", "DecideFundingInput", {**c, "fundingId": w.funding, "granted": True}
        case "decide-admissibility":
            return "decideAdmissibility", "DecideAdmissibilityInput", {**c, "admissible": True, "reason": "ok"}
        case "transfer":
            return "transferCandidacy", "TransferCandidacyInput", {**c, "evaluatorId": w.orgs["centre_a"],
                                                                   "reason": "déménagement"}
        case "withdraw":
            return "withdrawCandidacy", "WithdrawCandidacyInput", {**c, "reason": "abandon"}
        case "record-evaluation":
            return "recordEvaluation", "RecordEvaluationInput", evaluation(w, BLOCKS_A[0])
        case "schedule-session":
            later = (date.today() + timedelta(days=30)).isoformat()
            return "scheduleJurySession", "ScheduleJurySessionInput", {
                "branch": "UIMM", "certifications": [CERT_A], "on": later, "remote": True, "capacity": 5}
        case "appoint-member":
            return "appointJuryMember", "AppointJuryMemberInput", {
                "sessionId": w.session, "name": f"Membre {n}", "college": "EMPLOYEE"}
        case "present":
            return "presentCandidacy", "PresentCandidacyInput", {"sessionId": w.session, "candidacyId": w.candidacy}
        case "decide":
            return "decide", "DecideInput", {"sessionId": w.session, "candidacyId": w.candidacy,
                                             "decision": "DEFERRAL", "presentMembers": ["m1"], "votesFor": 1}
        case "correct-decision":
            return "correctDecision", "CorrectDecisionInput", {"sessionId": w.session, "candidacyId": w.candidacy,
                                                               "decision": "DEFERRAL", "reason": "erreur"}
        # The world's session is closed and published, its certificate downloaded by the candidate: each is
        # refused by its rule (closed already, published already, downloaded), after the rights were checked.
        case "close-session":
            return "closeJurySession", "CloseSessionInput", {"sessionId": w.session, "president": "m1"}
        case "publish-session-results":
            return "publishSessionResults", "PublishSessionResultsInput", {"sessionId": w.session}
        case "unpublish-session-results":
            return "unpublishSessionResults", "UnpublishSessionResultsInput", {"sessionId": w.session,
                                                                               "reason": "erreur"}
        # Batch commands, without a GraphQL mutation: sent to the service as the CLI tools do.
        case "import-fiche":
            return "", "", {"fiche": {"number": "RNCP99999", "title": "CQP importé", "blocks": []}, "owners": ["UIMM"]}
        case "declare-holders":
            return "", "", {"file": f"flux-{n}", "numbers": [w.certificate]}
        case "record-declaration-outcome":
            return "", "", {"file": "flux-0", "number": w.certificate, "accepted": True}
        # Documents: uploads through GraphQL (UPLOADS), purges sent as the CLI does, reads by download (attempt).
        case "attach-vae-paper":
            return "attachVaePaper", "AttachVaePaperInput", {**c, "kind": "LIVRET_1_SUPPORT"}
        case "attach-identity-document":
            return "attachIdentityDocument", "AttachIdentityDocumentInput", c
        case "attach-evaluation-evidence":
            return "attachEvaluationEvidence", "AttachEvaluationEvidenceInput", {**c, "block": BLOCKS_A[0]}
        case "attach-jury-paper":
            return "attachJuryPaper", "AttachJuryPaperInput", {"sessionId": w.session, "kind": "JURY_MINUTES"}
        case "purge-document":  # not due: refused by the rule, after the rights were checked
            return "", "", {"candidacy_id": w.candidacy, "document_id": w.documents["read-vae-paper"],
                            "kept_until": TODAY}
        case "purge-jury-document":
            return "", "", {"aggregate_id": w.session, "document_id": w.documents["read-jury-paper"],
                            "kept_until": TODAY}
    raise AssertionError(f"no input for {name}: add one")


async def events_in(w, service: str) -> int:
    return await w.written(service)


async def attempt(w, name: str, token: str, refused: bool = False, registrar: str = "default") -> str:
    """The outcome's error code, or "ok". `refused`: also check that it wrote nothing."""
    field, input_type, data = ("", "", {}) if name in DOCUMENT_READS else await command_input(w, name, registrar)
    written = await events_in(w, COMMANDS[name].service)
    outcome = await send(w, name, token, field, input_type, data)
    if refused:
        assert await events_in(w, COMMANDS[name].service) == written, "a refused command wrote events"
    return outcome


async def send(w, name: str, token: str, field: str, input_type: str, data: dict) -> str:
    if name in DOCUMENT_READS:  # reading the world's document of that kind: its bytes, or the typed refusal
        answer = await download(w, f"/documents/{w.documents[name]}", token)
        return "ok" if answer.status_code == 200 else answer.json()["error"]["type"]
    if name in UPLOADS:
        result = await upload(w, field, input_type, data, paper(name), key(), token, success=UPLOADS[name])
        return result.get("code", "ok")
    if not field:
        answer = await w.command(COMMANDS[name].service, name, data, key(), token=token)
        return "ok" if answer.status_code == 200 else answer.json()["error"]["type"]
    result = await mutate(w, field, input_type, data, token)
    return result.get("code", "ok")


CELLS = [(name, role) for name, op in COMMANDS.items() for role in op.scopes]
# The record a command names, by the role table's query that reads it; a command not listed names a candidacy
# (candidacy service) or a certification (catalog). A session not made yet names its branch.
NAMES = {"register-candidate": "candidate", "correct-candidate": "candidate", "erase-candidate": "candidate",
         "open-candidacy": "candidate", "confirm-account": "candidate", "entrust-candidate": "candidate",
         "accredit": "organisation", "withdraw-accreditation": "organisation", "register-organisation": "organisation",
         "create-branch": "branch", "schedule-session": "branch", "set-branch-deadlines": "branch",
         "set-branch-contact": "branch", "record-evaluation": "candidacy",
         "appoint-member": "jurySession", "present": "jurySession", "decide": "jurySession",
         "correct-decision": "jurySession", "close-session": "jurySession",
         "publish-session-results": "jurySession", "unpublish-session-results": "jurySession",
         "declare-holders": "verifyCertificate",
         "record-declaration-outcome": "verifyCertificate", "attach-evaluation-evidence": "candidacy",
         "read-evaluation-evidence": "candidacy", "attach-jury-paper": "jurySession", "read-jury-paper": "jurySession",
         "read-certificate-document": "candidacy"}
UNKNOWN = {"candidate": "UnknownCandidate", "candidacy": "UnknownCandidacy", "jurySession": "UnknownSession"}


def refusal_outside(name: str, role: str) -> str:
    """What a caller of the role outside its scope hears: Forbidden where the table lets it read the record anyway
    (a public record, or a role that reads every one), else what an id naming nothing hears (not whether it exists).
    The outside tokens read none of the world's records through a narrower scope (the read cells check that)."""
    read = NAMES.get(name, "candidacy" if COMMANDS[name].service == "candidacy" else "certification")
    scopes = operations()[read].scopes
    reads = ANYONE in scopes or Scope.ALL in scopes.get(role, ())
    return "Forbidden" if reads else UNKNOWN[read]


@pytest.mark.parametrize("name, role", CELLS, ids=[f"{n}-{r}" for n, r in CELLS])
async def test_a_role_does_a_command_within_its_scope_and_is_refused_outside_it(world, name, role):
    inside, outside = world.tokens[role]
    if outside is not None and Scope.ALL not in COMMANDS[name].scopes[role]:
        assert await attempt(world, name, outside, refused=True, registrar=inside) == refusal_outside(name, role)
    assert await attempt(world, name, inside, registrar=inside) not in ("Forbidden", "Unauthenticated")


@pytest.mark.parametrize("name", [name for name in COMMANDS if name not in DOCUMENT_READS])
async def test_an_auditor_reads_but_never_writes(world, name):
    assert await attempt(world, name, world.tokens["auditor"][0], refused=True) == "Forbidden"


def test_every_scope_of_the_table_is_exercised_here():
    used = {s for op in operations().values() for ss in op.scopes.values() for s in ss}
    assert used == set(Scope)
