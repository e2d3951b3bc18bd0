"""Bearer tokens of the gateway: HMAC-SHA256 signed claims naming the actor.

A deployment would put an identity provider's tokens here; the claims are the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from shared.context import Actor
from shared.errors import Unauthenticated


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: str, actor: Actor, ttl_seconds: int = 12 * 3600) -> str:
    claims = {**actor.model_dump(), "exp": int(time.time()) + ttl_seconds}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())}"


def verify_token(secret: str, token: str) -> Actor:
    if not secret:
        raise Unauthenticated("this gateway has no token key configured (CQP_AUTH_SECRET)")
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        raise Unauthenticated("the bearer token is not valid")
    claims = json.loads(_unb64(body))
    if claims.get("exp", 0) < time.time():
        raise Unauthenticated("the bearer token has expired")
    return Actor(user_id=claims["user_id"], organisation_id=claims["organisation_id"], role=claims["role"])
