"""Real processes on real Kafka and PostgreSQL, for integration and end-to-end tests.

scripts/test starts the broker, the database, the identity provider and the object store and passes them in
CQP_TEST_KAFKA_BOOTSTRAP, CQP_TEST_POSTGRES_DSN (the admin's), CQP_TEST_OIDC_ISSUER and CQP_TEST_S3_ENDPOINT,
and the files of their generated secrets in CQP_TEST_KAFKA_SECRETS, CQP_TEST_POSTGRES_SECRETS and
CQP_TEST_S3_SECRETS; the SMTP server (Mailpit) in CQP_TEST_SMTP_HOST, CQP_TEST_SMTP_PORT, CQP_TEST_SMTP_API (its
HTTP API, where the tests read what it received) and CQP_TEST_SMTP_SECRETS. Each System gets its
own database and topic prefix, so tests never meet; each of its processes logs in to both as itself
(its Kafka user, its PostgreSQL role), while the tests look and set up as the admin. Callers get real
tokens from Keycloak.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from eventsourcing.cryptography import AESCipher

from shared.identity import PLATFORM
from shared.kafka import client_options
from shared.settings import Settings
from shared.topics import PARTITIONS, ensure_topics
from tools.database import process_dsn, provision
from tests.keycloak import Keycloak

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".run" / "test"  # where scripts/test keeps its broker, database and identity provider
LOGS = STATE / "logs"


# The caller of tests that are not about who calls: the platform's operator, also the admin of every
# branch the system knows when it calls (tests about who may do what use their own tokens).
OPERATOR = {"organisation": PLATFORM, "roles": ("platform-admin", "branch-admin")}
_keycloak: Keycloak | None = None


def infrastructure() -> tuple[str, str]:
    kafka = os.environ.get("CQP_TEST_KAFKA_BOOTSTRAP")
    dsn = os.environ.get("CQP_TEST_POSTGRES_DSN")
    if not kafka or not dsn or not os.environ.get("CQP_TEST_OIDC_ISSUER"):
        raise RuntimeError(
            "integration tests need real Kafka, PostgreSQL and Keycloak: run them with scripts/test "
            "(or set CQP_TEST_KAFKA_BOOTSTRAP, CQP_TEST_POSTGRES_DSN, CQP_TEST_OIDC_ISSUER and "
            "CQP_TEST_KEYCLOAK_ADMIN_PASSWORD)"
        )
    return kafka, dsn


class Infrastructure:
    """The broker and the database scripts/test started, killed (SIGKILL: a crash, not a stop) and started
    again by the tests that are about surviving that."""

    @staticmethod
    def kill_kafka() -> None:
        pid = int((STATE / "kafka" / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        _wait_gone([pid])

    @staticmethod
    def start_kafka() -> None:
        port = int(os.environ["CQP_TEST_KAFKA_BOOTSTRAP"].rpartition(":")[2])
        subprocess.run([ROOT / "deploy/kafka/kafka.sh", "start", str(port), str(port + 1), STATE / "kafka"],
                       check=True, capture_output=True, timeout=120)

    @staticmethod
    def stop_smtp() -> None:
        """The SMTP server away (what it received is kept in its folder)."""
        subprocess.run([ROOT / "deploy/smtp/smtp.sh", "stop", _smtp_folder()], check=True, capture_output=True,
                       timeout=60)

    @staticmethod
    def start_smtp() -> None:
        port, api = os.environ["CQP_TEST_SMTP_PORT"], urlsplit(os.environ["CQP_TEST_SMTP_API"]).port
        subprocess.run([ROOT / "deploy/smtp/smtp.sh", "start", port, str(api), _smtp_folder()], check=True,
                       capture_output=True, timeout=120)

    @staticmethod
    def owns_postgres() -> bool:
        return (STATE / "postgres").is_dir()

    @staticmethod
    def kill_postgres() -> None:
        """Every server process at once (the postmaster leads their process group), as a machine crash
        would: the next start recovers from the write-ahead log."""
        home = (STATE / "postgres" / "server").resolve() if (STATE / "postgres" / "server").exists() else STATE / "postgres"
        postmaster = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.killpg(postmaster, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while subprocess.run(["pgrep", "-g", str(postmaster)], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "PostgreSQL's processes outlived SIGKILL"
            time.sleep(0.05)

    @staticmethod
    def start_postgres() -> None:
        port = urlsplit(os.environ["CQP_TEST_POSTGRES_DSN"]).port
        subprocess.run([ROOT / "deploy/postgres/postgres.sh", "start", str(port), STATE / "postgres"],
                       check=True, capture_output=True, timeout=120)


def _wait_gone(pids: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


def _secrets(variable: str) -> dict[str, str]:
    """NAME=value lines of a secrets file (deploy/kafka/kafka.sh, deploy/postgres/postgres.sh)."""
    path = os.environ.get(variable)
    if not path:
        raise RuntimeError(f"integration tests need {variable}: run them with scripts/test")
    return dict(line.split("=", 1) for line in Path(path).read_text().splitlines() if "=" in line)


def kafka_password(user: str) -> str:
    return _secrets("CQP_TEST_KAFKA_SECRETS")[f"CQP_KAFKA_PASSWORD_{user.upper()}"]


def postgres_password(role: str) -> str:
    """The password of a process's role, or the admin's."""
    return _secrets("CQP_TEST_POSTGRES_SECRETS")[f"CQP_POSTGRES_PASSWORD_{role.upper()}"]


def s3_settings(process: str) -> Settings:
    """A process's settings of the object store scripts/test started: its own key and its own bucket."""
    endpoint = os.environ.get("CQP_TEST_S3_ENDPOINT")
    if not endpoint:
        raise RuntimeError("integration tests need CQP_TEST_S3_ENDPOINT: run them with scripts/test")
    secrets = _secrets("CQP_TEST_S3_SECRETS")
    return Settings(s3_endpoint=endpoint, s3_access_key=secrets[f"CQP_S3_ACCESS_KEY_{process.upper()}"],
                    s3_secret_key=secrets[f"CQP_S3_SECRET_KEY_{process.upper()}"], s3_bucket=f"cqp-{process}")


def _smtp_folder() -> Path:
    return Path(_required("CQP_TEST_SMTP_SECRETS")).parent


def _required(variable: str) -> str:
    path = os.environ.get(variable)
    if not path:
        raise RuntimeError(f"integration tests need {variable}: run them with scripts/test")
    return path


def smtp_env() -> dict[str, str]:
    """The processes' settings of that SMTP server and its login."""
    settings = smtp_settings()
    return {"CQP_SMTP_HOST": settings.smtp_host, "CQP_SMTP_PORT": str(settings.smtp_port),
            "CQP_SMTP_USER": settings.smtp_user, "CQP_SMTP_PASSWORD": settings.smtp_password,
            "CQP_SMTP_FROM": settings.smtp_from}


def smtp_settings(**changes) -> Settings:
    """Settings sending through the SMTP server scripts/test started, with its login."""
    secrets = _secrets("CQP_TEST_SMTP_SECRETS")
    return Settings(**{"smtp_host": os.environ["CQP_TEST_SMTP_HOST"], "smtp_port": int(os.environ["CQP_TEST_SMTP_PORT"]),
                       "smtp_user": secrets["CQP_SMTP_USER"], "smtp_password": secrets["CQP_SMTP_PASSWORD"],
                       "smtp_from": "CQP <ne-pas-repondre@cqp.localhost>", **changes})


async def mailbox(address: str) -> list[dict]:
    """What the SMTP server received for that address (its HTTP API), each message whole (parts, headers)."""
    api = _required("CQP_TEST_SMTP_API").rstrip("/")
    async with httpx.AsyncClient(timeout=30) as http:
        found = (await http.get(f"{api}/api/v1/search", params={"query": f'to:"{address}"', "limit": 500})).json()
        return [(await http.get(f"{api}/api/v1/message/{m['ID']}")).json() for m in found["messages"]
                if any(to["Address"] == address for to in m["To"])]


def kafka_options(user: str | None = "admin", password: str | None = None) -> dict:
    """aiokafka's options as that Kafka user (None: anonymous, without SASL)."""
    kafka, _ = infrastructure()
    if user is None:
        return {"bootstrap_servers": kafka}
    password = kafka_password(user) if password is None else password
    return client_options(Settings(kafka_bootstrap=kafka, kafka_username=user, kafka_password=password))


def keycloak() -> Keycloak:
    global _keycloak
    if _keycloak is None:
        _keycloak = Keycloak.from_environment()
    return _keycloak


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def fresh_database(dsn: str) -> str:
    """A new database (its admin's DSN), with the processes' roles and schemas as `cqp database` makes them."""
    name = f"cqp_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = urlsplit(dsn)
    fresh = urlunsplit(url._replace(path=f"/{name}"))
    await provision(fresh, {process: postgres_password(process) for process in PROCESSES})
    return fresh


# Every process a test started: killed when the test run ends, also those of a fixture that failed
# half-way and never stopped its system (they would go on retrying a broker that is gone).
STARTED: list[subprocess.Popen] = []


@atexit.register
def _kill_leftovers() -> None:
    for popen in STARTED:
        if popen.poll() is None:
            popen.kill()


class Process:
    def __init__(self, name: str, env: dict[str, str], port: int):
        self.name = name
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.popen: subprocess.Popen | None = None

    def start(self, **extra_env: str) -> Process:
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / f"{self.env['CQP_TOPIC_PREFIX']}{self.name}.log", "ab")
        env = {**os.environ, **self.env, "CQP_PORT": str(self.port), **extra_env}
        self.popen = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        STARTED.append(self.popen)
        return self

    async def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; see {LOGS}")
                try:
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not healthy after {timeout}s")

    async def wait_exit(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.popen.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} still running after {timeout}s")
            await asyncio.sleep(0.05)
        return self.popen.returncode

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(sig)
            self.popen.wait(30)


PROCESSES = ("catalog", "candidacy", "jury", "gateway")


def credentials(admin_dsn: str, process: str, prefix: str = "") -> dict[str, str]:
    """The environment naming a process's own PostgreSQL role, Kafka user and S3 key (its bucket; the system's
    objects under `prefix`)."""
    s3 = s3_settings(process)
    return {"CQP_POSTGRES_DSN": process_dsn(admin_dsn, process, postgres_password(process)),
            "CQP_KAFKA_USERNAME": process, "CQP_KAFKA_PASSWORD": kafka_password(process),
            "CQP_S3_ENDPOINT": s3.s3_endpoint, "CQP_S3_ACCESS_KEY": s3.s3_access_key,
            "CQP_S3_SECRET_KEY": s3.s3_secret_key, "CQP_S3_BUCKET": s3.s3_bucket, "CQP_S3_PREFIX": prefix}


# The topics of what a service records by itself (shared/notices.py, services/jury/deadlines): `System.written`.
BACKGROUND_EVENTS = ("shared.notices:%", "services.jury.deadlines.%")


class System:
    """The four processes on a fresh database and topic prefix."""

    def __init__(self, kafka: str, dsn: str):
        self.kafka = kafka
        self.dsn = dsn
        self.prefix = f"t{uuid.uuid4().hex[:8]}."
        self.keycloak = keycloak()
        ports = {name: free_port() for name in PROCESSES}
        env = {
            "CQP_KAFKA_BOOTSTRAP": kafka,
            "CQP_TOPIC_PREFIX": self.prefix,
            "CQP_OIDC_ISSUER": self.keycloak.issuer,
            "CQP_TOKEN_LEEWAY_SECONDS": "1",
            "CQP_CIPHER_KEY": AESCipher.create_key(32),
            "CQP_COMMAND_KEY": AESCipher.create_key(32),
            "CQP_RELAY_POLL_SECONDS": "0.2",
            # The deadline clock looks often, and `cqp deadlines clock --advance` may move it (tests/e2e/test_deadlines).
            "CQP_DEADLINES_POLL_SECONDS": "0.5",
            "CQP_DEADLINES_CLOCK_ADJUSTABLE": "true",
            # The SMTP server scripts/test started (Mailpit: tests read what it received with `mailbox`).
            **smtp_env(),
            "CQP_MAIL_RETRY_BASE_SECONDS": "1",
            "CQP_SMTP_TIMEOUT_SECONDS": "5",
            "CQP_MAIL_LEASE_SECONDS": "8",  # a sender killed mid-send: its message due again soon
            "CQP_MAIL_POLL_SECONDS": "0.3",
            **{f"CQP_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
        }
        # Each process as itself: its PostgreSQL role, its Kafka user.
        self.processes = {name: Process(name, {**env, **credentials(dsn, name, self.prefix)}, port) for name, port in ports.items()}
        self.graphql_url = f"{self.processes['gateway'].url}/graphql"

    @classmethod
    async def create(cls) -> System:
        kafka, dsn = infrastructure()
        system = cls(kafka, await fresh_database(dsn))
        await ensure_topics(kafka_options(), system.prefix)
        return system

    def __getitem__(self, name: str) -> Process:
        return self.processes[name]

    async def start(self, *names: str, **extra_env: str) -> None:
        names = names or tuple(self.processes)
        for name in names:
            self.processes[name].start(**extra_env)
        await asyncio.gather(*(self.processes[name].wait_healthy() for name in names))

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill(signal.SIGTERM)

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def token(self, organisation: str | None = None, role: str | None = None,
                    roles: tuple[str, ...] = (), branches: tuple[str, ...] = (), username: str | None = None) -> str:
        """A real access token from Keycloak for a user of that organisation (the operator by default)."""
        if organisation is None and role is None and not roles:
            try:
                known = [r["code"] for r in await self.sql("SELECT code FROM gateway.branches ORDER BY code")]
            except asyncpg.UndefinedTableError:
                known = []  # the gateway has not started yet
            return await self.keycloak.token(OPERATOR["organisation"], OPERATOR["roles"], tuple(known))
        return await self.keycloak.token(organisation, tuple(roles) or (role,), tuple(branches), username)

    def operator_env(self) -> dict[str, str]:
        """The environment of an operator's `cqp` command: the admin's DSN and Kafka user."""
        return {**os.environ, "CQP_POSTGRES_DSN": self.dsn, "CQP_KAFKA_BOOTSTRAP": self.kafka,
                "CQP_TOPIC_PREFIX": self.prefix, "CQP_KAFKA_USERNAME": "admin",
                "CQP_KAFKA_PASSWORD": kafka_password("admin")}

    def importer_env(self) -> dict[str, str]:
        """The environment of `cqp catalog import` against this system, as the realm's importer account."""
        return {**os.environ, "CQP_CATALOG_URL": self["catalog"].url, "CQP_OIDC_ISSUER": self.keycloak.issuer,
                "CQP_CLIENT_ID": "cqp-importer", "CQP_CLIENT_SECRET": os.environ["CQP_TEST_IMPORTER_SECRET"]}

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """`cqp ARGS` run by an operator of this system (its database, broker, topics and keys)."""
        env = {**self.processes["gateway"].env, **self.operator_env()}
        return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout)

    async def acli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """`cli`, without blocking the test's event loop (the processes' answers are awaited meanwhile)."""
        return await asyncio.to_thread(self.cli, *args, timeout=timeout)

    async def graphql_answer(self, query: str, variables: dict | None = None, token: str | None = "default") -> dict:
        """The whole answer, errors included."""
        token = await self.token() if token == "default" else token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(timeout=60) as http:
            answer = await http.post(self.graphql_url, json={"query": query, "variables": variables or {}}, headers=headers)
        return answer.json()

    async def graphql(self, query: str, variables: dict | None = None, token: str | None = "default") -> dict:
        body = await self.graphql_answer(query, variables, token)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def command(self, service: str, command: str, body: dict, key: str, token: str | None = "default",
                      headers: dict | None = None) -> httpx.Response:
        """A command posted straight to a service, as the gateway would (the caller's token with it)."""
        token = await self.token() if token == "default" else token
        headers = {"idempotency-key": key, **({"authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.post(f"{self[service].url}/commands/{command}", json=body, headers=headers)

    async def written(self, service: str) -> int:
        """The events a service stored for the commands it was sent: not those it records by itself meanwhile, on
        events earlier commands caused (a message it sent, a deadline's change)."""
        rows = await self.sql(f"SELECT count(*) AS n FROM {service}.{service}_events WHERE NOT topic LIKE ANY($1::text[])",
                              list(BACKGROUND_EVENTS))
        return rows[0]["n"]

    async def sql(self, query: str, *args):
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()


async def read_topic(system: System, topic: str) -> list[dict]:
    """Every envelope on a topic (with its Kafka key as `_key`), read from the beginning with a plain
    aiokafka consumer: none of the project's consumer code."""
    consumer = AIOKafkaConsumer(**kafka_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(system.topic(topic), p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        envelopes = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                envelopes += [json.loads(r.value) | {"_key": r.key.decode()} for r in records]
        return envelopes
    finally:
        await consumer.stop()


async def eventually(check, timeout: float = 30, interval: float = 0.1):
    """Wait until `check()` (async) returns a truthy value; return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met after {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
