"""Catalog commands, each decided in one method: get the aggregate, authorize on it, call it, return it
(once per idempotency key: shared/eventstore.py `decision`). The catalog decides on its own aggregates only:
its commands need no facts read before."""

from __future__ import annotations

from datetime import date

from shared.commands.catalog import (
    Accredit, Block, ChangeOwners, CreateBranch, SetBranchContact, SetBranchDeadlines, CreateCertification, DeclareEquivalence, DeclareSuccession,
    ImportFiche, PublishVersion, RecordRegistration, RegisterOrganisation, WithdrawAccreditation,
)
from shared.eventstore import Changes, ServiceApplication, decision
from shared.policy import Record, authorize

from services.catalog.contracts import to_contract
from services.catalog.domain import (
    Branch,
    BranchAlreadyExists,
    Certification,
    CertificationAlreadyExists,
    Organisation,
    OrganisationAlreadyExists,
    UnknownBranch,
    UnknownCertification,
    UnknownOrganisation,
)


class CatalogApplication(ServiceApplication):
    name = "catalog"
    to_contract = staticmethod(to_contract)

    # --- lookups -------------------------------------------------------------------------------

    def certification(self, code: str) -> Certification:
        return self.find(Certification.create_id(code), Certification,
                         UnknownCertification("no such certification in the catalog", code=code))

    def branch(self, code: str) -> Branch:
        return self.find(Branch.create_id(code), Branch, UnknownBranch("no such branch", branch=code))

    def organisation(self, organisation_id: str) -> Organisation:
        # Of the Organisation kind: the id of a certification or a branch is no organisation.
        return self.find(organisation_id, Organisation,
                         UnknownOrganisation("no such organisation", organisation_id=organisation_id))

    def check_branches(self, codes: list[str]) -> None:
        for code in codes:
            self.branch(code)

    @staticmethod
    def authorize_owned(operation: str, owners) -> None:
        """The caller's rights over a certification, through the branches that own it."""
        authorize(operation, Record(branches=frozenset(owners)))

    # --- commands --------------------------------------------------------------------------------

    @decision
    def create_branch(self, command: CreateBranch) -> Changes:
        authorize(command.operation, Record())
        if Branch.create_id(command.code) in self.repository:
            raise BranchAlreadyExists("a branch with this code exists", code=command.code)
        branch = Branch.create(command.code, command.name, command.idcc, command.cpne)
        return [branch], {"id": str(branch.id), "code": branch.code}

    @decision
    def set_branch_deadlines(self, command: SetBranchDeadlines) -> Changes:
        branch = self.branch(command.code)
        authorize(command.operation, Record(branches=frozenset({branch.code})))
        deadlines = branch.set_deadlines(command.deadlines.given())
        return [branch], {"id": str(branch.id), "code": branch.code, "deadlines": deadlines}

    @decision
    def set_branch_contact(self, command: SetBranchContact) -> Changes:
        branch = self.branch(command.code)
        authorize(command.operation, Record(branches=frozenset({branch.code})))
        changed = branch.set_contact(command.email)
        return ([branch] if changed else []), {"id": str(branch.id), "code": branch.code}

    @decision
    def register_organisation(self, command: RegisterOrganisation) -> Changes:
        authorize(command.operation, Record())
        if command.siret and Organisation.create_id(command.siret) in self.repository:
            raise OrganisationAlreadyExists("an organisation with this SIRET exists", siret=command.siret)
        organisation = Organisation.register(command.name, command.siret, command.kinds)
        return [organisation], {"id": str(organisation.id)}

    @decision
    def create_certification(self, command: CreateCertification) -> Changes:
        self.authorize_owned(command.operation, command.owners)
        if Certification.create_id(command.code) in self.repository:
            raise CertificationAlreadyExists("a certification with this code exists", code=command.code)
        self.check_branches(command.owners)
        certification = Certification.create(command.code, command.kind, command.title, command.owners)
        if command.blocks:
            certification.publish_version(blocks(command.blocks), command.settings.given(),
                                          command.effective_from or date.today())
        return [certification], {"id": str(certification.id), "code": certification.code}

    @decision
    def publish_version(self, command: PublishVersion) -> Changes:
        certification = self.certification(command.code)
        self.authorize_owned(command.operation, certification.owners)
        number = certification.publish_version(blocks(command.blocks), command.settings.given(),
                                               command.effective_from or date.today())
        return [certification], {"id": str(certification.id), "code": certification.code, "version": number}

    @decision
    def change_owners(self, command: ChangeOwners) -> Changes:
        certification = self.certification(command.code)
        self.authorize_owned(command.operation, certification.owners)
        # An owner may add co-owners, but only that owner (or an operator) gives up its ownership.
        for removed in sorted(set(certification.owners) - set(command.owners)):
            self.authorize_owned(command.operation, [removed])
        self.check_branches(command.owners)
        certification.change_owners(command.owners)
        return [certification], {"id": str(certification.id), "code": certification.code}

    @decision
    def record_registration(self, command: RecordRegistration) -> Changes:
        certification = self.certification(command.code)
        self.authorize_owned(command.operation, certification.owners)
        certification.record_registration(command.model_dump(exclude={"code"}))
        return [certification], {"id": str(certification.id), "code": certification.code}

    @decision
    def declare_succession(self, command: DeclareSuccession) -> Changes:
        """`successor` replaces `predecessor`: both record it, in one transaction."""
        old, new = self.certification(command.predecessor), self.certification(command.successor)
        # Both records change: the caller owns both (a branch does not retire another's certification).
        self.authorize_owned(command.operation, new.owners)
        self.authorize_owned(command.operation, old.owners)
        if new.code not in old.successors:
            old.record_succession(old.predecessors, [*old.successors, new.code])
        if old.code not in new.predecessors:
            new.record_succession([*new.predecessors, old.code], new.successors)
        return [old, new], {"id": str(new.id), "code": new.code}

    @decision
    def declare_equivalence(self, command: DeclareEquivalence) -> Changes:
        certification = self.certification(command.code)
        self.authorize_owned(command.operation, certification.owners)
        certification.declare_equivalence(command.block, self.certification(command.target), command.target_block)
        return [certification], {"id": str(certification.id), "code": certification.code}

    @decision
    def accredit(self, command: Accredit) -> Changes:
        self.authorize_owned(command.operation, [command.branch])
        organisation = self.organisation(command.organisation_id)
        certifications = [self.certification(code) for code in command.certifications]
        accreditation_id = organisation.accredit(self.branch(command.branch), certifications, command.scope,
                                                 command.valid_from, command.valid_until)
        return [organisation], {"id": str(organisation.id), "accreditation_id": accreditation_id}

    @decision
    def withdraw_accreditation(self, command: WithdrawAccreditation) -> Changes:
        organisation = self.organisation(command.organisation_id)
        accreditation = organisation.accreditations.get(command.accreditation_id) or {}
        self.authorize_owned(command.operation, [accreditation["branch"]] if accreditation else [])
        organisation.withdraw(command.accreditation_id, command.on, command.reason)
        return [organisation], {"id": str(organisation.id), "accreditation_id": command.accreditation_id}

    @decision
    def import_fiche(self, command: ImportFiche) -> Changes:
        """Create or update a certification from a France Compétences fiche; only what changed is written."""
        fiche, owners = command.fiche.model_dump(), command.owners
        self.authorize_owned(command.operation, owners)
        self.check_branches(owners)
        code = fiche["number"]
        created = Certification.create_id(code) not in self.repository
        if created:
            certification = Certification.from_fiche(fiche, owners, command.kind)
        else:
            certification = self.certification(code)
            certification.merge_fiche(fiche, owners)
        changed = bool(certification.pending_events)
        status = "created" if created else ("updated" if changed else "unchanged")
        return ([certification] if changed else []), {"id": str(certification.id), "code": code, "status": status}


def blocks(given: list[Block]) -> list[dict]:
    return [b.model_dump() for b in given]
