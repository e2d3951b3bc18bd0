"""A refusal names only what the caller may read, through GraphQL and straight to each service's port: a command
naming a record out of every scope of the caller answers exactly what it answers for an id that names nothing
(same type, same message, no details), so NotFound versus Forbidden never tells whether an id exists; Forbidden,
naming the rights that fall short, is for a record the caller reads but may not change. Presenting a candidacy
checks the caller's rights over the session and the candidacy first, then the certification, then the status."""

import uuid

import pytest_asyncio

from tests.e2e.test_erasure import PERSON, candidacy, catalog
from tests.e2e.test_jury_journey import EXPERIENCE, mutate, ok, once_known, paritaire_session
from tests.harness import System, eventually

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world():
    """UIMM's centre with a candidacy ready for the jury and a session; LEEM with its certification and session;
    another UIMM certification with a session of its own; a second centre; tokens of callers around them."""
    system = await System.create()
    await system.start()
    await catalog(system)  # UIMM, its RNCP34174, its centre (system.centre, system.evaluator)
    await ok(system, "createBranch", "CreateBranchInput", {"code": "LEEM", "name": "Médicament", "idcc": []}, "b2")
    for code, branch in (("RNCP90002", "LEEM"), ("RNCP90003", "UIMM")):
        await ok(system, "createCertification", "CreateCertificationInput", {
            "code": code, "kind": "CQP", "title": f"CQP {code}", "owners": [branch],
            "blocks": [{"code": f"{code}BC01", "title": "Bloc 1"}]}, f"c-{code}")
    other = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                     {"name": "Centre tiers", "kinds": ["EVALUATION_CENTRE"]}, "o2",
                     "... on OrganisationRegistered { organisation { id } }")
    system.other = other["organisation"]["id"]
    system.candidate, system.candidacy = await candidacy(system, PERSON, "w")
    system.session, _ = await paritaire_session(system, "2030-01-15", "s")
    system.sessions = {}
    for code, branch in (("RNCP90002", "LEEM"), ("RNCP90003", "UIMM")):
        made = await ok(system, "scheduleJurySession", "ScheduleJurySessionInput", {
            "branch": branch, "certifications": [code], "on": "2030-01-15", "remote": True, "capacity": 5},
            f"s-{code}", "... on JurySessionChanged { session { id } }")
        system.sessions[code] = made["session"]["id"]

    async def the_jury_knows_the_candidacy():  # through Kafka
        return await system.sql("SELECT 1 FROM jury.candidacy_candidacies WHERE id = $1", system.candidacy)

    await eventually(the_jury_knows_the_candidacy)
    system.intruder = await system.token(organisation=system.other, role="evaluator")
    system.leem_secretary = await system.token(organisation=system.other, role="jury-secretary", branches=("LEEM",))
    system.uimm_secretary = await system.token(organisation=system.other, role="jury-secretary", branches=("UIMM",))
    yield system
    system.stop()


async def events(system) -> dict[str, int]:
    return {s: await system.written(s) for s in ("candidacy", "jury")}


async def same_answer_as_for_an_unknown_id(system, field, input_type, data, id_field, service, command, body, token):
    """The GraphQL answer and the service's own answer for the existing record, then for a random id: identical,
    and nothing written. Returns the GraphQL answer."""
    written = await events(system)
    random_id = str(uuid.uuid4())
    answers = [await mutate(system, field, input_type, {**data, id_field: value}, f"{field}-{value}", token=token)
               for value in (data[id_field], random_id)]
    assert answers[0] == answers[1], answers
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in id_field)
    doors = [await system.command(service, command, {**body, snake: value}, f"door-{value}", token=token)
             for value in (data[id_field], random_id)]
    assert doors[0].status_code == doors[1].status_code == 404 and doors[0].json() == doors[1].json(), doors[0].text
    assert doors[0].json()["error"]["details"] == {}
    assert await events(system) == written
    return answers[0]


async def test_a_candidacy_or_a_person_out_of_every_scope_of_the_caller_answers_as_an_unknown_id(world):
    refused = await same_answer_as_for_an_unknown_id(
        world, "withdrawCandidacy", "WithdrawCandidacyInput", {"candidacyId": world.candidacy, "reason": "x"},
        "candidacyId", "candidacy", "withdraw", {"reason": "x"}, world.intruder)
    assert refused == {"__typename": "NotFound", "code": "UnknownCandidacy", "message": "no such candidacy",
                       "details": {}}
    person = await same_answer_as_for_an_unknown_id(
        world, "correctCandidate", "CorrectCandidateInput", {"candidateId": world.candidate, "email": "x@example.org"},
        "candidateId", "candidacy", "correct-candidate", {"email": "x@example.org"}, world.intruder)
    assert (person["code"], person["details"]) == ("UnknownCandidate", {})
    opening = await same_answer_as_for_an_unknown_id(
        world, "openCandidacy", "OpenCandidacyInput", {
            "candidateId": world.candidate, "certification": "RNCP34174", "route": "VAE",
            "evaluatorId": world.other, "experience": EXPERIENCE},
        "candidateId", "candidacy", "open-candidacy", {
            "certification": "RNCP34174", "route": "VAE", "evaluator_id": world.other, "experience": EXPERIENCE},
        world.intruder)
    assert opening["code"] == "UnknownCandidate"

    # Forbidden stays for a record the caller reads: a certifier of UIMM reads UIMM's candidacies, and as an
    # evaluator of another centre may not withdraw one.
    reader = await world.token(organisation=world.other, roles=("certifier", "evaluator"), branches=("UIMM",))
    refused = await mutate(world, "withdrawCandidacy", "WithdrawCandidacyInput",
                           {"candidacyId": world.candidacy, "reason": "x"}, "read-not-change", token=reader)
    assert (refused["code"], refused["details"]["missing"]) == ("Forbidden", ["evaluator: evaluated"])
    unknown = await mutate(world, "withdrawCandidacy", "WithdrawCandidacyInput",
                           {"candidacyId": str(uuid.uuid4()), "reason": "x"}, "read-not-change-2", token=reader)
    assert unknown["code"] == "UnknownCandidacy"


async def test_a_jury_session_out_of_every_scope_of_the_caller_answers_as_an_unknown_id(world):
    refused = await same_answer_as_for_an_unknown_id(
        world, "appointJuryMember", "AppointJuryMemberInput",
        {"sessionId": world.session, "name": "Membre", "college": "EMPLOYER"}, "sessionId", "jury", "appoint-member",
        {"name": "Membre", "college": "EMPLOYER"}, world.leem_secretary)
    assert refused == {"__typename": "NotFound", "code": "UnknownSession", "message": "no such jury session",
                       "details": {}}


async def test_presenting_a_candidacy_of_another_branch_to_ones_own_session_answers_as_an_unknown_candidacy(world):
    """LEEM's secretary, in LEEM's own session, names UIMM's candidacy: not a word about its certification or status."""
    refused = await same_answer_as_for_an_unknown_id(
        world, "presentCandidacy", "PresentCandidacyInput",
        {"sessionId": world.sessions["RNCP90002"], "candidacyId": world.candidacy}, "candidacyId", "jury", "present",
        {"session_id": world.sessions["RNCP90002"]}, world.leem_secretary)
    assert refused["code"] == "UnknownCandidacy"


async def test_presenting_to_a_session_of_another_certification_is_refused_before_the_candidacy_status_is_told(world):
    """A candidacy not ready for the jury, presented by UIMM's secretary to UIMM's session of another certification:
    the certification mismatch is the answer, not the candidacy's status."""
    candidate = await ok(world, "registerCandidate", "RegisterCandidateInput",
                         {**PERSON, "email": "not-ready@example.org"}, "nr-r",
                         "... on CandidateRegistered { candidate { id } }", token=world.evaluator)
    opened = await once_known(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate["candidate"]["id"], "certification": "RNCP34174", "route": "VAE",
        "evaluatorId": world.centre, "experience": EXPERIENCE}, "nr-o", "... on CandidacyChanged { candidacy { id } }",
        token=world.evaluator)
    not_ready = opened["candidacy"]["id"]

    async def refusal():  # once the jury knows the candidacy (through Kafka)
        answer = await mutate(world, "presentCandidacy", "PresentCandidacyInput",
                              {"sessionId": world.sessions["RNCP90003"], "candidacyId": not_ready}, "nr-p",
                              token=world.uimm_secretary)
        return None if answer.get("code") == "UnknownCandidacy" else answer

    answer = await eventually(refusal)
    assert (answer["__typename"], answer["message"], answer["details"]) == (
        "InvalidInput", "the session does not examine this certification", {"certification": "RNCP34174"}), answer
    # To a session of its certification, the status is the answer (the caller may read the candidacy).
    right_session = await mutate(world, "presentCandidacy", "PresentCandidacyInput",
                                 {"sessionId": world.session, "candidacyId": not_ready}, "nr-p2",
                                 token=world.uimm_secretary)
    assert right_session["code"] == "NotReadyForJury", right_session
