"""The gateway's guards refuse before running anything, and mask what callers sent in the logs."""

import logging

from services.gateway.schema import build_schema, schema
from services.gateway.schema.guards import MAX_COST, mask

COSTLY = """query($n: Int!) { certifications(first: $n) { edges { node { code title blocks { code title }
  versions { number blocks { code title } } } } } }"""


async def test_an_operation_whose_pages_multiply_past_the_budget_is_refused_before_it_runs():
    result = await schema.execute(COSTLY, variable_values={"n": 200}, context_value=None)
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
