"""The consumer's inbox on the real PostgreSQL: a failing event never stalls the others for good, and
a transient failure never sets anything aside."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import asyncpg
import pytest

from shared.envelope import Envelope
from shared.inbox import Inbox
from tests.harness import fresh_database, infrastructure


def record(offset: int, event_type: str = "Thing") -> SimpleNamespace:
    envelope = Envelope(event_id=uuid.uuid4(), type=event_type, version=1, producer="p", position=offset,
                        aggregate_id=uuid.uuid4(), aggregate_version=1, occurred_at=datetime.now(UTC),
                        actor={"user_id": "u", "organisation_id": "o", "role": "r"}, correlation_id="c",
                        causation_id="k", payload={})
    return SimpleNamespace(topic="t", partition=0, offset=offset, value=envelope.model_dump_json().encode())


@pytest.fixture
async def pool():
    _, dsn = infrastructure()
    pool = await asyncpg.create_pool(await fresh_database(dsn))
    await pool.execute('CREATE SCHEMA "t"')
    yield pool
    await pool.close()


async def test_an_event_whose_handler_keeps_failing_is_set_aside_after_a_few_tries_and_the_others_are_applied(pool):
    inbox = Inbox(pool, "t", max_tries=3)
    await inbox.migrate()
    applied = []

    async def handle(conn, envelope):
        if envelope.type == "Broken":
            raise KeyError("a field the projection expects")
        applied.append(envelope.event_id)

    batch = [record(1), record(2, "Broken"), record(3)]
    for _ in range(2):  # tried again with its batch: nothing committed, nothing set aside yet
        with pytest.raises(KeyError):
            await inbox.apply(batch, handle)
    assert await pool.fetchval('SELECT count(*) FROM "t".dead_letters') == 0
    assert await inbox.apply(batch, handle) == 2  # the third try sets it aside; the others go on
    reason = await pool.fetchval('SELECT reason FROM "t".dead_letters WHERE "offset" = 2')
    assert reason.startswith("Broken: failed 3 times: KeyError")
    assert await pool.fetchval('SELECT count(*) FROM "t".inbox') == 2


async def test_a_transient_failure_is_retried_without_end_and_never_sets_anything_aside(pool):
    inbox = Inbox(pool, "t", max_tries=2)
    await inbox.migrate()

    async def database_away(conn, envelope):
        raise ConnectionResetError("the database went away")

    for _ in range(5):
        with pytest.raises(ConnectionResetError):
            await inbox.apply([record(1)], database_away)
    assert await pool.fetchval('SELECT count(*) FROM "t".dead_letters') == 0
