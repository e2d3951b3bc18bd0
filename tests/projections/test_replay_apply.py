"""tools/replay.apply on a real PostgreSQL: events applied by chunks, each once, a failing one skipped alone."""

import uuid
from types import SimpleNamespace

from shared.contracts import catalog as c
from tools import replay
from tools.verify import View

from services.gateway import readmodels
from tests.projections.conftest import envelope


def record(offset: int, fact) -> SimpleNamespace:
    return SimpleNamespace(topic=c.TOPIC, partition=0, offset=offset,
                           value=envelope(fact).model_dump_json().encode() if fact else b"not an envelope")


async def test_a_failing_event_is_skipped_alone_and_every_other_applied_once(db):
    view = View("gateway", readmodels.SCHEMA, "g", readmodels.MIGRATIONS, readmodels.PROJECTIONS)
    await replay.build(db, view, "scratch")
    branches = [record(n, c.BranchCreated(code=f"B{n}", name="b", idcc=[], cpne="c")) for n in range(3)]
    broken = record(3, c.OrganisationRegistered(organisation_id="not-a-uuid", name="x", siret=None, kinds=[]))
    records = [*branches, broken, branches[1], record(4, None)]  # a redelivered event, and garbage

    failed = await replay.apply(db, view, "scratch", c.TOPIC, records)

    assert failed == 2  # the broken event and the garbage
    assert await db.fetchval('SELECT count(*) FROM "scratch".branches') == 3
    assert await db.fetchval('SELECT count(*) FROM "scratch".inbox') == 3
    assert await db.fetchval('SELECT count(*) FROM "scratch".organisations') == 0


async def test_events_applied_by_an_earlier_call_of_the_same_replay_are_not_applied_again(db):
    view = View("gateway", readmodels.SCHEMA, "g", readmodels.MIGRATIONS, readmodels.PROJECTIONS)
    await replay.build(db, view, "scratch")
    first = [record(n, c.BranchCreated(code=f"B{n}", name="b", idcc=[], cpne="c")) for n in range(replay.CHUNK + 5)]
    seen: set[uuid.UUID] = set()
    assert await replay.apply(db, view, "scratch", c.TOPIC, first, seen) == 0
    assert await replay.apply(db, view, "scratch", c.TOPIC, first[-10:], seen) == 0
    assert await db.fetchval('SELECT count(*) FROM "scratch".branches') == replay.CHUNK + 5
