"""Batched reads of deadlines, one statement for a whole page of candidacies or sessions, each row in the caller's
scope (scopes.deadlines) like every read of the records they are about."""

from __future__ import annotations

from collections import defaultdict

from strawberry.dataloader import DataLoader

from services.gateway import scopes
from services.gateway.schema.pagination import Conditions


def deadlines_loaders(context) -> dict[str, DataLoader]:
    def of(key: str) -> DataLoader:
        async def load(ids: list[str]) -> list[list]:
            c = Conditions()
            c.add(f"{key} = ANY(?::uuid[])", ids)
            c.add_scope(scopes.deadlines(await context.caller()))
            found = defaultdict(list)
            for row in await context.pool.fetch(f"SELECT * FROM deadlines{c.where} ORDER BY due_on, id", *c.args):
                found[str(row[key])].append(row)
            return [found[str(i)] for i in ids]

        return DataLoader(load)

    return {"deadlines_of_candidacy": of("candidacy_id"), "deadlines_of_session": of("session_id")}
