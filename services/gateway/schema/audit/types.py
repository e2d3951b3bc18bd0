"""The audit's GraphQL types: history entries (who, when, why, what in one line), an aggregate's history,
a trail's page."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from services.gateway.audit import Entry
from services.gateway.schema.vocabulary import AggregateKind


@strawberry.type
class Actor:
    user_id: str
    organisation_id: str
    role: str


@strawberry.type(description="One recorded change, as published: what, when, who, why")
class HistoryEntry:
    event_id: strawberry.ID
    type: str
    summary: str = strawberry.field(description="What happened, in one line (no personal data)")
    aggregate_id: strawberry.ID = strawberry.field(description="The aggregate that recorded it (the jury's dossier, "
                                                               "session or certificate for its events on a candidacy)")
    producer: str
    occurred_at: datetime
    actor: Actor
    correlation_id: str
    causation_id: str
    payload: JSON = strawberry.field(description="As published; sealed personal data shown as [sealed]")

    @classmethod
    def from_entry(cls, e: Entry) -> HistoryEntry:
        return cls(event_id=strawberry.ID(e.event_id), type=e.type, summary=e.summary,
                   aggregate_id=strawberry.ID(e.aggregate_id), producer=e.producer, occurred_at=e.occurred_at,
                   actor=Actor(**e.actor), correlation_id=e.correlation_id, causation_id=e.causation_id,
                   payload=e.payload)


@strawberry.type(description="Every change of one aggregate, oldest first")
class AggregateHistory:
    aggregate_id: strawberry.ID
    kind: AggregateKind
    entries: list[HistoryEntry]


@strawberry.type
class AuditPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AuditEdge:
    cursor: str
    node: HistoryEntry


@strawberry.type(description="A page of an audit trail; its cursors are keys (time, event id): pages stay put when "
                             "events are recorded between them")
class AuditTrail:
    edges: list[AuditEdge]
    page_info: AuditPageInfo
