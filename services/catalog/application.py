"""Catalog commands: get, decide, save (through the idempotent ServiceApplication.execute)."""

from __future__ import annotations

import re
from datetime import date

from shared.commands.catalog import (
    Accredit, Block, ChangeOwners, CreateBranch, CreateCertification, DeclareEquivalence, DeclareSuccession,
    ImportFiche, PublishVersion, RecordRegistration, RegisterOrganisation, WithdrawAccreditation,
)
from shared.context import CommandContext
from shared.eventstore import CommandOutcome, ServiceApplication
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

FRANCE_COMPETENCES = "FRANCE_COMPETENCES"


def kind_from_title(title: str) -> str:
    """CQPM and CQPI say so in their titles; every other imported fiche is taken as a CQP."""
    for kind in ("CQPM", "CQPI"):
        if re.search(rf"\b{kind}\b", title, re.IGNORECASE):
            return kind
    return "CQP"


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

    def create_branch(self, command: CreateBranch, context: CommandContext) -> CommandOutcome:
        def decide():
            authorize("create-branch", Record())
            if Branch.create_id(command.code) in self.repository:
                raise BranchAlreadyExists("a branch with this code exists", code=command.code)
            branch = Branch.create(command.code, command.name, command.idcc, command.cpne)
            return [branch], {"id": str(branch.id), "code": branch.code}

        return self.execute(command, context, decide)

    def register_organisation(self, command: RegisterOrganisation, context: CommandContext) -> CommandOutcome:
        def decide():
            authorize("register-organisation", Record())
            if command.siret and Organisation.create_id(command.siret) in self.repository:
                raise OrganisationAlreadyExists("an organisation with this SIRET exists", siret=command.siret)
            organisation = Organisation.register(command.name, command.siret, command.kinds)
            return [organisation], {"id": str(organisation.id)}

        return self.execute(command, context, decide)

    def create_certification(self, command: CreateCertification, context: CommandContext) -> CommandOutcome:
        def decide():
            self.authorize_owned("create-certification", command.owners)
            if Certification.create_id(command.code) in self.repository:
                raise CertificationAlreadyExists("a certification with this code exists", code=command.code)
            self.check_branches(command.owners)
            certification = Certification.create(command.code, command.kind, command.title,
                                                 command.owners)
            if command.blocks:
                certification.publish_version(blocks(command.blocks), command.settings.given(),
                                              command.effective_from or date.today())
            return [certification], {"id": str(certification.id), "code": certification.code}

        return self.execute(command, context, decide)

    def publish_version(self, command: PublishVersion, context: CommandContext) -> CommandOutcome:
        def decide():
            certification = self.certification(command.code)
            self.authorize_owned("publish-version", certification.owners)
            number = certification.publish_version(blocks(command.blocks), command.settings.given(),
                                                   command.effective_from or date.today())
            return [certification], {"id": str(certification.id), "code": certification.code, "version": number}

        return self.execute(command, context, decide)

    def change_owners(self, command: ChangeOwners, context: CommandContext) -> CommandOutcome:
        def decide():
            certification = self.certification(command.code)
            self.authorize_owned("change-owners", certification.owners)
            # An owner may add co-owners, but only that owner (or an operator) gives up its ownership.
            for removed in sorted(set(certification.owners) - set(command.owners)):
                self.authorize_owned("change-owners", [removed])
            self.check_branches(command.owners)
            certification.change_owners(command.owners)
            return [certification], {"id": str(certification.id), "code": certification.code}

        return self.execute(command, context, decide)

    def record_registration(self, command: RecordRegistration, context: CommandContext) -> CommandOutcome:
        def decide():
            certification = self.certification(command.code)
            self.authorize_owned("record-registration", certification.owners)
            registration = command.model_dump(exclude={"code"})
            certification.record_registration(registration)
            return [certification], {"id": str(certification.id), "code": certification.code}

        return self.execute(command, context, decide)

    def declare_succession(self, command: DeclareSuccession, context: CommandContext) -> CommandOutcome:
        """`successor` replaces `predecessor`: both record it, in one transaction."""

        def decide():
            old, new = self.certification(command.predecessor), self.certification(command.successor)
            # Both records change: the caller owns both (a branch does not retire another's certification).
            self.authorize_owned("declare-succession", new.owners)
            self.authorize_owned("declare-succession", old.owners)
            if new.code not in old.successors:
                old.record_succession(old.predecessors, [*old.successors, new.code])
            if old.code not in new.predecessors:
                new.record_succession([*new.predecessors, old.code], new.successors)
            return [old, new], {"id": str(new.id), "code": new.code}

        return self.execute(command, context, decide)

    def declare_equivalence(self, command: DeclareEquivalence, context: CommandContext) -> CommandOutcome:
        def decide():
            certification = self.certification(command.code)
            self.authorize_owned("declare-equivalence", certification.owners)
            target = self.certification(command.target)
            if command.target_block not in [b["code"] for b in (target.current_version or {}).get("blocks", [])]:
                raise UnknownCertification("the target block is not in the target's current version",
                                           target=target.code, target_block=command.target_block)
            certification.declare_equivalence(command.block, target.code, command.target_block, "BRANCH")
            return [certification], {"id": str(certification.id), "code": certification.code}

        return self.execute(command, context, decide)

    def accredit(self, command: Accredit, context: CommandContext) -> CommandOutcome:
        def decide():
            self.authorize_owned("accredit", [command.branch])
            organisation = self.organisation(command.organisation_id)
            branch = self.branch(command.branch)
            certifications = [self.certification(code) for code in command.certifications]
            accreditation_id = organisation.accredit(branch, certifications, command.scope, command.valid_from,
                                                     command.valid_until)
            return [organisation], {"id": str(organisation.id), "accreditation_id": accreditation_id}

        return self.execute(command, context, decide)

    def withdraw_accreditation(self, command: WithdrawAccreditation, context: CommandContext) -> CommandOutcome:
        def decide():
            organisation = self.organisation(command.organisation_id)
            accreditation = organisation.accreditations.get(command.accreditation_id) or {}
            self.authorize_owned("withdraw-accreditation", [accreditation["branch"]] if accreditation else [])
            organisation.withdraw(command.accreditation_id, command.on, command.reason)
            return [organisation], {"id": str(organisation.id), "accreditation_id": command.accreditation_id}

        return self.execute(command, context, decide)

    def import_fiche(self, command: ImportFiche, context: CommandContext) -> CommandOutcome:
        """Create or update a certification from a France Compétences fiche; only what changed is written."""

        def decide():
            fiche, owners = command.fiche.model_dump(), command.owners
            authorize("import-fiche", Record(branches=frozenset(owners)))
            self.check_branches(owners)
            code = fiche["number"]
            created = Certification.create_id(code) not in self.repository
            if created:
                certification = Certification.create(code, command.kind or kind_from_title(fiche["title"]),
                                                     fiche["title"], owners)
            else:
                certification = self.certification(code)
                if fiche["title"] != certification.title:
                    certification.retitle(fiche["title"])
                if owners and sorted(set(owners) | set(certification.owners)) != sorted(certification.owners):
                    certification.change_owners(sorted(set(owners) | set(certification.owners)))
            apply_fiche(certification, fiche)
            changed = bool(certification.pending_events)
            status = "created" if created else ("updated" if changed else "unchanged")
            return ([certification] if changed else []), {"id": str(certification.id), "code": code, "status": status}

        return self.execute(command, context, decide)


def blocks(given: list[Block]) -> list[dict]:
    return [b.model_dump() for b in given]


def apply_fiche(certification: Certification, fiche: dict) -> None:
    """Record each part of the fiche that differs from what the certification holds."""
    blocks = [{"code": b["code"], "title": b["title"], "competences": b["competences"], "modalities": b["modalities"]}
              for b in fiche["blocks"]]
    current = certification.current_version
    if blocks and (current is None or current["blocks"] != blocks):
        settings = current["settings"] if current else {}
        effective = fiche["effect_date"] or fiche["decision_date"] or date.today()
        certification.publish_version(blocks, settings, effective)
    registration = {
        "registry": "RS" if fiche["number"].startswith("RS") else "RNCP",
        "number": fiche["number"],
        "level": fiche["level"],
        "active": fiche["active"],
        "state": fiche["state"],
        "registration_type": fiche["registration_type"],
        "decision_date": fiche["decision_date"],
        "effect_date": fiche["effect_date"],
        "end_date": fiche["end_date"],
        "delivery_deadline": fiche["delivery_deadline"],
        "routes": fiche["routes"],
    }
    if certification.registration != registration:
        certification.record_registration(registration)
    if certification.certifiers != fiche["certifiers"]:
        certification.record_certifiers(fiche["certifiers"])
    if (certification.predecessors, certification.successors) != (fiche["predecessors"], fiche["successors"]):
        certification.record_succession(fiche["predecessors"], fiche["successors"])
    equivalences = [{"blocks": c["blocks"], "target": c["target_fiche"], "target_blocks": c["target_blocks"],
                     "source": FRANCE_COMPETENCES} for c in fiche["correspondences"]]
    if [e for e in certification.equivalences if e["source"] == FRANCE_COMPETENCES] != equivalences:
        certification.replace_equivalences_from(FRANCE_COMPETENCES, equivalences)
