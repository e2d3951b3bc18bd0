"""The person rule's other half, through GraphQL on the whole system: a login named at registration reaches
the record only once the person, signed in as it, confirms it; an organisation gains a right over a person
only when the person entrusts their record to it, or when the organisation holding their candidacy (itself
with that right) transfers it. A registering organisation cannot bind a record to someone else's login."""

import uuid

from tests.e2e.test_jury_journey import mutate, ok
from tests.e2e.test_person_rule import PERSON_QUERY, opening, world
from tests.harness import eventually

# A refusal names only what the caller may read: Forbidden to one who reads the person (the role table's `candidate`
# row), to anyone else the answer to an id naming nothing.
UNREAD = "UnknownCandidate"
MINE = "query { candidates { edges { node { id accountConfirmed } } } }"


async def confirm(system, candidate_id, token):
    return await mutate(system, "confirmAccount", "ConfirmAccountInput", {"candidateId": candidate_id},
                        f"confirm-{uuid.uuid4().hex[:6]}", "... on CandidateChanged { candidate { accountConfirmed } }",
                        token=token)


async def registered_with_login(system, login: str) -> str:
    person = {"givenName": "Ana", "familyName": "Lopes", "email": f"{login}@example.org", "status": "EMPLOYEE",
              "account": login}
    result = await ok(system, "registerCandidate", "RegisterCandidateInput", person, f"reg-{login}",
                      "... on CandidateRegistered { candidate { id accountConfirmed } }", token=system.evaluator)
    assert result["candidate"]["accountConfirmed"] is False
    return result["candidate"]["id"]


async def test_a_login_named_at_registration_acts_on_the_record_only_once_its_owner_confirms_it(system):
    await world(system)
    login = f"ana-{uuid.uuid4().hex[:6]}"
    person_id = await registered_with_login(system, login)
    ana = await system.token(role="candidate", username=login)

    # Invited, not yet theirs: they see the record they are asked to confirm, and cannot act on it.
    invited = await system.graphql(MINE, token=ana)
    assert invited["candidates"]["edges"] == [{"node": {"id": person_id, "accountConfirmed": False}}]
    refused = await mutate(system, "correctCandidate", "CorrectCandidateInput",
                           {"candidateId": person_id, "phone": "01 02 03 04 05"}, "early", token=ana)
    assert refused["code"] == "Forbidden", refused  # invited: they read it

    # Another login cannot claim it, nor read it.
    bob = await system.token(role="candidate", username=f"bob-{uuid.uuid4().hex[:6]}")
    assert (await confirm(system, person_id, bob))["code"] == UNREAD
    assert (await system.graphql(PERSON_QUERY, {"id": person_id}, token=bob))["candidate"] is None

    confirmed = await confirm(system, person_id, ana)
    assert confirmed["candidate"] == {"accountConfirmed": True}, confirmed
    fixed = await mutate(system, "correctCandidate", "CorrectCandidateInput",
                         {"candidateId": person_id, "phone": "01 02 03 04 05"}, "now", token=ana)
    assert "code" not in fixed, fixed
    assert (await confirm(system, person_id, bob))["code"] == UNREAD  # confirmed: nobody else takes it over


async def test_a_centre_cannot_bind_a_fabricated_record_to_someone_else_s_login(system):
    await world(system)
    victim = f"victim-{uuid.uuid4().hex[:6]}"
    fabricated = await registered_with_login(system, victim)
    victim_token = await system.token(role="candidate", username=victim)
    # Not theirs until they say so: none of the record's candidacies reach them as their own.
    opened = await opening(system, fabricated, system.centre, "fabricated-candidacy", system.evaluator)
    assert "candidacy" in opened, opened
    mine = await system.graphql("query { candidacies { totalCount } }", token=victim_token)
    assert mine["candidacies"]["totalCount"] == 0
    history = await system.graphql("query($id: ID!) { candidacy(id: $id) { id } }",
                                   {"id": opened["candidacy"]["id"]}, token=victim_token)
    assert history["candidacy"] is None


async def test_the_person_entrusts_their_record_to_a_second_centre_which_then_opens_their_candidacy(system):
    _, other_id = await world(system)
    login = f"lea-{uuid.uuid4().hex[:6]}"
    person_id = await registered_with_login(system, login)
    lea = await system.token(role="candidate", username=login)
    second = await system.token(organisation=other_id, role="evaluator")
    assert (await opening(system, person_id, other_id, "before", second))["code"] == UNREAD

    entrusting = {"candidateId": person_id, "organisationId": other_id}
    early = await mutate(system, "entrustCandidate", "EntrustCandidateInput", entrusting, "entrust-early", token=lea)
    assert early["code"] == "Forbidden", early  # invited, so read, but not theirs before they confirm their login
    by_centre = await mutate(system, "entrustCandidate", "EntrustCandidateInput", entrusting, "entrust-centre",
                             token=system.evaluator)
    assert by_centre["code"] == "Forbidden", by_centre  # only the person entrusts themself
    assert "candidate" in await confirm(system, person_id, lea)
    unknown = await mutate(system, "entrustCandidate", "EntrustCandidateInput",
                           {"candidateId": person_id, "organisationId": str(uuid.uuid4())}, "entrust-nobody", token=lea)
    assert unknown["code"] == "UnknownOrganisation", unknown
    await ok(system, "entrustCandidate", "EntrustCandidateInput", entrusting, "entrust", token=lea)

    opened = await opening(system, person_id, other_id, "after", second)
    assert "candidacy" in opened, opened
    shown = await eventually(lambda: _shown(system, person_id, second))
    assert shown["email"] == f"{login}@example.org"


async def _shown(system, person_id, token):
    return (await system.graphql(PERSON_QUERY, {"id": person_id}, token=token))["candidate"]


async def test_a_transfer_by_the_centre_holding_the_candidacy_hands_the_person_on_and_a_branch_s_does_not(system):
    _, other_id = await world(system)
    second = await system.token(organisation=other_id, role="evaluator")
    fix = {"phone": "09 87 65 43 21"}

    async def moved(by_token, key) -> str:
        person = await ok(system, "registerCandidate", "RegisterCandidateInput",
                          {"givenName": "Noé", "familyName": "Blanc", "email": f"{key}@example.org",
                           "status": "EMPLOYEE"}, f"{key}-reg", "... on CandidateRegistered { candidate { id } }",
                          token=system.evaluator)
        person_id = person["candidate"]["id"]
        opened = await opening(system, person_id, system.centre, f"{key}-open", system.evaluator)
        await ok(system, "transferCandidacy", "TransferCandidacyInput",
                 {"candidacyId": opened["candidacy"]["id"], "evaluatorId": other_id, "reason": "déménagement"},
                 f"{key}-transfer", token=by_token)
        return person_id

    handed_on = await moved(system.evaluator, "by-centre")
    corrected = await mutate(system, "correctCandidate", "CorrectCandidateInput", {"candidateId": handed_on, **fix},
                             "fix-1", token=second)
    assert "code" not in corrected, corrected

    branch_moved = await moved("default", "by-operator")  # the operator moves the candidacy, not the person
    refused = await mutate(system, "correctCandidate", "CorrectCandidateInput", {"candidateId": branch_moved, **fix},
                           "fix-2", token=second)
    assert refused["code"] == "Forbidden", refused  # it reads the person through the candidacy it now evaluates
