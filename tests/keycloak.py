"""The real Keycloak of the tests (started by scripts/test with the checked-in realm): users made on
demand for any organisation, branches and roles, and their real access tokens.

Each organisation and branch is a group carrying its catalog id, as in the realm's demo groups; each
user joins its groups and gets its realm roles, then logs in with the password grant of the realm's
development client, exactly as a person would.
"""

from __future__ import annotations

import asyncio

import hashlib
import os
from urllib.parse import urlsplit

import httpx

from shared.identity import CachedToken, password_token

REALM = "cqp"
CLI = "cqp-cli"


class Keycloak:
    def __init__(self, issuer: str, admin_password: str):
        self.issuer = issuer
        url = urlsplit(issuer)
        self.base = f"{url.scheme}://{url.netloc}"
        self.admin_api = f"{self.base}/admin/realms/{REALM}"
        self.admin_password = admin_password
        # One password per Keycloak, not per run: a second pytest run against the same Keycloak finds the
        # users the first one made (409) and must still log in as them.
        self.password = hashlib.sha256(f"cqp-test-users:{admin_password}".encode()).hexdigest()[:24]
        self.tokens: dict[tuple, CachedToken] = {}
        # The user of each key, made once even when several tests ask at once: a second request used to
        # find the user made (409) before its roles were mapped, and got a token without them.
        self.users: dict[tuple, asyncio.Future] = {}
        self.http = httpx.AsyncClient(timeout=30)

    @classmethod
    def from_environment(cls) -> Keycloak:
        return cls(os.environ["CQP_TEST_OIDC_ISSUER"], os.environ["CQP_TEST_KEYCLOAK_ADMIN_PASSWORD"])

    async def token(self, organisation: str | None, roles: tuple[str, ...], branches: tuple[str, ...] = (),
                    username: str | None = None) -> str:
        key = (organisation, tuple(sorted(roles)), tuple(sorted(branches)), username)
        if key not in self.users:
            self.users[key] = asyncio.ensure_future(self.user(organisation, roles, branches, username))
        making = self.users[key]
        try:
            made = await asyncio.shield(making)
        except Exception:
            if self.users.get(key) is making:
                del self.users[key]  # asked again, it is tried again
            raise
        if key not in self.tokens:
            self.tokens[key] = CachedToken(lambda: password_token(self.issuer, CLI, made, self.password, self.http))
        return await self.tokens[key]()

    async def user(self, organisation: str | None, roles: tuple[str, ...], branches: tuple[str, ...] = (),
                   username: str | None = None) -> str:
        """A user of that organisation, with those branches and roles (made once); named as asked, or after
        what it is."""
        groups = [await self.group("org", "organisation", organisation)] if organisation else []
        groups += [await self.group("branch", "branches", code) for code in branches]
        name = username or "t-" + hashlib.sha256(repr((organisation, sorted(roles), sorted(branches))).encode()).hexdigest()[:20]
        headers = await self._admin()
        user = {"username": name, "enabled": True, "emailVerified": True, "firstName": "Test", "lastName": name,
                "email": f"{name}@test.invalid", "groups": groups,
                "credentials": [{"type": "password", "value": self.password, "temporary": False}]}
        answer = await self.http.post(f"{self.admin_api}/users", headers=headers, json=user)
        if answer.status_code == 409 and username:
            # A user named by a test, left by an earlier run with other groups: made again as asked now.
            (await self.http.delete(f"{self.admin_api}/users/{await self._user_id(name)}",
                                    headers=headers)).raise_for_status()
            answer = await self.http.post(f"{self.admin_api}/users", headers=headers, json=user)
        if answer.status_code == 409:
            return name  # named after what it is: the same groups and roles
        answer.raise_for_status()
        user_id = answer.headers["location"].rsplit("/", 1)[1]
        mappings = [(await self.http.get(f"{self.admin_api}/roles/{role}", headers=headers)).raise_for_status().json()
                    for role in roles]
        (await self.http.post(f"{self.admin_api}/users/{user_id}/role-mappings/realm", headers=headers,
                              json=mappings)).raise_for_status()
        return name

    async def _user_id(self, username: str) -> str:
        found = await self.http.get(f"{self.admin_api}/users", params={"username": username, "exact": "true"},
                                    headers=await self._admin())
        return found.raise_for_status().json()[0]["id"]

    async def disable(self, username: str) -> None:
        """The administrator disables the account, as an organisation does when someone leaves."""
        (await self.http.put(f"{self.admin_api}/users/{await self._user_id(username)}", headers=await self._admin(),
                             json={"enabled": False})).raise_for_status()

    async def sign_out(self, username: str) -> None:
        """Every session of the account ends (the administrator's 'sign out'), its tokens still unexpired."""
        (await self.http.post(f"{self.admin_api}/users/{await self._user_id(username)}/logout",
                              headers=await self._admin())).raise_for_status()

    async def group(self, prefix: str, attribute: str, value: str) -> str:
        name = f"{prefix}-{value}"
        answer = await self.http.post(f"{self.admin_api}/groups", headers=await self._admin(),
                                      json={"name": name, "attributes": {attribute: [value]}})
        if answer.status_code != 409:
            answer.raise_for_status()
        return f"/{name}"

    async def create_client(self, client: dict) -> None:
        answer = await self.http.post(f"{self.admin_api}/clients", headers=await self._admin(), json=client)
        if answer.status_code != 409:
            answer.raise_for_status()

    async def _admin(self) -> dict:
        answer = await self.http.post(f"{self.base}/realms/master/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": self.admin_password})
        return {"authorization": f"Bearer {answer.raise_for_status().json()['access_token']}"}

    async def admin_token(self) -> str:
        """A token of the master realm: a real Keycloak token, of another issuer."""
        return (await self._admin())["authorization"].removeprefix("Bearer ")
