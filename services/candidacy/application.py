"""Candidacy commands: get, decide, save. Catalog facts arrive as arguments, read from the views."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

from shared.commands.candidacy import (
    CheckEligibility, CloseCandidacy, ConfirmAccount, CorrectCandidate, EntrustCandidate, DecideAdmissibility, DecideFunding, DeclareExperience, FileAdmissibility,
    EraseCandidate, OnCandidacy, OpenCandidacy, Position, RegisterCandidate, RequestFunding, SetPath, SubmitValidationFile, Transfer,
    Withdraw,
)
from shared.context import CommandContext
from shared.eventstore import CommandOutcome, ServiceApplication
from shared.policy import Record, authorize, authorize_any

from services.candidacy.contracts import to_contract
from services.candidacy.domain import (
    Candidacy,
    Candidate,
    CertificationFacts,
    HeldBlock,
    UnknownCandidacy,
    UnknownCandidate,
    UnknownOrganisation,
)


class CandidacyApplication(ServiceApplication):
    name = "candidacy"
    to_contract = staticmethod(to_contract)

    def candidate(self, candidate_id: str) -> Candidate:
        return self.find(candidate_id, Candidate, unknown_candidate())

    def candidacy(self, candidacy_id: str) -> Candidacy:
        return self.find(candidacy_id, Candidacy, unknown_candidacy())

    def record(self, candidacy: Candidacy, owners: frozenset[str]) -> Record:
        """The candidacy as the role table sees it: its certification's branches and its organisations."""
        return Record(branches=owners, evaluator=candidacy.evaluator_id, trainer=candidacy.trainer_id,
                      employer=candidacy.employer_id,
                      funders=frozenset(f["funder_id"] for f in candidacy.fundings.values() if f["funder_id"]),
                      account=self.candidate(candidacy.candidate_id).account,
                      read="candidacy", unknown=unknown_candidacy())

    def _on_candidacy(self, command: OnCandidacy, owners: frozenset[str], context: CommandContext,
                      change) -> CommandOutcome:
        """A command changing one candidacy: `change(candidacy)` returns extra answer fields.
        `owners`: the branches owning the candidacy's certification (from the catalog view)."""

        def decide():
            candidacy = self.candidacy(command.candidacy_id)
            authorize(command.operation, self.record(candidacy, owners))
            extra = change(candidacy) or {}
            return [candidacy], {"id": str(candidacy.id), **extra}

        return self.execute(command, context, decide)

    # --- candidates ---

    def register_candidate(self, command: RegisterCandidate, candidate_id: uuid.UUID, personal: str,
                           context: CommandContext) -> CommandOutcome:
        """`personal`: the command's personal fields, sealed with the key made for `candidate_id`."""

        def decide():
            authorize("register-candidate", Record())
            candidate = Candidate.register(candidate_id, personal, command.status, command.employer_id,
                                           command.account, context.actor.organisation_id)
            return [candidate], {"id": str(candidate.id)}

        return self.execute(command, context, decide)

    @staticmethod
    def person_record(candidate: Candidate) -> Record:
        """The person themself, as the role table sees them: their own login, the organisation that registered
        them. Rectification and erasure are checked on this record only (a candidacy gives no right over the
        person: whoever could open one would gain it)."""
        return Record(account=candidate.account, registered_by=candidate.registered_by,
                      entrusted=frozenset(candidate.entrusted), invited_account=candidate.invited_account,
                      read="candidate", unknown=unknown_candidate())

    def candidate_records(self, candidate: Candidate, owners: dict[str, frozenset[str]],
                          presented: dict[str, frozenset[str]]) -> list[Record]:
        """The candidate as the role table sees them: their own record, and each of their candidacies.
        `owners`: certification → owning branches; `presented`: candidacy → branches of its jury sessions."""
        records = [self.person_record(candidate)]
        for candidacy_id in candidate.candidacies:
            candidacy = self.candidacy(candidacy_id)
            record = self.record(candidacy, owners.get(candidacy.certification, frozenset()))
            records.append(dataclasses.replace(record, registered_by=candidate.registered_by,
                                               entrusted=frozenset(candidate.entrusted),
                                               presented_to_branches=presented.get(candidacy_id, frozenset()),
                                               read="candidate", unknown=unknown_candidate()))
        return records

    def confirm_account(self, command: ConfirmAccount, context: CommandContext) -> CommandOutcome:
        def decide():
            candidate = self.candidate(command.candidate_id)
            authorize(command.operation, self.person_record(candidate))
            candidate.confirm_account(context.actor.user_id)
            return [candidate], {"id": str(candidate.id)}

        return self.execute(command, context, decide)

    def entrust_candidate(self, command: EntrustCandidate, known: bool, context: CommandContext) -> CommandOutcome:
        """`known`: whether the catalog knows the organisation (accredited by a branch)."""

        def decide():
            candidate = self.candidate(command.candidate_id)
            authorize(command.operation, self.person_record(candidate))
            if not known:
                raise UnknownOrganisation("no such accredited organisation", organisation_id=command.organisation_id)
            candidate.entrust(command.organisation_id, by="person")
            return [candidate], {"id": str(candidate.id)}

        return self.execute(command, context, decide)

    def correct_candidate(self, command: CorrectCandidate, personal: str, fields: list[str],
                          records: list[Record], context: CommandContext,
                          seen: list[Record] | None = None) -> CommandOutcome:
        """`records`: what the caller's right is checked on; `seen`: the person's records, what they read through."""

        def decide():
            candidate = self.candidate(command.candidate_id)
            authorize_any(command.operation, records, seen=seen)
            candidate.correct(personal, fields)
            return [candidate], {"id": str(candidate.id), "fields": sorted(fields)}

        return self.execute(command, context, decide)

    def erase_candidate(self, command: EraseCandidate, certificates_held: list[str], records: list[Record],
                        context: CommandContext, seen: list[Record] | None = None) -> CommandOutcome:
        def decide():
            candidate = self.candidate(command.candidate_id)
            authorize_any(command.operation, records, seen=seen)
            candidate.erase(certificates_held)
            return [candidate], {"id": str(candidate.id)}

        return self.execute(command, context, decide)

    # --- candidacies ---

    def open_candidacy(self, command: OpenCandidacy, facts: CertificationFacts, on: date, owners: frozenset[str],
                       context: CommandContext, seen: list[Record] | None = None) -> CommandOutcome:
        """`seen`: the candidate's records (`candidate_records`), what the caller reads the person through."""

        def decide():
            candidate = self.candidate(command.candidate_id)
            if seen is not None:  # a person the caller may not even read is, to them, no person (shared/policy.py)
                authorize_any("candidate", seen)
            authorize("open-candidacy", Record(branches=owners, evaluator=command.evaluator_id,
                                               trainer=command.trainer_id, account=candidate.account))
            candidate.check_entrusted_to(context.actor.organisation_id)
            candidacy = Candidacy.open(
                candidate, facts, command.route, command.evaluator_id, command.trainer_id,
                command.employer_id or candidate.employer_id, [p.model_dump() for p in command.experience],
                command.blocks, on)
            return [candidacy, candidate], {"id": str(candidacy.id)}

        return self.execute(command, context, decide)

    def check_eligibility(self, command: CheckEligibility, facts: CertificationFacts, on: date, owners: frozenset[str],
                          context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context,
                                  lambda c: c.check_eligibility(facts, on))

    def declare_experience(self, command: DeclareExperience, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context,
                                  lambda c: c.declare_experience([p.model_dump() for p in command.periods]))

    def position(self, command: Position, facts: CertificationFacts, held: list[HeldBlock], on: date,
                 owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context,
                                  lambda c: {"blocks": c.position(facts, held, on)})

    def set_path(self, command: SetPath, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context, lambda c: c.set_path([b.model_dump() for b in command.blocks]))

    def request_funding(self, command: RequestFunding, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context, lambda c: {
            "funding_id": c.request_funding(command.funder, command.funder_id, str(command.amount))})

    def decide_funding(self, command: DecideFunding, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context, lambda c: c.decide_funding(
            command.funding_id, command.granted,
            None if command.granted_amount is None else str(command.granted_amount), command.reason))

    def file_admissibility(self, command: FileAdmissibility, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context, lambda c: c.file_admissibility())

    def decide_admissibility(self, command: DecideAdmissibility, facts: CertificationFacts, on: date, owners: frozenset[str],
                             context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context, lambda c: c.decide_admissibility(
            command.admissible, command.reason, facts, on))

    def submit_validation_file(self, command: SubmitValidationFile, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._on_candidacy(command, owners, context,
                                  lambda c: c.submit_validation_file())

    def transfer(self, command: Transfer, facts: CertificationFacts, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        """The person goes with the candidacy only when the organisation holding it, itself with a right over
        them, transfers it: a right is handed on by who holds it, never gained by acting (a branch moving a
        candidacy gives the new centre the candidacy, not the person)."""

        def decide():
            candidacy = self.candidacy(command.candidacy_id)
            authorize(command.operation, self.record(candidacy, owners))
            candidate = self.candidate(candidacy.candidate_id)
            holder = context.actor.organisation_id
            hands_on = holder == candidacy.evaluator_id and holder in candidate.organisations()
            candidacy.transfer(facts, command.evaluator_id, command.reason)
            if hands_on:
                candidate.entrust(command.evaluator_id, by="transfer")
            return [candidacy, candidate], {"id": str(candidacy.id)}

        return self.execute(command, context, decide)

    def withdraw(self, command: Withdraw, owners: frozenset[str], context: CommandContext) -> CommandOutcome:
        return self._ending(command, context, lambda c, candidate: c.withdraw(
            candidate, command.reason), owners)

    def close_candidacy(self, command: CloseCandidacy, context: CommandContext) -> CommandOutcome:
        """On the jury's full award, through its event: no caller, the jury's decision is the authority."""
        return self._ending(command, context, lambda c, candidate: c.close(
            candidate, command.reason))

    def _ending(self, command: Withdraw | CloseCandidacy, context: CommandContext, end,
                owners: frozenset[str] | None = None) -> CommandOutcome:
        """Ending a candidacy frees the candidate to open another for the same certification."""

        def decide():
            candidacy = self.candidacy(command.candidacy_id)
            if owners is not None:
                authorize(command.operation, self.record(candidacy, owners))
            candidate = self.candidate(candidacy.candidate_id)
            end(candidacy, candidate)
            return [candidacy, candidate], {"id": str(candidacy.id)}

        return self.execute(command, context, decide)


def unknown_candidate() -> UnknownCandidate:
    """For an id naming no candidate, and for a candidate the caller may not read (shared/policy.py)."""
    return UnknownCandidate("no such candidate")


def unknown_candidacy() -> UnknownCandidacy:
    """For an id naming no candidacy, and for a candidacy the caller may not read (shared/policy.py)."""
    return UnknownCandidacy("no such candidacy")
