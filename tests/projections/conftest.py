"""The gateway's projections, one feature at a time: events in, rows out, on a real PostgreSQL (no broker:
the handlers are called as the inbox calls them, in a transaction)."""

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from shared.envelope import Contract, Envelope
from shared.migrations import migrate
from tests.harness import fresh_database, infrastructure

from services.gateway import readmodels

ACTOR = {"user_id": "alice", "organisation_id": "11111111-1111-1111-1111-111111111111", "role": "evaluator"}


@pytest.fixture
async def db():
    _, dsn = infrastructure()
    conn = await asyncpg.connect(await fresh_database(dsn))
    await conn.execute("CREATE SCHEMA readmodels")
    await conn.execute("SET search_path TO readmodels")
    await migrate(conn, readmodels.MIGRATIONS)
    yield conn
    await conn.close()


def envelope(fact: Contract, aggregate_id: uuid.UUID | str | None = None, at: datetime | None = None,
             version: int | None = None, payload: dict | None = None, actor: dict = ACTOR) -> Envelope:
    return Envelope(event_id=uuid.uuid4(), type=fact.event_type if fact else "Unknown",
                    version=version or fact.contract_version, producer="test", position=1,
                    aggregate_id=aggregate_id or uuid.uuid4(), aggregate_version=1,
                    occurred_at=at or datetime.now(UTC), actor=actor, correlation_id="corr", causation_id="cause",
                    payload=payload if payload is not None else fact.model_dump(mode="json"))


async def apply(conn: asyncpg.Connection, topic: str, *envelopes: Envelope) -> None:
    """As the inbox does: every feature's handler of the topic, in one transaction per event."""
    for e in envelopes:
        async with conn.transaction():
            await readmodels.PROJECTIONS[topic](conn, e)
