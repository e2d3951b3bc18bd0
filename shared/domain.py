"""The base of the services' aggregates: every event records who caused it without the domain
passing it around (as in the eventsourcing library's contentmanagement example).

The command's context (actor: user, organisation, role; correlation and causation ids) is the one
carrier of who acts: `shared.context.current_command`, set by the command endpoint (or `acting`) for the
time of the command; each event reads it when it is created and stores it. Events replayed from the
store keep the context they were stored with.
"""

from __future__ import annotations

from dataclasses import field

from eventsourcing.domain import Aggregate as _Aggregate

from shared.context import current_command


def _current_context() -> dict:
    try:
        return current_command.get().as_event_data()
    except LookupError:
        raise RuntimeError("an event was recorded outside a command: no actor to record") from None


def record_role(role: str) -> None:
    """The role recorded on what the command at hand records from now on: the one that authorized it on the
    record (shared/policy.py), not merely one the caller holds. Outside a command, nothing."""
    command = current_command.get(None)
    if command is not None and command.actor.role != role:
        current_command.set(command.model_copy(update={"actor": command.actor.model_copy(update={"role": role})}))


class Aggregate(_Aggregate):
    class Event(_Aggregate.Event):
        context: dict = field(default_factory=_current_context, init=False)

    class Created(Event, _Aggregate.Created):
        pass
