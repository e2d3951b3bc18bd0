"""The HTTP command endpoint, over the in-memory event store."""

import anyio
import httpx
import pytest
from starlette.testclient import TestClient

from shared.http import command_app, idempotency_digest
from services.catalog import api
from services.catalog.application import CatalogApplication
from tests.tokens import LocalIssuer

ISSUER = LocalIssuer()
COMMAND_KEY = "a test command key"
HEADERS = {"idempotency-key": "k1", **ISSUER.bearer(user="u1", organisation="platform", roles=["platform-admin"])}
BODY = {"code": "UIMM", "name": "Union des industries et métiers de la métallurgie", "idcc": ["3109"],
        "cpne": "CPNE de la métallurgie"}


@pytest.fixture
def service():
    app = CatalogApplication()
    with TestClient(command_app("catalog", api.commands(app, None), ISSUER.verifier(), max_request_bytes=100_000,
                                command_key=COMMAND_KEY)) as client:
        yield app, client


def events_written(app) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_command_answers_its_id_and_events(service):
    app, client = service
    answer = client.post("/commands/create-branch", json=BODY, headers=HEADERS)
    assert answer.status_code == 200
    assert answer.json()["code"] == "UIMM" and len(answer.json()["events"]) == 1
    assert answer.json()["position"] == events_written(app)


def test_the_store_keeps_a_keyed_digest_of_the_idempotency_key_never_the_key(service):
    """A key is client text (it can be a person's name): neither the events nor the command record carry it."""
    app, client = service
    key = "zoe-lefevre-1987-03-14"
    headers = {**HEADERS, "idempotency-key": key}
    first = client.post("/commands/create-branch", json=BODY, headers=headers)
    again = client.post("/commands/create-branch", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json()["replayed"] is True
    assert events_written(app) == 2  # the branch's event and its command record, once
    stored = [item.state for item in app.recorder.select_notifications(1, 10)]
    assert stored and not any(key.encode() in state for state in stored)
    assert all(idempotency_digest(COMMAND_KEY, key).encode() in state for state in stored)


def test_a_missing_idempotency_key_is_a_typed_error_and_writes_nothing(service):
    app, client = service
    headers = {k: v for k, v in HEADERS.items() if k != "idempotency-key"}
    answer = client.post("/commands/create-branch", json=BODY, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "MissingIdempotencyKey"
    assert events_written(app) == 0


def test_a_command_without_a_token_is_refused_whatever_actor_headers_claim(service):
    app, client = service
    forged = {"idempotency-key": "k1", "x-actor-user": "u1", "x-actor-organisation": "UIMM", "x-actor-role": "branch-admin"}
    answer = client.post("/commands/create-branch", json=BODY, headers=forged)
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "Unauthenticated"
    assert events_written(app) == 0


def test_a_token_signed_by_another_key_is_refused_and_writes_nothing(service):
    app, client = service
    answer = client.post("/commands/create-branch", json=BODY,
                         headers={"idempotency-key": "k1", **LocalIssuer(kid=ISSUER.kid).bearer()})
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "Unauthenticated"
    assert events_written(app) == 0


def test_the_actor_comes_from_the_token_not_from_headers(service):
    app, client = service
    headers = {**HEADERS, "x-actor-user": "someone-else", "x-actor-organisation": "OTHER"}
    assert client.post("/commands/create-branch", json=BODY, headers=headers).status_code == 200
    context = app.notification_log.select(start=1, limit=1)[0]
    assert b"someone-else" not in context.state and b"u1" in context.state


def test_the_same_key_from_two_callers_is_two_commands(service):
    app, client = service
    first = client.post("/commands/create-branch", json=BODY, headers=HEADERS)
    other = {"idempotency-key": "k1", **ISSUER.bearer(user="u2", organisation="platform", roles=["platform-admin"])}
    second = client.post("/commands/create-branch", json=BODY, headers=other)
    assert first.status_code == 200
    # Not the first caller's answer replayed: a command of its own, refused on the facts.
    assert second.status_code == 409 and second.json()["error"]["type"] == "BranchAlreadyExists"
    again = client.post("/commands/create-branch", json=BODY, headers=HEADERS)
    assert again.json()["replayed"] is True


def test_a_nul_character_in_any_text_is_a_typed_error_naming_the_field(service):
    app, client = service
    answer = client.post("/commands/create-branch", json={**BODY, "idcc": ["3109", "31\x0009"]}, headers=HEADERS)
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["problems"][0]["field"] == "idcc.1"
    assert events_written(app) == 0


def test_a_name_with_a_bidirectional_override_or_a_zero_width_space_is_a_typed_error(service):
    """Such a name reads otherwise than it is stored ("Ali\u202ecé" shows reversed): refused like NUL."""
    app, client = service
    for name in ("Métallurgie \u202eeigrullatéM", "Métal\u200blurgie", "\ufeffMétallurgie", "Métal\u2066lurgie"):
        answer = client.post("/commands/create-branch", json={**BODY, "name": name}, headers=HEADERS)
        assert answer.status_code == 400, name
        assert answer.json()["error"]["details"]["problems"][0]["field"] == "name"
    assert events_written(app) == 0
    assert client.post("/commands/create-branch", json={**BODY, "name": "Métallurgie d\u2019Île-de-France"},
                       headers=HEADERS).status_code == 200


def test_a_body_over_the_limit_is_refused_before_it_is_read(service):
    app, client = service
    answer = client.post("/commands/create-branch", content=b"x" * 100_001, headers=HEADERS)
    assert answer.status_code == 413 and answer.json()["error"]["type"] == "PayloadTooLarge"
    assert events_written(app) == 0


@pytest.mark.parametrize("body", [
    {**BODY, "name": ""},
    {**BODY, "idcc": "3109"},
    {k: v for k, v in BODY.items() if k != "code"},
    {**BODY, "unexpected": 1},
])
def test_malformed_input_names_each_problem_and_writes_nothing(service, body):
    app, client = service
    answer = client.post("/commands/create-branch", json=body, headers=HEADERS)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "InvalidInput" and error["details"]["problems"]
    assert events_written(app) == 0


def test_a_body_that_is_not_json_is_a_typed_error(service):
    app, client = service
    answer = client.post("/commands/create-branch", content=b"{not json", headers=HEADERS)
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "InvalidInput"


def test_an_unknown_command_is_a_typed_error(service):
    _, client = service
    answer = client.post("/commands/delete-everything", json={}, headers=HEADERS)
    assert answer.status_code == 404 and answer.json()["error"]["type"] == "UnknownCommand"


def test_a_role_not_allowed_for_the_command_is_forbidden_and_writes_nothing(service):
    app, client = service
    answer = client.post("/commands/create-branch", json=BODY,
                         headers={"idempotency-key": "k1", **ISSUER.bearer(roles=["evaluator"])})
    assert answer.status_code == 403 and answer.json()["error"]["type"] == "Forbidden"
    assert answer.json()["error"]["details"]["allowed"] == ["platform-admin"]
    assert events_written(app) == 0


def test_a_database_failing_under_a_command_answers_that_its_outcome_is_unknown():
    from eventsourcing.persistence import OperationalError

    from shared.commands.catalog import CreateBranch
    from shared.http import Endpoint

    async def failing(command):
        raise OperationalError("server closed the connection unexpectedly")

    with TestClient(command_app("catalog", {"create-branch": Endpoint(CreateBranch, failing, print)}, ISSUER.verifier(),
                                command_key=COMMAND_KEY)) as client:
        answer = client.post("/commands/create-branch", json=BODY, headers=HEADERS)
    assert answer.status_code == 503 and answer.json()["error"]["type"] == "OutcomeUnknown"
    assert "same idempotency key" in answer.json()["error"]["message"]


def test_a_key_in_utf8_has_one_effect_and_is_kept_only_as_its_digest(service):
    """A key can be a person's name, accents and all (the gateway sends it in UTF-8)."""
    app, client = service
    key = "Zoé Lefèvre"
    headers = {**HEADERS, "idempotency-key": key.encode()}
    first = client.post("/commands/create-branch", json=BODY, headers=headers)
    again = client.post("/commands/create-branch", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json()["replayed"] is True
    stored = [item.state for item in app.recorder.select_notifications(1, 10)]
    assert len(stored) == 2 and all(idempotency_digest(COMMAND_KEY, key).encode() in state for state in stored)
    assert not any(key.encode() in state or "Lef".encode() in state for state in stored)


def test_a_key_that_is_not_utf8_is_a_typed_error_and_writes_nothing():
    app = CatalogApplication()
    asgi = command_app("catalog", api.commands(app, None), ISSUER.verifier(), command_key=COMMAND_KEY)

    async def send():  # the raw bytes as a server hands them over (the test client would re-encode them)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://service") as client:
            return await client.post("/commands/create-branch", json=BODY,
                                     headers={**HEADERS, "idempotency-key": b"Zo\xe9"})

    answer = anyio.run(send)
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "InvalidInput"
    assert events_written(app) == 0


@pytest.mark.parametrize("loss", ["refused", "concurrent change"])
def test_what_the_facts_began_is_undone_when_the_command_writes_nothing(loss):
    """An upload's object, a person's new key: `after` hears that nothing was recorded, refused or lost to a
    concurrent change alike, and undoes it."""
    from eventsourcing.persistence import IntegrityError

    from shared.commands.catalog import CreateBranch
    from shared.errors import Conflict as Refusal
    from shared.http import Endpoint

    heard = []

    async def facts(command):
        return "begun"

    def decide(command, facts):
        raise Refusal("refused") if loss == "refused" else IntegrityError("duplicate key")

    async def after(command, facts, outcome):
        heard.append((facts, outcome))

    endpoint = Endpoint(CreateBranch, facts, decide, after=after)
    with TestClient(command_app("catalog", {"create-branch": endpoint}, ISSUER.verifier(),
                                command_key=COMMAND_KEY)) as client:
        answer = client.post("/commands/create-branch", json=BODY, headers=HEADERS)
    assert answer.status_code == 409 and heard == [("begun", None)]
