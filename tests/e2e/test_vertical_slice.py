"""Through GraphQL only: a certification created in the catalog, a candidate registered for it."""

import httpx
import pytest
import pytest_asyncio

from tests.harness import System

CREATE = """
mutation($input: CreateCertificationInput!, $key: String!) {
  createCertification(input: $input, idempotencyKey: $key) {
    __typename
    ... on CertificationChanged { certification { id code kind title owners { code } blocks { code title } } }
    ... on Error { code message }
    ... on InvalidInput { problems { field problem } }
  }
}"""
REGISTER = """
mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename
    ... on CandidateRegistered { candidate { id givenName familyName } }
    ... on Error { code message }
    ... on InvalidInput { problems { field problem } }
  }
}"""
CREATE_BRANCH = """
mutation($input: CreateBranchInput!, $key: String!) {
  createBranch(input: $input, idempotencyKey: $key) { __typename ... on Error { code message } }
}"""
CERTIFICATION = {
    "code": "RNCP34174", "kind": "CQPM", "owners": ["UIMM"],
    "title": "CQPM conduite d'installations automatisées",
    "blocks": [
        {"code": "RNCP34174BC01", "title": "La conduite et la surveillance de la production"},
        {"code": "RNCP34174BC02", "title": "Les interventions de maintenance de niveau 2"},
    ],
}
CANDIDATE = {"givenName": "Camille", "familyName": "Martin", "email": "camille.martin@example.org",
             "status": "EMPLOYEE"}
OPEN = """
mutation($input: OpenCandidacyInput!, $key: String!) {
  openCandidacy(input: $input, idempotencyKey: $key) {
    __typename ... on Error { code message } ... on CandidacyChanged { candidacy { id certification { code } } }
  }
}"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running():
    system = await System.create()
    await system.start()
    branch = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}
    data = await system.graphql(CREATE_BRANCH, {"input": branch, "key": "branch-uimm"})
    assert data["createBranch"]["__typename"] == "BranchCreated"
    yield system
    system.stop()


async def events_in(system, service: str) -> int:
    return await system.written(service)


async def test_a_created_certification_is_readable_as_soon_as_the_mutation_answers(running):
    data = await running.graphql(CREATE, {"input": CERTIFICATION, "key": "create-34174"})
    result = data["createCertification"]
    assert result["__typename"] == "CertificationChanged"
    assert result["certification"]["owners"] == [{"code": "UIMM"}]
    assert [b["code"] for b in result["certification"]["blocks"]] == ["RNCP34174BC01", "RNCP34174BC02"]

    read = await running.graphql(
        '{ certification(code: "RNCP34174") { kind blocks { title } } certifications { edges { node { code } } } }')
    assert read["certification"]["kind"] == "CQPM"
    assert read["certification"]["blocks"][1]["title"] == "Les interventions de maintenance de niveau 2"
    assert [e["node"]["code"] for e in read["certifications"]["edges"]] == ["RNCP34174"]


async def test_a_candidate_is_registered_and_read_back(running):
    data = await running.graphql(REGISTER, {"input": CANDIDATE, "key": "register-camille"})
    result = data["registerCandidate"]
    assert result["__typename"] == "CandidateRegistered", result
    candidate_id = result["candidate"]["id"]

    read = await running.graphql("query($id: ID!) { candidate(id: $id) { familyName status } }", {"id": candidate_id})
    assert read["candidate"] == {"familyName": "Martin", "status": "EMPLOYEE"}


async def test_the_same_idempotency_key_registers_once(running):
    first = await running.graphql(REGISTER, {"input": {**CANDIDATE, "email": "a@example.org"}, "key": "register-a"})
    written = await events_in(running, "candidacy")
    again = await running.graphql(REGISTER, {"input": {**CANDIDATE, "email": "a@example.org"}, "key": "register-a"})
    assert again["registerCandidate"]["candidate"]["id"] == first["registerCandidate"]["candidate"]["id"]
    assert await events_in(running, "candidacy") == written


async def test_a_candidacy_for_a_certification_unknown_to_the_catalog_is_a_typed_error_that_writes_nothing(running):
    candidate = (await running.graphql(REGISTER, {"input": CANDIDATE, "key": "register-for-unknown"}))
    written = await events_in(running, "candidacy")
    opening = {"candidateId": candidate["registerCandidate"]["candidate"]["id"], "certification": "RNCP00000",
               "route": "TRAINING", "evaluatorId": "00000000-0000-0000-0000-000000000000"}
    data = await running.graphql(OPEN, {"input": opening, "key": "k-unknown"})
    assert data["openCandidacy"] == {
        "__typename": "NotFound", "code": "UnknownCertification", "message": "no such certification in the catalog",
    }
    assert await events_in(running, "candidacy") == written


async def test_malformed_input_is_a_typed_error_naming_the_field_and_writes_nothing(running):
    written = await events_in(running, "candidacy")
    data = await running.graphql(REGISTER, {"input": {**CANDIDATE, "email": "not-an-address"}, "key": "k-bad"})
    result = data["registerCandidate"]
    assert result["__typename"] == "InvalidInput"
    assert [p["field"] for p in result["problems"]] == ["email"]
    assert await events_in(running, "candidacy") == written


async def test_a_duplicate_certification_code_is_a_conflict_and_the_services_keep_serving(running):
    written = await events_in(running, "catalog")
    data = await running.graphql(CREATE, {"input": CERTIFICATION, "key": "create-34174-again"})
    assert data["createCertification"]["__typename"] == "Conflict"
    assert data["createCertification"]["code"] == "CertificationAlreadyExists"
    assert await events_in(running, "catalog") == written
    other = {**CERTIFICATION, "code": "RNCP37250", "blocks": []}
    data = await running.graphql(CREATE, {"input": other, "key": "create-37250"})
    assert data["createCertification"]["__typename"] == "CertificationChanged"


@pytest.mark.parametrize("token", [None, "forged.token"])
async def test_a_mutation_without_a_valid_token_is_refused(running, token):
    data = await running.graphql(REGISTER, {"input": CANDIDATE, "key": f"k-anon-{token}"}, token=token)
    assert data["registerCandidate"]["__typename"] == "Unauthenticated"


async def test_a_command_without_idempotency_key_is_refused_by_the_service_which_keeps_serving(running):
    written = await events_in(running, "candidacy")
    body = {"given_name": "Ana", "family_name": "Lopes", "email": "ana@example.org", "status": "JOB_SEEKER"}
    answer = await running.command("candidacy", "register-candidate", body, key="")
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "MissingIdempotencyKey"
    assert await events_in(running, "candidacy") == written
    answer = await running.command("candidacy", "register-candidate", body, key="k-ana")
    assert answer.status_code == 200


async def test_reading_a_candidate_needs_a_token(running):
    async with httpx.AsyncClient() as http:
        answer = await http.post(running.graphql_url, json={
            "query": 'query { candidate(id: "00000000-0000-0000-0000-000000000000") { familyName } }'})
    assert answer.json()["errors"][0]["message"].startswith("a bearer token is required")


async def test_people_are_found_by_name_email_or_birth_date_whatever_the_case_and_accents(running):
    zoe = {"givenName": "Zoé", "familyName": "Lefèvre", "email": "zoe.lefevre@example.org", "birthDate": "1990-04-02",
           "status": "JOB_SEEKER"}
    registered = await running.graphql(REGISTER, {"input": zoe, "key": "register-zoe"})
    zoe_id = registered["registerCandidate"]["candidate"]["id"]
    query = "query($s: String) { candidates(search: $s) { totalCount edges { node { id email birthDate } } } }"
    for search in ("zoe", "ZOÉ lefevre", "lefèvre 1990-04-02", "zoe.lefevre@example.org"):
        found = (await running.graphql(query, {"s": search}))["candidates"]
        assert [e["node"]["id"] for e in found["edges"]] == [zoe_id], search
        assert found["totalCount"] == 1
    assert (await running.graphql(query, {"s": "zoe 1991"}))["candidates"]["totalCount"] == 0
    # Someone with no relation to her finds nothing, not even that she exists.
    stranger = await running.token(organisation="UIMM", role="evaluator")
    assert (await running.graphql(query, {"s": "zoe"}, token=stranger))["candidates"]["totalCount"] == 0
