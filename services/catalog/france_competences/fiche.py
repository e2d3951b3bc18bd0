"""One fiche of the France Compétences repertoires, as the catalog's import command takes it.

Both export formats are read into this one shape; everything not given by a format is None or empty.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["NIV1", "NIV2", "NIV3", "NIV4", "NIV5", "NIV6", "NIV7", "NIV8"]
# The access routes of a fiche (SI_JURY_* in the XML, Si_Jury labels in the CSV).
Route = Literal["FI", "CA", "FC", "CQ", "CL", "VAE"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Certifier(_Model):
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    name: str = Field(min_length=1)


class FicheBlock(_Model):
    code: str = Field(min_length=1)
    title: str = Field(min_length=1)
    competences: str | None = None  # XML LISTE_COMPETENCES; absent from the CSV
    modalities: str | None = None  # XML MODALITES_EVALUATION; absent from the CSV


class Correspondence(_Model):
    """Blocks of this fiche declared equivalent, together, to blocks of another fiche (CORRESPONDANCES).

    Both sides are groups in the real flow (RNCP36490 BC01+BC02+BC03 = RNCP37778 BC01+BC02), and a side
    may have no block at all (an RS target has none; RNCP37674 -> RNCP31114 is fiche to fiche): an empty
    list means the whole fiche.
    """

    blocks: list[str] = Field(default_factory=list)
    target_fiche: str = Field(min_length=1)
    target_blocks: list[str] = Field(default_factory=list)


class Fiche(_Model):
    number: str = Field(pattern=r"^(RNCP|RS)\d+$")  # NUMERO_FICHE
    title: str = Field(min_length=1)
    level: Level | None = None  # None: no level ("REPRISE", RS, missing)
    active: bool
    state: str | None = None  # ETAT_FICHE, XML only ("Publiée", "Modifications à valider", ...)
    registration_type: str | None = None  # "Enregistrement sur demande" | "Enregistrement de droit"
    decision_date: date | None = None
    effect_date: date | None = None
    end_date: date | None = None  # DATE_FIN_ENREGISTREMENT
    delivery_deadline: date | None = None  # DATE_LIMITE_DELIVRANCE
    routes: list[Route] = Field(default_factory=list)
    certifiers: list[Certifier] = Field(default_factory=list)
    blocks: list[FicheBlock] = Field(default_factory=list)
    predecessors: list[str] = Field(default_factory=list)  # ANCIENNES_CERTIFICATIONS
    successors: list[str] = Field(default_factory=list)  # NOUVELLES_CERTIFICATIONS
    correspondences: list[Correspondence] = Field(default_factory=list)
    idcc: list[str] = Field(default_factory=list)  # collective agreements (CCN numbers)

    @property
    def registry(self) -> Literal["RNCP", "RS"]:
        return "RS" if self.number.startswith("RS") else "RNCP"


class Rejected(_Model):
    """A fiche that could not be read, and why: the import reports it and goes on."""

    number: str | None
    reason: str
