"""Health and metrics of every process.

- `/health/live` (and `/health`): the process answers.
- `/health/ready`: ready to serve when its database answers, the broker accepts connections, its
  consumers are less than `ready_max_consumer_lag` messages behind on every partition and, for a
  service, its relay is less than `ready_max_relay_lag` events behind its store and publishing;
  otherwise 503 with what is wrong. Dead letters are counted there too (they do not make a process unready: its other
  partitions go on), and in the metrics.
- `/metrics`: Prometheus metrics (prometheus-client).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

COMMAND_SECONDS = Histogram("cqp_command_seconds", "Time to answer a command", ["command", "outcome"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# Group commit (shared/committer.py): how many commands each transaction of the event store saved.
COMMANDS_PER_SAVE = Histogram("cqp_commands_per_save", "Commands saved together in one transaction (group commit)",
                              buckets=(1, 2, 4, 8, 16, 32, 64, 128))
RELAY_POSITION = Gauge("cqp_relay_position", "Last notification published by the relay", ["topic"])
RELAY_BLOCKED = Gauge("cqp_relay_blocked", "1 while the relay cannot publish (see /health/ready for why)", ["topic"])
EVENTS_PUBLISHED = Counter("cqp_events_published", "Events the relay published", ["topic"])
EVENTS_APPLIED = Counter("cqp_events_applied", "Events a consumer applied", ["topic"])
DEAD_LETTERS = Counter("cqp_dead_letters", "Messages set aside as dead letters", ["topic"])
CONSUMER_LAG = Gauge("cqp_consumer_lag", "Messages of a partition not yet applied by its consumer",
                     ["topic", "partition"])
PROJECTION_SECONDS = Histogram("cqp_projection_seconds", "Time to apply a batch of events (one transaction)",
                               ["topic"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))
READ_YOUR_WRITES_SECONDS = Histogram("cqp_read_your_writes_seconds",
                                     "Wait of a mutation for the read models to show its events",
                                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

Check = Callable[[], Awaitable[dict]]


async def database(pool: asyncpg.Pool) -> dict:
    with anyio.fail_after(2):
        await pool.fetchval("SELECT 1")
    return {}


async def broker(bootstrap: str) -> dict:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    with anyio.fail_after(2):
        stream = await anyio.connect_tcp(host, int(port))
        await stream.aclose()
    return {}


async def objects(store) -> dict:
    """The object store answers for this process's bucket (a missing object is an answer)."""
    from shared.objects import ObjectMissing

    with anyio.fail_after(3):
        try:
            await store.head("health/none")
        except ObjectMissing:
            pass
    return {}


async def relay_behind(db, schema: str, topic: str, table: str) -> int:
    """How many stored events the relay has not published (any replica's relay: the position is in the
    database); `db`: a pool or a connection."""
    return await db.fetchval(
        f'SELECT coalesce((SELECT max(notification_id) FROM "{schema}"."{table}"), 0)'
        f' - coalesce((SELECT position FROM "{schema}".relay_position WHERE topic = $1), 0)', topic)


async def relay_lag(pool: asyncpg.Pool, schema: str, topic: str, table: str, most: int) -> dict:
    lag = await relay_behind(pool, schema, topic, table)
    if lag > most:
        raise RuntimeError(f"the relay is {lag} events behind the store (more than {most})")
    return {"relay_lag": lag}


async def relay_state(relay) -> dict:
    if relay.blocked:
        raise RuntimeError(f"the relay cannot publish at position {relay.position + 1}: {relay.blocked}")
    return {}


async def consumer_lag(inbox, most: int) -> dict:
    """How far the process's consumers are behind their partitions (what the broker holds and they have
    not applied yet)."""
    lags = await inbox.lags()
    if behind := {f"{topic}[{partition}]": lag for (topic, partition), lag in lags.items() if lag > most}:
        raise RuntimeError(f"consumers more than {most} messages behind: {behind}")
    return {"consumer_lag": sum(lags.values())}


async def dead_letters(pool: asyncpg.Pool, schema: str) -> dict:
    try:
        return {"dead_letters": await pool.fetchval(f'SELECT count(*) FROM "{schema}".dead_letters')}
    except asyncpg.UndefinedTableError:
        return {"dead_letters": 0}


def health_routes(name: str, checks: Callable[[], dict[str, Check]]) -> list[Route]:
    """`checks()` gives, once the process has started, the named checks of its readiness."""

    async def live(_: Request) -> JSONResponse:
        return JSONResponse({"service": name, "status": "ok"})

    async def ready(_: Request) -> JSONResponse:
        report, failures = {"service": name}, {}
        for check_name, check in checks().items():
            try:
                report.update(await check())
            except Exception as error:  # noqa: BLE001 (any failure makes the process unready, and says why)
                failures[check_name] = f"{type(error).__name__}: {error}"[:300]
        if not checks():
            failures["starting"] = "the process has not finished starting"
        report["status"] = "unready" if failures else "ready"
        if failures:
            report["failures"] = failures
        return JSONResponse(report, 503 if failures else 200)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/health", live), Route("/health/live", live), Route("/health/ready", ready),
            Route("/metrics", metrics)]
