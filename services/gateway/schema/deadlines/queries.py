from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

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


@strawberry.type(description="How a kind of deadline of a branch fared, over the deadlines due in the period")
class DeadlineFigures:
    kind: DeadlineKind
    branch: str | None
    total: int
    open: int = strawberry.field(description="Not yet near their day")
    due: int = strawberry.field(description="Near their day, not yet met")
    met_on_time: int
    met_late: int
    missed: int = strawberry.field(description="Past their day and not met (a term reached, for an end or a validity)")
    cancelled: int
    share_met_on_time: float | None = strawberry.field(description="Met on time / (total - cancelled); for the "
                                                                   "declarations of holders, the share of awards "
                                                                   "declared within the delay, the figure a branch "
                                                                   "reports to France Compétences")


FIGURES = """SELECT kind, branch, count(*) AS total,
    count(*) FILTER (WHERE state = 'OPEN') AS open, count(*) FILTER (WHERE state = 'DUE') AS due,
    count(*) FILTER (WHERE state = 'MET' AND NOT coalesce(met_late, false)) AS met_on_time,
    count(*) FILTER (WHERE state = 'MET' AND met_late) AS met_late,
    count(*) FILTER (WHERE state = 'MISSED') AS missed, count(*) FILTER (WHERE state = 'CANCELLED') AS cancelled
    FROM deadlines{where} GROUP BY kind, branch ORDER BY kind, branch"""


@strawberry.type
class DeadlineQueries:
    @strawberry.field(permission_classes=[Authenticated],
                      description="Per kind and branch, the deadlines the caller may read that are due in the period "
                                  "(`from`, `to`: their due day): how many are open, due, met on time or late, missed "
                                  "or cancelled")
    async def deadline_figures(self, info: Info[Context, None], branch: str | None = None,
                               kind: DeadlineKind | None = None,
                               from_: Annotated[date | None, strawberry.argument(name="from")] = None,
                               to: date | None = None) -> list[DeadlineFigures]:
        c = await deadline_conditions(info.context, DeadlineFilter(kind=kind, branch=branch, due_from=from_,
                                                                   due_before=to + timedelta(days=1) if to else None),
                                      None, "deadlineFigures")
        rows = await info.context.pool.fetch(FIGURES.format(where=c.where), *c.args)
        return [DeadlineFigures(**{k: r[k] for k in ("kind", "branch", "total", "open", "due", "met_on_time",
                                                     "met_late", "missed", "cancelled")},
                                share_met_on_time=(r["met_on_time"] / (r["total"] - r["cancelled"])
                                                   if r["total"] > r["cancelled"] else None)) for r in rows]

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
