from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.commands.catalog import (
    Accredit, ChangeOwners, CreateBranch, CreateCertification, DeclareEquivalence, DeclareSuccession, PublishVersion,
    RecordRegistration, RegisterOrganisation, WithdrawAccreditation,
)

from services.gateway.schema.catalog.types import Accreditation, Branch, Certification, Organisation
from services.gateway.schema.errors import result_union
from services.gateway.schema.forward import forward
from services.gateway.schema.inputs import graphql_input

CreateBranchInput = graphql_input(CreateBranch)
RegisterOrganisationInput = graphql_input(RegisterOrganisation)
CreateCertificationInput = graphql_input(CreateCertification)
PublishVersionInput = graphql_input(PublishVersion)
ChangeOwnersInput = graphql_input(ChangeOwners)
RecordRegistrationInput = graphql_input(RecordRegistration)
DeclareSuccessionInput = graphql_input(DeclareSuccession)
DeclareEquivalenceInput = graphql_input(DeclareEquivalence)
AccreditInput = graphql_input(Accredit)
WithdrawAccreditationInput = graphql_input(WithdrawAccreditation)


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

        return await forward(info, CreateBranch, input, idempotency_key, answer)

    @strawberry.mutation(description="Register an organisation (certifier, evaluation centre, trainer, funder, employer)")
    async def register_organisation(
        self, info: Info, input: RegisterOrganisationInput, idempotency_key: str
    ) -> OrganisationResult:
        async def answer(result):
            row = await info.context.pool.fetchrow("SELECT * FROM organisations WHERE id = $1::uuid", result["id"])
            return OrganisationRegistered(organisation=Organisation.from_row(row))

        return await forward(info, RegisterOrganisation, input, idempotency_key, answer)

    @strawberry.mutation(description="Create a certification, with its first référentiel version when blocks are given")
    async def create_certification(
        self, info: Info, input: CreateCertificationInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, CreateCertification, input, idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Publish a new référentiel version; earlier versions stay as they were")
    async def publish_version(self, info: Info, input: PublishVersionInput, idempotency_key: str) -> CertificationResult:
        return await forward(info, PublishVersion, input, idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Set the branches owning (for a CQPI: recognising) a certification")
    async def change_owners(self, info: Info, input: ChangeOwnersInput, idempotency_key: str) -> CertificationResult:
        return await forward(info, ChangeOwners, input, idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Record a certification's RNCP or RS registration")
    async def record_registration(
        self, info: Info, input: RecordRegistrationInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, RecordRegistration, input, idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Declare that a certification replaces another")
    async def declare_succession(
        self, info: Info, input: DeclareSuccessionInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, DeclareSuccession, input, idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Declare a block equivalent to a block of another certification (passerelle)")
    async def declare_equivalence(
        self, info: Info, input: DeclareEquivalenceInput, idempotency_key: str
    ) -> CertificationResult:
        return await forward(info, DeclareEquivalence, input, idempotency_key,
                             lambda result: _certification(info, result))

    @strawberry.mutation(description="Accredit an organisation, for a branch, to evaluate or train for certifications")
    async def accredit(self, info: Info, input: AccreditInput, idempotency_key: str) -> AccreditationResult:
        return await forward(info, Accredit, input, idempotency_key,
                             lambda result: _accreditation(info, result))

    @strawberry.mutation(description="Withdraw an accreditation from a date, with the reason")
    async def withdraw_accreditation(
        self, info: Info, input: WithdrawAccreditationInput, idempotency_key: str
    ) -> AccreditationResult:
        return await forward(info, WithdrawAccreditation, input, idempotency_key,
                             lambda result: _accreditation(info, result))
