"""The deadline engine's events (services/jury/deadlines), published on cqp.jury.events with the jury's own.

A deadline is opened by an event of another service (its `cause`), becomes DUE on its reminder date,
is MET by the event that fulfils it, MISSED when its date passes first, or CANCELLED when what opened it
is undone. Every event names who must meet it (`responsible_organisation`, `responsible_role`) and the
records it is about, so a read model scopes it like those records. The notifier records each message it
sent (NotificationSent). Dates, not instants: a legal delay
runs in days (Europe/Paris); a deadline is missed once its `due_on` has passed.
"""

from __future__ import annotations

from datetime import date, datetime

from shared.envelope import Contract
from shared.vocabulary import DeadlineKind, UnansweredAdmissibility


class _Deadline(Contract):
    deadline_id: str
    kind: DeadlineKind
    branch: str | None  # None only for an accreditation of no single branch
    certification: str | None
    candidacy_id: str | None
    session_id: str | None
    subject: str  # the record it is about: a certificate number, a candidacy, a session, a code, an accreditation
    responsible_organisation: str | None  # the catalog id of the organisation that must meet it
    responsible_role: str  # a role of the role table (certifier, branch-admin, jury-secretary…)


class DeadlineOpened(_Deadline):
    cause: str  # the event id that opened it
    opened_on: date
    due_on: date
    remind_on: date  # becomes DUE on this date (≤ due_on)
    # For ADMISSIBILITY_ANSWER: what the branch configured to happen when it is missed.
    effect: UnansweredAdmissibility | None = None


class DeadlineDue(_Deadline):
    due_on: date
    on: date


class DeadlineMet(_Deadline):
    due_on: date
    on: date
    cause: str  # the event id that met it
    late: bool  # met after it was missed


class DeadlineMissed(_Deadline):
    due_on: date
    on: date
    effect: UnansweredAdmissibility | None = None


class DeadlineCancelled(_Deadline):
    on: date
    cause: str
    reason: str


class NotificationSent(Contract):
    """A message reached the SMTP relay (recorded once per key, after the relay accepted it). Never its content
    nor its address: the template, the recipient's role and the records it was about."""

    notification_id: str  # uuid5 of the mail key (cause, recipient, template)
    cause: str  # the event or deadline id that caused it
    template: str
    recipient_role: str  # candidate, jury-member, certifier, branch-admin, evaluation-centre…
    recipient_id: str  # a person's id (candidate id, member id, user id), never an address
    organisation: str | None  # whose message it is (its scope)
    branch: str | None
    candidacy_id: str | None
    session_id: str | None
    deadline_id: str | None
    legally_required: bool  # an unsubscribe does not stop it
    sent_at: datetime


CONTRACTS = (DeadlineOpened, DeadlineDue, DeadlineMet, DeadlineMissed, DeadlineCancelled, NotificationSent)
