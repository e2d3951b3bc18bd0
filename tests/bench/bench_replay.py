"""Benchmark (issue 13): `cqp replay` of the gateway's read models, and the dashboard and list reads, on
N candidacies, next to what Kafka and PostgreSQL do alone in the same run.

Not part of the suite (the file name does not start with test_); run it by name:

    CQP_BENCH_CANDIDACIES=20000 scripts/test tests/bench/bench_replay.py -s -q

N is 100,000 by default (`CQP_BENCH_CANDIDACIES` scales it down). Why: a replay rebuilds every read model
from the topics, so its time grows with the history; the dashboard and the lists read the whole
`candidacies` table. The raw figures beside each say how far from the bare tools the project is.

1. Load: N candidates registered and their TRAINING candidacies opened, every second one positioned,
   straight to the candidacy service's command API (real tokens, 32 commands in flight, as
   `cqp candidacy import` does), then a few evaluated and decided at one jury session. Events go
   store -> relay -> Kafka -> gateway read models; it waits until the relays and every consumer are done.
   Prints the commands/s and candidacies/s of the load, and how long the gateway took to catch up.
2. Replay: `tools.replay.replay_view` of the gateway's view, timed (events/s: the messages of its topics),
   next to a plain aiokafka consume of the same topics from the beginning (messages/s) and a PostgreSQL
   COPY (`copy_records_to_table`) of as many rows into a copy of the `candidacies` table (rows/s).
3. Reads: 50th and 99th percentile latency (200 samples after a warm-up, one at a time) of the branch
   dashboard over all time and of `candidacies(first: 100)` with nested fields, through the gateway's
   GraphQL, each next to its plain SQL run straight on PostgreSQL (the dashboard's statements from
   services/gateway/reports/dashboard.py in one read-only snapshot; the list page's count and SELECT).

It asserts only correctness (every command accepted; after the replay the gateway holds N candidacies),
never a speed.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import date

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.identity import PLATFORM, Caller
from shared.settings import Settings
from shared.topics import PARTITIONS
from services.gateway.reports import dashboard as report
from services.gateway.schema.candidacy.queries import CANDIDACIES
from services.gateway.schema.pagination import Conditions, select
from services.gateway.schema.vocabulary import SortDirection
from services.gateway import scopes
from tools.replay import replay_view
from tools.verify import _lags, views  # _lags: what `cqp verify` waits for
from tests.harness import System, eventually, kafka_options, kafka_password

N = int(os.environ.get("CQP_BENCH_CANDIDACIES", "100000"))
IN_FLIGHT = 32
DECIDED = max(3, min(60, N // 100))  # evaluated and decided at the jury session
SAMPLES, WARM_UP = 200, 10
BRANCH, CODE = "UIMM", "RNCP34174"
BLOCKS = [f"{CODE}BC01", f"{CODE}BC02"]
TODAY = date.today().isoformat()
LEARNING = {"EvaluatorNotAccredited", "NotReadyForJury", "NotEligible"}  # a service still learning through Kafka

DASHBOARD = """query($branch: String!) { dashboard(scope: {branch: $branch}) { __typename
  ... on Dashboard { byStatus { status count } byRoute { route count }
    funnel { candidates opened positioned evaluated presented decided awarded }
    passRates { byCertification { ...Rate } byEvaluator { ...Rate } bySession { ...Rate } }
    timeToDecision { decided medianDays p90Days } mostFailedBlocks { block certification failures } } } }
fragment Rate on PassRateRow { key label decided fullAwards partialValidations refusals fullRate }"""
PAGE = """{ candidacies(first: 100) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id status route openedAt certification { code title } evaluator { id name }
                 blocks { code state } candidate { id status } } } } }"""


class Tokens:
    """A user's token (the operator's by default), fetched again before it expires (Keycloak's live 15 min)."""

    def __init__(self, system: System, **user):
        self.system, self.user, self.token, self.fetched = system, user, "", 0.0

    async def __call__(self) -> str:
        if time.monotonic() - self.fetched > 300:
            self.token, self.fetched = await self.system.token(**self.user), time.monotonic()
        return self.token


async def send(http: httpx.AsyncClient, url: str, name: str, body: dict, key: str, token: str) -> httpx.Response:
    """A command; sent again with the same key (one effect) if the connection drops."""
    for attempt in range(5):
        try:
            return await http.post(f"{url}/commands/{name}", json=body,
                                   headers={"authorization": f"Bearer {token}", "idempotency-key": key})
        except httpx.TransportError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.5 * 2**attempt)


async def command(system: System, tokens: Tokens, service: str, name: str, body: dict, key: str) -> dict:
    """A command that may need what its service learns through Kafka: sent again until it knows."""
    last = [""]
    async with httpx.AsyncClient(timeout=60) as http:
        async def attempt():
            answer = await send(http, system[service].url, name, body, key, await tokens())
            if answer.status_code == 200:
                return answer.json()
            kind, last[0] = answer.json().get("error", {}).get("type", ""), answer.text
            assert kind.startswith("Unknown") or kind in LEARNING, (name, answer.text)
            return None

        try:
            return await eventually(attempt, timeout=120, interval=0.2)
        except TimeoutError:
            raise AssertionError(f"{name}: {last[0]}") from None


# ------------------------------------------------------------------------------------------ load


async def world(system: System, tokens: Tokens) -> str:
    """A branch, a certification of two blocks registered at the RNCP, an evaluation centre accredited for
    it; returns the centre's id once the candidacy service knows its accreditation."""
    await command(system, tokens, "catalog", "create-branch", {"code": BRANCH, "name": BRANCH, "idcc": ["3109"]}, "b")
    await eventually(lambda: system.sql("SELECT 1 FROM gateway.branches"))
    tokens.fetched = 0  # a token naming the branch
    centre = (await command(system, tokens, "catalog", "register-organisation",
                            {"name": "AFPI", "kinds": ["EVALUATION_CENTRE", "TRAINING_ORGANISATION"]}, "o"))["id"]
    await command(system, tokens, "catalog", "create-certification", {
        "code": CODE, "kind": "CQPM", "title": "CQPM conduite", "owners": [BRANCH],
        "blocks": [{"code": BLOCKS[0], "title": "Conduite"}, {"code": BLOCKS[1], "title": "Maintenance"}]}, "c")
    await command(system, tokens, "catalog", "record-registration", {
        "code": CODE, "registry": "RNCP", "number": CODE, "level": "NIV3", "decision_date": "2024-01-15",
        "end_date": "2029-01-15", "routes": ["FC", "CQ", "VAE"]}, "r")
    await command(system, tokens, "catalog", "accredit", {
        "organisation_id": centre, "branch": BRANCH, "certifications": [CODE], "scope": "EVALUATION",
        "valid_from": "2024-01-01"}, "a")
    await eventually(lambda: system.sql("SELECT 1 FROM candidacy.catalog_accreditations"), timeout=60)
    return centre


async def load(system: System, tokens: Tokens, centre: str) -> tuple[list[str], int, float]:
    """N candidates and candidacies, every second one positioned, IN_FLIGHT commands at once; returns the
    candidacies, the commands sent and the seconds taken."""
    url, numbers, candidacies, sent = system["candidacy"].url, iter(range(N)), [""] * N, [0]
    refused: list[str] = []

    async def ok(http, name: str, body: dict, key: str) -> str:
        answer = await send(http, url, name, body, key, await tokens())
        sent[0] += 1
        if answer.status_code != 200:
            refused.append(f"{name}: {answer.text}")
            raise AssertionError(refused[-1])
        return answer.json().get("id", "")

    async def worker(http: httpx.AsyncClient) -> None:
        for i in numbers:  # shared by the workers: each line once
            candidate = await ok(http, "register-candidate", {"given_name": f"Ana{i}", "family_name": "Lopes",
                                                              "email": f"c{i}@example.org", "status": "EMPLOYEE"},
                                 f"bench-r{i}")
            candidacies[i] = await ok(http, "open-candidacy", {"candidate_id": candidate, "certification": CODE,
                                                               "route": "TRAINING", "evaluator_id": centre},
                                      f"bench-o{i}")
            if i % 2 == 0:
                await ok(http, "position", {"candidacy_id": candidacies[i]}, f"bench-p{i}")
            if (i + 1) % 10_000 == 0:
                print(f"  ... {i + 1} candidacies", flush=True)

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=IN_FLIGHT)) as http:
        await asyncio.gather(*(worker(http) for _ in range(IN_FLIGHT)))
    seconds = time.perf_counter() - started
    assert not refused, refused[:5]
    return candidacies, sent[0], seconds


async def jury(system: System, tokens: Tokens, centre: str, positioned: list[str]) -> None:
    """DECIDED positioned candidacies evaluated on both blocks (by the centre's evaluator) and decided at one
    session: full awards, partial validations and refusals in turn."""
    evaluator = Tokens(system, organisation=centre, role="evaluator")
    await evaluator()  # the user made once, before the concurrent commands ask for its token
    session = (await command(system, tokens, "jury", "schedule-session", {
        "branch": BRANCH, "certifications": [CODE], "on": TODAY, "place": "Lyon", "capacity": DECIDED}, "s"))["id"]
    members = [(await command(system, tokens, "jury", "appoint-member", {
        "session_id": session, "name": f"M{n}", "college": college, "role": role}, f"m{n}"))["member_id"]
        for n, (college, role) in enumerate([("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT")])]
    slots = asyncio.Semaphore(8)

    async def decide(n: int, candidacy: str) -> None:
        decision, failed = [("FULL_AWARD", []), ("PARTIAL_VALIDATION", BLOCKS[1:]), ("REFUSAL", BLOCKS)][n % 3]
        async with slots:
            for block in BLOCKS:
                await command(system, evaluator, "jury", "record-evaluation", {
                    "candidacy_id": candidacy, "block": block, "modality": "TEST", "evaluator": "Jean Dupont",
                    "competences": [{"competence": "C1", "acquired": block not in failed}], "on": TODAY,
                    "evidence": "dossier"}, f"e{n}{block}")
            await command(system, tokens, "jury", "present", {"session_id": session, "candidacy_id": candidacy},
                          f"pr{n}")
            await command(system, tokens, "jury", "decide", {
                "session_id": session, "candidacy_id": candidacy, "decision": decision, "present_members": members,
                "votes_for": 2}, f"d{n}")

    await asyncio.gather(*(decide(n, c) for n, c in enumerate(positioned[:DECIDED])))


async def caught_up(settings: Settings, timeout: float = 3600) -> float:
    """Seconds until every relay has published its store and every consumer read its topics."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    said = time.monotonic()
    while lags := await asyncio.wait_for(_lags(settings), 60):
        assert time.monotonic() < deadline, lags
        if time.monotonic() - said > 30:
            print(f"  ... waiting: {'; '.join(lags[:4])}", flush=True)
            said = time.monotonic()
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def gateway_counts(system: System) -> tuple[int, int]:
    row = (await system.sql("SELECT (SELECT count(*) FROM gateway.candidacies) AS candidacies,"
                            " (SELECT count(*) FROM gateway.jury_decisions) AS decisions"))[0]
    return row["candidacies"], row["decisions"]


# ------------------------------------------------------------------------------------------ replay and raw rates


def settings_of(system: System) -> Settings:
    """The operator's settings (admin DSN and Kafka user), as `cqp replay` gets them."""
    return Settings(postgres_dsn=system.dsn, kafka_bootstrap=system.kafka, topic_prefix=system.prefix,
                    kafka_username="admin", kafka_password=kafka_password("admin"))


async def raw_consume(topics: list[str]) -> tuple[int, float]:
    """Every message of the topics from the beginning, with a plain aiokafka consumer: (messages, seconds)."""
    consumer = AIOKafkaConsumer(**kafka_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        started = time.perf_counter()
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen = 0
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
                seen += len(records)
        return seen, time.perf_counter() - started
    finally:
        await consumer.stop()


async def raw_copy(dsn: str, rows: int) -> float:
    """Seconds to COPY `rows` rows (the gateway's candidacies again, with new ids) into a table of the same
    columns and indexes."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE SCHEMA IF NOT EXISTS bench_copy;"
                           " CREATE TABLE bench_copy.candidacies (LIKE gateway.candidacies INCLUDING ALL)")
        source = await conn.fetch("SELECT * FROM gateway.candidacies")
        columns = list(source[0].keys())
        at = columns.index("id")
        seconds, done = 0.0, 0
        while done < rows:  # in batches, the new ids made outside the timing
            batch = [tuple(uuid.uuid4() if i == at else v for i, v in enumerate(source[(done + n) % len(source)]))
                     for n in range(min(50_000, rows - done))]
            started = time.perf_counter()
            await conn.copy_records_to_table("candidacies", schema_name="bench_copy", records=batch, columns=columns)
            seconds += time.perf_counter() - started
            done += len(batch)
        await conn.execute("DROP SCHEMA bench_copy CASCADE")
        return seconds
    finally:
        await conn.close()


# ------------------------------------------------------------------------------------------ reads


async def percentiles(run) -> tuple[float, float]:
    """p50 and p99 in ms of SAMPLES calls of `run` one after the other, after WARM_UP."""
    for _ in range(WARM_UP):
        await run()
    took = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        await run()
        took.append(1000 * (time.perf_counter() - started))
    took.sort()
    return statistics.median(took), took[int(0.99 * (len(took) - 1))]


async def reads(system: System, tokens: Tokens) -> tuple[dict, dict[str, str]]:
    """The dashboard's funnel, and the percentiles of each read through GraphQL and as plain SQL."""
    token = await tokens()
    caller = Caller(user_id="bench", organisation_id=PLATFORM, branches=(BRANCH,),
                    roles=frozenset({"platform-admin", "branch-admin"}))  # the operator, as the token says
    target = report.Target("BRANCH", BRANCH)
    cohort = report.cohort(caller, target, report.Period())
    head = f"WITH cohort AS (SELECT * FROM candidacies{cohort.where})"
    failed = report.FAILED_BLOCKS.format(limit=f"${len(cohort.args) + 1}")
    listed = Conditions()
    listed.add_scope(scopes.candidacies(caller, "candidacies"))
    count_sql = f"SELECT count(*) FROM {CANDIDACIES.table}{listed.where}"
    rows_sql = f"{select(CANDIDACIES, listed, 'OPENED_AT', SortDirection.ASC)} LIMIT 101"
    results = {}
    # As the gateway's pools: no prepared-statement cache (a cached statement may get a generic plan, which
    # at 20,000 candidacies made the dashboard's statements slower by about 75 %).
    conn = await asyncpg.connect(system.dsn, statement_cache_size=0, server_settings={"search_path": "gateway"})
    async with httpx.AsyncClient(timeout=60) as http:
        async def graphql(query: str, variables: dict | None = None) -> dict:
            answer = (await http.post(system.graphql_url, json={"query": query, "variables": variables or {}},
                                      headers={"authorization": f"Bearer {token}"})).json()
            assert "errors" not in answer, answer["errors"]
            return answer["data"]

        async def dashboard_sql():
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                await report.record_of(conn, target)
                for statement in (report.COUNTS, report.FUNNEL, report.PASS_RATES, report.TIMES):
                    await conn.fetch(f"{head} {statement}", *cohort.args)
                await conn.fetch(f"{head} {failed}", *cohort.args, 10)

        async def page_sql():
            await conn.fetchval(count_sql, *listed.args)
            await conn.fetch(rows_sql, *listed.args)

        shown = (await graphql(DASHBOARD, {"branch": BRANCH}))["dashboard"]
        assert shown["__typename"] == "Dashboard", shown
        results["dashboard GraphQL"] = await percentiles(lambda: graphql(DASHBOARD, {"branch": BRANCH}))
        results["dashboard SQL"] = await percentiles(dashboard_sql)
        assert len((await graphql(PAGE))["candidacies"]["edges"]) == min(100, N)
        results["page GraphQL"] = await percentiles(lambda: graphql(PAGE))
        results["page SQL"] = await percentiles(page_sql)
    await conn.close()
    return shown["funnel"], {name: f"p50 {p50:.1f} ms, p99 {p99:.1f} ms" for name, (p50, p99) in results.items()}


# ------------------------------------------------------------------------------------------ the benchmark


async def test_replay_of_the_gateway_and_its_reads_on_n_candidacies():
    system = await System.create()
    try:
        await system.start()
        tokens = Tokens(system)
        settings = settings_of(system)
        centre = await world(system, tokens)

        candidacies, sent, loading = await load(system, tokens, centre)
        print(f"\nload: {N} candidacies ({sent} commands) in {loading:.1f} s: {sent / loading:.0f} commands/s,"
              f" {N / loading:.0f} candidacies/s ({IN_FLIGHT} in flight)", flush=True)
        print(f"  jury: {DECIDED} candidacies evaluated and decided", flush=True)
        await jury(system, tokens, centre, candidacies[::2])
        print("  waiting for the relays and consumers", flush=True)
        catch_up = await caught_up(settings)
        assert await gateway_counts(system) == (N, DECIDED)

        view = next(v for v in views() if v.name == "gateway")
        topics = [settings.topic(t) for t in view.handlers]
        print("  raw consume, then replay", flush=True)
        messages, consuming = await raw_consume(topics)
        print(f"  replay of {messages} events", flush=True)
        started = time.perf_counter()
        said = await replay_view(settings, view)
        replaying = time.perf_counter() - started
        assert "could not be applied" not in said, said
        assert await gateway_counts(system) == (N, DECIDED)  # the rebuilt tables
        print("  raw COPY, then reads", flush=True)
        copying = await raw_copy(system.dsn, messages)
        funnel, ms = await reads(system, tokens)
        print(f"""
================ replay benchmark, N = {N} candidacies ================
load              {sent} commands in {loading:.1f} s: {sent / loading:.0f} commands/s, {N / loading:.0f} candidacies/s
                  + {DECIDED} evaluated and decided; the gateway caught up {catch_up:.1f} s after the last command
replay (gateway)  {messages} events in {replaying:.1f} s: {messages / replaying:.0f} events/s   ({said})
  raw Kafka       plain aiokafka consume of the same topics: {messages / consuming:.0f} messages/s
  raw PostgreSQL  COPY of {messages} rows into a copy of candidacies: {messages / copying:.0f} rows/s
dashboard         GraphQL {ms['dashboard GraphQL']}   | its SQL alone {ms['dashboard SQL']}
                  funnel {funnel}
candidacies(100)  GraphQL {ms['page GraphQL']}   | its SQL alone {ms['page SQL']}
======================================================================""")
    finally:
        system.stop()
