"""A fiche of the France Compétences exports that could not be read (the fiches read are
`shared.commands.catalog.Fiche`, the shape the catalog's import command takes)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Rejected(BaseModel):
    """A fiche that could not be read, and why: the import reports it and goes on."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    number: str | None
    reason: str
