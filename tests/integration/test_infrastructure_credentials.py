"""Kafka and PostgreSQL know who connects and let each process do only its own part.

Kafka: SASL/SCRAM-SHA-512 and ACLs (deploy/kafka/kafka.sh, shared/kafka_acls.py). PostgreSQL: a
password-authenticated role per process owning only its schema (deploy/postgres/postgres.sh,
tools/database.py). Each refusal is checked beside what the same credentials may do, so a test
fails when the protection goes, not only when everything breaks.
"""

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from shared.topics import EVENT_TOPICS
from tests.harness import PROCESSES, System, kafka_options

CATALOG, CANDIDACY, JURY = "cqp.catalog.events", "cqp.candidacy.events", "cqp.jury.events"


@pytest_asyncio.fixture(scope="module")
async def running():
    """One system, every process started: the schemas hold their tables, the topics their ACLs."""
    system = await System.create()
    await system.start()
    yield system
    system.stop()


async def produce(system: System, topic: str, **options) -> None:
    producer = AIOKafkaProducer(**options, request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(system.topic(topic), b"{}", key=b"k")
    finally:
        await producer.stop()


async def list_topics(**options) -> list[str]:
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=5_000)
    await admin.start()
    try:
        return await admin.list_topics()
    finally:
        await admin.close()


async def test_the_gateways_credentials_cannot_produce_to_any_topic(running):
    for topic in EVENT_TOPICS:
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(running, topic, **kafka_options("gateway"))


async def test_the_catalogs_credentials_produce_to_its_own_topic_but_not_to_the_jurys(running):
    await produce(running, CATALOG, **kafka_options("catalog"), enable_idempotence=True, acks="all")
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(running, JURY, **kafka_options("catalog"))


async def test_a_service_reads_the_topics_it_consumes_and_no_other(running):
    async def first_offsets(user: str, topic: str) -> dict:
        consumer = AIOKafkaConsumer(running.topic(topic), **kafka_options(user), group_id=running.topic(f"cqp.{user}"),
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            return await consumer.getmany(timeout_ms=2_000)
        finally:
            await consumer.stop()

    await first_offsets("candidacy", CATALOG)  # its own group, a topic it consumes
    with pytest.raises(TopicAuthorizationFailedError):
        await first_offsets("catalog", JURY)


async def test_an_anonymous_client_is_refused(running):
    assert running.topic(CATALOG) in await list_topics(**kafka_options("admin"))
    with pytest.raises(KafkaError):
        await list_topics(**kafka_options(None))
    with pytest.raises(KafkaError):
        await produce(running, CATALOG, **kafka_options(None))


async def test_a_wrong_password_is_refused(running):
    with pytest.raises(KafkaError):
        await list_topics(**kafka_options("catalog", password="not-the-password"))
    with pytest.raises(KafkaError):
        await produce(running, CATALOG, **kafka_options("catalog", password="not-the-password"))


async def fetch_as(system: System, process: str, query: str):
    conn = await asyncpg.connect(system[process].env["CQP_POSTGRES_DSN"])
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


async def test_a_service_role_reads_its_own_schema_and_not_another_services(running):
    assert await fetch_as(running, "candidacy", "SELECT count(*) FROM candidacy.candidacy_events")
    for schema in ("jury", "catalog"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await fetch_as(running, "candidacy", f"SELECT count(*) FROM {schema}.{schema}_events")


async def test_the_gateway_role_reads_its_read_models_and_not_the_services_schemas(running):
    assert await fetch_as(running, "gateway", "SELECT count(*) FROM gateway.audit_log")
    for schema in ("catalog", "candidacy", "jury"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await fetch_as(running, "gateway", f"SELECT count(*) FROM {schema}.{schema}_events")


async def test_a_service_role_connects_to_its_own_database_and_not_to_the_servers_maintenance_databases(running):
    for process in PROCESSES:
        dsn = running[process].env["CQP_POSTGRES_DSN"]
        conn = await asyncpg.connect(dsn)
        await conn.close()
        for database in ("postgres", "template1"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await asyncpg.connect(dsn.rsplit("/", 1)[0] + f"/{database}")


async def test_every_process_connects_as_its_own_role_and_none_is_a_superuser(running):
    sessions = await running.sql(
        "SELECT DISTINCT a.usename AS role, r.rolsuper FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid"
        " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()")
    assert {s["role"] for s in sessions} == {f"cqp_{p}" for p in PROCESSES}
    assert not any(s["rolsuper"] for s in sessions)


async def test_postgres_refuses_a_connection_without_the_right_password(running):
    for password in ("", "not-the-password"):
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
            await asyncpg.connect(running.dsn.replace(running.dsn.split("//")[1].split("@")[0], f"cqp:{password}"))
