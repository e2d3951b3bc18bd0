"""An issuer of access tokens for unit tests: its own RSA key, tokens shaped like Keycloak's.

Integration and end-to-end tests use the real Keycloak instead (tests/keycloak.py)."""

from __future__ import annotations

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.identity import TokenVerifier

ISSUER = "http://127.0.0.1:1/realms/cqp"
AUDIENCE = "cqp-gateway"


class LocalIssuer:
    def __init__(self, issuer: str = ISSUER, kid: str | None = None):
        self.issuer = issuer
        self.kid = kid or uuid.uuid4().hex
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_fetches = 0

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def verifier(self, audience: str = AUDIENCE) -> TokenVerifier:
        async def fetch() -> dict:
            self.jwks_fetches += 1
            return self.jwks()

        return TokenVerifier(self.issuer, audience, fetch, leeway_seconds=0)

    def token(self, user: str = "tester", organisation: str | None = "UIMM", roles=("branch-admin",),
              branches=("UIMM",), ttl: int = 3600, **claims) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": AUDIENCE, "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, user)),
                "preferred_username": user, "typ": "Bearer", "iat": now, "exp": now + ttl,
                "roles": list(roles), "branches": list(branches)}
        if organisation is not None:
            body["organisation"] = organisation
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})

    def bearer(self, **kwargs) -> dict:
        return {"authorization": f"Bearer {self.token(**kwargs)}"}
