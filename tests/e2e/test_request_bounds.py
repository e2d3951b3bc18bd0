"""Every request is bounded: an oversized body, a huge text filter, alias amplification, a costly
operation and control characters each get a typed error in bounded time, and the gateway serves the
next request normally. Nothing a caller sends is written in the logs."""

import asyncio
import time

import pytest_asyncio

from tests.harness import LOGS, System

CANDIDATE = {"givenName": "Zoé", "familyName": "Lambert", "email": "zoe.lambert@example.org", "status": "EMPLOYEE"}
REGISTER = """
mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename ... on CandidateRegistered { candidate { id } } ... on Error { code message }
  }
}"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running():
    system = await System.create()
    await system.start()
    await system.graphql('mutation { createBranch(input: {code: "UIMM", name: "UIMM", idcc: ["3109"]},'
                         ' idempotencyKey: "b") { __typename } }')
    yield system
    system.stop()


async def serves_the_next_request(system) -> None:
    data = await system.graphql("{ branches { edges { node { code } } } }")
    assert data["branches"]["edges"] == [{"node": {"code": "UIMM"}}]


async def events_in(system, service: str) -> int:
    return (await system.sql(f"SELECT count(*) AS n FROM {service}.{service}_events"))[0]["n"]


async def post_raw(system, headers: str, body: bytes) -> bytes:
    """An HTTP request written on a socket, its answer read while the body may still be unsent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", system["gateway"].port)
    writer.write(f"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n{headers}\r\n"
                 .encode() + body)
    try:
        await writer.drain()
    except ConnectionError:
        pass  # the server answered and closed before taking it all: the point
    answer = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), 10):
            answer += chunk
    except ConnectionError:
        pass
    writer.close()
    return answer


async def test_an_oversized_body_is_refused_before_it_is_read(running):
    started = time.monotonic()
    # 8 MB announced, 64 kB sent: the answer comes without waiting for the rest.
    announced = await post_raw(running, "content-length: 8000000\r\n", b"{" + b" " * 65_536)
    assert announced.startswith(b"HTTP/1.1 413") and b"PayloadTooLarge" in announced
    # No length announced: read up to the limit, then refused.
    chunk = b" " * 1_000_000
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3))
    streamed = await post_raw(running, "transfer-encoding: chunked\r\n", chunked)
    assert streamed.startswith(b"HTTP/1.1 413") and b"PayloadTooLarge" in streamed
    assert time.monotonic() - started < 10
    await serves_the_next_request(running)


async def test_a_huge_text_filter_is_refused_at_once(running):
    started = time.monotonic()
    answer = await running.graphql_answer("query($t: String!) { certifications(filter: {text: $t}) { totalCount } }",
                                          {"t": " ".join(["métallurgie"] * 30_000)}, token=None)
    assert answer["errors"][0]["extensions"]["code"] == "InvalidInput"
    assert time.monotonic() - started < 5
    await serves_the_next_request(running)


async def test_alias_amplification_is_refused(running):
    aliases = " ".join(f'a{n}: certifications(filter: {{text: "x"}}) {{ totalCount }}' for n in range(300))
    answer = await running.graphql_answer(f"{{ {aliases} }}", token=None)
    assert answer["data"] is None and answer["errors"]
    await serves_the_next_request(running)


async def test_an_operation_asking_for_too_much_is_refused_by_its_cost(running):
    query = """query($n: Int!) { a: certifications(first: $n) { edges { node { code title blocks { code title }
      versions { number blocks { code title } } owners { code name } } } }
      b: certifications(first: $n) { edges { node { code title blocks { code title } } } } }"""
    answer = await running.graphql_answer(query, {"n": 200}, token=None)
    assert answer["errors"][0]["extensions"]["code"] == "QueryTooCostly"
    small = await running.graphql_answer(query, {"n": 5}, token=None)
    assert "errors" not in small
    await serves_the_next_request(running)


async def test_a_nul_in_a_name_is_a_typed_error_that_writes_nothing(running):
    written = await events_in(running, "candidacy")
    answer = await running.graphql_answer(REGISTER, {"input": {**CANDIDATE, "familyName": "Lam\u0000bert"},
                                                     "key": "nul-1"})
    assert answer["errors"][0]["extensions"]["code"] == "InvalidInput"
    literal = await running.graphql_answer(
        'mutation { registerCandidate(input: {givenName: "Zo\\u0007é", familyName: "L", email: "z@example.org",'
        ' status: EMPLOYEE}, idempotencyKey: "nul-2") { __typename } }')
    assert literal["errors"][0]["extensions"]["code"] == "InvalidInput"
    straight = await running.command("candidacy", "register-candidate",
                                     {"given_name": "Zo\u0001é", "family_name": "L", "email": "z@example.org",
                                      "status": "EMPLOYEE"}, "nul-3")
    assert straight.status_code == 400 and straight.json()["error"]["details"]["problems"][0]["field"] == "given_name"
    assert await events_in(running, "candidacy") == written
    registered = await running.graphql(REGISTER, {"input": CANDIDATE, "key": "nul-4"})
    assert registered["registerCandidate"]["__typename"] == "CandidateRegistered"


async def test_graphql_errors_never_log_the_values_sent(running):
    secrets = {"email": "leak.me@example.org", "birthDate": "19-SECRET-84", "phone": "+33 6 98 76 54 32"}
    answer = await running.graphql_answer(REGISTER, {"input": {**CANDIDATE, **secrets}, "key": "log-1"})
    assert answer["errors"]  # a malformed date: refused by GraphQL validation, and logged
    await running.graphql_answer('mutation { registerCandidate(input: {givenName: "Secret-Literal-Name",'
                                 ' familyName: 12, email: "x", status: EMPLOYEE}, idempotencyKey: "log-2")'
                                 ' { __typename } }')
    log = (LOGS / f"{running.prefix}gateway.log").read_text()
    assert "graphql request refused" in log
    for value in [*secrets.values(), "Secret-Literal-Name"]:
        assert value not in log
