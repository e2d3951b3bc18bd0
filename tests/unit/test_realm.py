"""The checked-in realm and the demo data name the same organisations, branches and roles."""

import json
import uuid

from shared.identity import PLATFORM, Role
from services.catalog.domain import Organisation
from tools.cli import ROOT
from tools.demo import BRANCHES, ORGANISATIONS

REALM = json.loads((ROOT / "deploy" / "keycloak" / "cqp-realm.json").read_text())


def group_attribute(name: str, attribute: str) -> list[str]:
    group = next(g for g in REALM["groups"] if g["name"] == name)
    return group["attributes"].get(attribute, [])


def test_each_demo_organisation_group_carries_the_catalog_id_of_the_organisation_the_demo_registers():
    for group, organisation in ORGANISATIONS.items():
        expected = str(Organisation.create_id(siret=organisation["siret"]))
        assert group_attribute(group, "organisation") == [expected]
        uuid.UUID(expected)


def test_each_branch_group_names_a_branch_the_demo_creates():
    for branch in BRANCHES:
        assert group_attribute(branch["code"], "branches") == [branch["code"]]
    assert group_attribute("platform", "organisation") == [PLATFORM]


def test_the_realm_roles_are_the_platform_roles_and_every_demo_user_has_one():
    assert {r["name"] for r in REALM["roles"]["realm"]} == {r.value for r in Role}
    people = [u for u in REALM["users"] if "serviceAccountClientId" not in u]
    assert {role for u in people for role in u["realmRoles"]} == {r.value for r in Role}


def test_no_secret_is_written_in_the_realm_only_placeholders():
    for client in REALM["clients"]:
        if "secret" in client:
            assert client["secret"].startswith("${CQP_KC_SECRET_")
    for user in REALM["users"]:
        for credential in user.get("credentials", []):
            assert credential["value"] == "${CQP_DEMO_PASSWORD}"


def test_every_client_puts_the_actor_claims_and_the_gateway_audience_in_its_tokens():
    for client in REALM["clients"]:
        claims = {m["config"].get("claim.name") or m["config"].get("included.custom.audience")
                  for m in client["protocolMappers"]}
        assert claims == {"organisation", "branches", "roles", "cqp-gateway"}


def test_wrong_passwords_lock_an_account_for_a_while_and_never_for_good():
    """Brute-force protection slows a guesser down but lets no one lock a known user out for good: after
    `failureFactor` wrong passwords (or two within a second) the account waits a minute, a minute more at each
    further round, at most 15 minutes; it is never disabled."""
    assert REALM["bruteForceProtected"] is True
    assert REALM["permanentLockout"] is False
    assert REALM["failureFactor"] >= 5
    assert 0 < REALM["waitIncrementSeconds"] <= REALM["maxFailureWaitSeconds"] <= 900
    assert 0 < REALM["minimumQuickLoginWaitSeconds"] <= REALM["maxFailureWaitSeconds"]
