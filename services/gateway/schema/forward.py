"""Mutations forward a command to its service and answer from the read models once they show it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.types import Info

from shared.commands import Command
from shared.errors import CommandRefused
from shared.policy import operation

from services.gateway.schema.errors import Error, to_graphql
from services.gateway.schema.inputs import command_body


async def forward(
    info: Info, command: type[Command], input: Any, idempotency_key: str, answer: Callable[[dict], Awaitable[Any]],
) -> Any | Error:
    """Send the input as `command` to the service that owns it (its row of the role table says which)."""
    try:
        service = operation(command.operation).service
        result = await info.context.send(service, command.operation, command_body(input), idempotency_key)
    except CommandRefused as refusal:
        return to_graphql(refusal)
    return await answer(result)
