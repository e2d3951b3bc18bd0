"""Candidacy commands, each decided in one method on its facts (services/candidacy/domain.py: `*Facts`, read
before by services/candidacy/facts.py): get the aggregate, authorize on it, call it, return it."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from datetime import date, timezone
from functools import lru_cache

from shared.commands.candidacy import (
    AttachIdentityDocument, AttachVaePaper, PurgeDocument, ReadDocument, CheckEligibility, CloseCandidacy, DeemAdmissible, ConfirmAccount, CorrectCandidate, DecideAdmissibility, DecideFunding,
    DeclareExperience, EntrustCandidate, EraseCandidate, FileAdmissibility, OpenCandidacy, Position,
    RegisterCandidate, RequestFunding, SetPath, SubmitValidationFile, Transfer, Withdraw,
)
from shared.context import current_command
from shared.documents import KINDS, Documents, UnknownDocument
from shared.eventstore import Changes, ServiceApplication, decision
from shared.policy import Record, authorize, authorize_any

from services.candidacy.contracts import to_contract
from shared.notices import NoticeDecisions
from services.candidacy.domain import (
    AttachingFacts, PurgingFacts, ReadingFacts, Candidacy, Candidate, CatalogStepFacts, CorrectionFacts, EntrustingFacts, ErasureFacts, OpeningFacts,
    PositionFacts, RegistrationFacts, StepFacts, UnknownCandidacy, UnknownCandidate,
)


@dataclasses.dataclass(frozen=True)
class CandidacyReference:
    """What never changes about a candidacy: whose it is, for which certification."""

    candidate_id: str
    certification: str


class CandidacyApplication(NoticeDecisions, ServiceApplication):
    name = "candidacy"
    to_contract = staticmethod(to_contract)
    documents: Documents  # the papers' bytes (shared/documents.py), set by the process once its store is up

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reference = lru_cache(maxsize=100_000)(self._reference)

    def candidate(self, candidate_id: str) -> Candidate:
        return self.find(candidate_id, Candidate, unknown_candidate())

    def candidacy(self, candidacy_id: str) -> Candidacy:
        return self.find(candidacy_id, Candidacy, unknown_candidacy())

    def _reference(self, candidacy_id: str) -> CandidacyReference:
        """(Kept once read: the facts of a step are read knowing its certification without the candidacy.)"""
        candidacy = self.candidacy(candidacy_id)
        return CandidacyReference(candidacy.candidate_id, candidacy.certification)

    def record(self, candidacy: Candidacy, owners: frozenset[str], candidate: Candidate | None = None) -> Record:
        """The candidacy as the role table sees it: its certification's branches and its organisations (and its
        candidate's login: `candidate`, when the decision has them already)."""
        return Record(branches=owners, evaluator=candidacy.evaluator_id, trainer=candidacy.trainer_id,
                      employer=candidacy.employer_id,
                      funders=frozenset(f["funder_id"] for f in candidacy.fundings.values() if f["funder_id"]),
                      account=(candidate or self.candidate(candidacy.candidate_id)).account,
                      read="candidacy", unknown=unknown_candidacy())

    def in_scope(self, command, facts: StepFacts, candidate: Candidate | None = None) -> Candidacy:
        """The candidacy the command names, once the caller's right over it is checked (`candidate`: its candidate,
        when the decision changes them too: loaded once)."""
        candidacy = self.candidacy(command.candidacy_id)
        authorize(command.operation, self.record(candidacy, facts.owners, candidate))
        return candidacy

    def candidate_of(self, candidacy_id: str) -> Candidate:
        return self.candidate(self.reference(candidacy_id).candidate_id)

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

    # --- candidates ---

    @decision
    def register_candidate(self, command: RegisterCandidate, facts: RegistrationFacts) -> Changes:
        authorize(command.operation, Record())
        candidate = Candidate.register(facts.candidate_id, facts.personal, command.status, command.employer_id,
                                       command.account, current_command.get().actor.organisation_id)
        return [candidate], {"id": str(candidate.id)}

    @decision
    def confirm_account(self, command: ConfirmAccount) -> Changes:
        candidate = self.candidate(command.candidate_id)
        authorize(command.operation, self.person_record(candidate))
        candidate.confirm_account(current_command.get().actor.user_id)
        return [candidate], {"id": str(candidate.id)}

    @decision
    def entrust_candidate(self, command: EntrustCandidate, facts: EntrustingFacts) -> Changes:
        candidate = self.candidate(command.candidate_id)
        authorize(command.operation, self.person_record(candidate))
        candidate.entrust(command.organisation_id, facts.accredited)
        return [candidate], {"id": str(candidate.id)}

    @staticmethod
    def as_read(facts: OpeningFacts | CorrectionFacts | ErasureFacts) -> Candidate:
        """The person as the facts' reader read them to say whom the caller reaches through them: loaded once. A
        copy, as a decision may run again on the same facts (shared/committer.py); if the person changed since,
        saving conflicts and nothing is written (Conflict: the command is sent again, on fresh facts)."""
        return copy.deepcopy(facts.candidate)

    @decision
    def correct_candidate(self, command: CorrectCandidate, facts: CorrectionFacts) -> Changes:
        candidate = self.as_read(facts)
        # The person rule: never a right through a candidacy; a refusal names only whom the caller may read.
        authorize_any(command.operation, [self.person_record(candidate)], seen=list(facts.seen))
        candidate.correct(facts.personal, list(facts.fields))
        return [candidate], {"id": str(candidate.id), "fields": sorted(facts.fields)}

    @decision
    def erase_candidate(self, command: EraseCandidate, facts: ErasureFacts) -> Changes:
        candidate = self.as_read(facts)
        authorize_any(command.operation, [self.person_record(candidate)], seen=list(facts.seen))
        candidate.erase(list(facts.certificates_held))
        return [candidate], {"id": str(candidate.id)}

    # --- candidacies ---

    @decision
    def open_candidacy(self, command: OpenCandidacy, facts: OpeningFacts) -> Changes:
        candidate = self.as_read(facts)
        authorize_any("candidate", list(facts.seen))  # a person the caller may not read is, to them, no person
        authorize(command.operation, Record(branches=facts.owners, evaluator=command.evaluator_id,
                                            trainer=command.trainer_id, account=candidate.account))
        candidate.check_entrusted_to(current_command.get().actor.organisation_id)
        candidacy = Candidacy.open(candidate, command, facts)
        return [candidacy, candidate], {"id": str(candidacy.id)}

    @decision
    def check_eligibility(self, command: CheckEligibility, facts: CatalogStepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        candidacy.check_eligibility(facts.certification, facts.today)
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def declare_experience(self, command: DeclareExperience, facts: StepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        candidacy.declare_experience([p.model_dump() for p in command.periods])
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def position(self, command: Position, facts: PositionFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        blocks = candidacy.position(facts.certification, list(facts.held), facts.today)
        return [candidacy], {"id": str(candidacy.id), "blocks": blocks}

    @decision
    def set_path(self, command: SetPath, facts: StepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        candidacy.set_path([b.model_dump() for b in command.blocks])
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def request_funding(self, command: RequestFunding, facts: StepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        funding_id = candidacy.request_funding(command.funder, command.funder_id, str(command.amount))
        return [candidacy], {"id": str(candidacy.id), "funding_id": funding_id}

    @decision
    def decide_funding(self, command: DecideFunding, facts: StepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        candidacy.decide_funding(command.funding_id, command.granted,
                                 None if command.granted_amount is None else str(command.granted_amount),
                                 command.reason)
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def file_admissibility(self, command: FileAdmissibility, facts: StepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        candidacy.file_admissibility()
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def decide_admissibility(self, command: DecideAdmissibility, facts: CatalogStepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        candidacy.decide_admissibility(command.admissible, command.reason, facts.certification, facts.today)
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def submit_validation_file(self, command: SubmitValidationFile, facts: StepFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        candidacy.submit_validation_file()
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def attach_vae_paper(self, command: AttachVaePaper, facts: AttachingFacts) -> Changes:
        return self._attach(command, facts)

    @decision
    def attach_identity_document(self, command: AttachIdentityDocument, facts: AttachingFacts) -> Changes:
        return self._attach(command, facts)

    def _attach(self, command: AttachVaePaper | AttachIdentityDocument, facts: AttachingFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        version = candidacy.attach_document(command.kind, facts, command.supersedes)
        return [candidacy], {"id": str(candidacy.id), "document_id": facts.document_id, "version": version}

    @decision
    def read_document(self, command: ReadDocument, facts: ReadingFacts) -> Changes:
        """Who may read a document is its kind's row of the role table, on the candidacy and the sessions it was
        presented to. A document the caller may not read is, to them, no document."""
        candidacy = self.candidacy(command.candidacy_id)
        record = dataclasses.replace(self.record(candidacy, facts.owners), presented_to_branches=facts.presented)
        kind = candidacy.documents.get(command.document_id, {}).get("kind")
        if kind is None:
            authorize("candidacy", record)  # a candidacy the caller may not read: as none
            raise UnknownDocument("no such document", document_id=command.document_id)
        authorize(KINDS[kind].read, record)
        document = candidacy.read_document(command.document_id)
        return [candidacy], {"id": str(candidacy.id), "document_id": command.document_id,
                             "candidate_id": candidacy.candidate_id, "object_key": document["object_key"],
                             "media_type": document["media_type"], "sha256": document["sha256"],
                             "personal": document["personal"]}

    @decision
    def transfer(self, command: Transfer, facts: CatalogStepFacts) -> Changes:
        candidate = self.candidate_of(command.candidacy_id)
        candidacy = self.in_scope(command, facts, candidate)
        candidacy.transfer(candidate, facts.certification, command.evaluator_id, command.reason,
                           by=current_command.get().actor.organisation_id)
        return [candidacy, candidate], {"id": str(candidacy.id)}

    @decision
    def withdraw(self, command: Withdraw, facts: StepFacts) -> Changes:
        """Ending a candidacy frees the candidate to open another for the same certification."""
        candidate = self.candidate_of(command.candidacy_id)
        candidacy = self.in_scope(command, facts, candidate)
        candidacy.withdraw(candidate, command.reason)
        return [candidacy, candidate], {"id": str(candidacy.id)}

    @decision
    def deem_admissible(self, command: DeemAdmissible) -> Changes:
        """On the jury's DeadlineMissed, through its event: no caller, the law and the branch's setting decide."""
        candidacy = self.candidacy(command.candidacy_id)
        candidacy.deem_admissible(command.deadline_id, command.due_on)
        return [candidacy], {"id": str(candidacy.id)}

    @decision
    def close_candidacy(self, command: CloseCandidacy) -> Changes:
        """On the jury's full award, through its event: no caller, the jury's decision is the authority."""
        candidacy = self.candidacy(command.candidacy_id)
        candidate = self.candidate(candidacy.candidate_id)
        candidacy.close(candidate, command.reason)
        return [candidacy, candidate], {"id": str(candidacy.id)}


    # --- the end of a document's keeping period (`cqp documents purge`) ---

    @decision
    def purge_document(self, command: PurgeDocument, facts: PurgingFacts) -> Changes:
        candidacy = self.in_scope(command, facts)
        object_key = candidacy.purge_document(command.document_id, command.kept_until, facts)
        return [candidacy], {"id": str(candidacy.id), "document_id": command.document_id, "object_key": object_key}

    def attached_on(self, candidacy_id: str, document_id: str) -> date | None:
        """The day the document's DocumentAttached was recorded (its timestamp, UTC); None for no such document
        (the decision refuses it once it has authorized the caller on the candidacy)."""
        for stored in self.events.get(uuid.UUID(candidacy_id)):
            if isinstance(stored, Candidacy.DocumentAttached) and stored.document_id == document_id:
                return stored.timestamp.astimezone(timezone.utc).date()
        return None


def unknown_candidate() -> UnknownCandidate:
    """For an id naming no candidate, and for a candidate the caller may not read (shared/policy.py)."""
    return UnknownCandidate("no such candidate")


def unknown_candidacy() -> UnknownCandidacy:
    """For an id naming no candidacy, and for a candidacy the caller may not read (shared/policy.py)."""
    return UnknownCandidacy("no such candidacy")
