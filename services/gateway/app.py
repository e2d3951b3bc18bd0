"""The gateway's composition: GraphQL over the read models, Kafka projections in the lifespan."""

from __future__ import annotations

import contextlib

import asyncpg
import httpx
from faststream.kafka import KafkaBroker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from shared.context import correlation_id
from shared.inbox import Inbox, subscribe
from shared.service import ensure_schema
from shared.settings import Settings

from services.gateway import readmodels
from services.gateway.commands import CommandClient
from services.gateway.rebuild import GROUP
from services.gateway.schema import schema
from services.gateway.schema.catalog.loaders import catalog_loaders
from services.gateway.schema.context import Context, new_correlation_id


class GatewayGraphQL(GraphQL):
    def __init__(self, state: dict, settings: Settings):
        super().__init__(schema, graphql_ide="graphiql")
        self.state = state
        self.settings = settings

    async def get_context(self, request: Request, response=None) -> Context:
        cid = new_correlation_id(request)
        correlation_id.set(cid)
        pool = self.state["pool"]
        return Context(request, pool, self.state["commands"], self.settings.auth_secret, cid, catalog_loaders(pool))


def build_asgi(settings: Settings) -> Starlette:
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette):
        await ensure_schema(settings.postgres_dsn, readmodels.SCHEMA)
        pool = await asyncpg.create_pool(
            settings.postgres_dsn, min_size=1, max_size=settings.pool_size,
            server_settings={"search_path": readmodels.SCHEMA},
        )
        for statement in readmodels.MIGRATIONS:
            await pool.execute(statement)
        inbox = Inbox(pool, readmodels.SCHEMA)
        await inbox.migrate()
        broker = KafkaBroker(settings.kafka_bootstrap, logger=None)
        for topic, project in readmodels.PROJECTIONS.items():
            subscribe(broker, settings.topic(topic), settings.topic(GROUP), inbox, project)
        async with httpx.AsyncClient(timeout=30) as http:
            urls = {"catalog": settings.catalog_url, "candidacy": settings.candidacy_url, "jury": settings.jury_url}
            state.update(pool=pool, commands=CommandClient(http, urls, inbox, settings.read_your_writes_timeout))
            await broker.start()
            try:
                yield
            finally:
                await broker.stop()
                await pool.close()

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"service": "gateway", "status": "ok"})

    graphql = GatewayGraphQL(state, settings)
    return Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/health", health)],
        lifespan=lifespan,
    )
