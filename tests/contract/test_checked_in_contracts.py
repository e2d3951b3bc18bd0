"""The checked-in GraphQL SDL and AsyncAPI document are what the code generates."""

import json

import pytest

from shared.contracts import candidacy, catalog
from tools.cli import generated_contracts


@pytest.mark.parametrize("path, text", generated_contracts().items(), ids=lambda v: getattr(v, "name", ""))
def test_the_checked_in_file_matches_the_code(path, text):
    assert path.read_text() == text, f"{path.name} is out of date: run `cqp contracts write` and commit it"


def test_the_asyncapi_document_describes_every_published_contract():
    (_, asyncapi), = [(p, t) for p, t in generated_contracts().items() if p.suffix == ".json"]
    channels = json.loads(asyncapi)["channels"]
    for registry in (catalog.REGISTRY, candidacy.REGISTRY):
        for contract in registry.contracts:
            channel = channels[f"{registry.topic}:{contract.event_type}"]
            assert channel["address"] == registry.topic
