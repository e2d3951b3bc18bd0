"""Group commit (shared/committer.py) on the library's in-memory store: commands sent together are saved
in one transaction, and each keeps the answer, the refusal, the idempotency and the context it would
have had alone.

A batch is made deterministic by holding the first command's save until the others have queued behind
it: they then form the next batch."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from datetime import date

import pytest
from eventsourcing.persistence import IntegrityError

from services.catalog.application import CatalogApplication
from services.catalog.domain import Branch, BranchAlreadyExists, Certification
from shared.commands.catalog import CreateBranch
from shared.context import Actor, CommandContext, acting, current_caller
from shared.envelope import event_id_for
from shared.errors import Forbidden, IdempotencyKeyReused
from shared.eventstore import CommandRecord, fingerprint
from shared.identity import Caller
from tests.unit.as_client import AsClient


def context(key: str, user: str = "u1") -> CommandContext:
    return CommandContext.new(Actor(user_id=user, organisation_id="UIMM", role="branch-admin"), key)


def executed(app, command, context: CommandContext, decide):
    """A decision of the test's own, run as `context`."""
    with acting(context):
        return app.execute(command, decide)


def branch(code: str) -> dict:
    return {"code": code, "name": f"Branch {code}", "idcc": [], "cpne": ""}


def version(code: str = "RNCP34174", block: str = "BC01") -> dict:
    return {"code": code, "blocks": [{"code": f"{code}{block}", "title": block}], "effective_from": date(2024, 1, 1)}


class Saves:
    """Counts the event store's transactions (recorder.insert_events) and holds the first one until
    `queued` commands wait behind it. `before_insert(events)` runs before each, as another process would."""

    def __init__(self, app, queued: int, before_insert: Callable[[list], None] = lambda events: None):
        self.app = app
        self.queued = queued
        self.sizes: list[int] = []
        self.entered = threading.Event()
        self._insert = app.recorder.insert_events
        self._before = before_insert
        self.outside = threading.local()
        app.recorder.insert_events = self.insert_events

    def insert_events(self, stored_events, **kwargs):
        if getattr(self.outside, "writing", False):  # another process's write, simulated
            return self._insert(stored_events, **kwargs)
        self.sizes.append(len(stored_events))
        if len(self.sizes) == 1:
            self.entered.set()
            deadline = time.monotonic() + 5
            while self.app._committer.queued < self.queued and time.monotonic() < deadline:
                time.sleep(0.001)
        self.outside.writing = True
        try:
            self._before(stored_events)
        finally:
            self.outside.writing = False
        return self._insert(stored_events, **kwargs)


def together(saves: Saves, first: Callable[[], object], rest: list[Callable[[], object]]) -> list:
    """Run `first`, then, while its save is held, `rest` from as many threads, queued in their order:
    their outcomes (or errors), `first`'s first."""
    results: list = [None] * (1 + len(rest))

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            results[i] = call()
        except Exception as error:  # noqa: BLE001 (the test looks at it)
            results[i] = error

    def start(i: int, call) -> threading.Thread:
        # Each thread in a copy of the test's context (its caller), as anyio's worker threads are.
        thread = threading.Thread(target=contextvars.copy_context().run, args=(run, i, call))
        thread.start()
        return thread

    threads = [start(0, first)]
    assert saves.entered.wait(5)
    for i, call in enumerate(rest):
        # One after the other, so that the batch's order is the list's.
        threads.append(start(i + 1, call))
        deadline = time.monotonic() + 2
        while saves.app._committer.queued <= i and threads[-1].is_alive() and time.monotonic() < deadline:
            time.sleep(0.001)
    for thread in threads:
        thread.join(10)
    return results


@pytest.fixture
def app():
    app = AsClient(CatalogApplication())
    app.create_branch(branch("UIMM"), context("setup-branch"))
    app.create_certification({"code": "RNCP34174", "kind": "CQPM", "title": "CQPM", "owners": ["UIMM"]},
                             context("setup-certification"))
    return app


def stored(app, notification_id: int):
    (notification,) = app.recorder.select_notifications(notification_id, 1)
    return app.mapper.to_domain_event(notification)


def records(app) -> list[CommandRecord]:
    return [e for n in app.recorder.select_notifications(1, 10_000)
            if isinstance(e := app.mapper.to_domain_event(n), CommandRecord.Event)]


def test_commands_sent_together_are_saved_in_one_transaction_each_with_its_own_answer(app):
    codes = [f"B{n:02}" for n in range(30)]
    saves = Saves(app, queued=len(codes))
    outcomes = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")),
                        [lambda c=c: app.create_branch(branch(c), context(f"k-{c}", user=f"user-{c}")) for c in codes])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert saves.sizes == [2, 2 * len(codes)]  # the first alone, then the others in one transaction
    for code, outcome in zip(codes, outcomes[1:]):
        assert outcome.result == {"id": str(Branch.create_id(code)), "code": code}
        assert outcome.event_ids == [str(event_id_for(Branch.create_id(code), 1))]
        assert not outcome.replayed
        # Its position is its own command record's, the last event it wrote.
        record = stored(app, outcome.position)
        assert isinstance(record, CommandRecord.Event) and record.idempotency_key == f"k-{code}"
        created = app.repository.get(Branch.create_id(code))
        assert created.name == f"Branch {code}"
        # Every event keeps the context of its own command.
        (event,) = app.events.get(Branch.create_id(code))
        assert event.context["causation_id"] == f"k-{code}"
        assert event.context["actor"]["user_id"] == f"user-{code}"
    assert len({o.position for o in outcomes}) == len(outcomes)


def test_a_lone_command_is_saved_at_once_in_its_own_transaction(app):
    saves = Saves(app, queued=0)
    outcome = app.create_branch(branch("LEEM"), context("lone"))
    assert saves.sizes == [2]
    assert outcome.position == app.recorder.max_notification_id()


def test_a_refused_command_leaves_the_others_of_its_batch_saved_and_writes_nothing(app):
    saves = Saves(app, queued=3)
    _, second, taken, third = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: app.create_branch(branch("AA"), context("a")),
        lambda: app.create_branch(branch("UIMM"), context("taken")),  # exists: refused
        lambda: app.create_branch(branch("BB"), context("b")),
    ])
    assert isinstance(taken, BranchAlreadyExists)
    assert saves.sizes == [2, 4]
    assert "taken" not in [r.idempotency_key for r in records(app)]
    assert {app.repository.get(Branch.create_id(c)).code for c in ("AA", "BB")} == {"AA", "BB"}
    assert second.position < third.position == app.recorder.max_notification_id()


def test_a_command_that_fails_after_changing_an_aggregate_leaves_no_trace_for_the_next_of_its_batch(app):
    certification_id = Certification.create_id("RNCP34174")

    def half_done():
        certification = app.repository.get(certification_id)
        certification.publish_version([{"code": "X", "title": "X", "competences": None, "modalities": None}],
                                      {}, date(2024, 1, 1))
        raise BranchAlreadyExists("refused after a change", code="X")

    saves = Saves(app, queued=2)
    _, failed, published = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: executed(app, CreateBranch(**branch("ZZ")), context("half"), half_done),
        lambda: app.publish_version(version(block="BC09"), context("v")),
    ])
    assert isinstance(failed, BranchAlreadyExists)
    assert published.result["version"] == 1
    assert [v["blocks"][0]["code"] for v in app.repository.get(certification_id).versions] == ["RNCP34174BC09"]


def test_two_commands_of_a_batch_on_one_aggregate_are_both_applied_in_order(app):
    saves = Saves(app, queued=3)
    _, one, two, three = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: app.publish_version(version(block="BC01"), context("v1")),
        lambda: app.publish_version(version(block="BC02"), context("v2")),
        lambda: app.publish_version(version(block="BC03"), context("v3")),
    ])
    assert saves.sizes[1:] == [6]  # one transaction for the three
    assert [one.result["version"], two.result["version"], three.result["version"]] == [1, 2, 3]
    certification = app.repository.get(Certification.create_id("RNCP34174"))
    assert [v["blocks"][0]["code"] for v in certification.versions] == [f"RNCP34174BC0{n}" for n in (1, 2, 3)]


def test_twins_in_one_batch_have_one_effect_and_the_same_answer(app):
    saves = Saves(app, queued=3)
    _, first, twin, reused = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: app.create_branch(branch("LEEM"), context("same")),
        lambda: app.create_branch(branch("LEEM"), context("same")),
        lambda: app.create_branch(branch("UIT"), context("same")),  # the key, for another command
    ])
    assert isinstance(reused, IdempotencyKeyReused)
    assert (first.result, first.event_ids) == (twin.result, twin.event_ids)
    assert not first.replayed and twin.replayed
    assert saves.sizes[1:] == [2]
    assert [r.idempotency_key for r in records(app)].count("same") == 1
    assert Branch.create_id("UIT") not in app.repository


def test_a_conflict_in_a_batch_fails_only_the_command_it_touches(app):
    """Another process keeps writing the certification (a hot aggregate): each save holding the batch's
    change to it conflicts. The batch falls back to one command at a time: only that one fails."""
    certification_id = Certification.create_id("RNCP34174")
    blocks = [{"code": "OTHER", "title": "by another replica", "competences": None, "modalities": None}]

    def another_process_writes_the_certification_first(stored_events) -> None:
        if any(s.originator_id == certification_id for s in stored_events):
            certification = app.repository.get(certification_id)
            certification.publish_version(blocks, {}, date(2024, 1, 1))
            app.save(certification)

    saves = Saves(app, queued=3, before_insert=another_process_writes_the_certification_first)
    _, a, conflicting, b = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: app.create_branch(branch("AA"), context("a")),
        lambda: app.publish_version(version(block="BC01"), context("v")),
        lambda: app.create_branch(branch("BB"), context("b")),
    ])
    assert isinstance(conflicting, IntegrityError)  # the endpoint answers Conflict: retry with the same key
    assert saves.sizes[1] == 6  # the batch's transaction, refused as a whole; then each alone
    assert [a.result["code"], b.result["code"]] == ["AA", "BB"]
    assert not a.replayed and not b.replayed
    keys = [r.idempotency_key for r in records(app)]
    assert "a" in keys and "b" in keys and "v" not in keys
    certification = app.repository.get(certification_id)
    assert "RNCP34174BC01" not in [v["blocks"][0]["code"] for v in certification.versions]


def test_a_twin_saved_by_another_process_meanwhile_answers_its_earlier_answer(app):
    def another_process_runs_the_same_command(stored_events) -> None:
        if len(saves.sizes) == 2:  # the batch's save: the twin is recorded just before it
            command = CreateBranch(**branch("LEEM")).model_dump(mode="json")
            app.save(CommandRecord("catalog", "same", "create-branch", fingerprint("create-branch", command),
                                   {"code": "LEEM", "events": []}, context("same").as_event_data()))

    saves = Saves(app, queued=2, before_insert=another_process_runs_the_same_command)
    _, twin, other = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: app.create_branch(branch("LEEM"), context("same")),
        lambda: app.create_branch(branch("UIT"), context("uit")),
    ])
    assert twin.replayed and twin.result == {"code": "LEEM"}
    assert other.result["code"] == "UIT" and not other.replayed
    assert [r.idempotency_key for r in records(app)].count("same") == 1


def test_each_command_of_a_batch_is_decided_as_its_own_caller(app):
    def as_caller(caller: Caller, call: Callable[[], object]) -> Callable[[], object]:
        def run():
            current_caller.set(caller)  # as the endpoint does, in the command's own thread
            return call()
        return run

    stranger = Caller(user_id="stranger", organisation_id="ELSEWHERE", roles=frozenset({"trainer"}))
    saves = Saves(app, queued=2)
    _, refused, accepted = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        as_caller(stranger, lambda: app.create_branch(branch("NOPE"), context("stranger"))),
        lambda: app.create_branch(branch("LEEM"), context("leem")),
    ])
    assert isinstance(refused, Forbidden)
    assert accepted.result["code"] == "LEEM"
    assert saves.sizes[1:] == [2]
    assert Branch.create_id("NOPE") not in app.repository


def test_a_command_run_from_inside_another_s_decision_is_refused_rather_than_waiting_forever(app):
    def nested():
        app.create_branch(branch("INNER"), context("inner"))
        return [], {}

    with pytest.raises(RuntimeError, match="inside the decision"):
        executed(app, CreateBranch(**branch("OUTER")), context("outer"), nested)
    assert app.create_branch(branch("AFTER"), context("after")).result["code"] == "AFTER"
