"""Per-request context: database pool, command client, the caller's identity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from shared.auth import verify_token
from shared.context import Actor
from shared.errors import Unauthenticated

from services.gateway.commands import CommandClient


@dataclass
class Context:
    request: Request
    pool: asyncpg.Pool
    commands: CommandClient
    auth_secret: str
    correlation_id: str
    loaders: dict[str, DataLoader] = field(default_factory=dict)

    def actor(self) -> Actor:
        """The caller, from the bearer token; mutations need one."""
        scheme, _, token = self.request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
        return verify_token(self.auth_secret, token.strip())

    async def send(self, service: str, command: str, body: dict, idempotency_key: str) -> dict:
        return await self.commands.send(service, command, body, self.actor(), idempotency_key, self.correlation_id)


def new_correlation_id(request: Request) -> str:
    return request.headers.get("x-correlation-id") or str(uuid.uuid4())
