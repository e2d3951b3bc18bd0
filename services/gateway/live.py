"""Live updates: what wakes the GraphQL subscriptions when the read models change, without polling.

The inbox tells `Changes.applied` after each transaction that applied events has committed: in this
process at once, and for the events another replica applied, through the PostgreSQL NOTIFY that replica
sent with its transaction (`Inbox.listeners`). The hub then reads again, in one statement, a fingerprint
of every candidacy watched here (how many events concern it, its certificates' states) and wakes the
watchers of those that changed; watchers of counts are woken by every change and compare what they read.
Nothing is taken from a notification: what a subscription pushes is read again, in its caller's scope.
A slow recheck (`RECHECK_SECONDS`) covers a notification lost while the listener reconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
from prometheus_client import Gauge

logger = logging.getLogger("live")

RECHECK_SECONDS = 30.0

LIVE_WATCHES = Gauge("cqp_live_watches", "Subscriptions waiting for changes of the read models")

Fingerprints = Callable[[list[str]], Awaitable[dict[str, object]]]  # candidacy id → what changes with it


def candidacy_fingerprints(pool: asyncpg.Pool) -> Fingerprints:
    """What changes whenever the `candidacy` query's answer may: the events about the candidacy (its own and
    the jury's naming it) and its certificates' revocations and declarations (events naming a number)."""

    async def read(ids: list[str]) -> dict[str, object]:
        rows = await pool.fetch(
            """
            SELECT w.id::text AS id,
                   (SELECT count(*) FROM audit_log a WHERE a.aggregate_id = w.id)
                   + (SELECT count(*) FROM audit_log a WHERE a.payload ->> 'candidacy_id' = w.id::text) AS events,
                   (SELECT string_agg(concat_ws(':', number, declaration_state, revoked_on), ',' ORDER BY number)
                      FROM certificates c WHERE c.candidacy_id = w.id
                       AND c.candidate_id = (SELECT candidate_id FROM candidacies WHERE id = w.id)) AS certificates
            FROM unnest($1::uuid[]) AS w(id)
            """, ids)
        return {r["id"]: (r["events"], r["certificates"]) for r in rows}

    return read


class Watch:
    """One subscription's wake-up call."""

    def __init__(self) -> None:
        self.woken = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Until woken, or `timeout` seconds (then the caller checks its token and reads again anyway)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.woken.wait(), max(timeout, 0))
        self.woken.clear()


class TooManyWatches(RuntimeError):
    """The gateway, or this user, watches as many subscriptions as it may."""


class Changes:
    def __init__(self, fingerprints: Fingerprints, recheck_seconds: float = RECHECK_SECONDS,
                 most: int = 1000, most_per_user: int = 50):
        self._fingerprints = fingerprints
        self.recheck_seconds = recheck_seconds
        # Each subscription reads again at every change: bounded per process, and per user so that one
        # caller opening many connections cannot take them all.
        self.most, self.most_per_user = most, most_per_user
        self._users: dict[str, int] = {}
        self._candidacies: dict[str, set[Watch]] = {}  # candidacy id → its watchers
        self._known: dict[str, object] = {}  # candidacy id → its fingerprint when last read
        self._everything: set[Watch] = set()
        self._changed = asyncio.Event()

    def applied(self) -> None:
        """Events were applied and committed (here or in another replica)."""
        self._changed.set()

    @contextlib.contextmanager
    def _counted(self, user: str):
        if self.watching() >= self.most:
            raise TooManyWatches(f"this gateway serves {self.most} subscriptions already: try another or later")
        if self._users.get(user, 0) >= self.most_per_user:
            raise TooManyWatches(f"you have {self.most_per_user} subscriptions open already: end one first")
        self._users[user] = self._users.get(user, 0) + 1
        LIVE_WATCHES.inc()
        try:
            yield
        finally:
            LIVE_WATCHES.dec()
            self._users[user] -= 1
            if not self._users[user]:
                del self._users[user]

    @contextlib.asynccontextmanager
    async def candidacy(self, candidacy_id: str, user: str) -> AsyncIterator[Watch]:
        """A watch woken when this candidacy may have changed; forgotten on leaving (a disconnect too)."""
        watch = Watch()
        with self._counted(user):
            self._candidacies.setdefault(candidacy_id, set()).add(watch)
            try:
                if candidacy_id not in self._known:  # from now on, a change wakes it
                    self._known.setdefault(candidacy_id, (await self._fingerprints([candidacy_id]))[candidacy_id])
                yield watch
            finally:
                watchers = self._candidacies[candidacy_id]
                watchers.discard(watch)
                if not watchers:
                    del self._candidacies[candidacy_id]
                    self._known.pop(candidacy_id, None)

    @contextlib.asynccontextmanager
    async def everything(self, user: str) -> AsyncIterator[Watch]:
        """A watch woken by every change (its owner compares what it reads with what it sent)."""
        watch = Watch()
        with self._counted(user):
            self._everything.add(watch)
            try:
                yield watch
            finally:
                self._everything.discard(watch)

    def watching(self) -> int:
        return len(self._everything) + sum(len(w) for w in self._candidacies.values())

    async def run(self) -> None:
        """Wake the watchers of what changed, for as long as the process lives."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.recheck_seconds)
            self._changed.clear()
            try:
                await self.wake_changed()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 (the database is away: the next change or recheck tries again)
                logger.warning("could not read what changed", exc_info=True)
                await asyncio.sleep(1)

    async def wake_changed(self) -> None:
        for watch in self._everything:
            watch.woken.set()
        if not self._candidacies:
            return
        for candidacy_id, fingerprint in (await self._fingerprints(list(self._candidacies))).items():
            if candidacy_id in self._candidacies and self._known.get(candidacy_id) != fingerprint:
                self._known[candidacy_id] = fingerprint
                for watch in self._candidacies[candidacy_id]:
                    watch.woken.set()
