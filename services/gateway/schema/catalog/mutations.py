from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from services.gateway.schema.catalog.types import (
    Accreditation,
    AccreditationScope,
    Branch,
    Certification,
    CertificationKind,
    Organisation,
    Registry,
)
from services.gateway.schema.errors import result_union
from services.gateway.schema.forward import command_body, forward


@strawberry.input
class BlockInput:
    code: str
    title: str
    competences: str | None = None
    modalities: str | None = None


@strawberry.input
class VersionSettingsInput:
    vae_min_experience_months: int | None = strawberry.UNSET
    block_validity_months: int | None = strawberry.UNSET
    jury_quorum: int | None = strawberry.UNSET


@strawberry.input
class CreateBranchInput:
    code: str
    name: str
    idcc: list[str]
    cpne: str = ""


@strawberry.input
class RegisterOrganisationInput:
    name: str
    siret: str | None = None
    kinds: list[str]


@strawberry.input
class CreateCertificationInput:
    code: str
    kind: CertificationKind
    title: str
    owners: list[str]
    blocks: list[BlockInput] = strawberry.field(default_factory=list)
    settings: VersionSettingsInput | None = None
    effective_from: date | None = None


@strawberry.input
class PublishVersionInput:
    code: str
    blocks: list[BlockInput]
    settings: VersionSettingsInput | None = None
    effective_from: date | None = None


@strawberry.input
class ChangeOwnersInput:
    code: str
    owners: list[str]


@strawberry.input
class RecordRegistrationInput:
    code: str
    registry: Registry
    number: str
    level: str | None = None
    active: bool = True
    registration_type: str | None = None
    decision_date: date | None = None
    effect_date: date | None = None
    end_date: date | None = None
    delivery_deadline: date | None = None
    routes: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class DeclareSuccessionInput:
    predecessor: str
    successor: str


@strawberry.input
class DeclareEquivalenceInput:
    code: str
    block: str
    target: str
    target_block: str


@strawberry.input
class AccreditInput:
    organisation_id: strawberry.ID
    branch: str
    certifications: list[str]
    scope: AccreditationScope
    valid_from: date
    valid_until: date | None = None


@strawberry.input
class WithdrawAccreditationInput:
    organisation_id: strawberry.ID
    accreditation_id: strawberry.ID
    on: date
    reason: str


@strawberry.type
class BranchCreated:
    branch: Branch


@strawberry.type
class OrganisationRegistered:
    organisation: Organisation


@strawberry.type
class CertificationChanged:
    certification: Certification


@strawberry.type
class AccreditationChanged:
    accreditation: Accreditation


BranchResult = result_union("CreateBranchResult", BranchCreated)
OrganisationResult = result_union("RegisterOrganisationResult", OrganisationRegistered)
CertificationResult = result_union("CertificationResult", CertificationChanged)
AccreditationResult = result_union("AccreditationResult", AccreditationChanged)


def _with_settings(input) -> dict:
    body = command_body(input)
    settings = body.pop("settings", None) or {}
    body["settings"] = {k: v for k, v in settings.items() if v is not strawberry.UNSET}
    return body


async def _certification(info: Info, answer: dict) -> CertificationChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM certifications WHERE code = $1", answer["code"])
    return CertificationChanged(certification=Certification.from_row(row))


async def _accreditation(info: Info, answer: dict) -> AccreditationChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM accreditations WHERE id = $1::uuid", answer["accreditation_id"])
    return AccreditationChanged(accreditation=Accreditation.from_row(row))


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(description="Create a professional branch")
    async def create_branch(self, info: Info, input: CreateBranchInput, idempotency_key: str) -> BranchResult:
        async def answer(result):
            row = await info.context.pool.fetchrow("SELECT * FROM branches WHERE code = $1", result["code"])
            return BranchCreated(branch=Branch.from_row(row))

        return await forward(info, "catalog", "create-branch", command_body(input), idempotency_key, answer)

    @strawberry.mutation(description="Register an organisation (certifier, evaluation centre, trainer, funder, employer)")
    async def register_organisation(
        self, info: Info, input: RegisterOrganisationInput, idempotency_key: str
    ) -> OrganisationResult:
        async def answer(result):
            row = await info.context.pool.fetchrow("SELECT * FROM organisations WHERE id = $1::uuid", result["id"])
            return OrganisationRegistered(organisation=Organisation.from_row(row))

        return await forward(info, "catalog", "register-organisation", command_body(input), idempotency_key, answer)

    @strawberry.mutation(description="Create a certification, with its first référentiel version when blocks are given")
    async def create_certification(
        self, info: Info, input: CreateCertificationInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, "catalog", "create-certification", _with_settings(input), idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Publish a new référentiel version; earlier versions stay as they were")
    async def publish_version(self, info: Info, input: PublishVersionInput, idempotency_key: str) -> CertificationResult:
        return await forward(info, "catalog", "publish-version", _with_settings(input), idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Set the branches owning (for a CQPI: recognising) a certification")
    async def change_owners(self, info: Info, input: ChangeOwnersInput, idempotency_key: str) -> CertificationResult:
        return await forward(info, "catalog", "change-owners", command_body(input), idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Record a certification's RNCP or RS registration")
    async def record_registration(
        self, info: Info, input: RecordRegistrationInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, "catalog", "record-registration", command_body(input), idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Declare that a certification replaces another")
    async def declare_succession(
        self, info: Info, input: DeclareSuccessionInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, "catalog", "declare-succession", command_body(input), idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Declare a block equivalent to a block of another certification (passerelle)")
    async def declare_equivalence(
        self, info: Info, input: DeclareEquivalenceInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, "catalog", "declare-equivalence", command_body(input), idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Accredit an organisation, for a branch, to evaluate or train for certifications")
    async def accredit(self, info: Info, input: AccreditInput, idempotency_key: str) -> AccreditationResult:
        return await forward(info, "catalog", "accredit", command_body(input), idempotency_key,
                             lambda result: _accreditation(info, result))

    @strawberry.mutation(description="Withdraw an accreditation from a date, with the reason")
    async def withdraw_accreditation(
        self, info: Info, input: WithdrawAccreditationInput, idempotency_key: str
    ) -> AccreditationResult:
        return await forward(info, "catalog", "withdraw-accreditation", command_body(input), idempotency_key,
                             lambda result: _accreditation(info, result))
