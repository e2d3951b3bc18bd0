"""The gateway never answers a definite failure for a command that may have happened."""

import httpx
import pytest

from shared.errors import OutcomeUnknown
from services.gateway.commands import CommandClient, RemoteRefusal, ServiceUnavailable


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
