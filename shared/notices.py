"""A message the SMTP server took, recorded by the service that sent it (shared/mail.py's `on_sent`): a `Notice`
aggregate per mail key, whose `NotificationSent` (shared/contracts/deadlines.py) names the template, the recipient's
role and id and the records it was about, never its content nor an address. Recorded once per key: the sender
tells it again after a crash between the server taking the message and marking it sent."""

from __future__ import annotations

import datetime as dt
import uuid

import anyio
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError
from pydantic import Field

from shared import mail
from shared.commands import Command
from shared.context import Actor, CommandContext, acting
from shared.contracts.deadlines import NotificationSent
from shared.domain import Aggregate

_NAMESPACE = uuid.UUID("3d0c2a8e-91f4-4b6a-8c5e-7a1f0e9d2b64")


class Notice(Aggregate):
    @staticmethod
    def create_id(key: str, **_) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, key)

    @event("Sent")
    def __init__(self, key: str, cause: str, template: str, recipient_role: str, recipient_id: str,
                 organisation: str, branch: str | None, candidacy_id: str | None, session_id: str | None,
                 deadline_id: str | None, legally_required: bool, sent_at: dt.datetime) -> None:
        self.key = key


class RecordNotice(Command):
    """Not an endpoint: a service's mail sender runs it for each message the SMTP server took, keyed by the
    message's key."""

    operation = "record-notice"
    graphql_name = None

    key: str = Field(min_length=5, max_length=300)
    organisation: str = Field(min_length=1, max_length=64)
    about: dict


class NoticeDecisions:
    """`record_notice`, of the applications that send mail: saved alone, with no command record (no caller asks
    for it); its id is its key's, so a second recording finds it, or loses the race to the first, and changes
    nothing."""

    def record_notice(self, command: RecordNotice) -> None:
        if Notice.create_id(command.key) in self.repository:
            return
        key, about = mail.Key.parse(command.key), command.about
        notice = Notice(key=command.key, cause=key.cause, template=key.template, recipient_id=key.recipient,
                        organisation=command.organisation, recipient_role=about.get("recipient_role", "candidate"),
                        branch=about.get("branch"), candidacy_id=about.get("candidacy_id"),
                        session_id=about.get("session_id"), deadline_id=about.get("deadline_id"),
                        legally_required=bool(about.get("legally_required")), sent_at=dt.datetime.now(dt.UTC))
        try:
            self.save(notice)
        except IntegrityError:
            pass  # recorded meanwhile by another sender


def sent(e: Notice.Sent) -> NotificationSent:
    """Its public event."""
    return NotificationSent(notification_id=str(e.originator_id), cause=e.cause, template=e.template,
                            recipient_role=e.recipient_role, recipient_id=e.recipient_id, organisation=e.organisation,
                            branch=e.branch, candidacy_id=e.candidacy_id, session_id=e.session_id,
                            deadline_id=getattr(e, "deadline_id", None), legally_required=e.legally_required,
                            sent_at=e.sent_at)


def recorder(app, actor: Actor):
    """The sender's `on_sent` of this application: the message recorded once, as `actor`, its cause the event or
    deadline that caused it."""
    async def record(key: mail.Key, organisation: str, about: dict | None) -> None:
        context = CommandContext(actor=actor, correlation_id=key.cause, causation_id=key.cause)
        with acting(context):
            await anyio.to_thread.run_sync(app.record_notice,
                                           RecordNotice(key=str(key), organisation=organisation, about=about or {}))
    return record
