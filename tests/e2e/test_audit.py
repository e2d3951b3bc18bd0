"""The audit through GraphQL only, on a scripted journey whose events are known: a certification created,
an organisation registered and accredited, a candidate registered, a candidacy opened and positioned, an
evaluation recorded, a session scheduled, the candidacy presented and decided, a version published.
History (the jury's events in the candidacy's), trails (keyset pages, stable under inserts), the scope of
an auditor, and states as of three instants (before, in the middle, after)."""

import base64
import json
import uuid
from datetime import date, datetime, timedelta, timezone

import jwt
import pytest_asyncio

from shared.http import idempotency_digest
from tests.e2e.test_jury_journey import ok, once_known, present
from tests.documents import attach_evidence
from tests.harness import System, eventually

TODAY = date.today().isoformat()
CODE, BLOCK = "RNCP99001", "RNCP99001BC01"
EVER = "2000-01-01T00:00:00+00:00"
FUTURE = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def user_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["preferred_username"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def journey():
    system = await System.create()
    await system.start()
    for code in ("UIMM", "LEEM"):
        await ok(system, "createBranch", "CreateBranchInput", {"code": code, "name": code, "idcc": ["3109"]}, code)
    system.operator = user_of(await system.token())
    system.before = now()
    centre = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                      {"name": "AFPI Audit", "kinds": ["EVALUATION_CENTRE"]}, "o",
                      "... on OrganisationRegistered { organisation { id } }")
    system.centre = centre["organisation"]["id"]
    certification = await ok(system, "createCertification", "CreateCertificationInput", {
        "code": CODE, "kind": "CQPM", "title": "CQPM audité", "owners": ["UIMM"], "settings": {"juryQuorum": 2},
        "blocks": [{"code": BLOCK, "title": "Bloc 1"}]}, "c", "... on CertificationChanged { certification { id } }")
    system.certification = certification["certification"]["id"]
    await ok(system, "accredit", "AccreditInput", {"organisationId": system.centre, "branch": "UIMM",
                                                     "certifications": [CODE], "scope": "EVALUATION",
                                                     "validFrom": "2024-01-01"}, "a")
    system.evaluator = await system.token(organisation=system.centre, role="evaluator", username="audit-evaluator")
    candidate = await ok(system, "registerCandidate", "RegisterCandidateInput",
                         {"givenName": "Camille", "familyName": "Secret", "email": "camille@example.org",
                          "status": "EMPLOYEE"}, "r", "... on CandidateRegistered { candidate { id } }")
    system.candidate = candidate["candidate"]["id"]
    opened = await once_known(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": system.candidate, "certification": CODE, "route": "DIRECT_ACCESS",
        "evaluatorId": system.centre}, "open", "... on CandidacyChanged { candidacy { id } }")
    system.candidacy = opened["candidacy"]["id"]
    await ok(system, "positionCandidacy", "CandidacyInput", {"candidacyId": system.candidacy}, "p")
    evidence = await attach_evidence(system, system.candidacy, BLOCK, "evidence", system.evaluator)
    await once_known(system, "recordEvaluation", "RecordEvaluationInput", {
        "candidacyId": system.candidacy, "block": BLOCK, "modality": "PRACTICAL_SITUATION", "evaluator": "J. Dupont",
        "on": TODAY, "evidence": "preuves/1", "evidenceDocuments": [evidence], "competences": [{"competence": "Conduire", "acquired": True}]},
        "e", token=system.evaluator)
    session = await ok(system, "scheduleJurySession", "ScheduleJurySessionInput", {
        "branch": "UIMM", "certifications": [CODE], "on": TODAY, "place": "Paris", "capacity": 5}, "s",
        "... on JurySessionChanged { session { id } }")
    system.session = session["session"]["id"]
    members = [(await ok(system, "appointJuryMember", "AppointJuryMemberInput",
                         {"sessionId": system.session, "name": f"Membre {n}", "college": college, "role": role},
                         f"m{n}", "... on JurySessionChanged { memberId }"))["memberId"]
               for n, (college, role) in enumerate([("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT")])]
    system.middle = now()

    await present(system, system.session, system.candidacy, "present")  # once the jury learns its status
    await ok(system, "decide", "DecideInput", {"sessionId": system.session, "candidacyId": system.candidacy,
                                               "decision": "FULL_AWARD", "presentMembers": members, "votesFor": 2}, "d")
    async def documented():  # the jury service makes the PDF and the credential on its own CertificateIssued
        data = await system.graphql("query($id: ID!) { candidacy(id: $id) { documents { kind } } }",
                                    {"id": system.candidacy})
        kinds = [d["kind"] for d in data["candidacy"]["documents"]]
        return (kinds.count("CERTIFICATE_PDF"), kinds.count("CREDENTIAL")) == (1, 2)  # the award's and the block's

    await eventually(documented, timeout=60)
    await ok(system, "closeJurySession", "CloseSessionInput", {"sessionId": system.session, "president": members[0]},
             "close")
    await ok(system, "publishSessionResults", "PublishSessionResultsInput", {"sessionId": system.session}, "pub")

    async def closed():  # the candidacy service closes the candidacy on the award, once published
        data = await system.graphql("query($id: ID!) { candidacy(id: $id) { status } }", {"id": system.candidacy})
        return data["candidacy"]["status"] == "CLOSED"

    await eventually(closed)
    await ok(system, "publishVersion", "PublishVersionInput", {
        "code": CODE, "blocks": [{"code": BLOCK, "title": "Bloc 1"}, {"code": "RNCP99001BC02", "title": "Bloc 2"}]},
        "v2")
    system.after = now()
    yield system
    system.stop()


HISTORY = """query($id: ID!) { history(aggregateId: $id) { __typename
  ... on AggregateHistory { kind entries { type summary occurredAt correlationId causationId
                                           actor { userId organisationId role } } }
  ... on NotFound { code } } }"""


async def history(system, aggregate_id, token="default"):
    return (await system.graphql(HISTORY, {"id": aggregate_id}, token=token))["history"]


async def test_a_candidacys_history_has_its_own_events_and_the_jurys_about_it_in_order_with_their_actors(journey):
    found = await history(journey, journey.candidacy)
    assert found["kind"] == "CANDIDACY"
    assert [e["type"] for e in found["entries"]] == [
        "CandidacyOpened", "CandidacyPositioned", "DocumentAttached", "BlockValidated", "CandidacyPresented",
        "JuryDecided", "CertificateIssued", "DocumentAttached", "DocumentAttached", "DocumentAttached",
        "CandidacyClosed"]
    by_type = {e["type"]: e for e in found["entries"]}
    assert by_type["BlockValidated"]["actor"] == {"userId": "audit-evaluator", "organisationId": journey.centre,
                                                  "role": "evaluator"}
    assert by_type["CandidacyOpened"]["actor"] == {"userId": journey.operator, "organisationId": "platform",
                                                   "role": "branch-admin"}
    assert by_type["JuryDecided"]["actor"]["role"] == "branch-admin"
    # The client's key ("e") shows only as its keyed digest, never in clear.
    assert by_type["BlockValidated"]["causationId"] == idempotency_digest(journey["jury"].env["CQP_COMMAND_KEY"], "e")
    assert all(e["correlationId"] for e in found["entries"])
    assert by_type["JuryDecided"]["summary"].startswith("Jury decided full award")
    assert by_type["CandidacyOpened"]["summary"] == f"Candidacy opened for {CODE} version 1 by direct access, 1 blocks"
    # The history inside candidacy(id) is the same.
    inside = await journey.graphql("query($id: ID!) { candidacy(id: $id) { history { type } } }",
                                   {"id": journey.candidacy})
    assert [e["type"] for e in inside["candidacy"]["history"]] == [e["type"] for e in found["entries"]]


async def test_every_kind_of_aggregate_has_a_history_and_no_summary_shows_a_name(journey):
    expected = {
        journey.certification: ("CERTIFICATION", ["CertificationCreated", "ReferentialVersionPublished",
                                                  "ReferentialVersionPublished"]),
        journey.centre: ("ORGANISATION", ["OrganisationRegistered", "OrganisationAccredited"]),
        journey.candidate: ("CANDIDATE", ["CandidateRegistered"]),
        journey.session: ("JURY_SESSION", ["JurySessionScheduled", "JuryMemberAppointed", "JuryMemberAppointed",
                                           "CandidacyPresented", "JuryDecided", "SessionClosed", "DocumentAttached",
                                           "SessionResultsPublished"]),
    }
    for aggregate_id, (kind, types) in expected.items():
        found = await history(journey, aggregate_id)
        assert (found["kind"], [e["type"] for e in found["entries"]]) == (kind, types)
        assert not any(name in e["summary"] for e in found["entries"] for name in ("Camille", "Secret", "Membre"))


async def test_an_auditor_reads_the_history_of_its_branchs_aggregates_and_an_auditor_of_another_branch_nothing(
        journey):
    ours = await journey.token(organisation="UIMM", role="auditor", branches=("UIMM",))
    theirs = await journey.token(organisation="LEEM", role="auditor", branches=("LEEM",))
    for aggregate_id in (journey.candidacy, journey.candidate, journey.session, journey.certification, journey.centre):
        assert (await history(journey, aggregate_id, ours))["__typename"] == "AggregateHistory"
        assert await history(journey, aggregate_id, theirs) == {"__typename": "NotFound", "code": "NotFound"}
    trail = await audit_trail(journey, theirs)
    assert trail["edges"] == []
    since_ever = [e["node"] for e in (await audit_trail(journey, ours, first=200, start=EVER))["edges"]]
    assert {"CandidacyOpened", "BlockValidated", "JuryDecided", "CertificationCreated"} <= {e["type"] for e in since_ever}
    branches = [e["summary"] for e in since_ever if e["type"] == "BranchCreated"]
    assert branches == ["Branch UIMM created (UIMM)"]  # its own branch, not another


TRAIL = """query($from: DateTime!, $to: DateTime!, $org: ID, $user: String, $first: Int!, $after: String,
                 $order: AuditOrder!) {
  auditTrail(from: $from, to: $to, organisation: $org, user: $user, first: $first, after: $after, order: $order) {
    __typename ... on AuditTrail { edges { cursor node { eventId type summary actor { userId organisationId } } }
                                   pageInfo { hasNextPage endCursor } }
    ... on Error { code } } }"""


async def audit_trail(system, token="default", first=50, after=None, organisation=None, user=None,
                      order="NEWEST_FIRST", start=None):
    return (await system.graphql(TRAIL, {"from": start or system.before, "to": FUTURE, "org": organisation,
                                         "user": user, "first": first, "after": after, "order": order},
                                 token=token))["auditTrail"]


async def test_the_trail_of_an_organisation_or_a_user_is_what_it_recorded_in_the_period(journey):
    by_centre = await audit_trail(journey, organisation=journey.centre)
    # The centre's evaluator attached the observation report, then recorded the evaluation naming it.
    assert [e["node"]["type"] for e in by_centre["edges"]] == ["BlockValidated", "DocumentAttached"]
    by_user = await audit_trail(journey, user="audit-evaluator", order="OLDEST_FIRST")
    assert [e["node"]["eventId"] for e in by_user["edges"]] == [e["node"]["eventId"] for e in by_centre["edges"]][::-1]
    by_operator = await audit_trail(journey, user=journey.operator, first=200, order="OLDEST_FIRST")
    types = [e["node"]["type"] for e in by_operator["edges"]]
    assert types[:3] == ["OrganisationRegistered", "CertificationCreated", "ReferentialVersionPublished"]
    assert "BlockValidated" not in types and "BranchCreated" not in types  # before the period
    # An organisation's admin reads its own organisation's trail, and only it.
    admin = await journey.token(organisation=journey.centre, role="branch-admin")
    assert [e["node"]["type"] for e in (await audit_trail(journey, admin))["edges"]] == ["BlockValidated",
                                                                                         "DocumentAttached"]
    evaluator = await audit_trail(journey, journey.evaluator)
    assert evaluator == {"__typename": "Forbidden", "code": "Forbidden"}


async def test_trail_pages_neither_repeat_nor_skip_an_event_when_events_are_recorded_between_pages(journey):
    everything = [e["node"]["eventId"] for e in (await audit_trail(journey, first=200))["edges"]]
    assert len(everything) > 10
    seen, after, pages = [], None, 0
    while True:
        page = await audit_trail(journey, first=4, after=after)
        seen += [e["node"]["eventId"] for e in page["edges"]]
        pages += 1
        if pages == 1:  # newer events land before the cursor: an offset would show a row twice
            for n in range(3):
                await ok(journey, "registerOrganisation", "RegisterOrganisationInput",
                         {"name": f"Inséré {n}", "kinds": ["TRAINING_ORGANISATION"]}, f"between-{n}")
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything and pages > 2
    refused = await audit_trail(journey, after="not-a-cursor")
    assert refused == {"__typename": "InvalidInput", "code": "InvalidInput"}


PROBLEMS = """query($from: DateTime!, $to: DateTime!, $after: String) {
  auditTrail(from: $from, to: $to, after: $after) {
    __typename ... on InvalidInput { code problems { field } } } }"""


async def test_an_instant_of_the_trail_outside_the_years_postgresql_stores_is_invalid_input_naming_the_argument(
        journey):
    """`from`, `to` and the cursor's instant are refused as InvalidInput naming the argument when, once in UTC,
    they fall outside years 1 to 9999 (0001-01-01T00:00+14:00 is in year 0): never an untyped error."""
    def tampered(at: str) -> str:
        return base64.urlsafe_b64encode(json.dumps([at, str(uuid.uuid4())]).encode()).decode()

    for variables, argument in (
            ({"from": "0001-01-01T00:00:00+14:00", "to": FUTURE}, "from"),
            ({"from": EVER, "to": "9999-12-31T23:59:59-14:00"}, "to"),
            ({"from": EVER, "to": FUTURE, "after": tampered("0001-01-01T00:00:00+14:00")}, "after"),
            ({"from": EVER, "to": FUTURE, "after": tampered("9999-12-31T23:59:59-14:00")}, "after"),
            ({"from": EVER, "to": FUTURE, "after": tampered("2024-01-01T00:00:00")}, "after"),
            ({"from": EVER, "to": FUTURE, "after": base64.urlsafe_b64encode(b"[" * 5000).decode()}, "after")):
        answer = await journey.graphql(PROBLEMS, variables)
        assert answer["auditTrail"] == {"__typename": "InvalidInput", "code": "InvalidInput",
                                        "problems": [{"field": argument}]}, variables
    # Year 1 and 9999 in UTC are instants like others: an empty or full page, no error.
    page = await audit_trail(journey, start="0001-01-01T00:00:00+00:00")
    assert page["__typename"] == "AuditTrail"


CANDIDACY = """query($id: ID!, $at: DateTime) { candidacy(id: $id, asOf: $at) {
  status blocks { code state } evaluations { block validated } decisions { decision } history { type } } }"""
SESSION = """query($id: ID!, $at: DateTime) { jurySession(id: $id, asOf: $at) {
  status members { college role } presented { candidacyId blocks } decisions { decision blocksAcquired } } }"""
CERTIFICATION = """query($code: String!, $at: DateTime) { certification(code: $code, asOf: $at) {
  title versions { number blocks { code } } currentVersion { number } } }"""


async def test_states_as_of_before_during_and_after_the_journey_are_what_the_events_said_then(journey):
    async def at(query, variables, instant):
        return next(iter((await journey.graphql(query, {**variables, "at": instant})).values()))

    candidacy, session, certification = ({"id": journey.candidacy}, {"id": journey.session}, {"code": CODE})
    assert await at(CANDIDACY, candidacy, journey.before) is None
    assert await at(SESSION, session, journey.before) is None
    assert await at(CERTIFICATION, certification, journey.before) is None

    middle = await at(CANDIDACY, candidacy, journey.middle)
    assert middle == {"status": "POSITIONED", "blocks": [{"code": BLOCK, "state": "TO_ACQUIRE"}],
                      "evaluations": [{"block": BLOCK, "validated": True}], "decisions": [],
                      "history": [{"type": "CandidacyOpened"}, {"type": "CandidacyPositioned"},
                                  {"type": "DocumentAttached"}, {"type": "BlockValidated"}]}
    assert await at(SESSION, session, journey.middle) == {
        "status": "SCHEDULED", "members": [{"college": "EMPLOYER", "role": "PRESIDENT"},
                                           {"college": "EMPLOYEE", "role": "VICE_PRESIDENT"}],
        "presented": [], "decisions": []}
    assert await at(CERTIFICATION, certification, journey.middle) == {
        "title": "CQPM audité", "versions": [{"number": 1, "blocks": [{"code": BLOCK}]}], "currentVersion": {"number": 1}}

    after = await at(CANDIDACY, candidacy, journey.after)
    assert (after["status"], after["decisions"]) == ("CLOSED", [{"decision": "FULL_AWARD"}])
    held, today = await at(SESSION, session, journey.after), await at(SESSION, session, None)
    assert held == {**today, "members": held["members"]} and sorted(held["members"], key=str) == sorted(
        today["members"], key=str)  # members in the order of their appointment, today's in the read model's
    assert held["status"] == "HELD" and held["presented"] == [{"candidacyId": journey.candidacy, "blocks": [BLOCK]}]
    assert held["decisions"] == [{"decision": "FULL_AWARD", "blocksAcquired": [BLOCK]}]
    assert [v["number"] for v in (await at(CERTIFICATION, certification, journey.after))["versions"]] == [1, 2]
    # The past is read under today's rights: out of reach, it reads as not found.
    theirs = await journey.token(organisation="LEEM", role="auditor", branches=("LEEM",))
    hidden = await journey.graphql(CANDIDACY, {"id": journey.candidacy, "at": journey.middle}, token=theirs)
    assert hidden["candidacy"] is None


async def test_an_organisations_history_shows_a_branch_only_its_registration_and_that_branchs_accreditations(
        journey):
    """History is filtered by the caller's scope event by event: a branch that accredited an organisation reads
    its registration and its own accreditations of it (granted, withdrawn), never another branch's nor their
    actors; in a history as in a trail. Runs last: it accredits the centre for a second branch."""
    leem = await journey.token(organisation="LEEM", role="branch-admin", branches=("LEEM",), username="leem-accreditor")
    await ok(journey, "createCertification", "CreateCertificationInput",
             {"code": "RNCP99002", "kind": "CQP", "title": "CQP de LEEM", "owners": ["LEEM"]}, "leem-cert")
    granted = await ok(journey, "accredit", "AccreditInput", {
        "organisationId": journey.centre, "branch": "LEEM", "certifications": ["RNCP99002"], "scope": "TRAINING",
        "validFrom": "2024-01-01"}, "leem-accredit", "... on AccreditationChanged { accreditation { id } }", token=leem)
    await ok(journey, "withdrawAccreditation", "WithdrawAccreditationInput", {
        "organisationId": journey.centre, "accreditationId": granted["accreditation"]["id"], "on": TODAY,
        "reason": "fin"}, "leem-withdraw", token=leem)

    def seen(answer):
        return [(e["type"], e["actor"]["userId"]) for e in answer["entries"]]

    everything = seen(await history(journey, journey.centre))
    assert [t for t, _ in everything] == ["OrganisationRegistered", "OrganisationAccredited",
                                          "OrganisationAccredited", "AccreditationWithdrawn"]
    for role in ("auditor", "branch-admin"):
        uimm = await journey.token(organisation="UIMM", role=role, branches=("UIMM",))
        assert seen(await history(journey, journey.centre, uimm)) == everything[:2], role
        trail = [e["node"] for e in (await audit_trail(journey, uimm, first=200, start=EVER))["edges"]] \
            if role == "auditor" else []
        assert not [e for e in trail if e["actor"]["userId"] == "leem-accreditor"]
    theirs = await journey.token(organisation="LEEM", role="auditor", branches=("LEEM",))
    assert seen(await history(journey, journey.centre, theirs)) == [everything[0], *everything[2:]]
