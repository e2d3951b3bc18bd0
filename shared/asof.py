"""An aggregate as it stood at a past instant, rebuilt by its owning service from its own events.

The gateway's read models hold today's state only; the event store holds every state. The service
finds the last version recorded at or before the instant (its events' own timestamps, which the
envelopes publish as `occurred_at`) and replays the aggregate up to it. Before the aggregate existed
there is nothing: null, as for an unknown id.

`POST /queries/<name>` `{"id": "...", "as_of": "2026-11-25T20:00:00+00:00"}` answers `{"state": {...} | null}`;
the service checks its caller on the record as it stands today (who may read it now may read its past).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse

from shared.context import current_caller
from shared.errors import CommandRefused, InvalidInput
from shared.identity import TokenVerifier, bearer_token
from shared.policy import operation

A = TypeVar("A")


def version_at(app, aggregate_id: uuid.UUID, instant: datetime) -> int | None:
    """The aggregate's last version recorded at or before `instant` (None: it did not exist yet)."""
    found = None
    for domain_event in app.events.get(aggregate_id):
        if domain_event.timestamp > instant:
            break
        found = domain_event.originator_version
    return found


def aggregate_at(app, aggregate_id: str, instant: datetime, kind: type[A]) -> A | None:
    """The aggregate of that kind as it stood at `instant`; None when it did not exist then, or is no `kind`."""
    try:
        key = uuid.UUID(aggregate_id)
    except ValueError:
        return None
    version = version_at(app, key, instant)
    if version is None:
        return None
    aggregate = app.repository.get(key, version=version)
    return aggregate if isinstance(aggregate, kind) else None


State = Callable[[str, datetime], Awaitable[dict | None]]  # (id, instant) -> the state, or None


async def parse(request: Request) -> tuple[str, datetime]:
    try:
        body = json.loads(await request.body())
        aggregate_id, instant = body["id"], datetime.fromisoformat(body["as_of"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput('the body is {"id": "...", "as_of": "<ISO 8601 instant with its offset>"}') from None
    if not isinstance(aggregate_id, str) or instant.tzinfo is None:
        raise InvalidInput("as_of is an instant with its offset")
    return aggregate_id, instant


def endpoint(verifier: TokenVerifier | None, name: str | None, state: State):
    """A query endpoint answering `state(id, instant)`; with `name`, only to a caller whose role the role
    table lists for that operation (`state` checks the record itself); without, to anyone (public data)."""

    async def handle(request: Request) -> JSONResponse:
        try:
            if name is not None:
                caller = await verifier.verify(bearer_token(request.headers.get("authorization", "")))
                caller.acting_as(operation(name).roles, name)
                current_caller.set(caller)
            aggregate_id, instant = await parse(request)
            return JSONResponse({"state": await state(aggregate_id, instant)})
        except CommandRefused as refusal:
            return JSONResponse(refusal.as_json(), refusal.status)

    return handle


def jsonable(value):
    """Dates and sets of an aggregate's state, as JSON."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else list(v)))
