"""Running a command service: its schema, event store, relay, consumers and HTTP API in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field

import anyio
import asyncpg
import httpx
import uvicorn
from starlette.applications import Starlette

from shared import health, tracing, kafka, logs
from shared.documents import Documents, Scanner
from shared.eventstore import ServiceApplication
from shared.http import Endpoint, QueryHandler, command_app
from shared.identity import TokenVerifier, discovered_jwks, userinfo_check
from shared.inbox import Handler, Inbox, chain, subscribe
from shared.loops import stop as stop_loops
from shared.migrations import Migration, migrate
from shared.objects import ObjectStore
from shared.policy import operations
from shared.relay import Relay
from shared.settings import Settings


async def ensure_schema(dsn: str, schema: str) -> None:
    """The event store needs its schema before it starts (eventsourcing creates only tables). `cqp
    database` makes it, owned by the process's role (tools/database.py); a role allowed to create one
    (the gateway's, after a rebuild) makes it when it is missing."""
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await conn.close()


@dataclass
class Subscription:
    topic: str  # public topic name, before the settings' prefix
    handle: Handler


@dataclass
class ServiceDefinition:
    name: str
    application: type[ServiceApplication]
    topic: str
    # Builds the commands from the running parts (the application, a database pool).
    commands: Callable[[ServiceApplication, asyncpg.Pool], dict[str, Endpoint]]
    # Its views of other services' topics (topic → projection into its own tables): pure functions of
    # the events, so `cqp verify` can replay them and compare.
    views: dict[str, Handler] = field(default_factory=dict)
    # The tables of those views.
    migrations: list[Migration] = field(default_factory=list)
    # Its own tables beside the event store (not views: `cqp verify` does not replay them).
    tables: list[Migration] = field(default_factory=list)
    # What it does on other services' events besides its views (e.g. commands on its own aggregates).
    subscriptions: Callable[[ServiceApplication, asyncpg.Pool], list[Subscription]] = lambda app, pool: []
    # Read endpoints beside the commands (POST /queries/<name>), built from the running parts like the commands.
    queries: Callable[[ServiceApplication, asyncpg.Pool, TokenVerifier], dict[str, QueryHandler]] = \
        lambda app, pool, verifier: {}
    # Run once at start, before the commands are served (e.g. finishing work a crash interrupted).
    on_start: Callable[[ServiceApplication, asyncpg.Pool], Awaitable[None]] | None = None
    # Loops run beside the consumers for the process's life, cancelled when it stops (e.g. a clock firing timers).
    loops: Callable[[ServiceApplication, asyncpg.Pool, Settings], list[Coroutine]] = lambda app, pool, settings: []
    # Encrypt the stored events with the library's AES cipher (personal data), key from CQP_CIPHER_KEY.
    encrypted: bool = False
    # Seals people's data with a key per person (shared/personal.py), under the master key CQP_CIPHER_KEY,
    # which the application reads as PERSONAL_DATA_KEY.
    personal_data: bool = False
    # Keeps documents (shared/documents.py) in its own bucket of the object store: set on the application as
    # `documents` before the commands are built.
    documents: bool = False


class MissingCipherKey(RuntimeError):
    pass


class MissingCommandKey(RuntimeError):
    pass


def eventsourcing_env(definition: ServiceDefinition, settings: Settings) -> dict[str, str]:
    env = settings.eventsourcing_env(definition.name)
    if (definition.encrypted or definition.personal_data) and not settings.cipher_key:
        raise MissingCipherKey(f"the {definition.name} service keeps personal data encrypted: set "
                               "CQP_CIPHER_KEY (`cqp cipher-key` prints a new one)")
    if definition.personal_data:
        env["PERSONAL_DATA_KEY"] = settings.cipher_key
    if definition.encrypted:
        env.update(CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=settings.cipher_key)
    return env


def consumed(definition: ServiceDefinition, app: ServiceApplication, pool: asyncpg.Pool) -> list[Subscription]:
    """One handler per topic: its view first, then what the service does on it."""
    handlers: dict[str, list[Handler]] = {topic: [view] for topic, view in definition.views.items()}
    for sub in definition.subscriptions(app, pool):
        handlers.setdefault(sub.topic, []).append(sub.handle)

    return [Subscription(topic, chain(steps)) for topic, steps in handlers.items()]


def build_asgi(definition: ServiceDefinition, settings: Settings) -> Starlette:
    schema = definition.name
    commands: dict[str, Endpoint] = {}  # filled once the lifespan has built the application
    queries: dict[str, QueryHandler] = {}
    token_verifier = verifier(settings)
    relays: list[Relay] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette):
        await ensure_schema(settings.postgres_dsn, schema)
        # No prepared-statement cache: `cqp replay` swaps view tables, and names must resolve to the new ones.
        pool = await asyncpg.create_pool(settings.postgres_dsn, min_size=1, max_size=settings.pool_size,
                                         statement_cache_size=0,
                                         server_settings={"search_path": schema})
        await migrate(pool, [*definition.migrations, *definition.tables])
        app = await anyio.to_thread.run_sync(lambda: definition.application(env=eventsourcing_env(definition, settings)))
        relay = Relay(app, definition.name, settings.topic(definition.topic), app.to_contract,
                      settings.postgres_dsn, schema, kafka.client_options(settings), settings.relay_poll_seconds)
        objects = None
        if definition.documents:
            objects = ObjectStore.from_settings(settings)
            await objects.start()
            app.documents = Documents(objects, Scanner(settings.clamd_address))
            checks["objects"] = lambda: health.objects(objects)
        if definition.on_start:
            await definition.on_start(app, pool)
        commands.update(definition.commands(app, pool))
        queries.update(definition.queries(app, pool, token_verifier))
        if undeclared := set(commands) - set(operations()):
            raise RuntimeError(f"commands missing from the role table (shared/roles.toml): {sorted(undeclared)}")
        relays.append(relay)
        broker = kafka.broker(settings, logger=None)
        subscriptions = consumed(definition, app, pool)
        if subscriptions:
            inbox = Inbox(pool, schema)
            await inbox.migrate()
            for sub in subscriptions:
                subscribe(broker, settings.topic(sub.topic), settings.topic(f"cqp.{definition.name}"), inbox, sub.handle)
            await broker.start()
            checks["consumers"] = lambda: health.consumer_lag(inbox, settings.ready_max_consumer_lag)
        relay_task = asyncio.create_task(relay.run(), name="relay")
        loops = [asyncio.create_task(loop) for loop in definition.loops(app, pool, settings)]
        checks.update(
            database=lambda: health.database(pool),
            broker=lambda: health.broker(settings.kafka_bootstrap),
            relay=lambda: health.relay_lag(pool, schema, settings.topic(definition.topic), f"{schema}_events",
                                           settings.ready_max_relay_lag),
            dead_letters=lambda: health.dead_letters(pool, schema),
            relay_publishing=lambda: health.relay_state(relay),
        )
        try:
            yield
        finally:
            await stop_loops([relay_task, *loops])
            await broker.stop()
            await anyio.to_thread.run_sync(app.close)
            await pool.close()
            if objects is not None:
                await objects.close()

    checks: dict[str, health.Check] = {}  # filled once the lifespan has the pool
    if not settings.command_key:
        raise MissingCommandKey(f"the {definition.name} service keeps only a keyed digest of idempotency keys: set "
                                "CQP_COMMAND_KEY (`cqp cipher-key` prints a new one)")

    return command_app(definition.name, commands, token_verifier, settings.max_request_bytes, lifespan=lifespan,
                       command_key=settings.command_key,
                       on_written=lambda: relays[0].wake.set(), checks=lambda: checks, queries=queries)


def verifier(settings: Settings) -> TokenVerifier:
    """The process's verifier of access tokens, against the issuer's published keys and its word that the
    account still holds (userinfo)."""
    http = httpx.AsyncClient(timeout=10)
    return TokenVerifier(settings.oidc_issuer, settings.oidc_audience, discovered_jwks(settings.oidc_issuer, http),
                         settings.token_leeway_seconds, session_check=userinfo_check(settings.oidc_issuer, http))


def run(definition: ServiceDefinition) -> None:
    settings = Settings()
    logs.configure(definition.name, settings.log_level)
    tracing.configure(definition.name, settings.otlp_endpoint)
    logging.getLogger(definition.name).info("listening", extra={"fields": {"port": settings.port}})
    uvicorn.run(build_asgi(definition, settings), host=settings.host, port=settings.port, log_config=None)
