"""The services' event stores: eventsourcing applications on PostgreSQL, with idempotent commands.

Every command saves, in the same transaction as its domain events, a CommandRecord aggregate
whose id derives from the idempotency key and its caller (user and organisation). A second command
with the same key from the same caller collides on that id, so the same key twice has one effect,
even under races or after a crash; the same key from another caller is another command.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import date
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from shared.commands import Command
from shared.context import CommandContext
from shared.domain import event_context
from shared.envelope import event_id_for
from shared.errors import CommandRefused, IdempotencyKeyReused

A = TypeVar("A", bound=Aggregate)
_KEYS = uuid.UUID("6f1c7f5e-2d0a-4b8e-9a55-0c1b8f3c2e71")


class CommandRecord(Aggregate):
    """The trace of one accepted command: who asked what, and what it answered."""

    @staticmethod
    def create_id(service: str, idempotency_key: str, context: dict, **_: Any) -> uuid.UUID:
        actor = context["actor"]
        return uuid.uuid5(_KEYS, json.dumps([service, actor["user_id"], actor["organisation_id"], idempotency_key]))

    @event("Accepted")
    def __init__(self, service: str, idempotency_key: str, command: str, fingerprint: str, result: dict, context: dict):
        self.service = service
        self.idempotency_key = idempotency_key
        self.command = command
        self.fingerprint = fingerprint
        self.result = result
        self.context = context


@dataclass(frozen=True)
class CommandOutcome:
    result: dict
    event_ids: list[str]
    position: int | None  # last notification id written; None when the key was replayed
    replayed: bool

    def as_json(self) -> dict:
        return {**self.result, "events": self.event_ids, "position": self.position, "replayed": self.replayed}


def fingerprint(command: str, body: dict, key: bytes | None = None) -> str:
    """What tells a command from another sent with the same key. Keyed (HMAC) in the services that keep
    personal data: a bare hash of a registration would let whoever guesses a person's data confirm it."""
    text = json.dumps([command, body], sort_keys=True, default=str).encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest() if key else hashlib.sha256(text).hexdigest()


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ServiceApplication(Application):
    """Base of the services' applications: commands go through `execute`."""

    @staticmethod
    def to_contract(domain_event) -> object | None:
        """The public contract of a stored event, or None when it is not published (set per service)."""
        return None

    def find(self, aggregate_id: uuid.UUID | str, kind: type[A], refusal: CommandRefused) -> A:
        """The aggregate of that kind, or the typed refusal when the id is malformed, unknown or names
        an aggregate of another kind."""
        try:
            aggregate = self.repository.get(aggregate_id if isinstance(aggregate_id, uuid.UUID)
                                            else uuid.UUID(aggregate_id))
        except (AggregateNotFoundError, ValueError):
            aggregate = None
        if not isinstance(aggregate, kind):
            raise refusal
        return aggregate

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def execute(
        self,
        command: Command,
        context: CommandContext,
        decide: Callable[[], tuple[Sequence[Aggregate], dict]],
    ) -> CommandOutcome:
        """Run `decide` (which returns the changed aggregates and the answer) once per idempotency key."""
        key = context.causation_id
        record_id = CommandRecord.create_id(self.name, key, context.as_event_data())
        print_ = fingerprint(command.operation, command.model_dump(mode="json"), self._fingerprint_key())
        if (earlier := self._earlier(record_id, print_)) is not None:
            return earlier
        # Every event the command records reads who, for which organisation and why from here.
        recording = event_context.set(context.as_event_data())
        try:
            aggregates, result = decide()
        finally:
            event_context.reset(recording)
        # The ids of what will be published: what a client may wait to see in the read models.
        event_ids = [str(event_id_for(e.originator_id, e.originator_version))
                     for a in aggregates for e in a.pending_events if self.to_contract(e) is not None]
        record = CommandRecord(self.name, key, command.operation, print_, {**result, "events": event_ids},
                               context.as_event_data())
        try:
            recordings = self.save(*aggregates, record)
        except IntegrityError:
            # A concurrent twin won the race: answer what it answered, or refuse a different command.
            if (earlier := self._earlier(record_id, print_)) is not None:
                return earlier
            raise
        return CommandOutcome(result, event_ids, max(r.notification.id for r in recordings), replayed=False)

    def _fingerprint_key(self) -> bytes | None:
        secret = self.env.get("PERSONAL_DATA_KEY")
        return hashlib.sha256(b"cqp command fingerprints" + secret.encode()).digest() if secret else None

    def _earlier(self, record_id: uuid.UUID, print_: str) -> CommandOutcome | None:
        try:
            record: CommandRecord = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        if record.fingerprint != print_:
            raise IdempotencyKeyReused(
                "this idempotency key was already used for another command",
                command=record.command,
            )
        result = dict(record.result)
        event_ids = result.pop("events")
        return CommandOutcome(result, event_ids, None, replayed=True)
