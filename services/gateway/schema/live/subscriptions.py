"""Subscriptions (graphql-transport-ws over the WebSocket of /graphql): live views of what the queries read.

Each push is read again from the read models in the caller's scope, exactly as the matching query reads it,
so a candidacy that leaves the caller's scope (transferred to another evaluator) ends its subscription with
`NotFound` as the `candidacy` query would answer null; the token's expiry, or its account disabled or signed
out, ends every subscription with `Unauthenticated` at its next push. What wakes them is services/gateway/live.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from datetime import date
from typing import Annotated, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from shared import errors
from shared.identity import Caller

from services.gateway import scopes
from services.gateway.live import TooManyWatches, Watch
from services.gateway.schema.candidacy.queries import (
    CandidacyFilter, candidacy_row, filter_conditions, uuid_or_none,
)
from services.gateway.schema.candidacy.types import Candidacy
from services.gateway.schema.context import Context, request_loaders
from services.gateway.schema.dashboards.queries import target_of
from services.gateway.schema.dashboards.types import Dashboard, DashboardScope
from services.gateway.schema.deadlines.queries import DeadlineFilter, deadline_conditions
from services.gateway.schema.deadlines.types import Deadline
from services.gateway.schema.vocabulary import DeadlineState
from services.gateway.reports import dashboard as report
from services.gateway.schema.live.types import CandidacyCounters
from services.gateway.schema.permissions import Authenticated

T = TypeVar("T")
THROTTLE_SECONDS = 0.25  # counters: at most one push in this time (a burst of events is pushed once)


async def candidacy_counts(pool, caller: Caller, certification: str | None, branch: str | None) -> dict[str, int]:
    """Status → candidacies the caller may read: the one statement behind `candidacyCounters`, to be swapped
    for the dashboard's."""
    c = filter_conditions(CandidacyFilter(certification=certification, branch=branch))
    c.add_scope(scopes.candidacies(caller, "candidacyCounters"))
    rows = await pool.fetch(f"SELECT status, count(*) AS n FROM candidacies{c.where} GROUP BY status", *c.args)
    return {r["status"]: r["n"] for r in rows}


async def _seconds_left(context) -> float:
    """Until the token expires; ends the subscription once it has, or once its account is disabled or signed
    out (the token verified again before each push, as a request's is: shared/identity.py)."""
    left = context.token_expires_at() - time.time()
    if left <= 0:
        raise GraphQLError("the bearer token has expired: subscribe again with a new one",
                           extensions={"code": "Unauthenticated"})
    try:
        await context.check_token()
    except errors.CommandRefused as refusal:
        raise GraphQLError(refusal.message, extensions={"code": refusal.type}) from None
    return left


@contextlib.asynccontextmanager
async def watching(watch: AsyncContextManager[Watch]) -> AsyncIterator[Watch]:
    """The hub's watch; its limits refused as a GraphQL error the client can read."""
    try:
        async with watch as woken:
            yield woken
    except TooManyWatches as refusal:
        raise GraphQLError(str(refusal), extensions={"code": "TooManySubscriptions"}) from None


async def when_changed(context, read: Callable[[], Awaitable[T]]) -> AsyncGenerator[T, None]:
    """What `read` gives now, then again each time it differs after an event applied here or by another
    replica (at most one push per THROTTLE_SECONDS: a burst of events is pushed once)."""
    sent = None
    async with watching(context.changes.everything((await context.caller()).user_id)) as watch:
        while True:
            left = await _seconds_left(context)
            value = await read()
            if value != sent:
                sent = value
                yield value
                await asyncio.sleep(THROTTLE_SECONDS)  # what changes meanwhile leaves the watch woken
            await watch.wait(left)


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(
        permission_classes=[Authenticated],
        description="The candidacy now, then again each time an event about it is applied (its own, and the "
                    "jury's evaluations, presentations, decisions and certificates naming it); ends with NotFound "
                    "if it is not (or no longer) one the caller may read, with Unauthenticated when the token "
                    "expires")
    async def candidacy_changed(self, info: Info[Context, None], id: strawberry.ID) -> AsyncGenerator[Candidacy, None]:
        context = info.context
        if await candidacy_row(context, id, "candidacyChanged") is None:  # refused before anything is watched
            raise GraphQLError("no candidacy of this id that you may read", extensions={"code": "NotFound"})
        async with watching(context.changes.candidacy(uuid_or_none(id), (await context.caller()).user_id)) as watch:
            while True:
                left = await _seconds_left(context)
                # In scope again: the candidacy may have left the caller's scope (transferred, say).
                row = await candidacy_row(context, id, "candidacyChanged")
                if row is None:
                    raise GraphQLError("the candidacy is no longer one you may read", extensions={"code": "NotFound"})
                context.loaders = request_loaders(context)  # nested fields read afresh, not from the last push
                yield Candidacy.from_row(row)
                await watch.wait(left)

    @strawberry.subscription(
        permission_classes=[Authenticated],
        description="Counts of the candidacies the caller may read (of a certification, of a branch), now and then "
                    "each time they change (at most one push every 250 ms); ends with Unauthenticated when the "
                    "token expires")
    async def candidacy_counters(self, info: Info[Context, None], certification: str | None = None,
                                 branch: str | None = None) -> AsyncGenerator[CandidacyCounters, None]:
        context = info.context

        async def counts() -> dict[str, int]:
            return await candidacy_counts(context.pool, await context.caller(), certification, branch)

        async for value in when_changed(context, counts):
            yield CandidacyCounters.from_counts(value)

    @strawberry.subscription(
        permission_classes=[Authenticated],
        description="The dashboard of a branch, an organisation or a certification (as the `dashboard` query), now "
                    "and then each time its figures change (at most one push every 250 ms); ends with Forbidden, "
                    "NotFound or InvalidInput as the query would answer, with Unauthenticated when the token expires")
    async def dashboard_changed(
        self, info: Info[Context, None], scope: DashboardScope,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None, top: int = 10,
    ) -> AsyncGenerator[Dashboard, None]:
        context, target = info.context, target_of(scope)

        async def figures() -> report.Figures:
            try:  # the caller's rights read again at every push, as the query reads them
                return await report.figures(context.pool, await context.caller(), target, report.Period(from_, to),
                                            top, operation="dashboardChanged")
            except (errors.Forbidden, errors.NotFound, errors.InvalidInput) as refusal:
                raise GraphQLError(refusal.message, extensions={"code": refusal.type}) from None

        async for value in when_changed(context, figures):
            yield Dashboard.of(target.kind, target.key, from_, to, value)

    @strawberry.subscription(
        permission_classes=[Authenticated],
        description="The deadlines due that the caller may read (as `deadlines(filter: {state: DUE})`, filtered "
                    "alike), now and then each time they change: a deadline becoming due is pushed as it does (at "
                    "most one push every 250 ms); ends with Unauthenticated when the token expires")
    async def deadlines_due(self, info: Info[Context, None],
                            filter: DeadlineFilter | None = None) -> AsyncGenerator[list[Deadline], None]:
        context = info.context
        f = dataclasses.replace(filter or DeadlineFilter(), state=DeadlineState.DUE)

        async def due() -> list:
            c = await deadline_conditions(context, f, None, "deadlinesDue")  # the caller's rights read again
            return await context.pool.fetch(f"SELECT * FROM deadlines{c.where} ORDER BY due_on, id", *c.args)

        async for rows in when_changed(context, due):
            yield [Deadline.from_row(row) for row in rows]
