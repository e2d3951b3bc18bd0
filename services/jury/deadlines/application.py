"""The deadline changes of the jury's application: made by the engine and the clock, never by a caller, so no
role is checked and no command record is kept. Each is saved alone: a deadline's id is its kind's and subject's,
and each transition happens once (domain.py), so an event delivered again, a firing repeated after a crash, or a
second writer winning the race (the save's conflict: decided again on what it saved) changes nothing twice. The
events are recorded as the context given (`acting`: the engine's or the clock's, with the cause)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from shared.commands.jury import FireDeadline, OpenDeadline, SettleDeadline

from services.jury.deadlines.domain import Deadline

NONE = {"id": None, "state": None, "next_firing": None}


class DeadlineDecisions:
    def deadline(self, deadline_id: uuid.UUID | str) -> Deadline | None:
        try:
            found = self.repository.get(deadline_id if isinstance(deadline_id, uuid.UUID) else uuid.UUID(deadline_id))
        except (AggregateNotFoundError, ValueError):
            return None
        return found if isinstance(found, Deadline) else None

    def _saved(self, deadline: Deadline, again: Callable[[], dict]) -> dict:
        try:
            self.save(deadline)
        except IntegrityError:
            return again()  # another writer saved it first: decided again on what it saved
        return answer(deadline)

    def open_deadline(self, command: OpenDeadline) -> dict:
        """Opened once per kind and subject: an event opening it again changes nothing."""
        existing = self.deadline(Deadline.create_id(command.kind, command.subject))
        if existing is not None:
            return answer(existing)
        return self._saved(Deadline(**command.model_dump()), lambda: self.open_deadline(command))

    def settle_deadline(self, command: SettleDeadline) -> dict:
        """Met or cancelled; a deadline never opened (it began before the engine ran) or settled already: nothing."""
        deadline = self.deadline(command.deadline_id)
        if deadline is None:
            return NONE
        changed = (deadline.meet(command.on, command.cause) if command.outcome == "met"
                   else deadline.cancel(command.on, command.cause, command.reason))
        return self._saved(deadline, lambda: self.settle_deadline(command)) if changed else answer(deadline)

    def fire_deadlines(self, commands: list[FireDeadline]) -> list[dict]:
        """What the clock says of each today, the changed ones saved together (one by one after a conflict)."""
        deadlines = [self.deadline(c.deadline_id) for c in commands]
        changed = [d for d, c in zip(deadlines, commands) if d is not None and d.fire(c.today)]
        if changed:
            try:
                self.save(*changed)
            except IntegrityError:
                return [self.fire_deadlines([c])[0] for c in commands]
        return [answer(d) if d is not None else NONE for d in deadlines]


def answer(deadline: Deadline) -> dict:
    following = deadline.next_firing()
    return {"id": str(deadline.id), "state": str(deadline.state),
            "next_firing": following.isoformat() if following else None}
