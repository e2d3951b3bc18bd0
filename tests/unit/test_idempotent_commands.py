"""ServiceApplication.execute on the library's in-memory store: one effect per idempotency key."""

import pytest

from shared.context import Actor, CommandContext
from shared.errors import IdempotencyKeyReused
from services.catalog.application import CatalogApplication
from services.catalog.domain import CertificationAlreadyExists
from tests.unit.as_client import AsClient

ACTOR = Actor(user_id="u1", organisation_id="UIMM", role="branch-admin")
COMMAND = {"code": "RNCP34174", "kind": "CQPM", "title": "CQPM", "owners": ["UIMM"], "blocks": [], "settings": {},
           "effective_from": None}


def catalog() -> CatalogApplication:
    app = AsClient(CatalogApplication())
    app.create_branch({"code": "UIMM", "name": "UIMM", "idcc": ["3109"], "cpne": ""}, context("branch"))
    return app


def context(key: str) -> CommandContext:
    return CommandContext.new(ACTOR, key)


def events_written(app) -> int:
    return app.recorder.max_notification_id() or 0


def test_the_same_key_twice_has_one_effect():
    app = catalog()
    first = app.create_certification(COMMAND, context("k1"))
    written = events_written(app)
    again = app.create_certification(COMMAND, context("k1"))
    assert again.replayed and not first.replayed
    assert again.result == first.result and again.event_ids == first.event_ids
    assert events_written(app) == written


def test_answers_the_position_and_ids_of_the_events_written():
    app = catalog()
    outcome = app.create_certification(COMMAND, context("k1"))
    assert outcome.position == events_written(app)
    assert len(outcome.event_ids) == 1


def test_a_key_reused_for_another_command_is_refused_and_writes_nothing():
    app = catalog()
    app.create_certification(COMMAND, context("k1"))
    written = events_written(app)
    with pytest.raises(IdempotencyKeyReused):
        app.create_certification({**COMMAND, "code": "RNCP99999"}, context("k1"))
    assert events_written(app) == written


def test_a_second_certification_with_the_same_code_is_refused_and_writes_nothing():
    app = catalog()
    app.create_certification(COMMAND, context("k1"))
    written = events_written(app)
    with pytest.raises(CertificationAlreadyExists):
        app.create_certification(COMMAND, context("k2"))
    assert events_written(app) == written


def test_the_command_record_keeps_who_asked():
    app = catalog()
    app.create_certification(COMMAND, context("k1"))
    notifications = app.recorder.select_notifications(1, 10)
    record = app.mapper.to_domain_event(notifications[-1])
    assert record.context["actor"] == ACTOR.model_dump()
    assert record.idempotency_key == "k1"
