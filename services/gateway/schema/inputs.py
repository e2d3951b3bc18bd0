"""GraphQL inputs generated from the commands (shared/commands/): a command's fields, bounds and
vocabulary are declared once, there; this only says how each shows in GraphQL.

A field with a default shows it; a field whose default is none is optional, and left out of the command
when the client leaves it out (the service tells "not given" from "given as null" where that matters).
The service validates the command again, with its model, and answers typed errors.

A field of bytes (a document's, `shared.commands.Upload`, base64 in the command's JSON) is strawberry's `Upload`
scalar: the file of a GraphQL multipart request; forward.py reads it and sends it base64 (`read_uploads`).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date
from decimal import Decimal

import strawberry
from pydantic import BaseModel
from strawberry.file_uploads import Upload
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateDefinition, DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

class Unread(str):
    """A value its scalar cannot read (`2024-02-30` as a Date, `12,50` as a Decimal), kept as its text: in a
    mutation's own input the command model refuses it with its path, as any other bad value (forward.py);
    anywhere else the guard refuses it before anything runs (guards.py)."""


def _lenient(definition: ScalarDefinition) -> ScalarDefinition:
    strict = definition.parse_value

    def parse_value(value):
        try:
            return strict(value)
        except (StrawberryInputCoercionError, ValueError, TypeError, ArithmeticError):
            return Unread(value)

    # Same name and description: the SDL is unchanged; only a value it cannot read is no longer a GraphQL error.
    return dataclasses.replace(definition, parse_value=parse_value, implementation=None)


# The scalars of the commands' inputs (schema/__init__.py overrides strawberry's with them).
SCALARS = {date: _lenient(DateDefinition), Decimal: _lenient(DecimalDefinition)}

_made: dict[str, tuple[type[BaseModel], type]] = {}  # by GraphQL name: the model it was made from, the input


def input_name(model: type[BaseModel]) -> str:
    """<Model>Input, or the `graphql_name` the model declares. A name declared by a parent holds for a
    subclass only when the subclass carries exactly the parent's fields (the steps that name only their
    candidacy share CandidacyInput): otherwise the subclass would silently show as its parent's input, its
    own fields missing from GraphQL. It then declares its own name (`graphql_name = None`: <Model>Input)."""
    owner = next((c for c in model.__mro__ if "graphql_name" in vars(c)), model)
    name = getattr(model, "graphql_name", None)
    if name and owner is not model and _shape(owner) != _shape(model):
        raise TypeError(f"{model.__name__} inherits the GraphQL input name {name} of {owner.__name__} but not its "
                        "fields: declare its own graphql_name (None for <Model>Input)")
    return name or f"{model.__name__}Input"


def _shape(model: type[BaseModel]) -> dict:
    """What a model's GraphQL input is made of: its fields, each with its type, default and description."""
    return {n: (f.annotation, f.is_required(), f.default, f.default_factory, f.description)
            for n, f in model.model_fields.items()}


def graphql_input(model: type[BaseModel]) -> type:
    """The strawberry input of a command or of one of its parts (named as `input_name` says). One name is one
    input: two models of different fields under the same name are refused, never one made to stand for both."""
    name = input_name(model)
    if name in _made:
        made_from, made = _made[name]
        if made_from is not model and _shape(made_from) != _shape(model):
            raise TypeError(f"{model.__name__} and {made_from.__name__} would both be the GraphQL input {name}")
        return made
    annotations, fields = {}, {}
    for field_name, info in model.model_fields.items():
        shown = graphql_type(info.annotation, field_name)
        annotations[field_name] = shown
        if info.is_required():
            fields[field_name] = strawberry.field(description=info.description)
        elif info.default_factory is list:
            fields[field_name] = strawberry.field(default_factory=list, description=info.description)
        elif info.default_factory is None and info.default is not None:
            fields[field_name] = strawberry.field(default=info.default, description=info.description)
        else:  # None: left out of the command unless given
            annotations[field_name] = typing.Optional[shown]  # noqa: UP007 (a runtime type)
            fields[field_name] = strawberry.field(default=strawberry.UNSET, description=info.description)
    cls = type(name, (), {"__annotations__": annotations, **fields})
    made = strawberry.input(cls, name=name, description=(model.__doc__ or "").strip() or None)
    _made[name] = (model, made)
    return made


def graphql_type(annotation, field_name: str, part=graphql_input, ids: bool = True):
    """How a field's type shows in GraphQL, its nullability left to the caller: a model as `part` makes it (an
    input here, a type in outputs.py), an enum as the vocabulary's one GraphQL enum (the same for inputs and
    outputs), a text named *_id as an ID when `ids`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return graphql_type(inner, field_name, part, ids)
    if origin is list:
        return list[graphql_type(args[0], field_name, part, ids)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return part(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return strawberry.enum(annotation) if not hasattr(annotation, "__strawberry_definition__") else annotation
    if annotation is str and ids and field_name.endswith("_id"):
        return strawberry.ID
    if annotation is bytes:  # a document's bytes (pydantic Base64Bytes): the file of a multipart request
        return Upload
    if annotation in (str, int, bool, date, Decimal):
        return annotation
    raise TypeError(f"no GraphQL type for {annotation!r} ({field_name})")


def command_body(input) -> dict:
    """A GraphQL input as the command's JSON, leaving out what the client did not give."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not strawberry.UNSET}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, date | Decimal):
            return str(value)
        return value

    return plain(strawberry.asdict(input))
