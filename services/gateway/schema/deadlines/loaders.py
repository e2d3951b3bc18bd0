"""Batched reads of deadlines and messages sent, one statement for a whole page of candidacies or sessions, each row in the caller's
scope (scopes.deadlines) like every read of the records they are about."""

from __future__ import annotations

from collections import defaultdict

from strawberry.dataloader import DataLoader

from services.gateway import scopes
from services.gateway.schema.pagination import Conditions


def deadlines_loaders(context) -> dict[str, DataLoader]:
    def of(key: str, table: str = "deadlines", order: str = "due_on") -> DataLoader:
        async def load(ids: list[str]) -> list[list]:
            c = Conditions()
            c.add(f"{key} = ANY(?::uuid[])", ids)
            c.add_scope(scopes.deadlines(await context.caller()) if table == "deadlines"
                        else scopes.notifications(await context.caller()))
            found = defaultdict(list)
            for row in await context.pool.fetch(f"SELECT * FROM {table}{c.where} ORDER BY {order}, id", *c.args):
                found[str(row[key])].append(row)
            return [found[str(i)] for i in ids]

        return DataLoader(load)

    return {"deadlines_of_candidacy": of("candidacy_id"), "deadlines_of_session": of("session_id"),
            "notifications_of_candidacy": of("candidacy_id", "notifications", "sent_at"),
            "notifications_of_session": of("session_id", "notifications", "sent_at")}
