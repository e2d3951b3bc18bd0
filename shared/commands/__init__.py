"""The commands, each declared once as a typed model: what it carries, its bounds, its vocabulary.

The owning service's endpoint validates its input with it and its application method takes it; the
gateway's GraphQL input is generated from it (services/gateway/schema/inputs.py); who may run it, and
on what, is its row of the role table (shared/roles.toml), named by `operation`. Public contracts of
the requests, apart from the stored events and their public contracts (shared/contracts/).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field, field_validator

# An identifier given by another aggregate (a candidacy, an organisation, a session).
Id = Field(min_length=1, max_length=64)
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"  # an address as a mail relay takes it (no name, no angle brackets)
# A certification's or a branch's code.
Code = Field(min_length=2, max_length=64)
# Every day a command names lies within these: a date beyond them is a typing error, and one at the edge
# of the calendar (0001-01-01, 9999-12-31) would overflow the arithmetic done on it.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)


class Part(BaseModel):
    """A part of a command (a block, a period): unknown fields are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plausible_day(cls, value):
        if isinstance(value, date) and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise ValueError(f"a date lies between {EARLIEST_DAY} and {LATEST_DAY}")
        return value


class Command(Part):
    """A command: `operation` is its name on the service's endpoint and in the role table."""

    operation: ClassVar[str]
    # The name of its GraphQL input, when not <ClassName>Input.
    graphql_name: ClassVar[str | None] = None


class Upload(Part):
    """The file of a command attaching a document (shared/documents.py checks it against its kind's rules).
    In JSON its content is base64; in GraphQL, the file of a multipart request (the gateway's README)."""

    filename: str = Field(min_length=1, max_length=200, description="The file's name, as the person sees it")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="The SHA-256 of the file's bytes, hex: the "
                        "document is refused (DigestMismatch) unless the bytes received have it")
    content: Base64Bytes = Field(description="The file's bytes")
    supersedes: str | None = Field(default=None, max_length=64, description="The document this one replaces (by "
                                   "default, for a kind held once, the current one): the history keeps both")
