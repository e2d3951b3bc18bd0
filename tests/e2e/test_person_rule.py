"""The person rule, through GraphQL on the whole system (and the service's own port): an organisation acts on a person (opens a
candidacy for them, rectifies or erases their data) only where it already has a right over them, the
organisation that registered them. Opening a candidacy gives no right over the person: each takeover
path an attacker tried is refused with nothing written and nothing revealed."""

import httpx

from tests.e2e.test_erasure import PERSON, candidacy, catalog
from tests.e2e.test_jury_journey import (BLOCKS, EXPERIENCE, TODAY, decide, evaluate, mutate, ok, paritaire_session,
                                        present, published)
from tests.harness import System, eventually

PERSON_QUERY = "query($id: ID!) { candidate(id: $id) { familyName email erased candidacies { id } } }"


async def second_centre(system: System) -> str:
    """Another centre, accredited for the same certification."""
    other = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                     {"name": "Centre tiers", "kinds": ["EVALUATION_CENTRE"]}, "o2",
                     "... on OrganisationRegistered { organisation { id } }")
    await ok(system, "accredit", "AccreditInput", {"organisationId": other["organisation"]["id"], "branch": "UIMM",
                                                     "certifications": ["RNCP34174"], "scope": "EVALUATION",
                                                     "validFrom": "2024-01-01"}, "a2")
    return other["organisation"]["id"]


async def world(system: System) -> tuple[str, str]:
    """A person registered by one centre, and a second centre accredited for the same certification."""
    await system.start()
    await catalog(system)  # the first centre: system.centre, its evaluator: system.evaluator
    other_id = await second_centre(system)
    registered = await ok(system, "registerCandidate", "RegisterCandidateInput", PERSON, "p",
                          "... on CandidateRegistered { candidate { id } }", token=system.evaluator)
    return registered["candidate"]["id"], other_id


async def opening(system, candidate_id, evaluator_id, key, token):
    return await mutate(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": evaluator_id,
        "experience": EXPERIENCE}, key, "... on CandidacyChanged { candidacy { id } }", token=token)


async def unchanged(system, candidate_id):
    """The person as the centre that registered them reads them: as registered, no candidacy."""
    shown = (await system.graphql(PERSON_QUERY, {"id": candidate_id}, token=system.evaluator))["candidate"]
    assert shown == {"familyName": PERSON["familyName"], "email": PERSON["email"], "erased": False, "candidacies": []}


async def test_a_centre_cannot_take_over_a_person_registered_elsewhere_by_opening_a_candidacy(system):
    candidate_id, other_id = await world(system)
    intruder = await system.token(organisation=other_id, role="evaluator")
    written = await system.written("candidacy")

    refused = await opening(system, candidate_id, other_id, "takeover", intruder)
    assert refused["code"] == "UnknownCandidate", refused  # a person it may not read: as if there were none
    assert await system.written("candidacy") == written
    assert (await system.graphql(PERSON_QUERY, {"id": candidate_id}, token=intruder))["candidate"] is None
    fixed = await mutate(system, "correctCandidate", "CorrectCandidateInput",
                         {"candidateId": candidate_id, "email": "attacker@example.org"}, "rectify", token=intruder)
    assert fixed["code"] == "UnknownCandidate", fixed
    await unchanged(system, candidate_id)

    # The centre that registered the person still opens their candidacy.
    opened = await opening(system, candidate_id, system.centre, "rightful", system.evaluator)
    assert "candidacy" in opened, opened


async def test_a_branch_admin_cannot_open_withdraw_and_erase_a_person_it_never_registered(system):
    candidate_id, other_id = await world(system)
    branch = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                      {"name": "Chambre syndicale", "kinds": ["CERTIFIER"]}, "o3",
                      "... on OrganisationRegistered { organisation { id } }")
    admin = await system.token(organisation=branch["organisation"]["id"], role="branch-admin", branches=("UIMM",))

    refused = await opening(system, candidate_id, other_id, "puppet", admin)
    assert refused["code"] == "UnknownCandidate", refused
    erased = await mutate(system, "eraseCandidate", "EraseCandidateInput", {"candidateId": candidate_id}, "erase",
                          token=admin)
    assert erased["code"] == "UnknownCandidate", erased
    await unchanged(system, candidate_id)


async def test_the_candidacy_service_search_answers_only_people_in_the_callers_scope(system):
    """Straight to the service's port, as the gateway would call it: no more than through the gateway."""
    candidate_id, other_id = await world(system)
    intruder = await system.token(organisation=other_id, role="evaluator")

    async def search(token, text):
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(f"{system['candidacy'].url}/queries/search", json={"text": text},
                                     headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()["ids"]

    for text in (PERSON["email"], PERSON["birthDate"], PERSON["givenName"][:3]):
        assert await search(system.evaluator, text) == [candidate_id]
        assert await search(intruder, text) == []


async def test_a_persons_certificates_show_only_on_the_candidacies_the_caller_may_read(system):
    """A centre that reaches a person through its own candidacy does not see what they obtained elsewhere."""
    await system.start()
    await catalog(system)
    candidate_id, first = await candidacy(system, PERSON, "h")  # registered by the operator, at the first centre
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(system, first, block, True, f"h-e{n}"))["validated"]
    session_id, members = await paritaire_session(system, TODAY, "s")
    await present(system, session_id, first, "h-present")
    number = (await decide(system, session_id, first, "FULL_AWARD", members, "h-d"))["certificateNumber"]
    await published(system, session_id, "h")  # the award closes the first candidacy once its results are out

    other_id = await second_centre(system)

    async def second_opened():
        answer = await opening(system, candidate_id, other_id, "second", "default")
        return answer if "candidacy" in answer else None  # once the published award closed the first

    second = (await eventually(second_opened))["candidacy"]["id"]
    query = "query($id: ID!) { candidate(id: $id) { certificates { number } candidacies { id } } }"
    centre = await system.token(organisation=other_id, role="evaluator")

    async def seen_by_the_centre():
        shown = (await system.graphql(query, {"id": candidate_id}, token=centre))["candidate"]
        return shown if shown and shown["candidacies"] else None

    assert await eventually(seen_by_the_centre) == {"certificates": [], "candidacies": [{"id": second}]}
    owner = (await system.graphql(query, {"id": candidate_id}))["candidate"]
    assert owner["certificates"] == [{"number": number}]
