"""Subscriptions are woken by the changes of what they watch, read again from the read models, and forgotten
when they end."""

import asyncio
import contextlib

from services.gateway.live import Changes


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
    async with running(changes), changes.candidacy("a") as a, changes.candidacy("b") as b:
        models.fingerprints["a"] = 1
        changes.applied()
        assert await woken(a)
        assert not await woken(b, 0.05)


async def test_a_change_with_nothing_new_for_a_candidacy_wakes_none_of_its_watchers():
    models = ReadModels()
    changes = Changes(models.read)
    async with running(changes), changes.candidacy("a") as a:
        changes.applied()
        assert not await woken(a, 0.05)


async def test_counters_are_woken_by_every_change():
    changes = Changes(ReadModels().read)
    async with running(changes), changes.everything() as watch:
        changes.applied()
        assert await woken(watch)


async def test_a_burst_of_changes_reads_the_read_models_once_or_twice_not_once_per_change():
    models = ReadModels()
    changes = Changes(models.read)
    async with running(changes), changes.candidacy("a") as a:
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
    async with running(changes), changes.candidacy("a") as a:
        models.fingerprints["a"] = 1  # applied elsewhere, and nobody told
        assert await woken(a)


async def test_a_subscription_that_ends_is_forgotten():
    changes = Changes(ReadModels().read)
    async with changes.candidacy("a"), changes.candidacy("a"), changes.everything():
        assert changes.watching() == 3
    assert changes.watching() == 0
    assert changes._known == {}


async def test_a_cancelled_subscription_is_forgotten_too():
    changes = Changes(ReadModels().read)

    async def subscribed():
        async with changes.candidacy("a") as watch:
            await watch.wait(60)

    task = asyncio.create_task(subscribed())
    await asyncio.sleep(0.01)
    assert changes.watching() == 1
    task.cancel()  # the client went away
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert changes.watching() == 0
