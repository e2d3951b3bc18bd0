"""The gateway parses and validates a document once, and its limits hold for every request all the same."""

import uuid

from strawberry.extensions import ParserCache, ValidationCache

from services.gateway.schema import CACHED_DOCUMENTS, build_schema


async def test_the_same_document_sent_again_is_neither_parsed_nor_validated_again():
    schema = build_schema()
    parses = ParserCache(maxsize=CACHED_DOCUMENTS).cached_parse_document
    validations = ValidationCache(maxsize=CACHED_DOCUMENTS).cached_validate_document
    document = f"query {{ __typename alias{uuid.uuid4().hex}: __typename }}"
    before = parses.cache_info().hits, validations.cache_info().hits
    for _ in range(3):
        assert (await schema.execute(document)).errors is None
    assert (parses.cache_info().hits - before[0], validations.cache_info().hits - before[1]) == (2, 2)


async def test_a_document_over_the_limits_is_refused_every_time_it_is_sent():
    schema = build_schema()
    too_deep = "query { " + "a: __type(name: \"Query\") { fields { type { ofType { " * 3 + "name" + " } } } }" * 3 + " }"
    too_many_tokens = "query { " + " ".join(f"a{n}: __typename" for n in range(1200)) + " }"
    for document in (too_deep, too_many_tokens):
        for _ in range(2):
            assert (await schema.execute(document)).errors, document[:40]
