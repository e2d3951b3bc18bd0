"""A deadline: a date the process must meet, opened by an event, then DUE from its reminder date, MET by the event
that fulfils it, MISSED once its date has passed, or CANCELLED when what opened it is undone.

Its id is made from its kind and subject, so the same event delivered twice, replayed, or a second event opening
the same deadline, finds it open already. Each transition happens once: a firing or a meeting that comes again
changes nothing (a timer fired twice after a crash, a redelivered event). Each transition carries what the deadline
is about (`about`), so its public event is read from it alone."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from eventsourcing.domain import event

from shared.domain import Aggregate
from shared.vocabulary import DeadlineState

_NAMESPACE = uuid.UUID("0b6f3e1c-7d2a-4f5e-9c18-2a7b9d4e6f30")


class Deadline(Aggregate):
    @staticmethod
    def create_id(kind: str, subject: str, **_) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{kind}/{subject}")

    @event("Opened")
    def __init__(self, kind: str, subject: str, branch: str | None, certification: str | None,
                 candidacy_id: str | None, session_id: str | None, responsible_organisation: str | None,
                 responsible_role: str, cause: str, opened_on: date, due_on: date, remind_on: date,
                 effect: str | None = None) -> None:
        self.about = dict(kind=kind, subject=subject, branch=branch, certification=certification,
                          candidacy_id=candidacy_id, session_id=session_id,
                          responsible_organisation=responsible_organisation, responsible_role=responsible_role)
        self.cause, self.opened_on, self.due_on, self.remind_on = cause, opened_on, due_on, min(remind_on, due_on)
        self.effect = effect
        self.state = DeadlineState.OPEN
        self.closed_on: date | None = None

    @property
    def settled(self) -> bool:
        return self.state in (DeadlineState.MET, DeadlineState.CANCELLED)

    def next_firing(self) -> date | None:
        """When its timer next fires: its reminder date while open, the day after its date while due."""
        if self.state == DeadlineState.OPEN:
            return self.remind_on
        if self.state == DeadlineState.DUE:
            return self.due_on + timedelta(days=1)
        return None

    def fire(self, today: date) -> bool:
        """What the clock says of it today: due from its reminder date, missed once its date has passed.
        False when nothing changed (fired again, or already settled)."""
        changed = False
        if self.state == DeadlineState.OPEN and today >= self.remind_on:
            self._due(on=self.remind_on, about=self.about, due_on=self.due_on)  # due from then, even if fired late
            changed = True
        if self.state == DeadlineState.DUE and today > self.due_on:
            self._missed(on=self.due_on + timedelta(days=1), about=self.about, due_on=self.due_on, effect=self.effect)
            changed = True
        return changed

    @event("Due")
    def _due(self, on: date, about: dict, due_on: date) -> None:
        self.state = DeadlineState.DUE

    @event("Missed")
    def _missed(self, on: date, about: dict, due_on: date, effect: str | None) -> None:
        self.state = DeadlineState.MISSED

    def meet(self, on: date, cause: str) -> bool:
        """Met by the event `cause`; after its date: met late (recorded as missed first, if the clock had not
        said so yet)."""
        if self.settled:
            return False
        if self.state != DeadlineState.MISSED and on > self.due_on:
            self._missed(on=self.due_on + timedelta(days=1), about=self.about, due_on=self.due_on, effect=self.effect)
        self._met(on=on, cause=cause, late=self.state == DeadlineState.MISSED, about=self.about, due_on=self.due_on)
        return True

    @event("Met")
    def _met(self, on: date, cause: str, late: bool, about: dict, due_on: date) -> None:
        self.state = DeadlineState.MET
        self.closed_on = on

    def cancel(self, on: date, cause: str, reason: str) -> bool:
        if self.settled:
            return False
        self._cancelled(on=on, cause=cause, reason=reason, about=self.about)
        return True

    @event("Cancelled")
    def _cancelled(self, on: date, cause: str, reason: str, about: dict) -> None:
        self.state = DeadlineState.CANCELLED
        self.closed_on = on
