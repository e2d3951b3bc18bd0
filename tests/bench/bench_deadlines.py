"""Benchmark (issue 23): the deadline engine over N awards (100,000 by default), beside the raw job rate of the
same PostgreSQL in the same run.

Not part of the suite (the file name does not start with test_); run it by name:

    CQP_BENCH_AWARDS=20000 scripts/test tests/bench/bench_deadlines.py -s -q

In one process, on a fresh database: the jury's application opens one HOLDER_DECLARATION deadline per award (the
engine's `open_deadline`, from 32 threads), each with its timer row (timers.keep); then the clock moves past their
reminder day and past their day, and `Clock.tick` fires them (Due, then Missed: two firings each), in batches of
100 saved in one transaction each, as the running process does. It prints deadlines opened/s and firings/s; then, as the raw floor of a PostgreSQL-backed scheduler, the same
number of job rows inserted (one statement each, 32 connections) and claimed, updated and deleted in batches of 100
under FOR UPDATE SKIP LOCKED (procrastinate's and our timers' pattern) with nothing else done. It asserts only
correctness (every deadline opened, due then missed once), never a speed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import asyncpg

from shared.commands.jury import OpenDeadline
from shared.context import CommandContext, acting
from shared.migrations import migrate

from services.jury.application import JuryApplication
from services.jury.deadlines import timers
from services.jury.deadlines.engine import ENGINE, add_months
from tests.harness import fresh_database, infrastructure

COUNT = int(os.environ.get("CQP_BENCH_AWARDS", "100000"))
THREADS = 32
TODAY = timers.paris_day(dt.datetime.now(dt.UTC))  # the clock's day, before it is moved


def store_env(dsn: str, schema: str) -> dict[str, str]:
    url = urlsplit(dsn)
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname, "POSTGRES_PORT": str(url.port), "POSTGRES_USER": url.username,
            "POSTGRES_PASSWORD": url.password or "", "POSTGRES_SCHEMA": schema, "CREATE_TABLE": "y",
            "POSTGRES_POOL_SIZE": "10", "POSTGRES_MAX_OVERFLOW": "30"}


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:9.1f}/s  ({count} in {seconds:6.1f} s)"


def open_one(app: JuryApplication, i: int) -> dict:
    due = add_months(TODAY, 3)
    command = OpenDeadline(kind="HOLDER_DECLARATION", subject=f"UIMM-2026-{i:06d}", branch="UIMM",
                           certification="RNCP34174", candidacy_id=str(uuid.uuid4()), session_id=None,
                           responsible_role="certifier", cause=str(uuid.uuid4()), opened_on=TODAY, due_on=due,
                           remind_on=due - dt.timedelta(days=15))
    with acting(CommandContext(actor=ENGINE, correlation_id="bench", causation_id=f"bench-open:{i}")):
        return app.open_deadline(command)


async def raw_jobs(pool: asyncpg.Pool, n: int) -> tuple[float, float]:
    """Job rows inserted one statement each (THREADS connections), then claimed and done in batches of 100."""
    await pool.execute("CREATE TABLE raw_jobs (id uuid PRIMARY KEY, fire_on date NOT NULL)")
    queue = asyncio.Queue()
    for _ in range(n):
        queue.put_nowait(uuid.uuid4())

    async def insert() -> None:
        async with pool.acquire() as conn:
            while not queue.empty():
                await conn.execute("INSERT INTO raw_jobs VALUES ($1, $2)", queue.get_nowait(), TODAY)

    began = time.perf_counter()
    await asyncio.gather(*(insert() for _ in range(THREADS)))
    inserted = time.perf_counter() - began
    began = time.perf_counter()
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch("SELECT id FROM raw_jobs WHERE fire_on <= $1 LIMIT 100 FOR UPDATE SKIP LOCKED",
                                    TODAY)
            if not rows:
                break
            await conn.execute("UPDATE raw_jobs SET fire_on = fire_on + 1 WHERE id = ANY($1::uuid[])",
                               [r["id"] for r in rows])
            await conn.execute("DELETE FROM raw_jobs WHERE id = ANY($1::uuid[])", [r["id"] for r in rows])
    return n / inserted, n / (time.perf_counter() - began)


async def test_bench_deadlines_opened_and_fired():
    _, admin = infrastructure()
    dsn = await fresh_database(admin)
    app = JuryApplication(env=store_env(dsn, "public"))
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=THREADS + 2)
    try:
        await migrate(pool, timers.MIGRATIONS)
        began = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as threads:
            answers = list(threads.map(lambda i: open_one(app, i), range(COUNT)))
        opened = time.perf_counter() - began
        began = time.perf_counter()
        async with pool.acquire() as conn:  # their timers, as the engine keeps them in its transactions
            for answer in answers:
                await timers.keep(conn, answer["id"], "HOLDER_DECLARATION", answer["id"], answer)
        kept = time.perf_counter() - began
        assert await pool.fetchval("SELECT count(*) FROM deadline_timers WHERE fire_on IS NOT NULL") == COUNT

        clock = timers.Clock(app, pool, poll_seconds=0)
        firings = 0
        began = time.perf_counter()
        for days in ((add_months(TODAY, 3) - TODAY).days - 15, 16):  # past the reminder day, then past the day
            async with pool.acquire() as conn:
                await timers.advance(conn, days)
            while (fired := await clock.tick()) > 0:
                firings += fired
        fired_in = time.perf_counter() - began
        assert firings == 2 * COUNT
        assert await pool.fetchval("SELECT count(*) FROM deadline_timers WHERE fire_on IS NULL") == COUNT  # missed

        insert_rate, claim_rate = await raw_jobs(pool, COUNT)
        print(f"\n{COUNT} awards, {THREADS} threads, one PostgreSQL")
        print(f"  deadlines opened (open_deadline, 32 threads)    {rate(COUNT, opened)}")
        print(f"  their timers kept (one statement each)           {rate(COUNT, kept)}")
        print(f"  firings (Due then Missed, Clock.tick)            {rate(firings, fired_in)}")
        print(f"  raw: job rows inserted, one statement each       {insert_rate:9.1f}/s")
        print(f"  raw: jobs claimed + done, SKIP LOCKED, by 100    {claim_rate:9.1f}/s")
    finally:
        await pool.close()
        app.close()
