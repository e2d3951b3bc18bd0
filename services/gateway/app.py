"""The gateway's composition: GraphQL over the read models, Kafka projections in the lifespan."""

from __future__ import annotations

import contextlib

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from strawberry.asgi import GraphQL

from shared import health, kafka, tracing
from shared.context import correlation_id
from shared.inbox import Inbox, subscribe
from shared.limits import BodySizeLimit
from shared.service import ensure_schema, verifier
from shared.settings import Settings

from services.gateway import exports, readmodels
from services.gateway.asof import PastStates
from services.gateway.commands import CommandClient
from shared.people import PeopleClient
from services.gateway.rebuild import GROUP
from services.gateway.schema import build_schema
from services.gateway.schema.catalog.loaders import catalog_loaders
from services.gateway.schema.context import Context, new_correlation_id


class GatewayGraphQL(GraphQL):
    def __init__(self, state: dict, settings: Settings):
        introspection = settings.graphql_introspection
        super().__init__(build_schema(introspection, tracing.enabled()), graphql_ide="graphiql" if introspection else None)
        self.state = state
        self.verifier = verifier(settings)

    async def get_context(self, request: Request, response=None) -> Context:
        cid = new_correlation_id(request)
        correlation_id.set(cid)
        pool = self.state["read_pool"]
        return Context(request, pool, self.state["commands"], self.verifier, cid, catalog_loaders(pool),
                       people=self.state["people"], pasts=self.state["pasts"])


def build_asgi(settings: Settings) -> Starlette:
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette):
        await ensure_schema(settings.postgres_dsn, readmodels.SCHEMA)
        pool = await asyncpg.create_pool(
            settings.postgres_dsn, min_size=1, max_size=settings.pool_size,
            server_settings={"search_path": readmodels.SCHEMA},
        )
        # Queries run on their own pool, each statement bounded: no request holds the database for long.
        read_pool = await asyncpg.create_pool(
            settings.postgres_dsn, min_size=1, max_size=settings.pool_size,
            server_settings={"search_path": readmodels.SCHEMA,
                             "statement_timeout": str(settings.read_statement_timeout_ms)},
        )
        for statement in readmodels.MIGRATIONS:
            await pool.execute(statement)
        inbox = Inbox(pool, readmodels.SCHEMA)
        await inbox.migrate()
        broker = kafka.broker(settings, logger=None)
        for topic, project in readmodels.PROJECTIONS.items():
            subscribe(broker, settings.topic(topic), settings.topic(GROUP), inbox, project)
        async with httpx.AsyncClient(timeout=30) as http:
            urls = {"catalog": settings.catalog_url, "candidacy": settings.candidacy_url, "jury": settings.jury_url}
            state.update(read_pool=read_pool, commands=CommandClient(http, urls, inbox, settings.read_your_writes_timeout),
                         people=PeopleClient(http, settings.candidacy_url, settings.jury_url),
                         pasts=PastStates(http, urls))
            await broker.start()
            checks.update(database=lambda: health.database(read_pool),
                          broker=lambda: health.broker(settings.kafka_bootstrap),
                          consumers=lambda: health.consumer_lag(inbox, settings.ready_max_consumer_lag),
                          dead_letters=lambda: health.dead_letters(pool, readmodels.SCHEMA))
            try:
                yield
            finally:
                await broker.stop()
                await read_pool.close()
                await pool.close()

    checks: dict[str, health.Check] = {}
    graphql = GatewayGraphQL(state, settings)
    app = Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), *health.health_routes("gateway", lambda: checks),
                *exports.routes(state, graphql.verifier)],
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    return app
