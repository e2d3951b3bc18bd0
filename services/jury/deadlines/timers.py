"""The engine's durable timers and its clock: a row per unsettled deadline with the day its timer next fires,
written in the transaction of the event that opened or changed it, and a loop that fires those come due.

A crash between a firing and its row's update fires it again: the deadline changes only once (domain.py). The clock is the day in Paris, plus an offset that only an
installation allowing it (CQP_DEADLINES_CLOCK_ADJUSTABLE: demonstrations, tests) moves forward."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo

import anyio
import asyncpg

from shared.commands.jury import FireDeadline
from shared.context import Actor, CommandContext, acting
from shared.identity import PLATFORM
from shared.loops import cancelled
from shared.migrations import numbered

logger = logging.getLogger("jury.deadlines")
PARIS = ZoneInfo("Europe/Paris")
BATCH = 100
# Who the clock's firings are recorded as: the jury process itself, under the platform (no organisation's act).
CLOCK = Actor(user_id="jury-deadline-clock", organisation_id=PLATFORM, role="service")

MIGRATIONS = numbered(
    "deadline_timers",
    """
    -- Every deadline not yet met nor cancelled; `fire_on` null once missed (nothing more to fire, it may still be
    -- met late).
    CREATE TABLE IF NOT EXISTS deadline_timers (
        deadline_id uuid PRIMARY KEY,
        kind text NOT NULL,
        -- What a later event meets or cancels it by, without knowing its dates (a renewed registration).
        about text NOT NULL,
        fire_on date
    );
    CREATE INDEX IF NOT EXISTS deadline_timers_by_day ON deadline_timers (fire_on);
    CREATE INDEX IF NOT EXISTS deadline_timers_by_about ON deadline_timers (kind, about);
    CREATE TABLE IF NOT EXISTS deadline_clock (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        offset_days int NOT NULL
    );
    -- The delays a branch set (catalog BranchDeadlinesSet); a branch without a row has the defaults.
    CREATE TABLE IF NOT EXISTS deadline_settings (
        branch text PRIMARY KEY,
        settings jsonb NOT NULL
    );
    """,
)


def paris_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(PARIS).date()


async def today(conn: asyncpg.Connection | asyncpg.Pool) -> dt.date:
    offset = await conn.fetchval("SELECT offset_days FROM deadline_clock") or 0
    return paris_day(dt.datetime.now(dt.timezone.utc)) + dt.timedelta(days=offset)


async def advance(conn: asyncpg.Connection, days: int) -> int:
    """Moves the clock forward (never back: what was fired stays fired); returns the offset now."""
    if days < 0:
        raise ValueError("the deadline clock only moves forward")
    return await conn.fetchval(
        "INSERT INTO deadline_clock (offset_days) VALUES ($1) ON CONFLICT (one)"
        " DO UPDATE SET offset_days = deadline_clock.offset_days + $1 RETURNING offset_days", days)


async def keep(conn: asyncpg.Connection, deadline_id: str, kind: str, about: str, answer: dict) -> None:
    """The timer of a deadline as a command on it left it: its next firing; none once missed; gone once settled."""
    if answer.get("state") in ("OPEN", "DUE", "MISSED"):
        following = answer.get("next_firing")
        await conn.execute(
            "INSERT INTO deadline_timers (deadline_id, kind, about, fire_on) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (deadline_id) DO UPDATE SET fire_on = EXCLUDED.fire_on",
            uuid.UUID(deadline_id), kind, about, dt.date.fromisoformat(following) if following else None)
    else:
        await conn.execute("DELETE FROM deadline_timers WHERE deadline_id = $1", uuid.UUID(deadline_id))


class Clock:
    """Fires the timers come due, a batch at a time, each row locked while it fires (several processes may run)."""

    def __init__(self, app, pool: asyncpg.Pool, poll_seconds: float):
        self.app, self.pool, self.poll_seconds = app, pool, poll_seconds

    async def run(self) -> None:
        while True:
            try:
                while await self.tick() == BATCH:
                    pass
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if cancelled():
                    raise asyncio.CancelledError from error
                logger.warning("deadline clock: %s; trying again", error)
            await asyncio.sleep(self.poll_seconds)

    async def tick(self) -> int:
        """Fires the timers due today; returns how many."""
        async with self.pool.acquire() as conn, conn.transaction():
            day = await today(conn)
            rows = await conn.fetch("SELECT deadline_id, kind, about FROM deadline_timers WHERE fire_on <= $1"
                                    " ORDER BY fire_on LIMIT $2 FOR UPDATE SKIP LOCKED", day, BATCH)
            if not rows:
                return 0
            # Fired together, saved in one transaction; recorded as the clock's, the day as the cause.
            context = CommandContext(actor=CLOCK, correlation_id=f"deadline-clock:{day.isoformat()}",
                                     causation_id=f"deadline-clock:{day.isoformat()}")
            commands = [FireDeadline(deadline_id=str(row["deadline_id"]), today=day) for row in rows]
            with acting(context):
                answers = await anyio.to_thread.run_sync(self.app.fire_deadlines, commands)
            for row, answer in zip(rows, answers):
                await keep(conn, str(row["deadline_id"]), row["kind"], row["about"], answer)
            return len(rows)
