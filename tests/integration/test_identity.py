"""Identity on real Keycloak, Kafka and PostgreSQL: real tokens work end to end; every other token,
and every command without one, is refused with nothing written."""

import asyncio
import json
import os
import uuid

import jwt
import pytest
import pytest_asyncio

from shared.identity import client_token
from tools.cli import ROOT
from tests.harness import System, eventually
from tests.tokens import LocalIssuer

REGISTER = """
mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename ... on CandidateRegistered { candidate { id } } ... on Error { code message }
  }
}"""
CANDIDATE = {"givenName": "Inès", "familyName": "Moreau", "email": "ines.moreau@example.org", "status": "EMPLOYEE"}
SERVICE_BODY = {"given_name": "Inès", "family_name": "Moreau", "email": "ines@example.org", "status": "EMPLOYEE"}
# The realm's own mappers (organisation, branches, roles, audience), for the clients made here.
MAPPERS = next(c for c in json.loads((ROOT / "deploy/keycloak/cqp-realm.json").read_text())["clients"]
               if c["clientId"] == "cqp-cli")["protocolMappers"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running():
    system = await System.create()
    await system.start()
    await system.graphql('mutation { createBranch(input: {code: "UIMM", name: "UIMM", idcc: ["3109"]},'
                         ' idempotencyKey: "b") { __typename } }')
    centre = await system.graphql('mutation { registerOrganisation(input: {name: "AFPI", kinds: [EVALUATION_CENTRE]},'
                                  ' idempotencyKey: "o") { ... on OrganisationRegistered { organisation { id } } } }')
    system.centre = centre["registerOrganisation"]["organisation"]["id"]
    yield system
    system.stop()


async def events_in(system, service: str) -> int:
    return await system.written(service)


async def register(system, token, key):
    return (await system.graphql(REGISTER, {"input": CANDIDATE, "key": key}, token=token))["registerCandidate"]


async def token_of_client(system, client: dict, username: str) -> str:
    """A real Keycloak token of an existing user, through a client made for the test."""
    await system.keycloak.create_client({"enabled": True, "publicClient": True, "directAccessGrantsEnabled": True,
                                         "standardFlowEnabled": False, **client})
    answer = await system.keycloak.http.post(
        f"{system.keycloak.issuer}/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": client["clientId"], "username": username,
              "password": system.keycloak.password})
    return answer.raise_for_status().json()["access_token"]


async def test_a_keycloak_token_works_end_to_end_and_names_the_actor(running):
    token = await running.token(organisation=running.centre, role="evaluator")
    registered = await register(running, token, "kc-1")
    assert registered["__typename"] == "CandidateRegistered", registered
    read = await running.graphql('query($id: ID!) { candidate(id: $id) { familyName } }',
                                 {"id": registered["candidate"]["id"]}, token=token)
    assert read["candidate"]["familyName"] == "Moreau"
    claims = jwt.decode(token, options={"verify_signature": False})
    audit = await running.sql("SELECT actor FROM gateway.audit_log WHERE aggregate_id = $1::uuid",
                              registered["candidate"]["id"])
    assert [json.loads(r["actor"]) for r in audit] == [
        {"user_id": claims["preferred_username"], "organisation_id": running.centre, "role": "evaluator"}]


async def refused_everywhere(system, token: str, reason: str, key: str) -> None:
    """Refused by the gateway and by the service itself, with nothing written."""
    written = await events_in(system, "candidacy")
    through_gateway = await register(system, token, key)
    assert (through_gateway["__typename"], through_gateway["code"]) == ("Unauthenticated", "Unauthenticated")
    assert reason in through_gateway["message"]
    straight = await system.command("candidacy", "register-candidate", SERVICE_BODY, key, token=token)
    assert straight.status_code == 401 and reason in straight.json()["error"]["message"]
    assert await events_in(system, "candidacy") == written


async def test_an_expired_keycloak_token_is_refused(running):
    user = await running.keycloak.user(running.centre, ("evaluator",))
    token = await token_of_client(running, {"clientId": "cqp-short-lived", "protocolMappers": MAPPERS,
                                            "attributes": {"access.token.lifespan": "1"}}, user)
    await asyncio.sleep(3)  # one second of life, one of leeway
    await refused_everywhere(running, token, "expired", "expired-1")


async def test_a_token_for_another_audience_is_refused(running):
    user = await running.keycloak.user(running.centre, ("evaluator",))
    mappers = [m for m in MAPPERS if m["protocolMapper"] != "oidc-audience-mapper"]
    token = await token_of_client(running, {"clientId": "cqp-no-audience", "protocolMappers": mappers}, user)
    await refused_everywhere(running, token, "not meant for", "audience-1")


async def test_a_token_of_another_issuer_is_refused(running):
    token = await running.keycloak.admin_token()  # Keycloak's master realm: real, but not ours
    await refused_everywhere(running, token, "another issuer", "issuer-1")


async def test_a_forged_token_naming_the_real_key_is_refused(running):
    real = await running.token(organisation=running.centre, role="evaluator")
    forger = LocalIssuer(issuer=running.keycloak.issuer, kid=jwt.get_unverified_header(real)["kid"])
    forged = forger.token(user="mallory", organisation=running.centre, roles=["branch-admin"], branches=["UIMM"])
    await refused_everywhere(running, forged, "not valid", "forged-1")


async def test_a_token_naming_an_organisation_the_catalog_does_not_know_is_refused(running):
    token = await running.token(organisation="NOT-AN-ORG", role="branch-admin")
    result = await register(running, token, "unknown-org")
    assert result["__typename"] == "Unauthenticated" and "not known" in result["message"]


@pytest.mark.parametrize("headers", [
    {"x-actor-user": "mallory", "x-actor-organisation": "UIMM", "x-actor-role": "branch-admin"},
    {"x-actor-user": "mallory", "x-actor-organisation": "UIMM", "x-actor-role": "branch-admin",
     "authorization": "Bearer forged"},
])
async def test_a_command_straight_to_a_service_with_forged_actor_headers_is_refused(running, headers):
    for service, command, body in [("candidacy", "register-candidate", SERVICE_BODY),
                                   ("catalog", "create-branch", {"code": "EVIL", "name": "Evil"})]:
        written = await events_in(running, service)
        answer = await running.command(service, command, body, "forged-headers", token=None, headers=headers)
        assert answer.status_code == 401 and answer.json()["error"]["type"] == "Unauthenticated"
        assert await events_in(running, service) == written


async def test_the_same_idempotency_key_from_two_callers_has_two_effects(running):
    first = await register(running, await running.token(organisation=running.centre, role="evaluator"), "shared-key")
    second = await register(running, await running.token(organisation="UIMM", role="branch-admin",
                                                         branches=("UIMM",)), "shared-key")
    assert first["__typename"] == second["__typename"] == "CandidateRegistered"
    assert first["candidate"]["id"] != second["candidate"]["id"]
    again = await register(running, await running.token(organisation=running.centre, role="evaluator"), "shared-key")
    assert again["candidate"]["id"] == first["candidate"]["id"]


async def refused_within_a_minute(system, token: str, key: str) -> None:
    """The account's next commands are refused, through the gateway and straight to the service, within a
    minute of it being closed at Keycloak (its token still unexpired), with nothing written."""
    async def refused():
        result = await register(system, token, f"{key}-{uuid.uuid4().hex}")
        return result if result["__typename"] == "Unauthenticated" else None

    result = await eventually(refused, timeout=60, interval=1)
    assert "disabled or signed out" in result["message"]
    written = await events_in(system, "candidacy")
    straight = await system.command("candidacy", "register-candidate", SERVICE_BODY, key, token=token)
    assert straight.status_code == 401 and "disabled or signed out" in straight.json()["error"]["message"]
    assert await events_in(system, "candidacy") == written


@pytest.mark.parametrize("close", ["disable", "sign_out"])
async def test_a_disabled_or_signed_out_account_acts_for_at_most_a_minute(running, close):
    username = f"leaver-{close}-{uuid.uuid4().hex[:8]}"
    token = await running.token(organisation=running.centre, role="evaluator", username=username)
    assert (await register(running, token, f"{close}-before"))["__typename"] == "CandidateRegistered"
    await getattr(running.keycloak, close)(username)
    await refused_within_a_minute(running, token, f"{close}-after")


async def test_a_batch_tools_client_credentials_token_passes_the_account_check(running):
    token = await client_token(running.keycloak.issuer, "cqp-importer", os.environ["CQP_TEST_IMPORTER_SECRET"],
                               running.keycloak.http)
    created = await running.command("catalog", "create-branch", {"code": "OPCO2I", "name": "OPCO 2i"}, "importer-1",
                                    token=token)
    assert created.status_code == 200, created.text
