"""GraphQL output types made from the public contracts' value objects (shared/contracts/): a block, a
version's settings, a registration are declared once, there, with their vocabulary; this only names them
in GraphQL. The read models keep them as the contract dumps them, so a row is read back with the contract.
"""

from __future__ import annotations

import types
import typing

import strawberry
from pydantic import BaseModel

from services.gateway.schema.inputs import graphql_type


def graphql_output(model: type[BaseModel], *, name: str | None = None, description: str | None = None,
                   descriptions: dict[str, str] | None = None) -> type:
    """The strawberry type of a contract's value object: its fields, types and nullability as the contract
    declares them (named `name`, the model's name by default), with `from_row` reading a read model's JSON
    (text or parsed) through the contract. Flat value objects only: none nests another yet."""
    annotations, fields = {}, {}
    for field_name, info in model.model_fields.items():
        shown = graphql_type(info.annotation, field_name, part=_nested, ids=False)
        annotations[field_name] = typing.Optional[shown] if _nullable(info.annotation) else shown  # noqa: UP007
        fields[field_name] = strawberry.field(description=(descriptions or {}).get(field_name))

    def from_row(cls, data):
        value = model.model_validate_json(data) if isinstance(data, str | bytes) else model.model_validate(data)
        return cls(**dict(value))

    cls = type(name or model.__name__, (), {"__annotations__": annotations, **fields,
                                             "from_row": classmethod(from_row)})
    return strawberry.type(cls, description=description)


def _nullable(annotation) -> bool:
    return (typing.get_origin(annotation) in (typing.Union, types.UnionType)
            and type(None) in typing.get_args(annotation))


def _nested(model: type[BaseModel]):
    raise TypeError(f"{model.__name__}: a nested value object has no GraphQL output yet")
