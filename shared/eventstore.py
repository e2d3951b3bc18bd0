"""The services' event stores: eventsourcing applications on PostgreSQL, with idempotent commands.

Every command saves, in the same transaction as its domain events, a CommandRecord aggregate
whose id derives from the idempotency key and its caller (user and organisation). A second command
with the same key from the same caller collides on that id, so the same key twice has one effect,
even under races or after a crash; the same key from another caller is another command.

Commands arriving together are saved together (group commit, shared/committer.py): decided one after
the other, each on the state the earlier ones leave, then stored in one transaction, each with its
command record. A command refused in its decision is left out alone; when the transaction conflicts
with another process, each command of the batch runs again alone, so only the one concerned fails.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
from datetime import date
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from shared.commands import Command
from shared.committer import BatchRepository, Combiner, Ticket, pending_events
from shared.context import CommandContext, current_command
from shared.envelope import event_id_for
from shared.errors import CommandRefused, IdempotencyKeyReused
from shared.health import COMMANDS_PER_SAVE

A = TypeVar("A", bound=Aggregate)
# What a decision returns: the aggregates it changed, and the command's answer.
Changes = tuple[Sequence[Aggregate], dict]
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


def decision(method: Callable[..., Changes]) -> Callable[..., CommandOutcome]:
    """An application method deciding a command on its facts: it gets the aggregate, authorizes on it, calls
    it and returns (the aggregates changed, the answer). Called, it runs once per idempotency key (`execute`)."""

    @functools.wraps(method)
    def run(self: ServiceApplication, command: Command, *facts: Any) -> CommandOutcome:
        return self.execute(command, lambda: method(self, command, *facts))

    return run


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

    def construct_repository(self) -> Repository:
        # The library's repository, made to read through the pending events of the batch being decided.
        repository = super().construct_repository()
        repository.__class__ = BatchRepository
        return repository

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._committer: Combiner[_Command] = Combiner(
            self._commit, most=int(self.env.get("GROUP_COMMIT_MAX_COMMANDS") or 100))

    def execute(self, command: Command, decide: Callable[[], Changes]) -> CommandOutcome:
        """Run `decide` (which returns the changed aggregates and the answer) once per idempotency key, as
        the command at hand (shared.context.current_command).

        Commands arriving together are decided one after the other and saved in one transaction (group
        commit, shared/committer.py); each answer is its command's own, as if it had run alone."""
        try:
            context = current_command.get()
        except LookupError:
            raise RuntimeError(f"{command.operation}: a command decided outside a command context") from None
        key = context.causation_id
        record_id = CommandRecord.create_id(self.name, key, context.as_event_data())
        print_ = fingerprint(command.operation, command.model_dump(mode="json"), self._fingerprint_key())
        if (earlier := self._earlier(record_id, print_)) is not None:
            return earlier
        return self._committer.submit(_Command(record_id, print_, command.operation, context, decide))

    def _commit(self, batch: list[Ticket[_Command]]) -> None:
        """Decide the batch's commands in turn, each on the state the earlier ones leave, and save those
        accepted in one transaction. A command refused (or failing) in `decide` concerns only itself."""
        pending: dict[uuid.UUID, list] = {}  # the accepted commands' events, by aggregate id
        accepted: dict[uuid.UUID, _Decided] = {}  # by command record id
        settled: list[tuple[Ticket[_Command], _Decided | _Twin | BaseException]] = []
        for ticket in batch:
            command = ticket.item
            if (first := accepted.get(command.record_id)) is not None:
                # The same key twice in one batch: one effect, the same answer (or the key's reuse refused).
                settled.append((ticket, _Twin(first) if first.command.fingerprint == command.fingerprint
                                else _reused(first.command.operation)))
                continue
            try:
                decided = ticket.context.run(self._decide, command, pending)
            except Exception as refusal:  # noqa: BLE001 (whatever stops a decision is its command's own)
                settled.append((ticket, refusal))
                continue
            for domain_event in decided.events:
                pending.setdefault(domain_event.originator_id, []).append(domain_event)
            accepted[command.record_id] = decided
            settled.append((ticket, decided))
        decisions = list(accepted.values())
        try:
            self._save(decisions)
        except IntegrityError:
            # Another process wrote one of the batch's aggregates, or a twin of one of its commands. Every
            # command runs again alone, in order, on fresh state: only the conflicting one gets the Conflict
            # or its twin's answer, and no decision resting on a batch-mate's unsaved change is saved.
            for ticket in batch:
                try:
                    ticket.succeed(ticket.context.run(self._alone, ticket.item))
                except Exception as error:  # noqa: BLE001 (its own refusal, conflict or failure)
                    ticket.fail(error)
            return
        for ticket, outcome in settled:
            if isinstance(outcome, BaseException):
                ticket.fail(outcome)
            elif isinstance(outcome, _Twin):
                ticket.succeed(outcome.first.replay())
            else:
                ticket.succeed(outcome.outcome())

    def _alone(self, command: _Command) -> CommandOutcome:
        """One command decided and saved in its own transaction."""
        if (earlier := self._earlier(command.record_id, command.fingerprint)) is not None:
            return earlier
        decided = self._decide(command, None)
        try:
            self._save([decided])
        except IntegrityError:
            # A concurrent twin won the race: answer what it answered, or refuse a different command.
            if (earlier := self._earlier(command.record_id, command.fingerprint)) is not None:
                return earlier
            raise
        return decided.outcome()

    def _decide(self, command: _Command, pending: dict[uuid.UUID, list] | None) -> _Decided:
        """The command's events (its command record last) and answer; run in the command's own context."""
        # Every event the command records reads who, for which organisation and why from here; the role
        # becomes the one that authorized on the record (shared/policy.py), recorded on the command's record too.
        acting = current_command.set(command.context)
        reading = pending_events.set(pending)
        try:
            aggregates, result = command.decide()
            recorded = current_command.get().as_event_data()
        finally:
            pending_events.reset(reading)
            current_command.reset(acting)
        events = [e for a in aggregates for e in a.collect_events()]
        # The ids of what will be published: what a client may wait to see in the read models.
        event_ids = [str(event_id_for(e.originator_id, e.originator_version))
                     for e in events if self.to_contract(e) is not None]
        record = CommandRecord(self.name, command.context.causation_id, command.operation, command.fingerprint,
                               {**result, "events": event_ids}, recorded)
        return _Decided(command, [*events, *record.collect_events()], result, event_ids)

    def _save(self, decisions: list[_Decided]) -> None:
        """One transaction for every decision; each learns the position of its last event."""
        if not decisions:
            return
        recordings = self.save(*(e for d in decisions for e in d.events))
        start = 0
        for decided in decisions:
            # Recordings come in the order of the events given.
            decided.position = max(r.notification.id for r in recordings[start:start + len(decided.events)])
            start += len(decided.events)
        COMMANDS_PER_SAVE.observe(len(decisions))

    def _fingerprint_key(self) -> bytes | None:
        secret = self.env.get("PERSONAL_DATA_KEY")
        return hashlib.sha256(b"cqp command fingerprints" + secret.encode()).digest() if secret else None

    def _earlier(self, record_id: uuid.UUID, print_: str) -> CommandOutcome | None:
        try:
            record: CommandRecord = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        if record.fingerprint != print_:
            raise _reused(record.command)
        result = dict(record.result)
        event_ids = result.pop("events")
        return CommandOutcome(result, event_ids, None, replayed=True)


@dataclass(frozen=True)
class _Command:
    """A command as it waits for its batch."""

    record_id: uuid.UUID
    fingerprint: str
    operation: str
    context: CommandContext
    decide: Callable[[], Changes]


@dataclass
class _Decided:
    command: _Command
    events: list  # the command's domain events, then its command record's
    result: dict
    event_ids: list[str]
    position: int | None = None  # known once saved

    def outcome(self) -> CommandOutcome:
        return CommandOutcome(self.result, self.event_ids, self.position, replayed=False)

    def replay(self) -> CommandOutcome:
        """What a twin of the command (the same key, the same command) answers."""
        return CommandOutcome(self.result, self.event_ids, None, replayed=True)


@dataclass(frozen=True)
class _Twin:
    first: _Decided


def _reused(command: str) -> IdempotencyKeyReused:
    return IdempotencyKeyReused("this idempotency key was already used for another command", command=command)
