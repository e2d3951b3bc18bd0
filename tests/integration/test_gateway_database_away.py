"""The gateway's database away (connection refused): a mutation is the typed ServiceUnavailable, having sent
nothing to the service, a query or a subscription the error ServiceUnavailable, never the driver's text; once the
database is back, the next one is answered."""

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest_asyncio

from tests.e2e.test_subscriptions import COUNTERS, live
from tests.harness import System, credentials, free_port

REGISTER = """
mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename ... on CandidateRegistered { candidate { id } } ... on Error { code message }
  }
}"""
CANDIDATE = {"givenName": "Inès", "familyName": "Moreau", "email": "ines.moreau@example.org", "status": "EMPLOYEE"}


class Cut:
    """A TCP relay between the gateway and PostgreSQL that the test opens and cuts (every connection
    closed, new ones refused), as a database host going away."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server is None:
            return
        self.server.close()
        self.server = None
        for writer in list(self.writers):
            writer.transport.abort()

    async def _relay(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running():
    system = await System.create()
    dsn = urlsplit(credentials(system.dsn, "gateway")["CQP_POSTGRES_DSN"])
    relay = Cut(dsn.hostname, dsn.port)
    await relay.open()
    through_relay = urlunsplit(dsn._replace(netloc=f"{dsn.netloc.rsplit('@', 1)[0]}@127.0.0.1:{relay.port}"))
    await system.start("catalog", "candidacy", "jury")
    await system.start("gateway", CQP_POSTGRES_DSN=through_relay)
    system.relay = relay
    yield system
    await asyncio.to_thread(system.stop)  # the relay, on this loop, serves the gateway while it stops
    await relay.cut()


async def events_in(system) -> int:
    return await system.written("candidacy")


async def test_a_mutation_while_the_gateway_database_is_away_is_service_unavailable_and_does_nothing(running):
    token = await running.token()
    registered = await running.graphql(REGISTER, {"input": CANDIDATE, "key": "before"}, token=token)
    assert registered["registerCandidate"]["__typename"] == "CandidateRegistered"

    await running.relay.cut()
    written = await events_in(running)
    refused = (await running.graphql(REGISTER, {"input": CANDIDATE, "key": "away"}, token=token))["registerCandidate"]
    assert (refused["__typename"], refused["code"]) == ("ServiceUnavailable", "ServiceUnavailable")
    assert "Errno" not in refused["message"] and "refused" not in refused["message"]
    assert await events_in(running) == written  # nothing was sent to the service

    await running.relay.open()
    again = await running.graphql(REGISTER, {"input": CANDIDATE, "key": "away"}, token=token)
    assert again["registerCandidate"]["__typename"] == "CandidateRegistered"


UNAVAILABLE = "the gateway's database is unavailable; try again shortly"


async def test_a_query_or_a_subscription_while_the_gateway_database_is_away_says_so_never_in_the_drivers_words(running):
    token = await running.token()
    query = "{ branches { totalCount } }"
    assert "errors" not in await running.graphql_answer(query, token=token)
    async with live(running, token) as subscriber:  # connected while the database answers
        await running.relay.cut()
        try:
            answer = await running.graphql_answer(query, token=token)
            assert [(e["message"], e["extensions"]["code"]) for e in answer["errors"]] == [
                (UNAVAILABLE, "ServiceUnavailable")], answer
            await subscriber.subscribe("counters", COUNTERS)
            pushed = await subscriber.message("counters")
            errors = pushed["payload"] if pushed["type"] == "error" else pushed["payload"]["errors"]
            assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
                (UNAVAILABLE, "ServiceUnavailable")], pushed
        finally:
            await running.relay.open()
    assert "errors" not in await running.graphql_answer(query, token=token)
