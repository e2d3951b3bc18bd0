"""Every request is bounded: an oversized body, a huge text filter, alias amplification, a costly
operation, past states (asOf) asked many times, an answer too large and control characters each get a typed
error in bounded time, and the gateway serves the next request normally; callers without a token have a
budget of their own per address, and other callers' commands are answered meanwhile. Nothing a caller sends
is written in the logs."""

import asyncio
import time
from datetime import UTC, datetime

import pytest_asyncio

from tests.e2e.test_jury_journey import ok
from tests.harness import LOGS, System

MAX_RESPONSE = 1_000_000
CANDIDATE = {"givenName": "Zoé", "familyName": "Lambert", "email": "zoe.lambert@example.org", "status": "EMPLOYEE"}
REGISTER = """
mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename ... on CandidateRegistered { candidate { id } } ... on Error { code message }
    ... on InvalidInput { problems { field problem } }
  }
}"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running():
    system = await System.create()
    # Answers bounded to 1 MB here (16 MB by default), and the budget of callers without a token refilled
    # slowly: what a burst spends is not given back while the test looks.
    await system.start(CQP_MAX_RESPONSE_BYTES=str(MAX_RESPONSE), CQP_ANONYMOUS_BUDGET_PER_SECOND="50")
    await system.graphql('mutation { createBranch(input: {code: "UIMM", name: "UIMM", idcc: ["3109"]},'
                         ' idempotencyKey: "b") { __typename } }')
    yield system
    system.stop()


async def serves_the_next_request(system) -> None:
    data = await system.graphql("{ branches { edges { node { code } } } }")
    assert data["branches"]["edges"] == [{"node": {"code": "UIMM"}}]


async def events_in(system, service: str) -> int:
    return await system.written(service)


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
    # The typed member of the result union, as every other bad input, with the field's path.
    assert "errors" not in answer, answer
    assert answer["data"]["registerCandidate"]["__typename"] == "InvalidInput"
    assert [p["field"] for p in answer["data"]["registerCandidate"]["problems"]] == ["family_name"]
    literal = await running.graphql_answer(
        'mutation { registerCandidate(input: {givenName: "Zo\\u0007é", familyName: "L", email: "z@example.org",'
        ' status: EMPLOYEE}, idempotencyKey: "nul-2") { __typename ... on InvalidInput { problems { field } } } }')
    assert literal["data"]["registerCandidate"] == {"__typename": "InvalidInput", "problems": [{"field": "given_name"}]}
    query = await running.graphql_answer("query($t: String) { certifications(filter: {text: $t}) { totalCount } }",
                                         {"t": "a\u0000b"})
    assert query["errors"][0]["extensions"]["code"] == "InvalidInput"  # a query: a clear typed error
    straight = await running.command("candidacy", "register-candidate",
                                     {"given_name": "Zo\u0001é", "family_name": "L", "email": "z@example.org",
                                      "status": "EMPLOYEE"}, "nul-3")
    assert straight.status_code == 400 and straight.json()["error"]["details"]["problems"][0]["field"] == "given_name"
    assert await events_in(running, "candidacy") == written
    registered = await running.graphql(REGISTER, {"input": CANDIDATE, "key": "nul-4"})
    assert registered["registerCandidate"]["__typename"] == "CandidateRegistered"


async def test_every_bad_value_in_a_mutations_input_is_its_typed_invalid_input_member_and_writes_nothing(running):
    """A day or an amount its scalar cannot read, in a variable or inline, and a NUL in a variable's default."""
    written = await events_in(running, "candidacy")
    for day in ("10000-01-01", "2024-02-30", "1990-1-1"):
        answer = await running.graphql_answer(REGISTER, {"input": {**CANDIDATE, "birthDate": day}, "key": f"d-{day}"})
        assert "errors" not in answer, answer
        refused = answer["data"]["registerCandidate"]
        assert (refused["__typename"], [p["field"] for p in refused["problems"]]) == ("InvalidInput", ["birth_date"])
    inline = await running.graphql_answer(
        'mutation { registerCandidate(input: {givenName: "Zoé", familyName: "L", email: "z@example.org", status:'
        ' EMPLOYEE, birthDate: "2024-02-30"}, idempotencyKey: "d-inline") { __typename ... on InvalidInput'
        ' { problems { field } } } }')
    assert inline["data"]["registerCandidate"] == {"__typename": "InvalidInput", "problems": [{"field": "birth_date"}]}
    amount = await running.graphql_answer(
        'mutation($a: Decimal!) { requestFunding(input: {candidacyId: "c", funder: OPCO, amount: $a},'
        ' idempotencyKey: "d-amount") { __typename ... on InvalidInput { problems { field } } } }', {"a": "12,50"})
    assert amount["data"]["requestFunding"] == {"__typename": "InvalidInput", "problems": [{"field": "amount"}]}
    default = await running.graphql_answer(
        'mutation($i: RegisterCandidateInput! = {givenName: "Zo\\u0000é", familyName: "L", email: "z@example.org",'
        ' status: EMPLOYEE}) { registerCandidate(input: $i, idempotencyKey: "d-default") { __typename'
        ' ... on InvalidInput { problems { field } } } }')
    assert default["data"]["registerCandidate"] == {"__typename": "InvalidInput", "problems": [{"field": "given_name"}]}
    query = await running.graphql_answer("query($d: Date) { candidacies(filter: {openedFrom: $d}) { totalCount } }",
                                         {"d": "2024-02-30"})
    assert query["data"] is None and query["errors"][0]["extensions"]["code"] == "InvalidInput"  # a query: refused
    assert await events_in(running, "candidacy") == written


async def test_graphql_errors_never_log_the_values_sent(running):
    secrets = {"email": "leak.me@example.org", "birthDate": "19-SECRET-84", "phone": "+33 6 98 76 54 32"}
    answer = await running.graphql_answer(REGISTER, {"input": {**CANDIDATE, **secrets}, "key": "log-1"})
    # A malformed date: the typed member, naming the field and not the value.
    assert answer["data"]["registerCandidate"]["__typename"] == "InvalidInput", answer
    assert "birth_date" in [p["field"] for p in answer["data"]["registerCandidate"]["problems"]]
    assert not any(value in str(answer) for value in secrets.values())
    await running.graphql_answer('mutation { registerCandidate(input: {givenName: "Secret-Literal-Name",'
                                 ' familyName: 12, email: "x", status: EMPLOYEE}, idempotencyKey: "log-2")'
                                 ' { __typename } }')
    log = (LOGS / f"{running.prefix}gateway.log").read_text()
    assert "graphql request refused" in log
    for value in [*secrets.values(), "Secret-Literal-Name"]:
        assert value not in log


def blocks(prefix: str, text: str) -> list[dict]:
    return [{"code": f"{prefix}BC{n:02}", "title": f"Bloc {n}", "competences": text} for n in range(5)]


async def certification_with_history(system, code: str, text: str = "compétence") -> None:
    await ok(system, "createCertification", "CreateCertificationInput", {
        "code": code, "kind": "CQPM", "title": "CQPM d'historique", "owners": ["UIMM"], "blocks": blocks(code, text)},
        f"create-{code}")
    await ok(system, "publishVersion", "PublishVersionInput", {"code": code, "blocks": blocks(code, text)},
             f"publish-{code}")


async def test_an_answer_larger_than_the_bound_is_refused_as_such_and_the_gateway_serves_on(running):
    # Two versions of five blocks of 50,000 characters: 500 kB an alias; three are more than the bound.
    await certification_with_history(running, "RNCP99501", "c" * 50_000)
    alias = 'c{n}: certification(code: "RNCP99501") {{ versions {{ number blocks {{ code competences }} }} }}'
    one = await running.graphql(f"{{ {alias.format(n=0)} }}")
    assert len(one["c0"]["versions"]) == 2
    many = f"{{ {' '.join(alias.format(n=n) for n in range(30))} }}"
    answer = await running.graphql_answer(many)
    assert answer["data"] is None and [e["extensions"]["code"] for e in answer["errors"]] == ["ResponseTooLarge"]
    assert str(MAX_RESPONSE) in answer["errors"][0]["message"]
    anonymous = await running.graphql_answer(many, token=None)  # refused by its cost before anything runs
    assert anonymous["data"] is None and anonymous["errors"][0]["extensions"]["code"] == "QueryTooCostly"
    await serves_the_next_request(running)


async def test_nested_lists_cost_what_they_really_hold_as_they_run(running):
    """Two versions of 100 blocks: six aliases are estimated within the bound of a caller without a token (a list
    without a page counted as 10 items), but resolve some 2,400 fields: stopped as they run, QueryTooCostly."""
    hundred = [{"code": f"RNCP99503BC{n:03}", "title": f"Bloc {n}"} for n in range(100)]
    await ok(running, "createCertification", "CreateCertificationInput", {
        "code": "RNCP99503", "kind": "CQPM", "title": "CQPM de cent blocs", "owners": ["UIMM"], "blocks": hundred},
        "create-RNCP99503")
    await ok(running, "publishVersion", "PublishVersionInput", {"code": "RNCP99503", "blocks": hundred},
             "publish-RNCP99503")
    alias = 'c{n}: certification(code: "RNCP99503") {{ versions {{ blocks {{ code title }} }} }}'
    six = f"{{ {' '.join(alias.format(n=n) for n in range(6))} }}"
    started = time.monotonic()
    answer = await running.graphql_answer(six, token=None)
    assert answer["data"] is None and [e["extensions"]["code"] for e in answer["errors"]] == ["QueryTooCostly"], answer
    assert "as it runs" in answer["errors"][0]["message"] and time.monotonic() - started < 5
    signed = await running.graphql(six)  # within the bound of a signed-in caller
    assert [len(v["blocks"]) for v in signed["c5"]["versions"]] == [100, 100]
    await serves_the_next_request(running)


PAST = 'c{n}: certification(code: "RNCP99502", asOf: "%s") {{ code versions {{ number }} }}'


async def test_past_states_cost_their_replays_and_callers_without_a_token_have_a_budget_per_address(running):
    """Each asOf is a replay of its events: 30 of them are refused before any runs, and a burst of
    requests without a token spends its address's budget (TooManyRequests) while another client's command is
    answered."""
    await certification_with_history(running, "RNCP99502")
    past = PAST % datetime.now(UTC).isoformat()
    one = f"{{ {past.format(n=0)} }}"
    assert (await running.graphql(one))["c0"]["versions"] == [{"number": 1}, {"number": 2}]
    thirty = f"{{ {' '.join(past.format(n=n) for n in range(30))} }}"
    for token in (None, "default"):
        answer = await running.graphql_answer(thirty, token=token)
        assert answer["data"] is None and answer["errors"][0]["extensions"]["code"] == "QueryTooCostly"
    # A burst of ten single replays without a token (each about 1,000 of the address's 4,000), and meanwhile
    # a command of a signed-in client.
    token = await running.token()
    command = running.graphql_answer(REGISTER, {"input": CANDIDATE, "key": "meanwhile"}, token=token)
    *burst, registered = await asyncio.gather(*(running.graphql_answer(one, token=None) for _ in range(10)), command)
    codes = [a["errors"][0]["extensions"]["code"] if "errors" in a else "answered" for a in burst]
    assert set(codes) <= {"answered", "TooManyRequests"} and codes.count("TooManyRequests") >= 5, codes
    refused = next(a for a in burst if "errors" in a)
    assert refused["data"] is None and "try again in" in refused["errors"][0]["message"]
    assert registered["data"]["registerCandidate"]["__typename"] == "CandidateRegistered", registered
    # Signed-in callers keep their own budget.
    assert (await running.graphql(one, token=token))["c0"]["code"] == "RNCP99502"
