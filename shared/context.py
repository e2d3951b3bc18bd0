"""Who does a thing, for which organisation, and why: carried by every command and event."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")
# The verified caller of the command at hand (shared.identity.Caller), set by the command endpoint and
# read where the command is decided (shared.policy.authorize); worker threads inherit it.
current_caller: contextvars.ContextVar = contextvars.ContextVar("current_caller", default=None)


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1)
    organisation_id: str = Field(min_length=1)
    role: str = Field(min_length=1)


class CommandContext(BaseModel):
    """Stored on every domain event a command causes."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    correlation_id: str
    causation_id: str  # the keyed digest of the command's idempotency key (shared/http.py), never the key
    # The command's trace (W3C traceparent), when tracing is on: the relay and the consumers continue it.
    trace_parent: str | None = None

    @classmethod
    def new(cls, actor: Actor, idempotency_key: str, correlation: str | None = None,
            trace_parent: str | None = None) -> CommandContext:
        return cls(
            actor=actor,
            correlation_id=correlation or str(uuid.uuid4()),
            causation_id=idempotency_key,
            trace_parent=trace_parent,
        )

    def as_event_data(self) -> dict:
        return self.model_dump()


# The command at hand: who, for which organisation, why. Set by the command endpoint (shared/http.py) or by a
# consumer deciding a command of its own on an event (`acting`); `ServiceApplication.execute` reads it.
current_command: contextvars.ContextVar[CommandContext] = contextvars.ContextVar("current_command")


@contextlib.contextmanager
def acting(context: CommandContext) -> Iterator[CommandContext]:
    """The commands decided inside run under `context`."""
    token = current_command.set(context)
    try:
        yield context
    finally:
        current_command.reset(token)
