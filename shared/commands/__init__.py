"""The commands, each declared once as a typed model: what it carries, its bounds, its vocabulary.

The owning service's endpoint validates its input with it and its application method takes it; the
gateway's GraphQL input is generated from it (services/gateway/schema/inputs.py); who may run it, and
on what, is its row of the role table (shared/roles.toml), named by `operation`. Public contracts of
the requests, apart from the stored events and their public contracts (shared/contracts/).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

# An identifier given by another aggregate (a candidacy, an organisation, a session).
Id = Field(min_length=1, max_length=64)
# A certification's or a branch's code.
Code = Field(min_length=2, max_length=64)


class Part(BaseModel):
    """A part of a command (a block, a period): unknown fields are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Command(Part):
    """A command: `operation` is its name on the service's endpoint and in the role table."""

    operation: ClassVar[str]
    # The name of its GraphQL input, when not <ClassName>Input.
    graphql_name: ClassVar[str | None] = None
