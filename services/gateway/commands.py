"""Forwarding mutations to the owning service, then waiting for the read models (read-your-writes)."""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg
import httpx
from opentelemetry.trace import SpanKind

from shared import tracing
from shared.errors import CommandRefused, OutcomeUnknown
from shared.health import READ_YOUR_WRITES_SECONDS
from shared.inbox import Inbox


# What the gateway's database (asyncpg) raises when it is away: refused, starting up, a connection cut.
DATABASE_AWAY = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError)


class RemoteRefusal(CommandRefused):
    """A typed error as the owning service answered it."""

    def __init__(self, type_: str, status: int, message: str, details: dict):
        super().__init__(message, **details)
        self._type = type_
        self.status = status

    @property
    def type(self) -> str:
        return self._type


class ServiceUnavailable(CommandRefused):
    status = 503


class ReadModelTimeout(CommandRefused):
    """The command was accepted, but the read models did not show it in time."""

    status = 504


class CommandClient:
    def __init__(self, http: httpx.AsyncClient, service_urls: dict[str, str], inbox: Inbox, timeout: float):
        self.http = http
        self.service_urls = service_urls
        self.inbox = inbox
        self.timeout = timeout

    async def send(
        self, service: str, command: str, body: dict, token: str, idempotency_key: str, correlation_id: str
    ) -> dict:
        """The caller's own token goes with the command: the service verifies it and takes the actor from it."""
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {token}",
            # UTF-8: a key is any client text (a person's name, accents and all); the service decodes it so.
            "idempotency-key": idempotency_key.encode(),
            "x-correlation-id": correlation_id,
        }
        try:
            with tracing.span(f"command {command}", SpanKind.CLIENT, service=service):
                headers.update(tracing.headers())
                response = await self.http.post(f"{self.service_urls[service]}/commands/{command}",
                                                content=json.dumps(body), headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Never reached the service: nothing happened.
            raise ServiceUnavailable(f"the {service} service did not answer", reason=type(error).__name__) from None
        except httpx.TransportError as error:
            # Sent, but no answer: it may have committed. Never say it failed.
            raise OutcomeUnknown(f"the {service} service took the command but did not answer: it may have happened;"
                                 " send it again with the same idempotency key", reason=type(error).__name__) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200:
            error = answer.get("error") if isinstance(answer, dict) else None
            if not isinstance(error, dict):
                raise OutcomeUnknown(f"the {service} service answered {response.status_code} without a typed error: "
                                     "the command may have happened; send it again with the same idempotency key")
            raise RemoteRefusal(error["type"], response.status_code, error["message"], error.get("details") or {})
        await self.wait_until_applied(answer["events"])
        return answer

    async def wait_until_applied(self, event_ids: list[str]) -> None:
        with READ_YOUR_WRITES_SECONDS.time():
            await self._wait(event_ids, time.monotonic() + self.timeout)

    async def _wait(self, event_ids: list[str], deadline: float) -> None:
        while not await self._applied(event_ids, deadline):
            if time.monotonic() > deadline:
                raise ReadModelTimeout(
                    "the command was accepted but the read models have not caught up yet; query again shortly",
                    events=event_ids,
                )

    async def _applied(self, event_ids: list[str], deadline: float) -> bool:
        """Woken when the events are applied (shared/arrivals.py). The command was accepted: a read-model
        database that fails now delays the answer, never turns it into a failure (ReadModelTimeout when
        it lasts)."""
        try:
            return await self.inbox.arrivals.wait(event_ids, deadline)
        except DATABASE_AWAY:
            await asyncio.sleep(0.05)
            return False
