"""The catalog's commands."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.commands import Code, Command, Id, Part
from shared.vocabulary import AccessRoute, AccreditationScope, CertificationKind, Level, OrganisationKind, Registry


class Block(Part):
    code: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=1000)
    competences: str | None = Field(default=None, max_length=50_000)
    modalities: str | None = Field(default=None, max_length=50_000)


class VersionSettings(Part):
    vae_min_experience_months: int | None = Field(default=None, ge=0, le=240)
    block_validity_months: int | None = Field(default=None, ge=1, le=600)
    jury_quorum: int | None = Field(default=None, ge=2, le=50)

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class CreateBranch(Command):
    operation = "create-branch"

    code: str = Code
    name: str = Field(min_length=1, max_length=300)
    idcc: list[str] = Field(default_factory=list, max_length=50)
    cpne: str = Field(default="", max_length=300)


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
