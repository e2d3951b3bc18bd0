from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from services.gateway import scopes
from services.gateway.schema.context import Context
from services.gateway.schema.deadlines.projection import STATE_AT
from services.gateway.schema.deadlines.types import Deadline
from services.gateway.schema.pagination import Conditions, Connection, Key, Listing, page, sort_input
from services.gateway.schema.permissions import Authenticated
from services.gateway.schema.vocabulary import DeadlineKind, DeadlineState


@strawberry.input
class DeadlineFilter:
    kind: DeadlineKind | None = None
    state: DeadlineState | None = strawberry.field(default=None, description="Its state at `asOf` (now by default)")
    branch: str | None = None
    certification: str | None = None
    responsible_role: str | None = None
    due_before: date | None = strawberry.field(default=None, description="Due strictly before this day")
    due_from: date | None = None


DEADLINES = Listing("deadlines", "deadlines", Key("id", "text"), {
    "DUE_ON": Key("due_on", "date"), "OPENED_ON": Key("opened_on", "date")})
DeadlineSort = sort_input(DEADLINES, "Deadline", "The order of the deadlines (then by id)")


async def deadline_conditions(context, f: DeadlineFilter, as_of: datetime | None, operation: str) -> Conditions:
    c = Conditions()
    if as_of is not None:
        c.add("opened_at <= ?", as_of)
    if f.state:
        if as_of is None:
            c.add("state = ?", f.state.value)
        else:
            c.add(f"{STATE_AT('?::timestamptz')} = ?", *[as_of] * 4, f.state.value)
    for column, value in (("kind", f.kind and f.kind.value), ("branch", f.branch), ("certification", f.certification),
                          ("responsible_role", f.responsible_role)):
        if value:
            c.add(f"{column} = ?", value)
    if f.due_before:
        c.add("due_on < ?", f.due_before)
    if f.due_from:
        c.add("due_on >= ?", f.due_from)
    c.add_scope(scopes.deadlines(await context.caller(), operation))
    return c


@strawberry.type
class DeadlineQueries:
    @strawberry.field(permission_classes=[Authenticated],
                      description="The deadlines the caller may read, filtered, sorted and paginated: those of the "
                                  "candidacies and sessions it reads, and, to a branch, its registrations' and "
                                  "accreditations' ends. `asOf`: as they stood then (who was late on 1 March: "
                                  "state MISSED, asOf that day), the same answer as replaying their events")
    async def deadlines(self, info: Info[Context, None], filter: DeadlineFilter | None = None,
                        sort: DeadlineSort | None = None, first: int = 50, after: str | None = None,
                        as_of: datetime | None = None) -> Connection[Deadline]:
        sort = sort or DeadlineSort()
        conditions = await deadline_conditions(info.context, filter or DeadlineFilter(), as_of, "deadlines")
        p = await page(info.context.pool, DEADLINES, conditions, sort.field.name, sort.direction, first, after)
        return Connection.of(p, lambda row: Deadline.from_row(row, as_of))
