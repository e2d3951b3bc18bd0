"""The services' HTTP command endpoint: POST /commands/<name>.

Every command carries an Idempotency-Key header and the actor (X-Actor-User, X-Actor-Organisation,
X-Actor-Role). The answer is the command's result with the ids and position of the events it
wrote, or a typed error as JSON; a refused command writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError
import anyio
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.context import Actor, CommandContext, correlation_id
from shared.errors import CommandRefused, Conflict, InvalidInput, MissingIdempotencyKey, Unauthenticated
from shared.eventstore import CommandOutcome
from shared.logs import log

logger = logging.getLogger("commands")

ACTOR_HEADERS = {"user_id": "x-actor-user", "organisation_id": "x-actor-organisation", "role": "x-actor-role"}


class CommandInput(BaseModel):
    """Base of command inputs: unknown fields are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass(frozen=True)
class Command:
    input: type[BaseModel]
    run: Callable[[BaseModel, CommandContext], Awaitable[CommandOutcome]]
    roles: frozenset[str] = frozenset()  # the actor roles allowed; empty: any


class Forbidden(CommandRefused):
    status = 403


def threaded(model: type[BaseModel], method: Callable[[dict, CommandContext], CommandOutcome],
             to_dict: Callable[[BaseModel], dict] = lambda body: body.model_dump()) -> Command:
    """A command whose application method (synchronous, as the event store is) runs in a worker thread."""

    async def run(body: BaseModel, context: CommandContext) -> CommandOutcome:
        return await anyio.to_thread.run_sync(method, to_dict(body), context)

    return Command(model, run)


def command_context(request: Request) -> CommandContext:
    key = request.headers.get("idempotency-key", "").strip()
    if not key:
        raise MissingIdempotencyKey("the Idempotency-Key header is required")
    if len(key) > 200:
        raise InvalidInput("the Idempotency-Key header is longer than 200 characters")
    try:
        actor = Actor(**{field: request.headers.get(header, "") for field, header in ACTOR_HEADERS.items()})
    except ValidationError:
        raise Unauthenticated("the actor headers are required: " + ", ".join(ACTOR_HEADERS.values())) from None
    return CommandContext.new(actor, key, request.headers.get("x-correlation-id"))


async def parse_input(request: Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in error.errors(include_url=False)
        ]
        raise InvalidInput("the command's input is malformed", problems=problems) from None


def command_app(
    service: str,
    commands: dict[str, Command],
    lifespan: Callable[[Starlette], AbstractAsyncContextManager] | None = None,
    on_written: Callable[[], None] = lambda: None,
) -> Starlette:
    async def handle(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        command = commands.get(name)
        if command is None:
            return JSONResponse({"error": {"type": "UnknownCommand", "message": f"no command {name!r}"}}, 404)
        try:
            context = command_context(request)
            correlation_id.set(context.correlation_id)
            if command.roles and context.actor.role not in command.roles:
                raise Forbidden(f"the role {context.actor.role!r} may not {name}", allowed=sorted(command.roles))
            body = await parse_input(request, command.input)
            outcome = await command.run(body, context)
        except CommandRefused as refusal:
            log(logger, "command refused", command=name, error=refusal.type, reason=refusal.message)
            return JSONResponse(refusal.as_json(), refusal.status)
        except IntegrityError:
            # Another command changed the same aggregate at the same moment: nothing was written.
            refusal = Conflict("a concurrent change won; retry the command with the same key")
            return JSONResponse(refusal.as_json(), refusal.status)
        if not outcome.replayed:
            on_written()
        log(logger, "command accepted", command=name, position=outcome.position, replayed=outcome.replayed)
        return JSONResponse(outcome.as_json(), 200)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"service": service, "status": "ok"})

    return Starlette(
        routes=[Route("/commands/{name}", handle, methods=["POST"]), Route("/health", health)],
        lifespan=lifespan,
    )
