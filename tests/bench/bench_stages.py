"""Benchmark: where one mutation's time goes, stage by stage, with one client.

Not part of the suite; run it by name:

    scripts/test tests/bench/bench_stages.py -s

One client registers candidates one after the other through GraphQL. Each process logs, with a
millisecond timestamp, the moment the service accepted the command (after its save), the moment the
relay recorded it as published (after the broker's acknowledgement) and the moment the gateway's
consumer committed it; the client notes when it sent the mutation and when the answer came. It prints
the median and 90th percentile of each stage: client → service saved, saved → published, published →
applied in the read model, applied → answer; and the CPU time each process (and PostgreSQL, Kafka) spent
per mutation, which bounds the throughput a machine's cores can give whatever the concurrency.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from datetime import datetime

import httpx

from tests.bench.bench_load import REGISTER, cpu_by_process, world
from tests.harness import LOGS, System

COUNT = int(os.environ.get("CQP_BENCH_COUNT", "200"))


def moments(system: System, process: str, message: str, **match) -> list[float]:
    path = LOGS / f"{system.prefix}{process}.log"
    found = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        fields = {**entry, **(entry.get("fields") or {})}
        if entry.get("message") == message and all(str(fields.get(k)) == v for k, v in match.items()):
            found.append(datetime.fromisoformat(entry["time"]).timestamp())
    return found


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    return (f"{name:<28} p50 {1000 * statistics.median(values):6.1f} ms   "
            f"p90 {1000 * values[int(0.9 * (len(values) - 1))]:6.1f} ms")


async def test_bench_the_stages_of_a_mutation():
    system = await System.create()
    try:
        await system.start()
        await world(system)
        token = await system.token()
        topic = f"{system.prefix}cqp.candidacy.events"
        before = (len(moments(system, "candidacy", "command accepted")),
                  len(moments(system, "candidacy", "relayed")),
                  len(moments(system, "gateway", "applied", topic=topic)))
        sent, answered = [], []
        cpu_before = cpu_by_process(system)
        async with httpx.AsyncClient(timeout=30) as http:
            for n in range(COUNT):
                variables = {"input": {"givenName": "Ana", "familyName": "Lopes", "email": f"s{n}@example.org",
                                       "status": "EMPLOYEE"}, "key": uuid.uuid4().hex}
                sent.append(time.time())
                answer = (await http.post(system.graphql_url, json={"query": REGISTER, "variables": variables},
                                          headers={"authorization": f"Bearer {token}"})).json()
                answered.append(time.time())
                assert answer["data"]["registerCandidate"]["__typename"] == "CandidateRegistered", answer
        cpu_after = cpu_by_process(system)
        accepted = moments(system, "candidacy", "command accepted")[before[0]:]
        relayed = moments(system, "candidacy", "relayed")[before[1]:]
        applied = moments(system, "gateway", "applied", topic=topic)[before[2]:]
        assert len(accepted) == len(relayed) == len(applied) == COUNT, (len(accepted), len(relayed), len(applied))
        print()
        print(summary("client → service saved", [a - s for s, a in zip(sent, accepted)]))
        print(summary("saved → published", [r - a for a, r in zip(accepted, relayed)]))
        print(summary("published → applied", [p - r for r, p in zip(relayed, applied)]))
        print(summary("applied → answer", [e - p for p, e in zip(applied, answered)]))
        print(summary("total (mutation to visible)", [e - s for s, e in zip(sent, answered)]))
        per = {name: 1000 * (cpu_after[name] - cpu_before[name]) / COUNT for name in cpu_after}
        print("CPU per mutation: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in per.items())
              + f"; in all {sum(per.values()):.2f} ms, so at most {1000 * os.cpu_count() / sum(per.values()):.0f}"
              f" mutations/s on {os.cpu_count()} cores")
    finally:
        system.stop()
