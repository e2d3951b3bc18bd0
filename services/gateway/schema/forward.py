"""Mutations forward a command to its service and answer from the read models once they show it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from shared.errors import CommandRefused

from services.gateway.schema.errors import Error, to_graphql


def command_body(input: Any) -> dict:
    """A GraphQL input as the command's body, leaving out what the client did not give."""
    return {k: v for k, v in strawberry.asdict(input).items() if v is not strawberry.UNSET}


async def forward(
    info: Info, service: str, command: str, body: dict, idempotency_key: str,
    answer: Callable[[dict], Awaitable[Any]],
) -> Any | Error:
    try:
        result = await info.context.send(service, command, body, idempotency_key)
    except CommandRefused as refusal:
        return to_graphql(refusal)
    return await answer(result)
