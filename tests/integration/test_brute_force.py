"""Wrong passwords lock an account for a while, never for good (deploy/keycloak/cqp-realm.json): the real
Keycloak of the tests refuses even the right password during the lockout, keeps the account enabled, and
lets its owner in once the wait is over."""

from __future__ import annotations

import asyncio
import time
import uuid

from tests.harness import keycloak

WRONG_PASSWORDS = 12


async def test_a_dozen_wrong_passwords_lock_a_known_user_out_for_a_while_and_not_for_good():
    kc = keycloak()
    name = await kc.user(None, ("candidate",), username=f"t-lockout-{uuid.uuid4().hex[:10]}")
    token_url = f"{kc.issuer}/protocol/openid-connect/token"

    async def login(password: str) -> int:
        answer = await kc.http.post(token_url, data={"grant_type": "password", "client_id": "cqp-cli",
                                                     "username": name, "password": password})
        return answer.status_code

    assert await login(kc.password) == 200
    for _ in range(WRONG_PASSWORDS):
        assert await login("not-the-password") == 401
    assert await login(kc.password) == 401, "locked out: even the right password is refused"

    admin = await kc._admin()
    (user,) = (await kc.http.get(f"{kc.admin_api}/users", params={"username": name, "exact": "true"},
                                 headers=admin)).raise_for_status().json()
    assert user["enabled"] is True, "the account is not disabled"
    lock = (await kc.http.get(f"{kc.admin_api}/attack-detection/brute-force/users/{user['id']}",
                              headers=admin)).raise_for_status().json()
    realm = (await kc.http.get(kc.admin_api, headers=admin)).raise_for_status().json()
    assert realm["permanentLockout"] is False
    assert lock["disabled"] is True
    wait = lock["failedLoginNotBefore"] - time.time()
    assert 0 < wait <= realm["maxFailureWaitSeconds"], "a temporary lockout, within the realm's longest wait"

    await asyncio.sleep(wait + 1)
    assert await login(kc.password) == 200, "once the wait is over, the owner logs in"
