"""The gateway's guards refuse before running anything, and mask what callers sent in the logs."""

import logging
from types import SimpleNamespace

from shared.errors import Unauthenticated
from services.gateway.schema import build_schema, schema
from services.gateway.schema.guards import ANONYMOUS_MAX_COST, MAX_COST, REPLAY_COST, Bounds, Budgets, mask

COSTLY = """query($n: Int!) { certifications(first: $n) { edges { node { code title blocks { code title }
  versions { number blocks { code title } } } } } }"""


class Request:
    """A request's context as the guard sees it: a client address, and a token that verifies or none."""

    def __init__(self, token: str | None = None, address: str = "127.0.0.2"):
        self.request = SimpleNamespace(client=SimpleNamespace(host=address))
        self.verifier, self._token = self, token

    def token(self) -> str:
        if not self._token:
            raise Unauthenticated("a bearer token is required")
        return self._token

    async def verify(self, token: str):
        return token


SIGNED = Request("a verified token")


async def test_an_operation_whose_pages_multiply_past_the_budget_is_refused_before_it_runs():
    result = await schema.execute(COSTLY, variable_values={"n": 200}, context_value=SIGNED)
    assert result.errors[0].extensions["code"] == "QueryTooCostly"
    assert str(MAX_COST) in result.errors[0].message


async def test_repeating_a_field_through_fragments_counts_every_repetition():
    fragment = "fragment F on Certification { code title blocks { code title competences modalities } }"
    aliases = " ".join(f"c{n}: certifications(first: 100) {{ edges {{ node {{ ...F }} }} }}" for n in range(6))
    result = await schema.execute(f"{fragment} {{ {aliases} }}", context_value=None)
    assert result.errors[0].extensions["code"] == "QueryTooCostly"


async def test_control_characters_in_variables_or_literals_are_refused_before_anything_runs():
    by_variable = await schema.execute("query($t: String) { certifications(filter: {text: $t}) { totalCount } }",
                                       variable_values={"t": "a\x00b"}, context_value=None)
    assert by_variable.errors[0].extensions["code"] == "InvalidInput"
    by_literal = await schema.execute('{ certifications(filter: {text: "a\\u0007b"}) { totalCount } }',
                                      context_value=None)
    assert by_literal.errors[0].extensions["code"] == "InvalidInput"


def test_masking_hides_every_value_sent_and_every_value_graphql_prints():
    message = ("Variable '$input' got invalid value {'email': 'a@b.org', 'birthDate': '1990-13-45'} at "
               "'input.birthDate'; Expected type 'Date'.")
    masked = mask(message, {"a@b.org", "1990-13-45"})
    assert "a@b.org" not in masked and "1990-13-45" not in masked and "'$input'" in masked
    assert mask("Expected value of type 'Int!', found \"Martin\"; bad", set()) == \
        "Expected value of type 'Int!', found ***; bad"


async def test_a_refused_operation_is_logged_without_the_values_sent(caplog):
    with caplog.at_level(logging.INFO, logger="graphql"):
        await schema.execute('mutation { registerCandidate(input: {givenName: "Camille-Secret", familyName: 3,'
                             ' email: "camille@secret.org", status: EMPLOYEE}, idempotencyKey: "k") { __typename } }',
                             context_value=None)
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    assert caplog.records and "Camille-Secret" not in logged and "camille@secret.org" not in logged


async def test_introspection_can_be_switched_off_for_production():
    from services.gateway.schema import build_schema

    query = "{ __schema { queryType { name } } }"
    assert (await build_schema(introspection=True).execute(query, context_value=None)).errors is None
    assert (await build_schema(introspection=False).execute(query, context_value=None)).errors


def test_a_connections_edges_are_its_page_counted_once_not_a_list_of_unknown_size():
    from graphql import parse

    from services.gateway.schema.guards import Cost

    query = parse("query($n: Int!) { candidacies(first: $n) { totalCount edges { cursor node { id } } } }")
    graphql_schema = schema._schema
    cost = Cost(graphql_schema, {}, {"n": 100}).of(query.definitions[0].selection_set, graphql_schema.query_type,
                                                  frozenset())
    assert cost == 1 + 100 * (1 + 1 + (1 + 1 + 1))


async def test_with_introspection_off_a_misspelt_field_gets_no_suggestion_of_the_schemas_names():
    misspelt = "{ certificationz(first: 1) { totalCount } candidat(id: \"x\") { id } }"
    open_errors = (await schema.execute(misspelt, context_value=None)).errors
    assert any("Did you mean" in e.message for e in open_errors)  # introspection on: helpful
    closed = await build_schema(introspection=False).execute(misspelt, context_value=None)
    assert len(closed.errors) == len(open_errors)
    assert all("Did you mean" not in e.message and "certifications" not in e.message for e in closed.errors)
    assert "certificationz" in closed.errors[0].message


PAST = '{ %s }' % " ".join(f'c{n}: certification(code: "RNCP1", asOf: "2024-01-01T00:00:00Z") {{ code }}'
                           for n in range(30))


async def test_each_past_state_costs_the_replay_of_its_history_whoever_asks():
    """30 aliases of `certification(asOf)` are 30 replays in the gateway, not 30 fields."""
    for caller in (SIGNED, Request()):
        result = await schema.execute(PAST, context_value=caller)
        assert result.errors[0].extensions["code"] == "QueryTooCostly", result.errors
    from graphql import parse

    from services.gateway.schema.guards import Cost

    one = parse('{ certification(code: "RNCP1", asOf: "2024-01-01T00:00:00Z") { code } }')
    assert Cost(schema._schema, {}, {}).of(one.definitions[0].selection_set, schema._schema.query_type,
                                           frozenset()) == REPLAY_COST + 2
    by_variable = await schema.execute("query($at: DateTime) { a: certification(code: \"R\", asOf: $at) { code }"
                                       " b: certification(code: \"R\", asOf: $at) { code } }",
                                       variable_values={"at": "2024-01-01T00:00:00Z"}, context_value=Request())
    assert by_variable.errors[0].extensions["code"] == "QueryTooCostly"


CATALOG_PAGE = "{ certifications(first: 200) { edges { node { code title blocks { code title } } } } }"


async def test_a_caller_without_a_token_has_a_smaller_bound_per_operation():
    anonymous = await schema.execute(CATALOG_PAGE, context_value=Request())
    assert anonymous.errors[0].extensions["code"] == "QueryTooCostly"
    assert str(ANONYMOUS_MAX_COST) in anonymous.errors[0].message and "without a token" in anonymous.errors[0].message
    signed = await schema.execute(CATALOG_PAGE, context_value=SIGNED)
    assert not signed.errors or signed.errors[0].extensions.get("code") != "QueryTooCostly"


async def test_a_token_that_does_not_verify_gets_the_budget_of_no_token():
    class Forged(Request):
        async def verify(self, token):
            raise Unauthenticated("the bearer token is not a JWT")

    result = await schema.execute(CATALOG_PAGE, context_value=Forged("not.a.jwt"))
    assert result.errors[0].extensions["code"] == "QueryTooCostly"


def test_each_address_without_a_token_spends_a_budget_refilled_at_a_steady_rate():
    now = [0.0]
    budgets = Budgets(size=4000, per_second=500, clock=lambda: now[0])
    assert budgets.take("127.0.0.2", 3000) == 0
    assert budgets.take("127.0.0.2", 2000) == 2.0  # 1000 left: 2 s until 2000
    assert budgets.take("127.0.0.3", 2000) == 0  # another address, its own budget
    now[0] += 2
    assert budgets.take("127.0.0.2", 2000) == 0


def test_addresses_whose_budget_is_full_again_are_forgotten():
    now = [0.0]
    budgets = Budgets(size=100, per_second=10, addresses=2, clock=lambda: now[0])
    budgets.take("127.0.0.2", 50)
    budgets.take("127.0.0.3", 50)
    now[0] += 10
    budgets.take("127.0.0.4", 50)
    assert len(budgets._left) == 1


async def test_a_burst_of_requests_without_a_token_from_one_address_is_refused_once_its_budget_is_spent():
    guarded = build_schema(bounds=Bounds(anonymous=Budgets(size=4000, per_second=0.001)))
    query = '{ certification(code: "RNCP1", asOf: "2024-01-01T00:00:00Z") { code title } }'
    answers = [await guarded.execute(query, context_value=Request()) for _ in range(5)]
    refused = [a.errors[0] for a in answers if a.errors and a.errors[0].extensions.get("code") == "TooManyRequests"]
    assert len(refused) == 2 and "try again in" in refused[0].message  # 3 replays of 1003, then the budget is out
    signed = await guarded.execute(query, context_value=SIGNED)
    assert not signed.errors or signed.errors[0].extensions.get("code") != "TooManyRequests"


async def test_an_answer_larger_than_the_bound_is_refused_alone_and_logged_once(caplog):
    query = "{ __schema { types { name description fields { name description } } } }"
    assert (await schema.execute(query, context_value=SIGNED)).errors is None
    with caplog.at_level(logging.INFO, logger="graphql"):
        result = await build_schema(bounds=Bounds(max_response_bytes=2000)).execute(query, context_value=SIGNED)
    assert result.data is None and [e.extensions["code"] for e in result.errors] == ["ResponseTooLarge"]
    assert "2000" in result.errors[0].message
    assert len([r for r in caplog.records if "ResponseTooLarge" in str(r.__dict__)]) == 1


SUBSCRIPTION = """subscription($id: ID!) { candidacyChanged(id: $id) { id certification { predecessors { predecessors {
  versions { blocks { code title competences modalities } } } } } } }"""


async def test_a_subscription_goes_through_the_same_guard_as_a_query():
    costly = await schema.subscribe(SUBSCRIPTION, variable_values={"id": "x"}, context_value=SIGNED)
    first = await anext(costly)
    assert first.errors[0].extensions["code"] == "QueryTooCostly"
    nul = await schema.subscribe("subscription($id: ID!) { candidacyChanged(id: $id) { id } }",
                                 variable_values={"id": "a\x00b"}, context_value=SIGNED)
    assert (await anext(nul)).errors[0].extensions["code"] == "InvalidInput"


async def test_a_control_character_in_a_mutations_input_is_its_typed_invalid_input_member_with_the_path():
    result = await schema.execute(
        'mutation($i: CreateBranchInput!) { createBranch(input: $i, idempotencyKey: "k") { __typename'
        ' ... on InvalidInput { code problems { field problem } } } }',
        variable_values={"i": {"code": "UIMM", "name": "U\x00IMM", "idcc": ["31\x0009"]}}, context_value=SIGNED)
    assert result.errors is None, result.errors
    answer = result.data["createBranch"]
    assert answer["__typename"] == "InvalidInput"
    assert [p["field"] for p in answer["problems"]] == ["name", "idcc.0"]
    literal = await schema.execute('mutation { createBranch(input: {code: "U", name: "U\\u0000"}, idempotencyKey:'
                                   ' "k\\u0007") { __typename ... on InvalidInput { problems { field } } } }',
                                   context_value=SIGNED)
    assert literal.data["createBranch"]["problems"] == [{"field": "name"}, {"field": "idempotency_key"}]


class Sending(Request):
    """A signed-in caller whose commands are recorded, never sent."""

    def __init__(self):
        super().__init__("a verified token")
        self.sent = []

    async def send(self, service, command, body, idempotency_key):
        self.sent.append(command)
        raise AssertionError("a bad input must never be sent")


REGISTER = ('mutation($i: RegisterCandidateInput!) { registerCandidate(input: $i, idempotencyKey: "k") { __typename'
            ' ... on InvalidInput { code problems { field problem } } } }')
PERSON = {"givenName": "Zoé", "familyName": "Lambert", "email": "zoe@example.org", "status": "EMPLOYEE"}


async def test_a_value_its_scalar_cannot_parse_is_the_typed_invalid_input_member_with_its_path_and_sends_nothing():
    caller = Sending()
    for day in ("10000-01-01", "2024-02-30", "19-SECRET-84", "1850-01-01"):
        by_variable = await schema.execute(REGISTER, variable_values={"i": {**PERSON, "birthDate": day}},
                                           context_value=caller)
        assert by_variable.errors is None, (day, by_variable.errors)
        answer = by_variable.data["registerCandidate"]
        assert (answer["__typename"], [p["field"] for p in answer["problems"]]) == ("InvalidInput", ["birth_date"])
        assert day not in str(answer)  # the problem names the field, never the value
    inline = await schema.execute('mutation { registerCandidate(input: {givenName: "Zoé", familyName: "L", email:'
                                  ' "z@example.org", status: EMPLOYEE, birthDate: "2024-02-30"}, idempotencyKey: "k")'
                                  ' { __typename ... on InvalidInput { problems { field } } } }', context_value=caller)
    assert inline.errors is None, inline.errors
    assert inline.data["registerCandidate"] == {"__typename": "InvalidInput", "problems": [{"field": "birth_date"}]}
    for amount in ("12,50", "lots", "1e400x", 1.005):
        funding = await schema.execute(
            'mutation($a: Decimal!) { requestFunding(input: {candidacyId: "c", funder: OPCO, amount: $a},'
            ' idempotencyKey: "k") { __typename ... on InvalidInput { problems { field } } } }',
            variable_values={"a": amount}, context_value=caller)
        assert funding.errors is None, (amount, funding.errors)
        assert funding.data["requestFunding"] == {"__typename": "InvalidInput", "problems": [{"field": "amount"}]}
    assert caller.sent == []


async def test_a_control_character_in_a_variables_default_is_the_typed_invalid_input_member_with_its_path():
    caller = Sending()
    result = await schema.execute(
        'mutation($i: CreateBranchInput! = {code: "UIMM", name: "U\\u0000IMM"}) { createBranch(input: $i,'
        ' idempotencyKey: "k") { __typename ... on InvalidInput { problems { field } } } }', context_value=caller)
    assert result.errors is None, result.errors
    assert result.data["createBranch"] == {"__typename": "InvalidInput", "problems": [{"field": "name"}]}
    assert caller.sent == []


async def test_a_day_a_query_cannot_read_is_refused_before_anything_runs():
    for day in ("2024-02-30", "10000-01-01"):
        by_variable = await schema.execute("query($d: Date) { candidacies(filter: {openedFrom: $d}) { totalCount } }",
                                           variable_values={"d": day}, context_value=SIGNED)
        assert by_variable.data is None and by_variable.errors[0].extensions["code"] == "InvalidInput", by_variable
        assert "$d" in by_variable.errors[0].message and day not in by_variable.errors[0].message
        inline = await schema.execute('{ candidacies(filter: {openedFrom: "%s"}) { totalCount } }' % day,
                                      context_value=SIGNED)
        assert inline.data is None and inline.errors[0].extensions["code"] == "InvalidInput", inline
        in_answer = await schema.execute(  # a mutation's answer is read as a query is
            'mutation { createCertification(input: {code: "RNCP1", kind: CQPM, title: "T", owners: ["UIMM"]},'
            ' idempotencyKey: "k") { ... on CertificationChanged { certification { expired(on: "%s") } } } }' % day,
            context_value=Sending())
        assert in_answer.data is None and in_answer.errors[0].extensions["code"] == "InvalidInput", in_answer


async def test_introspection_costs_the_schema_described_one_full_one_for_a_caller_without_a_token():
    from graphql import get_introspection_query

    full = get_introspection_query(descriptions=True)
    assert (await schema.execute(full, context_value=Request())).errors is None  # GraphiQL's, without a token
    twice = "{ a: __schema { types { name } } b: __schema { types { name } } c: __type(name: \"Query\") { name } }"
    refused = await schema.execute(twice, context_value=Request())
    assert refused.errors[0].extensions["code"] == "QueryTooCostly", refused.errors  # was counted as 3 fields


async def test_a_query_while_the_gateway_database_is_away_is_service_unavailable_never_the_drivers_text():
    import asyncpg

    from services.gateway.schema.context import Context

    class Away:
        def __init__(self, error):
            self.error = error

        async def fetch(self, *args):
            raise self.error

        fetchrow = fetchval = fetch

    for error in (ConnectionRefusedError(111, "Connect call failed"),
                  asyncpg.CannotConnectNowError("the database system is starting up")):
        context = Context(SimpleNamespace(headers={}, client=None), Away(error), None, SIGNED, "c")
        result = await schema.execute("{ branches { totalCount } }", context_value=context)
        assert [e.extensions["code"] for e in result.errors] == ["ServiceUnavailable"], result.errors
        assert result.errors[0].message == "the gateway's database is unavailable; try again shortly"
        assert result.errors[0].path == ["branches"]
