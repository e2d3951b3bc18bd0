"""Subscriptions are woken by the changes of what they watch, read again from the read models, and forgotten
when they end."""

import asyncio
import contextlib
import time
import uuid
from datetime import datetime, timezone

import pytest

from services.gateway.live import Changes, TooManyWatches
from services.gateway.schema import schema
from shared.identity import Caller


class ReadModels:
    def __init__(self):
        self.fingerprints: dict[str, int] = {}
        self.reads = 0

    async def read(self, ids):
        self.reads += 1
        return {i: self.fingerprints.get(i, 0) for i in ids}


@contextlib.asynccontextmanager
async def running(changes: Changes):
    task = asyncio.create_task(changes.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def woken(watch, timeout=0.5) -> bool:
    try:
        await asyncio.wait_for(watch.woken.wait(), timeout)
    except TimeoutError:
        return False
    watch.woken.clear()
    return True


async def test_only_the_watchers_of_a_candidacy_that_changed_are_woken():
    models = ReadModels()
    changes = Changes(models.read)
    async with running(changes), changes.candidacy("a", "u") as a, changes.candidacy("b", "u") as b:
        models.fingerprints["a"] = 1
        changes.applied()
        assert await woken(a)
        assert not await woken(b, 0.05)


async def test_a_change_with_nothing_new_for_a_candidacy_wakes_none_of_its_watchers():
    models = ReadModels()
    changes = Changes(models.read)
    async with running(changes), changes.candidacy("a", "u") as a:
        changes.applied()
        assert not await woken(a, 0.05)


async def test_counters_are_woken_by_every_change():
    changes = Changes(ReadModels().read)
    async with running(changes), changes.everything("u") as watch:
        changes.applied()
        assert await woken(watch)


async def test_a_burst_of_changes_reads_the_read_models_once_or_twice_not_once_per_change():
    models = ReadModels()
    changes = Changes(models.read)
    async with running(changes), changes.candidacy("a", "u") as a:
        reads = models.reads
        models.fingerprints["a"] = 1
        for _ in range(50):
            changes.applied()
        assert await woken(a)
        await asyncio.sleep(0.05)
        assert models.reads - reads <= 2


async def test_a_lost_notification_is_caught_by_the_slow_recheck():
    models = ReadModels()
    changes = Changes(models.read, recheck_seconds=0.05)
    async with running(changes), changes.candidacy("a", "u") as a:
        models.fingerprints["a"] = 1  # applied elsewhere, and nobody told
        assert await woken(a)


async def test_a_subscription_that_ends_is_forgotten():
    changes = Changes(ReadModels().read)
    async with changes.candidacy("a", "u"), changes.candidacy("a", "u"), changes.everything("u"):
        assert changes.watching() == 3
    assert changes.watching() == 0
    assert changes._known == {}


async def test_a_cancelled_subscription_is_forgotten_too():
    changes = Changes(ReadModels().read)

    async def subscribed():
        async with changes.candidacy("a", "u") as watch:
            await watch.wait(60)

    task = asyncio.create_task(subscribed())
    await asyncio.sleep(0.01)
    assert changes.watching() == 1
    task.cancel()  # the client went away
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert changes.watching() == 0


class Pool:
    """The candidacy row the subscription reads, whatever the statement."""

    def __init__(self, row):
        self.row = row

    async def fetchrow(self, *_):
        return self.row


class SubscriberContext:
    def __init__(self, expires_in: float, changes: Changes):
        self.pool = Pool(CANDIDACY_ROW)
        self.changes = changes
        self.loaders = {}
        self.people = None
        self._expires = time.time() + expires_in

    async def caller(self):
        return Caller(user_id="u", organisation_id="UIMM", branches=("UIMM",), roles=frozenset({"branch-admin"}))

    def token_expires_at(self) -> float:
        return self._expires

    async def check_token(self) -> None:
        pass

    async def people_of(self, ids):
        return {}


CANDIDACY_ROW = {
    "id": uuid.uuid4(), "candidate_id": uuid.uuid4(), "certification": "RNCP1", "version": 1, "route": "VAE",
    "status": "OPEN", "evaluator_id": "E", "trainer_id": None, "employer_id": None, "blocks": "{}", "path": "[]",
    "fundings": "{}", "admissibility": None, "eligibility_confirmed_on": None, "experience_months": None,
    "opened_at": datetime.now(timezone.utc), "updated_at": datetime.now(timezone.utc)}


async def test_a_subscription_ends_when_its_token_expires_even_if_nothing_changes():
    changes = Changes(ReadModels().read)
    context = SubscriberContext(expires_in=0.3, changes=changes)
    stream = await schema.subscribe("subscription($id: ID!) { candidacyChanged(id: $id) { status } }",
                                    {"id": str(CANDIDACY_ROW["id"])}, context_value=context)
    first = await anext(stream)
    assert first.data == {"candidacyChanged": {"status": "OPEN"}} and changes.watching() == 1
    ended = await asyncio.wait_for(anext(stream), 2)
    assert ended.data is None and ended.errors[0].extensions == {"code": "Unauthenticated"}
    assert changes.watching() == 0


async def test_a_subscription_whose_candidacy_left_the_callers_scope_ends_with_not_found():
    changes = Changes(ReadModels().read)
    context = SubscriberContext(expires_in=60, changes=changes)
    stream = await schema.subscribe("subscription($id: ID!) { candidacyChanged(id: $id) { status } }",
                                    {"id": str(CANDIDACY_ROW["id"])}, context_value=context)
    await anext(stream)
    context.pool.row = None  # transferred to another organisation, say
    for watch in changes._candidacies[str(CANDIDACY_ROW["id"])]:
        watch.woken.set()
    ended = await asyncio.wait_for(anext(stream), 2)
    assert ended.errors[0].extensions == {"code": "NotFound"} and changes.watching() == 0


async def test_a_gateway_serves_so_many_subscriptions_and_one_user_no_more_than_their_share():
    changes = Changes(ReadModels().read, most=3, most_per_user=2)
    async with changes.candidacy("a", "ana"), changes.everything("ana"):
        with pytest.raises(TooManyWatches, match="you have 2"):
            async with changes.everything("ana"):
                pass
        async with changes.everything("bob"):
            with pytest.raises(TooManyWatches, match="this gateway serves 3"):
                async with changes.candidacy("a", "carl"):
                    pass
    async with changes.everything("ana"), changes.everything("ana"):  # ended ones count no more
        assert changes.watching() == 2
