"""The base of the services' aggregates: every event records who caused it without the domain
passing it around (as in the eventsourcing library's contentmanagement example).

The command's context (actor: user, organisation, role; correlation and causation ids) is set in a
context variable by `ServiceApplication.execute` for the time of the command; each event reads it
when it is created and stores it. Events replayed from the store keep the context they were stored
with. Pure standard library and eventsourcing.domain: domain modules import it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import field

from eventsourcing.domain import Aggregate as _Aggregate

event_context: ContextVar[dict] = ContextVar("event_context")


def _current_context() -> dict:
    try:
        return dict(event_context.get())  # a copy: the context's actor may be set once more (`record_role`)
    except LookupError:
        raise RuntimeError("an event was recorded outside a command: no actor to record") from None


def record_role(role: str) -> None:
    """The role recorded on what the command at hand records from now on: the one that authorized it on the
    record (shared/policy.py), not merely one the caller holds. Outside a command, nothing."""
    recorded = event_context.get(None)
    if recorded is not None:
        recorded["actor"] = {**recorded["actor"], "role": role}


class Aggregate(_Aggregate):
    class Event(_Aggregate.Event):
        context: dict = field(default_factory=_current_context, init=False)

    class Created(Event, _Aggregate.Created):
        pass
