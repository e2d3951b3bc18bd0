"""The services' HTTP command endpoint: POST /commands/<name>.

Every command carries an Idempotency-Key header and the caller's access token (Authorization:
Bearer), which the service verifies itself: the actor comes from the token, never from a header.
The answer is the command's result with the ids and position of the events it wrote, or a typed
error as JSON; a refused command writes nothing.

The idempotency key is the client's text (it can be a person's name): from here on the command carries
only its keyed digest (HMAC-SHA256 under CQP_COMMAND_KEY), as its causation id, in its command record and in
every envelope. The same key from the same caller makes the same digest, so it still has one effect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import anyio
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from psycopg_pool import PoolTimeout
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from opentelemetry.trace import SpanKind

from shared import tracing
from shared.commands import Command, Upload
from shared.documents import MAX_BYTES
from shared.context import CommandContext, correlation_id, current_caller, current_command
from shared.errors import CommandRefused, Conflict, InvalidInput, MissingIdempotencyKey, OutcomeUnknown
from shared.eventstore import CommandOutcome
from shared.faults import crash_point
from shared.health import COMMAND_SECONDS, health_routes
from shared.identity import TokenVerifier, bearer_token
from shared.limits import BodySizeLimit, control_character_paths
from shared.logs import log
from shared.policy import operation

logger = logging.getLogger("commands")


@dataclass(frozen=True)
class Endpoint:
    """How a command (shared/commands/) runs on its service: its facts are read (`facts`, async, from the
    service's views and stores; None when the command needs none), then the application decides it on them in
    one call (`decide`, an `@decision` method, synchronous as the event store is: in a worker thread).
    `after`, when given, finishes what the facts began outside the store (a key made, an index to update),
    with the outcome, or None when the command was refused. Who may run it, and on what: the role table."""

    input: type[Command]
    facts: Callable[[Command], Awaitable[Any]] | None
    decide: Callable[..., CommandOutcome]
    after: Callable[[Command, Any, CommandOutcome | None], Awaitable[None]] | None = None

    async def run(self, command: Command) -> CommandOutcome:
        facts = None if self.facts is None else await self.facts(command)
        arguments = (command,) if self.facts is None else (command, facts)
        try:
            outcome = await anyio.to_thread.run_sync(self.decide, *arguments)
        except (CommandRefused, IntegrityError) as error:
            # Refused, or lost to a concurrent change: nothing was written. An outcome unknown (OutcomeUnknown, a
            # database gone) leaves everything as it is: the command may have been recorded.
            if self.after is not None and not isinstance(error, OutcomeUnknown):
                await self.after(command, facts, None)
            raise
        if self.after is not None:
            await self.after(command, facts, outcome)
        return outcome


QueryHandler = Callable[[Request], Awaitable[JSONResponse]]


def idempotency_digest(command_key: str, key: str) -> str:
    """What stands for the client's idempotency key wherever it is kept or shown (the key itself never is)."""
    return "ik1." + hmac.new(command_key.encode(), key.encode(), hashlib.sha256).hexdigest()


async def command_context(request: Request, verifier: TokenVerifier, name: str, command_key: str) -> CommandContext:
    caller = await verifier.verify(bearer_token(request.headers.get("authorization", "")))
    actor = caller.acting_as(operation(name).roles, name)
    current_caller.set(caller)
    try:
        # Header values arrive as Latin-1 text; a key is sent in UTF-8 (services/gateway/commands.py).
        key = request.headers.get("idempotency-key", "").encode("latin-1").decode().strip()
    except UnicodeDecodeError:
        raise InvalidInput("the Idempotency-Key header is not UTF-8 text") from None
    if not key:
        raise MissingIdempotencyKey("the Idempotency-Key header is required")
    if len(key) > 200 or any(control_character_paths(key)):
        raise InvalidInput("the Idempotency-Key header is longer than 200 characters or holds control characters")
    correlation = request.headers.get("x-correlation-id", "")[:100] or None
    return CommandContext.new(actor, idempotency_digest(command_key, key), correlation, tracing.current_traceparent())


async def parse_input(request: Request, model: type[Command]) -> Command:
    body = await request.body()
    try:
        paths = list(control_character_paths(json.loads(body)))
    except ValueError:
        paths = []  # not JSON: the model says so below
    if paths:
        problems = [{"field": path, "problem": "control characters are not allowed in text"} for path in paths]
        raise InvalidInput("the command's input holds control characters", problems=problems)
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise InvalidInput("the command's input is malformed", problems=input_problems(error)) from None


def input_problems(error: ValidationError) -> list[dict]:
    """A model's refusal as the problems of an InvalidInput: each field's path and what is wrong (never the value)."""
    return [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in error.errors(include_url=False)]


def uploads_of() -> list[type[Command]]:
    """The commands carrying a document's bytes (shared/commands: Upload)."""
    found, pending = [], [Upload]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if issubclass(sub, Command) and "operation" in vars(sub):
                found.append(sub)
    return found


def command_app(
    service: str,
    commands: dict[str, Endpoint],
    verifier: TokenVerifier,
    max_request_bytes: int = 2_000_000,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager] | None = None,
    on_written: Callable[[], None] = lambda: None,
    checks: Callable[[], dict] = dict,
    queries: dict[str, QueryHandler] | None = None,
    *,
    command_key: str,
) -> Starlette:
    """`checks`: the process's readiness checks (shared/health.py), known once it has started; `queries`:
    the service's read endpoints (POST /queries/<name>, each checking its caller), also filled at start."""
    queries = {} if queries is None else queries

    async def query(request: Request) -> JSONResponse:
        handler = queries.get(request.path_params["name"])
        if handler is None:
            return JSONResponse({"error": {"type": "UnknownQuery", "message": "no such query"}}, 404)
        return await handler(request)

    async def handle(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        command = commands.get(name)
        if command is None:
            return JSONResponse({"error": {"type": "UnknownCommand", "message": f"no command {name!r}"}}, 404)
        started = time.perf_counter()
        try:
            with tracing.span(f"command {name}", SpanKind.SERVER, carrier=dict(request.headers), service=service):
                outcome = await decide(request, name, command)
        except CommandRefused as refusal:
            log(logger, "command refused", command=name, error=refusal.type, reason=refusal.message)
            COMMAND_SECONDS.labels(name, refusal.type).observe(time.perf_counter() - started)
            return JSONResponse(refusal.as_json(), refusal.status)
        crash_point("command_after_commit")
        if not outcome.replayed:
            on_written()
        log(logger, "command accepted", command=name, position=outcome.position, replayed=outcome.replayed)
        COMMAND_SECONDS.labels(name, "accepted").observe(time.perf_counter() - started)
        return JSONResponse(outcome.as_json(), 200)

    async def decide(request: Request, name: str, command: Endpoint) -> CommandOutcome:
        """The command's outcome, or the typed refusal (raised) that says why nothing was written."""
        try:
            context = await command_context(request, verifier, name, command_key)
            correlation_id.set(context.correlation_id)
            current_command.set(context)
            return await command.run(await parse_input(request, command.input))
        except IntegrityError:
            # Another command changed the same aggregate at the same moment: nothing was written.
            raise Conflict("a concurrent change won; retry the command with the same key") from None
        except (OperationalError, InterfaceError, PoolTimeout) as error:
            # The database failed under the command: it may or may not have committed.
            logger.error("database unavailable", extra={"fields": {"command": name, "error": type(error).__name__}})
            raise OutcomeUnknown("the database did not answer: the command may have happened; send it again "
                                 "with the same idempotency key", reason=type(error).__name__) from None

    app = Starlette(
        routes=[Route("/commands/{name}", handle, methods=["POST"]), Route("/queries/{name}", query, methods=["POST"]),
                *health_routes(service, checks)],
        lifespan=lifespan,
    )
    # A document's bytes travel as base64 (a third more), beside the command's few fields.
    uploads = {f"/commands/{command.operation}": max_request_bytes + MAX_BYTES * 4 // 3 for command in uploads_of()}
    app.add_middleware(BodySizeLimit, limit=max_request_bytes, larger=uploads)
    return app
