from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.commands.catalog import (
    Accredit, ChangeOwners, CreateBranch, CreateCertification, DeclareEquivalence, DeclareSuccession, PublishVersion,
    RecordRegistration, RegisterOrganisation, SetBranchContact, SetBranchDeadlines, WithdrawAccreditation,
)

from services.gateway.schema.catalog.types import Accreditation, Branch, Certification, Organisation
from services.gateway.schema.context import Context
from services.gateway.schema.errors import result_union
from services.gateway.schema.mutations import CommandMutation


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


@strawberry.type
class BranchChanged:
    branch: Branch


BranchResult = result_union("CreateBranchResult", BranchCreated)
BranchChangedResult = result_union("BranchChangedResult", BranchChanged)
OrganisationResult = result_union("RegisterOrganisationResult", OrganisationRegistered)
CertificationResult = result_union("CertificationResult", CertificationChanged)
AccreditationResult = result_union("AccreditationResult", AccreditationChanged)


async def branch(info: Info[Context, None], answer: dict) -> BranchCreated:
    row = await info.context.pool.fetchrow("SELECT * FROM branches WHERE code = $1", answer["code"])
    return BranchCreated(branch=Branch.from_row(row))


async def changed_branch(info: Info[Context, None], answer: dict) -> BranchChanged:
    return BranchChanged(branch=(await branch(info, answer)).branch)


async def organisation(info: Info[Context, None], answer: dict) -> OrganisationRegistered:
    row = await info.context.pool.fetchrow("SELECT * FROM organisations WHERE id = $1::uuid", answer["id"])
    return OrganisationRegistered(organisation=Organisation.from_row(row))


async def certification(info: Info[Context, None], answer: dict) -> CertificationChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM certifications WHERE code = $1", answer["code"])
    return CertificationChanged(certification=Certification.from_row(row))


async def accreditation(info: Info[Context, None], answer: dict) -> AccreditationChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM accreditations WHERE id = $1::uuid", answer["accreditation_id"])
    return AccreditationChanged(accreditation=Accreditation.from_row(row))


# This feature's rows of the mutation table (schema/__init__.py).
MUTATIONS = {
    CreateBranch: CommandMutation("create_branch", BranchResult, branch, "Create a professional branch"),
    SetBranchContact: CommandMutation("set_branch_contact", BranchChangedResult, changed_branch,
                                      "Set the address of a branch's certification office, where its reminders go"),
    SetBranchDeadlines: CommandMutation("set_branch_deadlines", BranchChangedResult, changed_branch,
                                        "Set a branch's delays (those left out stay): the deadlines opened from then "
                                        "on use them"),
    RegisterOrganisation: CommandMutation(
        "register_organisation", OrganisationResult, organisation,
        "Register an organisation (certifier, evaluation centre, trainer, funder, employer)"),
    CreateCertification: CommandMutation(
        "create_certification", CertificationResult, certification,
        "Create a certification, with its first référentiel version when blocks are given"),
    PublishVersion: CommandMutation("publish_version", CertificationResult, certification,
                                    "Publish a new référentiel version; earlier versions stay as they were"),
    ChangeOwners: CommandMutation("change_owners", CertificationResult, certification,
                                  "Set the branches owning (for a CQPI: recognising) a certification"),
    RecordRegistration: CommandMutation("record_registration", CertificationResult, certification,
                                        "Record a certification's RNCP or RS registration"),
    DeclareSuccession: CommandMutation("declare_succession", CertificationResult, certification,
                                       "Declare that a certification replaces another"),
    DeclareEquivalence: CommandMutation(
        "declare_equivalence", CertificationResult, certification,
        "Declare a block equivalent to a block of another certification (passerelle)"),
    Accredit: CommandMutation("accredit", AccreditationResult, accreditation,
                              "Accredit an organisation, for a branch, to evaluate or train for certifications"),
    WithdrawAccreditation: CommandMutation("withdraw_accreditation", AccreditationResult, accreditation,
                                           "Withdraw an accreditation from a date, with the reason"),
}
