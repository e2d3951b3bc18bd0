"""Mutations forward a command to its service and answer from the read models once they show it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from strawberry.types import Info

from shared.commands import Command
from shared.errors import CommandRefused, InvalidInput, OutcomeUnknown
from shared.http import input_problems
from shared.limits import control_character_paths
from shared.policy import operation

from services.gateway.schema.context import Context
from services.gateway.commands import DATABASE_AWAY
from services.gateway.schema.errors import Error, to_graphql
from services.gateway.schema.inputs import command_body


async def forward(
    info: Info[Context, None], command: type[Command], input: Any, idempotency_key: str,
    answer: Callable[[dict], Awaitable[Any]],
) -> Any | Error:
    """Send the input as `command` to the service that owns it (its row of the role table says which)."""
    body = command_body(input)
    # Refused here as the service would (the same problems), so that a control character never travels.
    problems = [{"field": path, "problem": "control characters are not allowed in text"}
                for path in [*control_character_paths(body),
                             *(["idempotency_key"] if any(control_character_paths(idempotency_key)) else [])]]
    if problems:
        return to_graphql(InvalidInput("the command's input holds control characters", problems=problems))
    # Every other bad value (a day its scalar could not read, inputs.Unread, or one out of the command's bounds)
    # refused here by the command's own model, as the service would: nothing bad is sent.
    try:
        command.model_validate_json(json.dumps(body))
    except ValidationError as error:
        return to_graphql(InvalidInput("the command's input is malformed", problems=input_problems(error)))
    try:
        service = operation(command.operation).service
        result = await info.context.send(service, command.operation, body, idempotency_key)
    except CommandRefused as refusal:
        return to_graphql(refusal)
    try:
        return await answer(result)
    except DATABASE_AWAY as error:
        # The service took the command; only reading its answer failed. Sending it again with the same key
        # answers it, without a second effect.
        return to_graphql(OutcomeUnknown(
            "the command was sent, but the gateway's database failed while reading its answer: send it again "
            "with the same idempotency key", events=result.get("events", []), reason=type(error).__name__))
