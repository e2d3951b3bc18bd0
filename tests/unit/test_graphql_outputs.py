"""The GraphQL output types: value objects are the contracts' (fields, types, nullability), rows are read back
with the contract, and a word of the vocabulary is one GraphQL enum whether a client sends or reads it."""

from __future__ import annotations

import json
from datetime import date

from shared.contracts import catalog
from shared.vocabulary import AccessRoute, Level, Registry

from services.gateway.schema import schema
from services.gateway.schema.catalog.types import Registration


def sdl_type(name: str, kind: str = "type") -> list[str]:
    """The lines of a type (or input, enum) of the SDL, its fields' descriptions aside."""
    lines = schema.as_str().splitlines()
    start = lines.index(f"{kind} {name} {{")
    return [line.strip() for line in lines[start + 1:lines.index("}", start)]
            if line.strip() and not line.strip().startswith('"')]


def test_a_value_object_shows_the_fields_of_its_contract_with_their_nullability_and_vocabulary():
    assert sdl_type("Registration") == [
        "registry: Registry!", "number: String!", "level: Level", "active: Boolean!", "state: String",
        "registrationType: String", "decisionDate: Date", "effectDate: Date", "endDate: Date",
        "deliveryDeadline: Date", "routes: [AccessRoute!]!"]


def test_a_row_is_read_back_with_its_contract():
    recorded = catalog.Registration(registry=Registry.RNCP, number="RNCP1", level=Level.NIV3, active=True,
                                    state=None, registration_type=None, decision_date=None, effect_date=None,
                                    end_date=date(2030, 1, 31), delivery_deadline=None, routes=[AccessRoute.VAE])
    read = Registration.from_row(recorded.model_dump_json())
    assert (read.level, read.routes, read.end_date) == (Level.NIV3, [AccessRoute.VAE], date(2030, 1, 31))
    assert Registration.from_row(json.loads(recorded.model_dump_json())) == read


def test_a_word_of_the_vocabulary_is_one_enum_for_inputs_and_outputs():
    assert schema.as_str().count("enum Funder {") == 1
    assert "funder: Funder!" in sdl_type("Funding") and "funder: Funder!" in sdl_type("RequestFundingInput", "input")
    assert "level: Level" in sdl_type("Registration") and "level: Level" in sdl_type("RecordRegistrationInput", "input")
