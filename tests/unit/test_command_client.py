"""The gateway never answers a definite failure for a command that may have happened."""

from types import SimpleNamespace

import asyncpg
import httpx
import pytest

from shared.commands.catalog import CreateBranch
from shared.errors import OutcomeUnknown
from shared.identity import Caller
from services.gateway.commands import CommandClient, RemoteRefusal, ServiceUnavailable
from services.gateway.schema.inputs import graphql_input
from services.gateway.schema.context import Context
from services.gateway.schema.forward import forward


def client(handler) -> CommandClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return CommandClient(http, {"catalog": "http://catalog"}, inbox=None, timeout=1)


async def send(handler):
    return await client(handler).send("catalog", "create-branch", {}, "token", "k", "c")


def raising(error):
    def handler(request):
        raise error("boom", request=request)
    return handler


async def test_a_service_never_reached_is_a_definite_failure():
    with pytest.raises(ServiceUnavailable):
        await send(raising(httpx.ConnectError))


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
async def test_a_command_sent_without_an_answer_has_an_unknown_outcome(error):
    with pytest.raises(OutcomeUnknown) as unknown:
        await send(raising(error))
    assert "same idempotency key" in unknown.value.message


async def test_an_answer_that_is_not_a_typed_error_has_an_unknown_outcome():
    with pytest.raises(OutcomeUnknown):
        await send(lambda request: httpx.Response(500, text="Internal Server Error"))


async def test_a_typed_refusal_is_passed_on_as_it_is():
    refusal = {"error": {"type": "UnknownBranch", "message": "no such branch", "details": {"branch": "X"}}}
    with pytest.raises(RemoteRefusal) as refused:
        await send(lambda request: httpx.Response(404, json=refusal))
    assert (refused.value.type, refused.value.details) == ("UnknownBranch", {"branch": "X"})


class AwayPool:
    """The gateway's read-model database, away as a refused connection or a server still starting up."""

    def __init__(self, error: Exception):
        self.error = error

    async def fetchrow(self, *args):
        raise self.error

    fetch = fetchrow


class Verifier:
    async def verify(self, token):
        return Caller(user_id="ana", organisation_id="platform", roles=frozenset({"platform-admin"}))


class Sender:
    def __init__(self):
        self.sent = []

    async def send(self, service, command, body, token, key, correlation_id):
        self.sent.append(command)
        return {"code": body["code"], "events": ["e1"]}


AWAY = [ConnectionRefusedError(111, "Connect call failed"), asyncpg.CannotConnectNowError(
    "the database system is starting up")]


def context(pool, sender) -> SimpleNamespace:
    request = SimpleNamespace(headers={"authorization": "Bearer t"})
    return SimpleNamespace(context=Context(request, pool, sender, Verifier(), "c"))


@pytest.mark.parametrize("error", AWAY, ids=type)
async def test_a_mutation_while_the_gateway_database_is_away_is_service_unavailable_and_sends_nothing(error):
    sender = Sender()
    result = await forward(context(AwayPool(error), sender), CreateBranch,
                           graphql_input(CreateBranch)(code="UIMM", name="UIMM"),
                           "k", lambda answer: None)
    assert (type(result).__name__, result.code) == ("ServiceUnavailable", "ServiceUnavailable")
    assert "111" not in result.message and "starting up" not in result.message
    assert sender.sent == []


@pytest.mark.parametrize("error", AWAY, ids=type)
async def test_a_command_sent_whose_answer_cannot_be_read_has_an_unknown_outcome(error):
    sender = Sender()
    info = context(AwayPool(error), sender)

    async def known(caller):
        return {"organisation": True, "branches": 0}
    info.context._known = known

    async def answer(result):
        return await info.context.pool.fetchrow("SELECT * FROM branches WHERE code = $1", result["code"])

    result = await forward(info, CreateBranch, graphql_input(CreateBranch)(code="UIMM", name="UIMM"), "k", answer)
    assert (type(result).__name__, result.details["events"]) == ("OutcomeUnknown", ["e1"])
    assert "same idempotency key" in result.message and "111" not in result.message
    assert sender.sent == ["create-branch"]
