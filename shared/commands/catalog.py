"""The catalog's commands."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.commands import EMAIL, Code, Command, Id, Part
from shared.vocabulary import (
    AccessRoute, AccreditationScope, CertificationKind, Level, OrganisationKind, Registry, UnansweredAdmissibility,
)


class Block(Part):
    code: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=1000)
    competences: str | None = Field(default=None, max_length=50_000)
    modalities: str | None = Field(default=None, max_length=50_000)


class VersionSettings(Part):
    vae_min_experience_months: int | None = Field(default=None, ge=0, le=240)
    block_validity_months: int | None = Field(default=None, ge=1, le=600)
    jury_quorum: int | None = Field(default=None, ge=2, le=50)
    # Days the certifier has to answer a VAE admissibility request; unset: the branch's delay.
    admissibility_answer_days: int | None = Field(default=None, ge=1, le=365)

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class CreateBranch(Command):
    operation = "create-branch"

    code: str = Code
    name: str = Field(min_length=1, max_length=300)
    idcc: list[str] = Field(default_factory=list, max_length=50)
    cpne: str = Field(default="", max_length=300)


class BranchDeadlines(Part):
    """The delays to change (shared/contracts/catalog.py BranchDeadlines: what each means); those left out stay."""

    declaration_months: int | None = Field(default=None, ge=1, le=12)
    declaration_reminder_days: int | None = Field(default=None, ge=0, le=180)
    admissibility_answer_days: int | None = Field(default=None, ge=1, le=365)
    unanswered_admissibility: UnansweredAdmissibility | None = None
    admissibility_reminder_days: int | None = Field(default=None, ge=0, le=180)
    convocation_days_before: int | None = Field(default=None, ge=1, le=180)
    results_days_after: int | None = Field(default=None, ge=0, le=180)
    expiry_notice_days: int | None = Field(default=None, ge=0, le=365)
    block_validity_notice_days: int | None = Field(default=None, ge=0, le=730)

    def given(self) -> dict:
        return self.model_dump(exclude_none=True, mode="json")


class SetBranchDeadlines(Command):
    """A branch's delays (services/jury/deadlines): the deadlines opened from then on use them."""

    operation = "set-branch-deadlines"

    code: str = Code
    deadlines: BranchDeadlines


class SetBranchContact(Command):
    """The address of the branch's certification office: its reminders (declarations, admissibility answers,
    results to enter, registrations and accreditations ending) go there. A functional mailbox, not a person's."""

    operation = "set-branch-contact"

    code: str = Code
    email: str = Field(pattern=EMAIL, max_length=320)


class RegisterOrganisation(Command):
    operation = "register-organisation"

    name: str = Field(min_length=1, max_length=300)
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    kinds: list[OrganisationKind] = Field(min_length=1, max_length=5)


class CreateCertification(Command):
    operation = "create-certification"

    code: str = Code
    kind: CertificationKind
    title: str = Field(min_length=1, max_length=500)
    owners: list[str] = Field(min_length=1, max_length=30)
    blocks: list[Block] = Field(default_factory=list, max_length=100)
    settings: VersionSettings = Field(default_factory=VersionSettings)
    effective_from: date | None = None


class PublishVersion(Command):
    operation = "publish-version"

    code: str = Code
    blocks: list[Block] = Field(min_length=1, max_length=100)
    settings: VersionSettings = Field(default_factory=VersionSettings)
    effective_from: date | None = None


class ChangeOwners(Command):
    operation = "change-owners"

    code: str = Code
    owners: list[str] = Field(min_length=1, max_length=30)


class RecordRegistration(Command):
    operation = "record-registration"

    code: str = Code
    registry: Registry
    number: str = Field(pattern=r"^(RNCP|RS)\d+$")
    level: Level | None = None
    active: bool = True
    state: str | None = None
    registration_type: str | None = None
    decision_date: date | None = None
    effect_date: date | None = None
    end_date: date | None = None
    delivery_deadline: date | None = None
    routes: list[AccessRoute] = Field(default_factory=list)


class DeclareSuccession(Command):
    operation = "declare-succession"

    predecessor: str = Code
    successor: str = Code


class DeclareEquivalence(Command):
    operation = "declare-equivalence"

    code: str = Code
    block: str = Field(min_length=1, max_length=64)
    target: str = Code
    target_block: str = Field(min_length=1, max_length=64)


class Accredit(Command):
    operation = "accredit"

    organisation_id: str = Id
    branch: str = Code
    certifications: list[str] = Field(min_length=1, max_length=200)
    scope: AccreditationScope
    valid_from: date
    valid_until: date | None = None


class WithdrawAccreditation(Command):
    operation = "withdraw-accreditation"

    organisation_id: str = Id
    accreditation_id: str = Id
    on: date
    reason: str = Field(min_length=1, max_length=2000)


# The batch import of France Compétences fiches (`cqp catalog import`): both export formats are read into
# one `Fiche` (services/catalog/france_competences/readers.py); what a format does not give is None or empty.
# Not in GraphQL.

FicheLevel = Literal["NIV1", "NIV2", "NIV3", "NIV4", "NIV5", "NIV6", "NIV7", "NIV8"]
# The access routes of a fiche (SI_JURY_* in the XML, Si_Jury labels in the CSV).
FicheRoute = Literal["FI", "CA", "FC", "CQ", "CL", "VAE"]


class FicheModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Certifier(FicheModel):
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    name: str = Field(min_length=1)


class FicheBlock(FicheModel):
    code: str = Field(min_length=1)
    title: str = Field(min_length=1)
    competences: str | None = None  # XML LISTE_COMPETENCES; absent from the CSV
    modalities: str | None = None  # XML MODALITES_EVALUATION; absent from the CSV


class Correspondence(FicheModel):
    """Blocks of this fiche declared equivalent, together, to blocks of another fiche (CORRESPONDANCES).

    Both sides are groups in the real flow (RNCP36490 BC01+BC02+BC03 = RNCP37778 BC01+BC02), and a side
    may have no block at all (an RS target has none; RNCP37674 -> RNCP31114 is fiche to fiche): an empty
    list means the whole fiche.
    """

    blocks: list[str] = Field(default_factory=list)
    target_fiche: str = Field(min_length=1)
    target_blocks: list[str] = Field(default_factory=list)


class Fiche(FicheModel):
    """One fiche of the France Compétences repertoires, as the import command takes it."""

    number: str = Field(pattern=r"^(RNCP|RS)\d+$")  # NUMERO_FICHE
    title: str = Field(min_length=1)
    level: FicheLevel | None = None  # None: no level ("REPRISE", RS, missing)
    active: bool
    state: str | None = None  # ETAT_FICHE, XML only ("Publiée", "Modifications à valider", ...)
    registration_type: str | None = None  # "Enregistrement sur demande" | "Enregistrement de droit"
    decision_date: date | None = None
    effect_date: date | None = None
    end_date: date | None = None  # DATE_FIN_ENREGISTREMENT
    delivery_deadline: date | None = None  # DATE_LIMITE_DELIVRANCE
    routes: list[FicheRoute] = Field(default_factory=list)
    certifiers: list[Certifier] = Field(default_factory=list)
    blocks: list[FicheBlock] = Field(default_factory=list)
    predecessors: list[str] = Field(default_factory=list)  # ANCIENNES_CERTIFICATIONS
    successors: list[str] = Field(default_factory=list)  # NOUVELLES_CERTIFICATIONS
    correspondences: list[Correspondence] = Field(default_factory=list)
    idcc: list[str] = Field(default_factory=list)  # collective agreements (CCN numbers)


class ImportFiche(Command):
    """Not in GraphQL: the batch path of `cqp catalog import`, one fiche of the registry's export."""

    operation = "import-fiche"

    fiche: Fiche
    owners: list[str] = Field(default_factory=list, max_length=30)
    kind: CertificationKind | None = None
