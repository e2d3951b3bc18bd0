"""Benchmark: a mixed workload through the public GraphQL API, next to what its parts can do alone.

Not part of the suite (the file name does not start with test_); run it by name:

    scripts/test tests/bench/bench_load.py -s

With 1 and 8 clients, each client in a loop: register a candidate, open a TRAINING candidacy for them,
position it, and read it back (candidacy by id, and a page of candidates). It prints the mutations per
second, the 50th and 99th percentile of mutation-to-visible latency (the mutation answers once the
gateway's read models show its events: its latency is the time to visible), the largest consumer lag
seen (the gateway's /metrics), each process's peak memory (VmHWM), and, measured in the same run on
the same PostgreSQL and Kafka: the bare eventsourcing single-save rate and the raw Kafka produce and
consume rates of 500-byte messages. It asserts only correctness (every mutation accepted).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from shared.settings import Settings
from tests.harness import LOGS, System, kafka_options

SECONDS = 20  # of load per client count
MUTATION = """mutation($input: {type}!, $key: String!) {{ {name}(input: $input, idempotencyKey: $key) {{
  __typename ... on Error {{ code message }} {selection} }} }}"""


def mutation(name: str, type_: str, selection: str = "") -> str:
    return MUTATION.format(name=name, type=type_, selection=selection)


REGISTER = mutation("registerCandidate", "RegisterCandidateInput", "... on CandidateRegistered { candidate { id } }")
OPEN = mutation("openCandidacy", "OpenCandidacyInput", "... on CandidacyChanged { candidacy { id } }")
POSITION = mutation("positionCandidacy", "CandidacyInput")
READ = "query($id: ID!) { candidacy(id: $id) { id status blocks { code state } } candidates(first: 20) { edges { node { id } } } }"
ACCEPTED = {"CandidateRegistered", "CandidacyChanged"}


async def world(system: System) -> str:
    token = await system.token()

    async def ok(query, data, key, field):
        answer = await system.graphql(query, {"input": data, "key": key}, token=token)
        assert answer[field]["__typename"] not in {"Refused", "InvalidInput", "Forbidden"}, answer
        return answer[field]

    await ok(mutation("createBranch", "CreateBranchInput"), {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}, "b", "createBranch")
    centre = await ok(mutation("registerOrganisation", "RegisterOrganisationInput",
                               "... on OrganisationRegistered { organisation { id } }"),
                      {"name": "AFPI", "kinds": ["EVALUATION_CENTRE", "TRAINING_ORGANISATION"]}, "o", "registerOrganisation")
    centre_id = centre["organisation"]["id"]
    await ok(mutation("createCertification", "CreateCertificationInput"), {
        "code": "RNCP34174", "kind": "CQPM", "title": "CQPM conduite", "owners": ["UIMM"],
        "blocks": [{"code": "RNCP34174BC01", "title": "Conduite"}, {"code": "RNCP34174BC02", "title": "Maintenance"}]},
        "c", "createCertification")
    await ok(mutation("recordRegistration", "RecordRegistrationInput"), {
        "code": "RNCP34174", "registry": "RNCP", "number": "RNCP34174", "level": "NIV3", "decisionDate": "2024-01-15",
        "endDate": "2029-01-15", "routes": ["FC", "CQ", "VAE"]}, "r", "recordRegistration")
    await ok(mutation("accredit", "AccreditInput"), {"organisationId": centre_id, "branch": "UIMM",
                                                     "certifications": ["RNCP34174"], "scope": "EVALUATION",
                                                     "validFrom": "2024-01-01"}, "a", "accredit")
    while not await system.sql("SELECT 1 FROM candidacy.catalog_accreditations"):
        await asyncio.sleep(0.1)
    return centre_id


async def load(system: System, clients: int, centre: str) -> dict:
    token = await system.token()
    latencies: list[float] = []
    stop = time.monotonic() + SECONDS

    async def client(http: httpx.AsyncClient) -> None:
        async def send(query, variables=None):
            started = time.perf_counter()
            answer = (await http.post(system.graphql_url, json={"query": query, "variables": variables or {}},
                                      headers={"authorization": f"Bearer {token}"})).json()
            return answer, time.perf_counter() - started

        while time.monotonic() < stop:
            key = uuid.uuid4().hex
            steps = [
                (REGISTER, {"givenName": "Ana", "familyName": "Lopes", "email": f"{key}@example.org", "status": "EMPLOYEE"}),
            ]
            answer, took = await send(steps[0][0], {"input": steps[0][1], "key": f"r{key}"})
            result = answer["data"]["registerCandidate"]
            assert result["__typename"] in ACCEPTED, result
            latencies.append(took)
            opening = {"candidateId": result["candidate"]["id"], "certification": "RNCP34174", "route": "TRAINING",
                       "evaluatorId": centre}
            answer, took = await send(OPEN, {"input": opening, "key": f"o{key}"})
            result = answer["data"]["openCandidacy"]
            assert result["__typename"] in ACCEPTED, result
            latencies.append(took)
            candidacy = result["candidacy"]["id"]
            answer, took = await send(POSITION, {"input": {"candidacyId": candidacy}, "key": f"p{key}"})
            assert answer["data"]["positionCandidacy"]["__typename"] in ACCEPTED, answer
            latencies.append(took)
            answer, _ = await send(READ, {"id": candidacy})
            assert answer["data"]["candidacy"]["id"] == candidacy

    lag = [0]

    async def watch_lag() -> None:
        async with httpx.AsyncClient() as http:
            while time.monotonic() < stop:
                metrics = (await http.get(f"{system['gateway'].url}/metrics")).text
                values = [float(v) for v in re.findall(r'^cqp_consumer_lag\{[^}]*\} (\S+)$', metrics, re.M)]
                lag[0] = max([lag[0], *values])
                await asyncio.sleep(0.2)

    started, cpu_before = time.monotonic(), cpu_by_process(system)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as http:
        await asyncio.gather(watch_lag(), *(client(http) for _ in range(clients)))
    elapsed, cpu_after = time.monotonic() - started, cpu_by_process(system)
    latencies.sort()
    return {"clients": clients, "mutations": len(latencies), "per_second": len(latencies) / elapsed,
            "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
            "max_lag": lag[0],
            "cpu_ms": {name: 1000 * (cpu_after[name] - cpu_before[name]) / len(latencies) for name in cpu_after}}


class Thing(Aggregate):
    @event("Made")
    def __init__(self, n: int):
        self.n = n


def bare_eventsourcing_rate(dsn: str, count: int = 1000) -> float:
    env = Settings(postgres_dsn=dsn).eventsourcing_env("bench_bare")
    env.pop("POSTGRES_PRE_PING", None)
    app = Application(env={**env, "CREATE_TABLE": "true"})
    started = time.perf_counter()
    for n in range(count):
        app.save(Thing(n))
    rate = count / (time.perf_counter() - started)
    app.close()
    return rate


async def raw_kafka_rates(count: int = 50_000) -> tuple[float, float]:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**kafka_options())
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    await admin.close()
    producer = AIOKafkaProducer(**kafka_options(), acks="all", linger_ms=5)
    await producer.start()
    value = b"x" * 500
    started = time.perf_counter()
    batch = [await producer.send(topic, value) for _ in range(count)]
    await asyncio.gather(*batch)
    produced = count / (time.perf_counter() - started)
    await producer.stop()
    consumer = AIOKafkaConsumer(**kafka_options(), enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(3)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    seen, started = 0, time.perf_counter()
    while seen < count:
        for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
            seen += len(records)
    consumed = count / (time.perf_counter() - started)
    await consumer.stop()
    return produced, consumed


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its children (PostgreSQL's backends are its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def cpu_by_process(system: System) -> dict[str, float]:
    cpu = {name: cpu_seconds(p.popen.pid) for name, p in system.processes.items()}
    here = str(LOGS.parent)  # this run's state: its PostgreSQL data and Kafka logs are under it
    stats = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stats[int(d.name)] = ((d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"),
                                      (d / "stat").read_text().rsplit(")", 1)[1].split())
            except OSError:
                continue
    for name, pattern in (("postgres", "bin/postgres"), ("kafka", "kafka.Kafka")):
        roots = {pid for pid, (cmd, _) in stats.items() if pattern in cmd and here in cmd}
        family = {pid for pid, (_, f) in stats.items() if pid in roots or int(f[1]) in roots}
        cpu[name] = sum(int(stats[pid][1][11]) + int(stats[pid][1][12]) for pid in family) / os.sysconf("SC_CLK_TCK")
    return cpu


def peak_memory_mb(system: System) -> dict[str, float]:
    peaks = {}
    for name, process in system.processes.items():
        status = Path(f"/proc/{process.popen.pid}/status").read_text()
        peaks[name] = int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024
    return peaks


async def test_bench_mixed_load_through_graphql():
    system = await System.create()
    try:
        await system.start()
        centre = await world(system)
        results = [await load(system, clients, centre) for clients in (1, 8)]
        await system.sql("CREATE SCHEMA IF NOT EXISTS bench_bare")
        bare = await asyncio.to_thread(bare_eventsourcing_rate, system.dsn)
        produced, consumed = await raw_kafka_rates()
        print()
        for r in results:
            print(f"{r['clients']} client(s): {r['mutations']} mutations, {r['per_second']:.0f}/s; "
                  f"mutation-to-visible p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; max consumer lag {r['max_lag']:.0f}")
            print("   CPU per mutation: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in r["cpu_ms"].items())
                  + f"; in all {sum(r['cpu_ms'].values()):.1f} ms")
        print(f"bare eventsourcing single saves: {bare:.0f}/s")
        print(f"raw Kafka (500-byte messages): produce {produced:.0f}/s, consume {consumed:.0f}/s")
        print("peak memory (VmHWM): " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in peak_memory_mb(system).items()))
    finally:
        system.stop()
