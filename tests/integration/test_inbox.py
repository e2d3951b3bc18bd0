"""The consumer's inbox on the real PostgreSQL: each event has its effect once, whatever brings it again; a
failing event never stalls the others for good, and a transient failure never sets anything aside."""

import asyncio
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import asyncpg
import pytest

from shared.envelope import Envelope
from shared.inbox import Inbox
from tests.harness import fresh_database, infrastructure


def record(offset: int, event_type: str = "Thing", event_id: uuid.UUID | None = None) -> SimpleNamespace:
    envelope = Envelope(event_id=event_id or uuid.uuid4(), type=event_type, version=1, producer="p", position=offset,
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


async def sends_a_notice(conn, envelope) -> None:
    """A handler with an effect that is not idempotent (a notice sent, a deadline set, a webhook called):
    each call adds a row, in the inbox's transaction."""
    await conn.execute('INSERT INTO "t".notices (event_id) VALUES ($1)', envelope.event_id)


async def notices(pool) -> dict[uuid.UUID, int]:
    rows = await pool.fetch('SELECT event_id, count(*) AS n FROM "t".notices GROUP BY event_id')
    return {r["event_id"]: r["n"] for r in rows}


async def test_an_event_delivered_again_republished_or_repeated_in_its_batch_has_its_effect_once(pool):
    inbox = Inbox(pool, "t")
    await inbox.migrate()
    await pool.execute('CREATE TABLE "t".notices (event_id uuid NOT NULL)')
    first, second = record(1), record(2)
    event_ids = [Envelope.model_validate_json(r.value).event_id for r in (first, second)]

    assert await inbox.apply([first, second], sends_a_notice) == 2
    assert await inbox.apply([first, second], sends_a_notice) == 0  # redelivered: offsets not committed
    # Republished by a relay that crashed before recording its position: the same event at a new offset,
    # twice in one batch.
    again = record(7, event_id=event_ids[0])
    assert await inbox.apply([again, record(8, event_id=event_ids[0])], sends_a_notice) == 0

    assert await notices(pool) == {event_ids[0]: 1, event_ids[1]: 1}
    assert await pool.fetchval('SELECT count(*) FROM "t".inbox') == 2


async def test_two_replicas_given_the_same_events_at_once_apply_each_once(pool):
    """A rebalance can hand a partition to another replica while the first still applies its batch."""
    replicas = [Inbox(pool, "t"), Inbox(pool, "t")]
    await replicas[0].migrate()
    await pool.execute('CREATE TABLE "t".notices (event_id uuid NOT NULL)')
    batch = [record(offset) for offset in range(1, 21)]

    applied = await asyncio.gather(*(replica.apply(batch, sends_a_notice) for replica in replicas))

    assert sum(applied) == 20
    counts = await notices(pool)
    assert len(counts) == 20 and set(counts.values()) == {1}


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
