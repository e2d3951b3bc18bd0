"""The deadline commands of the jury's application: run by the engine and the clock, never by a caller, so no
role is checked (as `issue-certificate-document`); each is keyed by the event or the day that causes it."""

from __future__ import annotations

import uuid

from eventsourcing.application import AggregateNotFoundError

from shared.commands.jury import FireDeadline, OpenDeadline, SettleDeadline
from shared.eventstore import Changes, decision

from services.jury.deadlines.domain import Deadline


class DeadlineDecisions:
    def deadline(self, deadline_id: uuid.UUID | str) -> Deadline | None:
        try:
            found = self.repository.get(deadline_id if isinstance(deadline_id, uuid.UUID) else uuid.UUID(deadline_id))
        except (AggregateNotFoundError, ValueError):
            return None
        return found if isinstance(found, Deadline) else None

    @decision
    def open_deadline(self, command: OpenDeadline) -> Changes:
        """Opened once per kind and subject: an event opening it again changes nothing."""
        facts = command.model_dump()
        existing = self.deadline(Deadline.create_id(command.kind, command.subject))
        if existing is not None:
            return [], answer(existing)
        deadline = Deadline(**facts)
        return [deadline], answer(deadline)

    @decision
    def settle_deadline(self, command: SettleDeadline) -> Changes:
        """Met or cancelled; a deadline never opened (it began before the engine ran) or settled already: nothing."""
        deadline = self.deadline(command.deadline_id)
        if deadline is None:
            return [], {"id": command.deadline_id, "state": None, "next_firing": None}
        changed = (deadline.meet(command.on, command.cause) if command.outcome == "met"
                   else deadline.cancel(command.on, command.cause, command.reason))
        return ([deadline] if changed else []), answer(deadline)

    @decision
    def fire_deadline(self, command: FireDeadline) -> Changes:
        deadline = self.deadline(command.deadline_id)
        if deadline is None:
            return [], {"id": command.deadline_id, "state": None, "next_firing": None}
        return ([deadline] if deadline.fire(command.today) else []), answer(deadline)


def answer(deadline: Deadline) -> dict:
    following = deadline.next_firing()
    return {"id": str(deadline.id), "state": str(deadline.state),
            "next_firing": following.isoformat() if following else None}
