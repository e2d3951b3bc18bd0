"""States at a past instant, asked of the service that owns the aggregate (shared/asof.py), which rebuilds
them from its events; mapped here to the rows the GraphQL types are made from, so a past state shows the
same fields as today's. The caller's scope is checked on the read models before asking, and the service
checks the caller's token again."""

from __future__ import annotations

import json
from datetime import date, datetime

import httpx

from shared.errors import CommandRefused


class PastStateUnavailable(CommandRefused):
    status = 503


class PastStates:
    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str]):
        self.http = http
        self.urls = urls

    async def state(self, service: str, query: str, aggregate_id: str, as_of: datetime, token: str | None) -> dict | None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        try:
            answer = await self.http.post(f"{self.urls[service]}/queries/{query}", headers=headers,
                                          json={"id": aggregate_id, "as_of": as_of.isoformat()})
        except httpx.TransportError as error:
            raise PastStateUnavailable(f"the {service} service did not answer", reason=type(error).__name__) from None
        if answer.status_code != 200:
            error = (answer.json() if answer.headers.get("content-type", "").startswith("application/json")
                     else {}).get("error") or {}
            raise PastStateUnavailable(error.get("message") or f"the {service} service answered {answer.status_code}",
                                       reason=error.get("type"))
        return answer.json()["state"]


def row(state: dict, json_fields=(), dates=(), instants=()) -> dict:
    """A state as a read-model row: JSON columns as text, dates and instants parsed."""
    found = dict(state)
    for name in json_fields:
        found[name] = None if state.get(name) is None else json.dumps(state[name])
    for name in dates:
        found[name] = date.fromisoformat(state[name]) if state.get(name) else None
    for name in instants:
        found[name] = datetime.fromisoformat(state[name]) if state.get(name) else None
    return found


def candidacy_row(state: dict) -> dict:
    return row(state, ("blocks", "path", "fundings", "admissibility"), ("eligibility_confirmed_on",),
               ("opened_at", "updated_at"))


def certification_row(state: dict) -> dict:
    return row(state, ("registration", "certifiers", "equivalences"), (), ("created_at", "updated_at"))


def version_rows(state: dict) -> list[dict]:
    return [row(v, ("blocks", "settings"), ("effective_from",), ("published_at",)) for v in state["versions"]]


def session_row(state: dict) -> dict:
    return row(state, ("members",), ("held_on",))


def decision_rows(state: dict) -> list[dict]:
    return [row(d, ("votes", "corrections"), ("decided_on",)) for d in state["decisions"]]
