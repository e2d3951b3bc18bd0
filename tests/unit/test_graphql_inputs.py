"""The GraphQL inputs generated from the commands: one name is one input, never a parent's standing for a
subclass that carries more."""

from __future__ import annotations

import pytest

from shared.commands import Command, Id

from services.gateway.schema.inputs import graphql_input


class OnThing(Command):
    """A step on one thing."""

    graphql_name = "ThingStepInput"
    thing_id: str = Id


class Poke(OnThing):
    operation = "poke"


class Paint(OnThing):
    operation = "paint"
    colour: str


class Repaint(OnThing):
    operation = "repaint"
    graphql_name = None
    colour: str


class Other(Command):
    operation = "other"
    graphql_name = "ThingStepInput"
    count: int


def fields(input_type) -> set[str]:
    return {f.python_name for f in input_type.__strawberry_definition__.fields}


def test_a_subclass_with_fields_of_its_own_never_shows_as_its_parents_input():
    """A subclass that adds a field and does not name its input would silently be its parent's input in
    GraphQL, the field missing: the generator refuses it, whatever was made before."""
    graphql_input(OnThing)
    with pytest.raises(TypeError, match="Paint inherits the GraphQL input name ThingStepInput"):
        graphql_input(Paint)


def test_a_subclass_with_exactly_its_parents_fields_shares_its_input_and_one_naming_its_own_gets_it():
    assert graphql_input(Poke) is graphql_input(OnThing)
    repaint = graphql_input(Repaint)
    assert repaint.__strawberry_definition__.name == "RepaintInput"
    assert fields(repaint) == {"thing_id", "colour"}


def test_two_models_of_different_fields_are_never_one_input_under_the_same_name():
    graphql_input(OnThing)
    with pytest.raises(TypeError, match="would both be the GraphQL input ThingStepInput"):
        graphql_input(Other)
