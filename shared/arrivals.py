"""Waiting for events to be applied, without polling: what a mutation's read-your-writes wait is woken by.

A consumer that applies events says so twice: in its own process (`seen`, at once) and, for the other
replicas of the same process, by a PostgreSQL NOTIFY sent with its transaction (so it arrives only once
committed). Whoever waits re-reads the inbox when told, and at least every `RECHECK_SECONDS` in case a
notification was lost (a reconnect).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

RECHECK_SECONDS = 0.25

Applied = Callable[[list[str]], Awaitable[set[str]]]  # which of these event ids the inbox holds


class Arrivals:
    def __init__(self, applied: Applied):
        self.applied = applied
        self.waiters: list[tuple[set[str], asyncio.Event]] = []

    def seen(self, event_ids) -> None:
        """These events were applied (here, or by another replica when `recheck` finds them)."""
        for remaining, ready in self.waiters:
            remaining.difference_update(event_ids)
            if not remaining:
                ready.set()

    async def recheck(self) -> None:
        """Another replica applied something: look for what is awaited."""
        awaited = list({i for remaining, _ in self.waiters for i in remaining})
        if awaited:
            self.seen(await self.applied(awaited))

    async def wait(self, event_ids: list[str], deadline: float) -> bool:
        """True once every event is applied, False at the deadline (monotonic time)."""
        remaining, ready = {str(i) for i in event_ids}, asyncio.Event()
        self.waiters.append((remaining, ready))
        try:
            remaining.difference_update(await self.applied(list(remaining)))
            while remaining:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                try:
                    await asyncio.wait_for(ready.wait(), min(left, RECHECK_SECONDS))
                except TimeoutError:
                    remaining.difference_update(await self.applied(list(remaining)))
            return True
        finally:
            self.waiters.remove((remaining, ready))
