"""The gateway's composition: GraphQL over the read models (queries and mutations over HTTP, subscriptions over a
WebSocket on the same path), Kafka projections in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from shared import health, kafka, tracing
from shared.context import correlation_id
from shared.errors import CommandRefused
from shared.inbox import Inbox, subscribe
from shared.migrations import migrate
from shared.service import ensure_schema, verifier
from shared.settings import Settings

from services.gateway import documents, exports, issuer_routes, live, querycount, readmodels
from services.gateway.commands import CommandClient
from shared.people import PeopleClient
from services.gateway.rebuild import GROUP
from services.gateway.schema import build_schema
from services.gateway.schema import pagination
from services.gateway.schema.guards import Bounds, Budgets
from services.gateway.schema.context import Context, new_correlation_id


# A WebSocket carries at most this many operations at once (strawberry answers an error beyond), and is closed
# (4408) if `connection_init` does not come in time.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
CONNECTION_INIT_SECONDS = 10


class GatewayGraphQL(GraphQL):
    def __init__(self, state: dict, settings: Settings):
        introspection = settings.graphql_introspection
        bounds = Bounds(settings.max_response_bytes,
                        Budgets(settings.anonymous_budget, settings.anonymous_budget_per_second))
        super().__init__(build_schema(introspection, tracing.enabled(), bounds), graphql_ide="graphiql" if introspection else None,
                         subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
                         connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
                         max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
                         # Documents are uploaded as GraphQL multipart requests (documents.py). Strawberry leaves
                         # them off by default for CSRF: a browser sends a cross-site multipart form without asking
                         # first, with the site's cookies. Here the caller is a bearer token in the Authorization
                         # header, which no cross-site form can set, and nothing reads a cookie: no exposure.
                         multipart_uploads_enabled=True)
        self.state = state
        self.verifier = verifier(settings)
        self.count_queries = settings.count_queries

    async def get_context(self, request: HTTPConnection, response=None) -> Context:
        cid = new_correlation_id(request)
        correlation_id.set(cid)
        if self.count_queries:
            querycount.start()
        context = Context(request, self.state["read_pool"], self.state["commands"], self.verifier, cid,
                          people=self.state["people"], changes=self.state.get("changes"))
        return context

    async def on_ws_connect(self, context: Context):
        """A WebSocket's `connection_init`: its payload's token verified as an HTTP request's, or the socket is
        closed with 4403 (graphql-transport-ws)."""
        try:
            await context.caller()
        except CommandRefused:
            raise ConnectionRejectionError() from None
        return await super().on_ws_connect(context)

    async def process_result(self, request, result):
        answer = await super().process_result(request, result)
        counts = querycount._current.get() if self.count_queries else None
        if counts is not None:
            await asyncio.sleep(0)  # the query loggers run on the next turn of the loop
            answer["extensions"] = {**(answer.get("extensions") or {}), "sqlStatements": counts.statements,
                                    "peopleCalls": counts.people_calls}
        return answer


def build_asgi(settings: Settings) -> Starlette:
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette):
        await ensure_schema(settings.postgres_dsn, readmodels.SCHEMA)
        # No prepared-statement cache on either pool: `cqp replay` swaps the read-model tables for rebuilt
        # ones, and every statement must then name the new ones.
        pool = await asyncpg.create_pool(
            settings.postgres_dsn, min_size=1, max_size=settings.pool_size, statement_cache_size=0,
            server_settings={"search_path": readmodels.SCHEMA},
        )
        # Queries run on their own pool, each statement bounded: no request holds the database for long.
        read_pool = await asyncpg.create_pool(
            settings.postgres_dsn, min_size=1, max_size=settings.pool_size, statement_cache_size=0,
            server_settings={"search_path": readmodels.SCHEMA,
                             "statement_timeout": str(settings.read_statement_timeout_ms)},
            init=querycount.count_statements if settings.count_queries else None,
        )
        await migrate(pool, readmodels.MIGRATIONS)
        inbox = Inbox(pool, readmodels.SCHEMA)
        await inbox.migrate()
        broker = kafka.broker(settings, logger=None)
        for topic, project in readmodels.PROJECTIONS.items():
            subscribe(broker, settings.topic(topic), settings.topic(GROUP), inbox, project)
        async with httpx.AsyncClient(timeout=30) as http:
            urls = {"catalog": settings.catalog_url, "candidacy": settings.candidacy_url, "jury": settings.jury_url}
            state.update(read_pool=read_pool, commands=CommandClient(http, urls, inbox, settings.read_your_writes_timeout),
                         people=PeopleClient(http, settings.candidacy_url, settings.jury_url))
            changes = live.Changes(live.candidacy_fingerprints(read_pool), most=settings.max_live_watches,
                                   most_per_user=settings.max_live_watches_per_user)
            inbox.listeners.append(changes.applied)
            state["changes"] = changes
            await broker.start()
            listening = asyncio.create_task(inbox.listen(settings.postgres_dsn), name="listen")
            waking = asyncio.create_task(changes.run(), name="live")
            checks.update(database=lambda: health.database(read_pool),
                          broker=lambda: health.broker(settings.kafka_bootstrap),
                          consumers=lambda: health.consumer_lag(inbox, settings.ready_max_consumer_lag),
                          dead_letters=lambda: health.dead_letters(pool, readmodels.SCHEMA))
            try:
                yield
            finally:
                listening.cancel()
                waking.cancel()
                await broker.stop()
                await read_pool.close()
                await pool.close()

    checks: dict[str, health.Check] = {}
    pagination.configure(settings.cursor_key)
    graphql = GatewayGraphQL(state, settings)
    app = Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), WebSocketRoute("/graphql", graphql),
                *health.health_routes("gateway", lambda: checks), *exports.routes(state, graphql.verifier),
                *documents.routes(state, graphql.verifier), *issuer_routes.routes(state)],
        lifespan=lifespan,
    )
    # A multipart request to /graphql (an upload) may also carry the largest document; every other one is bounded
    # by max_request_bytes.
    app.add_middleware(documents.UploadSizeLimit, limit=settings.max_request_bytes)
    return app
