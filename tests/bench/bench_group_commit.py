"""Benchmark: commands per second through one service's HTTP API, by number of concurrent clients.

Not part of the suite (the file name does not start with test_); run it by name:

    scripts/test tests/bench/bench_group_commit.py -s

Why: each command used to be its own transaction, and every insert locks the events table, so a service
wrote at most the rate of single saves whatever the number of clients. Group commit saves the commands
that arrive together in one transaction. Next to the service's figures this prints, measured in the same
run on the same database, what the bare eventsourcing library does: single-event aggregates saved one
per transaction, and in batches of 100; and what the candidacy application does when called straight from
threads in the test's process (the event store path alone: no HTTP, token or key vault). It asserts only
correctness (every command accepted), never a speed.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import statistics
import threading
import time
import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx
from eventsourcing.application import Application
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import Aggregate, event
from prometheus_client import REGISTRY

from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import RegistrationFacts
from shared.commands.candidacy import RegisterCandidate
from shared.context import Actor, CommandContext, acting, current_caller
from shared.identity import Caller
from tests.harness import System

CLIENTS = (1, 8, 32)
SECONDS = 6.0  # per level, after a short warm-up
CANDIDATE = {"given_name": "Ana", "family_name": "Lopes", "email": "ana@example.org", "status": "JOB_SEEKER"}


class Thing(Aggregate):
    @event("Made")
    def __init__(self, n: int):
        self.n = n


def store_env(dsn: str, schema: str) -> dict[str, str]:
    url = urlsplit(dsn)
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname, "POSTGRES_PORT": str(url.port), "POSTGRES_USER": url.username,
            "POSTGRES_PASSWORD": url.password or "", "POSTGRES_SCHEMA": schema, "CREATE_TABLE": "y",
            "POSTGRES_POOL_SIZE": "5", "POSTGRES_MAX_OVERFLOW": "10"}  # as the services (shared/settings.py)


def bare_rates(dsn: str, schema: str, n: int = 600) -> tuple[float, float]:
    """Aggregates saved per second by the library alone: one per transaction, then 100 per transaction."""
    app = Application(env=store_env(dsn, schema))
    try:
        app.save(Thing(0))  # warm: connection and prepared statements
        began = time.perf_counter()
        for i in range(n):
            app.save(Thing(i))
        single = n / (time.perf_counter() - began)
        began = time.perf_counter()
        for start in range(0, n * 5, 100):
            app.save(*(Thing(i) for i in range(start, start + 100)))
        batched = n * 5 / (time.perf_counter() - began)
        return single, batched
    finally:
        app.close()


def in_process_saves() -> tuple[float, float]:
    """(saves, commands) so far of the applications in this process (the same histogram, in-process)."""
    count = REGISTRY.get_sample_value("cqp_commands_per_save_count") or 0.0
    return count, REGISTRY.get_sample_value("cqp_commands_per_save_sum") or 0.0


def in_process_rates(dsn: str, schema: str, seconds: float) -> dict[int, tuple[float, float | None]]:
    """register_candidate called straight on the candidacy application (no HTTP, no token, no key vault)
    from 1, 8 and 32 threads: what the event store path alone delivers, group commit included."""
    key = AESCipher.create_key(32)
    app = CandidacyApplication(env={**store_env(dsn, schema), "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                                    "CIPHER_KEY": key, "PERSONAL_DATA_KEY": key})
    command = RegisterCandidate.model_validate(CANDIDATE)
    caller = Caller(user_id="bench", organisation_id="UIMM", branches=("UIMM",), roles=frozenset({"branch-admin"}))
    actor = Actor(user_id="bench", organisation_id="UIMM", role="branch-admin")
    rates = {}
    try:
        for threads in (1, *CLIENTS[1:]):
            done = [0] * threads
            deadline = time.perf_counter() + seconds

            def client(i: int) -> None:
                current_caller.set(caller)
                while time.perf_counter() < deadline:
                    with acting(CommandContext.new(actor, str(uuid.uuid4()))):
                        app.register_candidate(command, RegistrationFacts(uuid.uuid4(), "sealed" * 40))
                    done[i] += 1

            before = in_process_saves()
            began = time.perf_counter()
            workers = [threading.Thread(target=contextvars.copy_context().run, args=(client, i)) for i in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.perf_counter() - began
            saves, commands = (after - first for after, first in zip(in_process_saves(), before))
            rates[threads] = (sum(done) / elapsed, commands / saves if saves else None)
    finally:
        app.close()
    return rates


async def commands_per_save(http: httpx.AsyncClient, url: str) -> tuple[float, float]:
    """(saves, commands) so far, from the service's cqp_commands_per_save histogram (0, 0 when absent)."""
    text = (await http.get(f"{url}/metrics")).text
    count = re.search(r"^cqp_commands_per_save_count(?:\{[^}]*\})? (\S+)$", text, re.M)
    total = re.search(r"^cqp_commands_per_save_sum(?:\{[^}]*\})? (\S+)$", text, re.M)
    return (float(count[1]) if count else 0.0), (float(total[1]) if total else 0.0)


async def level(http: httpx.AsyncClient, url: str, token: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            answer = await http.post(f"{url}/commands/register-candidate", json=CANDIDATE,
                                     headers={"idempotency-key": str(uuid.uuid4()), "authorization": f"Bearer {token}"})
            latencies.append(time.perf_counter() - began)
            if answer.status_code != 200:
                failures.append(answer.text[:200])

    before = await commands_per_save(http, url)
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    after = await commands_per_save(http, url)
    assert not failures, failures[:3]
    saves, commands = after[0] - before[0], after[1] - before[1]
    return {"clients": clients, "rate": len(latencies) / elapsed, "commands": len(latencies),
            "p50": statistics.median(latencies) * 1000, "p95": statistics.quantiles(latencies, n=20)[-1] * 1000,
            "per_save": commands / saves if saves else None}


async def test_commands_per_second_by_concurrent_clients(system: System):
    await system.start("candidacy")
    url = system["candidacy"].url
    token = await system.token()
    conn = await asyncpg.connect(system.dsn)
    try:
        await conn.execute("CREATE SCHEMA IF NOT EXISTS bare")
        await conn.execute("CREATE SCHEMA IF NOT EXISTS inproc")
    finally:
        await conn.close()
    limits = httpx.Limits(max_connections=max(CLIENTS), max_keepalive_connections=max(CLIENTS))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await level(http, url, token, 4, 1.0)  # warm-up: connections, the pool, the key vault
        results = [await level(http, url, token, clients, SECONDS) for clients in CLIENTS]
    single, batched = await asyncio.to_thread(bare_rates, system.dsn, "bare")
    in_process = await asyncio.to_thread(in_process_rates, system.dsn, "inproc", SECONDS)
    print()
    print(f"bare eventsourcing, same database: {single:,.0f} single-event aggregates/s one per transaction; "
          f"{batched:,.0f}/s in transactions of 100")
    for r in results:
        per_save = "n/a" if r["per_save"] is None else f"{r['per_save']:.1f}"
        print(f"register-candidate, {r['clients']:>2} clients: {r['rate']:,.0f} commands/s "
              f"({r['rate'] / single:.0%} of bare single saves); p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms; "
              f"{r['commands']} commands, {per_save} commands per save")
    for threads, (rate, per_save) in in_process.items():
        per_save = "n/a" if per_save is None else f"{per_save:.1f}"
        print(f"register_candidate in process (the event store path alone), {threads:>2} threads: {rate:,.0f} "
              f"commands/s ({rate / single:.0%} of bare single saves); {per_save} commands per save")
