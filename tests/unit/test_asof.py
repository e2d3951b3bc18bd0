"""Past states rebuilt from an aggregate's own events (shared/asof.py): the last version recorded at or
before the instant, nothing before the aggregate existed."""

import time
import uuid
from datetime import date, datetime, timezone

from shared.context import Actor, CommandContext

from services.catalog.application import CatalogApplication
from services.catalog.history import certification_state
from tests.unit.as_client import AsClient

BLOCK = {"code": "RS1BC01", "title": "Bloc 1", "competences": None, "modalities": None}


def context() -> CommandContext:
    return CommandContext.new(Actor(user_id="u", organisation_id="UIMM", role="branch-admin"), f"k-{uuid.uuid4()}")


def now() -> datetime:
    time.sleep(0.01)  # events' timestamps are apart
    return datetime.now(timezone.utc)


def test_a_certification_as_of_an_instant_is_what_its_events_said_then_and_nothing_before_it_existed():
    app = AsClient(CatalogApplication())
    app.create_branch({"code": "UIMM", "name": "UIMM", "idcc": [], "cpne": ""}, context())
    before = now()
    created = app.create_certification({"code": "RS1", "kind": "CQP", "title": "Premier titre", "owners": ["UIMM"],
                                        "blocks": [BLOCK], "settings": {}, "effective_from": date(2024, 1, 1)},
                                       context()).result["id"]
    middle = now()
    app.publish_version({"code": "RS1", "blocks": [BLOCK, {**BLOCK, "code": "RS1BC02"}], "settings": {},
                         "effective_from": None}, context())
    after = now()

    assert certification_state(app.app, created, before) is None
    then = certification_state(app.app, created, middle)
    assert (then["title"], [v["version"] for v in then["versions"]]) == ("Premier titre", [1])
    assert then["versions"][0]["blocks"] == [BLOCK] and then["versions"][0]["settings"]["jury_quorum"] == 2
    today = certification_state(app.app, created, after)
    assert [len(v["blocks"]) for v in today["versions"]] == [1, 2]
    assert today["updated_at"] > then["updated_at"] and certification_state(app.app, str(uuid.uuid4()), after) is None
