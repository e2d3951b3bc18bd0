"""Catalog command inputs and endpoints."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.http import Command, CommandInput, threaded

from services.catalog.application import CatalogApplication
from services.catalog.france_competences.fiche import Fiche, Route

Code = Field(min_length=2, max_length=64)


class BlockInput(CommandInput):
    code: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=1000)
    competences: str | None = Field(default=None, max_length=50_000)
    modalities: str | None = Field(default=None, max_length=50_000)


class VersionSettings(CommandInput):
    vae_min_experience_months: int | None = Field(default=None, ge=0, le=240)
    block_validity_months: int | None = Field(default=None, ge=1, le=600)
    jury_quorum: int | None = Field(default=None, ge=2, le=50)

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class CreateBranch(CommandInput):
    code: str = Code
    name: str = Field(min_length=1, max_length=300)
    idcc: list[str] = Field(default_factory=list, max_length=50)
    cpne: str = Field(default="", max_length=300)


class RegisterOrganisation(CommandInput):
    name: str = Field(min_length=1, max_length=300)
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    kinds: list[str] = Field(min_length=1, max_length=5)


class CreateCertification(CommandInput):
    code: str = Code
    kind: Literal["CQP", "CQPM", "CQPI"]
    title: str = Field(min_length=1, max_length=500)
    owners: list[str] = Field(min_length=1, max_length=30)
    blocks: list[BlockInput] = Field(default_factory=list, max_length=100)
    settings: VersionSettings = Field(default_factory=VersionSettings)
    effective_from: date | None = None


class PublishVersion(CommandInput):
    code: str = Code
    blocks: list[BlockInput] = Field(min_length=1, max_length=100)
    settings: VersionSettings = Field(default_factory=VersionSettings)
    effective_from: date | None = None


class ChangeOwners(CommandInput):
    code: str = Code
    owners: list[str] = Field(min_length=1, max_length=30)


class RecordRegistration(CommandInput):
    code: str = Code
    registry: Literal["RNCP", "RS"]
    number: str = Field(pattern=r"^(RNCP|RS)\d+$")
    level: Literal["NIV1", "NIV2", "NIV3", "NIV4", "NIV5", "NIV6", "NIV7", "NIV8"] | None = None
    active: bool = True
    state: str | None = None
    registration_type: str | None = None
    decision_date: date | None = None
    effect_date: date | None = None
    end_date: date | None = None
    delivery_deadline: date | None = None
    routes: list[Route] = Field(default_factory=list)


class DeclareSuccession(CommandInput):
    predecessor: str = Code
    successor: str = Code


class DeclareEquivalence(CommandInput):
    code: str = Code
    block: str = Field(min_length=1, max_length=64)
    target: str = Code
    target_block: str = Field(min_length=1, max_length=64)


class Accredit(CommandInput):
    organisation_id: str
    branch: str = Code
    certifications: list[str] = Field(min_length=1, max_length=200)
    scope: Literal["EVALUATION", "TRAINING"]
    valid_from: date
    valid_until: date | None = None


class WithdrawAccreditation(CommandInput):
    organisation_id: str
    accreditation_id: str
    on: date
    reason: str = Field(min_length=1, max_length=2000)


class ImportFiche(CommandInput):
    fiche: Fiche
    owners: list[str] = Field(default_factory=list, max_length=30)
    kind: Literal["CQP", "CQPM", "CQPI"] | None = None


def commands(app: CatalogApplication, _pool) -> dict[str, Command]:
    def command(model: type[CommandInput], method, to_dict=lambda body: body.model_dump()) -> Command:
        return threaded(model, method, to_dict)

    def with_settings(body: CommandInput) -> dict:
        return {**body.model_dump(), "settings": body.settings.given()}

    return {
        "create-branch": command(CreateBranch, app.create_branch),
        "register-organisation": command(RegisterOrganisation, app.register_organisation),
        "create-certification": command(CreateCertification, app.create_certification, with_settings),
        "publish-version": command(PublishVersion, app.publish_version, with_settings),
        "change-owners": command(ChangeOwners, app.change_owners),
        "record-registration": command(RecordRegistration, app.record_registration),
        "declare-succession": command(DeclareSuccession, app.declare_succession),
        "declare-equivalence": command(DeclareEquivalence, app.declare_equivalence),
        "accredit": command(Accredit, app.accredit),
        "withdraw-accreditation": command(WithdrawAccreditation, app.withdraw_accreditation),
        "import-fiche": command(ImportFiche, app.import_fiche),
    }
