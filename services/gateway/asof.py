"""States at a past instant, read through the gateway's own projections.

The audit log keeps every event applied, as published. A past state replays the aggregate's events up to
the instant (those of its history, services/gateway/audit.py) through the same projection handlers as
the consumer, into temporary tables shadowing the read-model tables they write (PostgreSQL looks in
pg_temp first for an unqualified name, and the projections name their tables unqualified), then the
caller reads the rows with the same queries and `from_row` as today's. The transaction is read-only once
the shadows exist (a write to a real table fails) and always rolled back: nothing stays.

Only the replayed aggregate's tables are shadowed: the projections read no other table, and the fields
of a past state that read other records (a certification's branches, a candidacy's certification) read
them as they are today, as they always did. Before the aggregate existed the tables stay empty: null,
as for an unknown id. The caller's scope is checked on today's read model before (queries.py).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from shared.context import Actor
from shared.envelope import Envelope
from shared.inbox import Handler, chain
from shared.vocabulary import AggregateKind

from services.gateway.audit import events_of
from services.gateway.schema.candidacy import projection as candidacies
from services.gateway.schema.catalog import projection as catalog
from services.gateway.schema.documents import projection as documents
from services.gateway.schema.guards import REPLAY_COST
from services.gateway.schema.jury import projection as jury

# What the guard counts a past state at is the most events it replays.
MAX_EVENTS = REPLAY_COST


class PastTooLong(GraphQLError):
    def __init__(self):
        super().__init__(f"this past state would replay more than {MAX_EVENTS} events: ask for an earlier "
                         "instant, or read its history", extensions={"code": "PastTooLong", "most": MAX_EVENTS})


@dataclass(frozen=True)
class Past:
    """What a past state of one kind replays: the events of its history, by the projection of their
    producer, into shadows of the tables those write."""

    kind: AggregateKind
    projections: dict[str, Handler]  # producer → its projection in the gateway
    tables: tuple[str, ...]


CERTIFICATION = Past(AggregateKind.CERTIFICATION, {"catalog": catalog.project},
                     ("certifications", "certification_versions"))
JURY_SESSION = Past(AggregateKind.JURY_SESSION, {"jury": jury.project},
                    ("jury_sessions", "jury_presentations", "jury_decisions"))
# A candidacy's history holds the jury's events about it: its evaluations and decisions then are replayed
# too (the certificates' and a decision's session row are written, into shadows, and not read); and the documents
# attached to it by then (schema/documents/projection.py), each producer's.
def _and_documents(producer: str, project: Handler) -> Handler:
    return chain([project, documents.BY_PRODUCER[producer]]) if producer in documents.BY_PRODUCER else project


CANDIDACY = Past(AggregateKind.CANDIDACY,
                 {"candidacy": _and_documents("candidacy", candidacies.project),
                  "jury": _and_documents("jury", jury.project)},
                 ("candidacies", "jury_evaluations", "jury_sessions", "jury_presentations", "jury_decisions",
                  "certificates", "documents"))


async def events(conn: asyncpg.Connection, past: Past, aggregate_id: str, as_of: datetime) -> list[Envelope]:
    """The events of its history recorded at or before `as_of`, each aggregate's in its version order."""
    rows = await conn.fetch(
        f"SELECT a.* FROM audit_log a WHERE {events_of(past.kind)} AND a.occurred_at <= $2"
        f" ORDER BY a.occurred_at, a.aggregate_id, a.aggregate_version LIMIT {MAX_EVENTS + 1}",
        str(aggregate_id), as_of)
    if len(rows) > MAX_EVENTS:
        raise PastTooLong()
    return [envelope(r) for r in rows]


def envelope(row) -> Envelope:
    """The envelope as published, from its audit row. The audit log keeps no position (no projection reads
    it); its payload is the published one, but for version 1 of the evaluations, kept without the clear text
    that their upcast drops anyway (shared/contracts/jury.py)."""
    return Envelope(event_id=row["event_id"], type=row["type"], version=row["version"], producer=row["producer"],
                    position=0, aggregate_id=row["aggregate_id"], aggregate_version=row["aggregate_version"],
                    occurred_at=row["occurred_at"], actor=Actor.model_validate_json(row["actor"]),
                    correlation_id=row["correlation_id"], causation_id=row["causation_id"],
                    payload=json.loads(row["payload"]))


@dataclass(frozen=True)
class Replay:
    conn: asyncpg.Connection  # its read-model tables of the past hold the aggregate as it stood then
    events: list[Envelope]  # those replayed, in their order


@contextlib.asynccontextmanager
async def replayed(pool: asyncpg.Pool, past: Past, aggregate_id, as_of: datetime) -> AsyncIterator[Replay]:
    """The aggregate as it stood at `as_of` in the tables of `past`, for the time of the block; rolled back
    after it."""
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            for table in past.tables:  # each named once, before its shadow exists: LIKE names the real one
                await conn.execute(f"CREATE TEMP TABLE {table} (LIKE {table} INCLUDING ALL) ON COMMIT DROP")
            await conn.execute("SET TRANSACTION READ ONLY")  # temporary tables only, from here on
            replayed = await events(conn, past, aggregate_id, as_of)
            for e in replayed:
                await past.projections[e.producer](conn, e)
            yield Replay(conn, replayed)
        finally:
            await transaction.rollback()


async def read(loader: DataLoader, key):
    """What the request's loader would read for one key, read on the replay's connection instead."""
    return (await loader.load_fn([key]))[0]
