"""A mutation's wait for its events is woken when they are applied, here or by another replica."""

import asyncio
import time

from shared.arrivals import Arrivals


class Inbox:
    def __init__(self):
        self.rows: set[str] = set()
        self.reads = 0

    async def applied(self, ids):
        self.reads += 1
        return self.rows & set(ids)


async def test_a_wait_ends_as_soon_as_this_process_applies_the_events():
    inbox = Inbox()
    arrivals = Arrivals(inbox.applied)
    waiting = asyncio.create_task(arrivals.wait(["a", "b"], time.monotonic() + 5))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    inbox.rows |= {"a", "b"}
    arrivals.seen(["a"])
    arrivals.seen(["b"])
    assert await waiting is True
    assert time.monotonic() - started < 0.1  # woken, not polled
    assert arrivals.waiters == []


async def test_events_applied_by_another_replica_are_found_when_it_notifies():
    inbox = Inbox()
    arrivals = Arrivals(inbox.applied)
    waiting = asyncio.create_task(arrivals.wait(["a"], time.monotonic() + 5))
    await asyncio.sleep(0.01)
    inbox.rows.add("a")  # written by the other replica, which NOTIFYs
    await arrivals.recheck()
    assert await waiting is True


async def test_events_applied_before_the_wait_began_end_it_at_once_and_a_deadline_ends_it_without_them():
    inbox = Inbox()
    inbox.rows.add("done")
    arrivals = Arrivals(inbox.applied)
    assert await arrivals.wait(["done"], time.monotonic() + 5) is True
    assert await arrivals.wait(["never"], time.monotonic() + 0.3) is False
