"""Mutations forward a command to its service and answer from the read models once they show it."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.file_uploads import Upload
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
    answer: Callable[[dict], Awaitable[Any]], typed: tuple[type[Error], ...] = (),
) -> Any | Error:
    """Send the input as `command` to the service that owns it (its row of the role table says which)."""
    not_files = await read_uploads(input)
    if not_files:
        return to_graphql(InvalidInput("a document's bytes are the file of a GraphQL multipart request", problems=[
            {"field": path, "problem": "the file of a multipart request (its variable null, mapped to the file part)"}
            for path in not_files]))
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
        return to_graphql(refusal, typed)
    try:
        return await answer(result)
    except DATABASE_AWAY as error:
        # The service took the command; only reading its answer failed. Sending it again with the same key
        # answers it, without a second effect.
        return to_graphql(OutcomeUnknown(
            "the command was sent, but the gateway's database failed while reading its answer: send it again "
            "with the same idempotency key", events=result.get("events", []), reason=type(error).__name__))


async def read_uploads(value, path: str = "") -> list[str]:
    """Each file of a multipart request in the input (an `Upload` field, inputs.py) read and put in its place as
    base64, as the command's JSON carries it. Returns the paths of `Upload` fields given anything but a file (a
    text in a JSON request's variables): a document's bytes travel as a file only, within the upload's bound."""
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in await read_uploads(item, f"{path}{index}.")]
    definition = getattr(value, "__strawberry_definition__", None)
    if not hasattr(definition, "fields"):  # a scalar or an enum's value
        return []
    wrong: list[str] = []
    for field in definition.fields:
        item, name = getattr(value, field.python_name, None), f"{path}{field.python_name}"
        if not _is_upload(field.type):
            wrong += await read_uploads(item, f"{name}.")
        elif callable(getattr(item, "read", None)):  # starlette's UploadFile: spooled to disk past 1 MB
            setattr(value, field.python_name, base64.b64encode(await item.read()).decode())
        elif item is not None and item is not strawberry.UNSET:
            wrong.append(name)
    return wrong


def _is_upload(kind) -> bool:
    while (inner := getattr(kind, "of_type", None)) is not None:  # within Optional or a list
        kind = inner
    return kind is Upload
