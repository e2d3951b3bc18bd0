"""The audit queries: `history(aggregateId)` and `auditTrail(...)`, scoped by the role table like every
read (an aggregate out of reach reads as not found; a trail shows only the events in the caller's scope)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Union

import strawberry
from strawberry.types import Info

from shared.policy import operation

from services.gateway.schema.context import Context
from services.gateway import audit
from services.gateway.schema.audit.types import AggregateHistory, AuditEdge, AuditPageInfo, AuditTrail, HistoryEntry
from services.gateway.schema.errors import Forbidden, InvalidInput, NotFound, Problem
from services.gateway.schema.permissions import Authenticated

MAX_PAGE = 200

HistoryResult = Annotated[Union[AggregateHistory, NotFound], strawberry.union("HistoryResult")]  # noqa: UP007
AuditTrailResult = Annotated[Union[AuditTrail, Forbidden, InvalidInput],  # noqa: UP007
                             strawberry.union("AuditTrailResult")]


@strawberry.enum
class AuditOrder(enum.Enum):
    NEWEST_FIRST = "NEWEST_FIRST"
    OLDEST_FIRST = "OLDEST_FIRST"


def _invalid(message: str, argument: str | None = None, **details) -> InvalidInput:
    """Refused input, naming the argument at fault."""
    problems = [Problem(field=argument, problem=message)] if argument else []
    return InvalidInput(code="InvalidInput", message=message, details=details, problems=problems)


@strawberry.type
class AuditQueries:
    @strawberry.field(permission_classes=[Authenticated],
                      description="Every change of a certification, organisation, candidate, candidacy (with the "
                                  "jury's evaluations, presentations, decisions and certificates about it) or jury "
                                  "session: what, when, who, why; to whoever may read the aggregate")
    async def history(self, info: Info[Context, None], aggregate_id: strawberry.ID) -> HistoryResult:
        found = await audit.history(info.context.pool, await info.context.caller(), str(aggregate_id))
        if found is None:
            return NotFound(code="NotFound", message="no such aggregate within your scope",
                            details={"aggregate_id": str(aggregate_id)})
        kind, entries = found
        return AggregateHistory(aggregate_id=aggregate_id, kind=kind,
                                entries=[HistoryEntry.from_entry(e) for e in entries])

    @strawberry.field(permission_classes=[Authenticated],
                      description="Every event recorded by an organisation or a user (or both) in a period, "
                                  "paginated (first/after); platform admins see all, an auditor the events about "
                                  "its branches, an organisation's admin its own organisation's")
    async def audit_trail(
        self, info: Info[Context, None],
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        organisation: strawberry.ID | None = None,
        user: str | None = None,
        order: AuditOrder = AuditOrder.NEWEST_FIRST,
        first: int = 50,
        after: str | None = None,
    ) -> AuditTrailResult:
        caller = await info.context.caller()
        if not caller.roles & operation("auditTrail").roles:
            return Forbidden(code="Forbidden", message="none of your roles may read an audit trail",
                             details={"roles": sorted(caller.roles), "allowed": sorted(operation("auditTrail").roles)})
        if not 1 <= first <= MAX_PAGE:
            return _invalid(f"first is 1 to {MAX_PAGE}", "first", first=first)
        for name, value in (("from", from_), ("to", to)):
            if audit.instant(value) is None:
                return _invalid(f"{name} is an instant with its offset, in years 1 to 9999 once in UTC", name,
                                value=value.isoformat())
        from_, to = audit.instant(from_), audit.instant(to)
        if to < from_:
            return _invalid("from is before to", "to")
        try:
            entries, more = await audit.trail(info.context.pool, caller, from_, to,
                                              str(organisation) if organisation else None, user,
                                              order == AuditOrder.NEWEST_FIRST, first, after)
        except audit.BadCursor as error:
            return _invalid(str(error), "after", after=after)
        edges = [AuditEdge(cursor=audit.cursor(e), node=HistoryEntry.from_entry(e)) for e in entries]
        return AuditTrail(edges=edges, page_info=AuditPageInfo(has_next_page=more,
                                                               end_cursor=edges[-1].cursor if edges else None))
