"""Mutations made from one table: a command (shared/commands/) → its mutation. A row says only what GraphQL
adds to the command: the field's name, its description, its result and how the answer is read back from the
read models. The input is the command's generated input (inputs.py), the service its row of the role table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from shared.commands import Command

from services.gateway.schema.context import Context
from services.gateway.schema.errors import typed_members
from services.gateway.schema.forward import forward
from services.gateway.schema.inputs import graphql_input


@dataclass(frozen=True)
class CommandMutation:
    name: str  # the field, in Python (createBranch in GraphQL)
    result: type  # its result union (schema/errors.py result_union)
    answer: Callable[[Info[Context, None], dict], Awaitable[Any]]  # (info, the service's answer) → the result
    description: str | None = None


def mutation_type(name: str, table: dict[type[Command], CommandMutation]) -> type:
    """A strawberry type of one mutation per row, in the table's order: `input` (the command's input) and
    `idempotencyKey`, forwarded to the owning service."""
    return strawberry.type(type(name, (), {
        row.name: strawberry.mutation(resolver=_resolver(command, row), description=row.description)
        for command, row in table.items()}))


def _resolver(command: type[Command], row: CommandMutation):
    typed = typed_members(row.result)  # the members a refusal of their name becomes (a document's, errors.py)

    async def resolve(self, info, input, idempotency_key):
        return await forward(info, command, input, idempotency_key, lambda answer: row.answer(info, answer), typed)

    # Real types, not strings: strawberry reads the arguments and the result from them.
    resolve.__annotations__ = {"info": Info[Context, None], "input": graphql_input(command), "idempotency_key": str,
                               "return": row.result}
    resolve.__name__ = resolve.__qualname__ = row.name
    return resolve
