"""Jury commands: get, decide, save. Facts about candidacies and the catalog arrive as arguments."""

from __future__ import annotations

from datetime import date

from eventsourcing.application import AggregateNotFoundError

from shared.commands.jury import (
    AppointMember, CorrectDecision, Decide, DeclareHolders, Present, RecordDeclarationOutcome, RecordEvaluation,
    ScheduleSession,
)
from shared.context import CommandContext
from shared.eventstore import CommandOutcome, ServiceApplication
from shared.policy import Record, authorize
from shared.vocabulary import CertificateKind, Decision

from services.jury.contracts import to_contract
from services.jury.domain import (
    CandidacyFacts, Certificate, Dossier, Holding, JurySession, UnknownCandidacy, UnknownCertificate, UnknownSession,
)


class JuryApplication(ServiceApplication):
    name = "jury"
    to_contract = staticmethod(to_contract)

    def session(self, session_id: str) -> JurySession:
        return self.find(session_id, JurySession, unknown_session())

    def in_scope(self, operation: str, session_id: str, facts: CandidacyFacts | None = None) -> JurySession:
        """The session, once the caller's rights over it (through its branch) are checked, and over the candidacy
        the command names (`facts`), before anything about either is looked at."""
        session = self.session(session_id)
        authorize(operation, Record(branches=frozenset({session.branch}), read="jurySession",
                                    unknown=unknown_session()))
        if facts is not None:
            authorize(operation, candidacy_record(facts))
        return session

    def dossier(self, facts: CandidacyFacts) -> Dossier:
        """The candidacy's dossier, opened on its first use."""
        try:
            return self.repository.get(Dossier.create_id(facts.candidacy_id))
        except AggregateNotFoundError:
            return Dossier(candidacy_id=facts.candidacy_id, candidate_id=facts.candidate_id,
                           certification=facts.certification, version=facts.version)

    def record_evaluation(self, command: RecordEvaluation, facts: CandidacyFacts, personal: str, accredited: set[str],
                          validity_months: int | None, today: date, withdrawn: set[str],
                          context: CommandContext) -> CommandOutcome:
        """`personal`: the command's evaluator and evidence, sealed with the candidate's key here
        (services/jury/evaluations.py); `accredited`: the organisations accredited on the evaluation's date;
        `withdrawn`: those whose accreditation was withdrawn by today (they record nothing more, whatever the
        date given)."""

        def decide():
            authorize("record-evaluation", candidacy_record(facts))
            dossier = self.dossier(facts)
            validated = dossier.evaluate(facts, command.block, [c.model_dump() for c in command.competences],
                                         command.modality, personal, context.actor.organisation_id,
                                         accredited, command.on, validity_months, today, withdrawn)
            return [dossier], {"id": facts.candidacy_id, "validated": validated}

        return self.execute(command, context, decide)

    def schedule_session(self, command: ScheduleSession, owners: dict[str, set[str]],
                         context: CommandContext) -> CommandOutcome:
        def decide():
            authorize("schedule-session", Record(branches=frozenset({command.branch})))
            session = JurySession.schedule(**command.model_dump(), owners=owners)
            return [session], {"id": str(session.id)}

        return self.execute(command, context, decide)

    def appoint_member(self, command: AppointMember, member_id: str, personal: str,
                       context: CommandContext) -> CommandOutcome:
        """`personal`: the member's name, sealed with the key made for `member_id` (services/jury/members.py)."""

        def decide():
            session = self.in_scope("appoint-member", command.session_id)
            member_id_ = session.appoint(member_id, personal, command.college, command.role)
            return [session], {"id": str(session.id), "member_id": member_id_}

        return self.execute(command, context, decide)

    def present(self, command: Present, facts: CandidacyFacts, context: CommandContext) -> CommandOutcome:
        def decide():
            session = self.in_scope("present", command.session_id, facts)
            dossier = self.dossier(facts)
            blocks = session.present(facts, dossier)
            return [session, dossier], {"id": str(session.id), "blocks": blocks}

        return self.execute(command, context, decide)

    def decide(self, command: Decide, facts: CandidacyFacts, quorum: int, version_blocks: list[str],
               today: date, context: CommandContext) -> CommandOutcome:
        def decide():
            session = self.in_scope("decide", command.session_id, facts)
            dossier = self.dossier(facts)
            votes = {"for": command.votes_for, "against": command.votes_against, "abstention": command.abstentions}
            blocks = session.decide(facts, dossier, command.decision, command.present_members, votes, quorum,
                                    version_blocks, today)
            changed, document = self.issue(facts, session, command.decision, blocks, today)
            dossier.record_decision(session_id=str(session.id), decision=command.decision, blocks_acquired=blocks,
                                    document=document)
            answer = {"id": str(session.id), "blocks_acquired": blocks}
            if document:
                answer["certificate_number"] = document
            return [session, dossier, *changed], answer

        return self.execute(command, context, decide)

    def correct_decision(self, command: CorrectDecision, facts: CandidacyFacts, version_blocks: list[str],
                         today: date, context: CommandContext) -> CommandOutcome:
        """A correction obeys the rules of decisions: the document of the corrected decision is revoked
        (with the date, the reason and, in its event, the author), the corrected decision's is issued."""

        def decide():
            session = self.in_scope("correct-decision", command.session_id, facts)
            dossier = self.dossier(facts)
            blocks = session.correct(facts, dossier, command.decision, command.reason, version_blocks, today)
            changed = []
            if previous := dossier.document_in_force(str(session.id)):
                certificate = self.repository.get(Certificate.create_id(previous))
                certificate.revoke(today, f"decision corrected: {command.reason.strip()}")
                changed.append(certificate)
                if certificate.kind == CertificateKind.CERTIFICATE:
                    holding = self.holding(facts)
                    holding.release(number=previous)
                    changed.append(holding)
            issued, document = self.issue(facts, session, command.decision, blocks, today,
                                          [c for c in changed if isinstance(c, Holding)])
            dossier.record_decision(session_id=str(session.id), decision=command.decision, blocks_acquired=blocks,
                                    document=document)
            answer = {"id": str(session.id), "blocks_acquired": blocks}
            if document:
                answer["certificate_number"] = document
            unique = {id(a): a for a in [session, dossier, *changed, *issued]}
            return list(unique.values()), answer

        return self.execute(command, context, decide)

    def declare_holders(self, command: DeclareHolders, owners: dict[str, set[str]],
                        context: CommandContext) -> CommandOutcome:
        """The awards written in a declaration file; `owners`: the branches owning each certification."""

        def decide():
            certificates = [self.certificate(number) for number in dict.fromkeys(command.numbers)]
            for certificate in certificates:
                authorize(command.operation, Record(branches=frozenset(owners.get(certificate.certification, ()))))
                certificate.declare(command.file)
            return certificates, {"file": command.file, "declared": len(certificates)}

        return self.execute(command, context, decide)

    def record_declaration_outcome(self, command: RecordDeclarationOutcome, owners: dict[str, set[str]],
                                   context: CommandContext) -> CommandOutcome:
        def decide():
            certificate = self.certificate(command.number)
            authorize(command.operation, Record(branches=frozenset(owners.get(certificate.certification, ()))))
            certificate.record_outcome(command.file, command.accepted, command.messages)
            return [certificate], {"number": certificate.number, "state": certificate.declaration["state"]}

        return self.execute(command, context, decide)

    def certificate(self, number: str) -> Certificate:
        return self.find(Certificate.create_id(number), Certificate,
                         UnknownCertificate("no such certificate", number=number))

    def holding(self, facts: CandidacyFacts) -> Holding:
        try:
            return self.repository.get(Holding.create_id(facts.candidate_id, facts.certification, facts.version))
        except AggregateNotFoundError:
            return Holding(candidate_id=facts.candidate_id, certification=facts.certification, version=facts.version)

    def issue(self, facts: CandidacyFacts, session: JurySession, decision: str, blocks: list[str],
              today: date, holdings: list[Holding] = ()) -> tuple[list, str | None]:
        """The document a decision gives, dated the day of the decision: a certificate for a full award (once
        per candidate and certification version), an attestation of the blocks for a partial validation."""
        if decision not in (Decision.FULL_AWARD, Decision.PARTIAL_VALIDATION):
            return [], None
        number = Certificate.new_number(facts.certification)
        full = decision == Decision.FULL_AWARD
        certificate = Certificate(
            number=number, kind=CertificateKind.CERTIFICATE if full else CertificateKind.ATTESTATION,
            candidate_id=facts.candidate_id, candidacy_id=facts.candidacy_id,
            certification=facts.certification, version=facts.version, blocks=blocks, awarded_on=today,
            session_id=str(session.id))
        if not full:
            return [certificate], number
        holding = holdings[0] if holdings else self.holding(facts)
        holding.check_free()
        holding.hold(number=number)
        return [certificate, holding], number


def unknown_session() -> UnknownSession:
    """For an id naming no session, and for a session the caller may not read (shared/policy.py)."""
    return UnknownSession("no such jury session")


def unknown_candidacy() -> UnknownCandidacy:
    """For an id naming no candidacy the jury knows, and for a candidacy the caller may not read."""
    return UnknownCandidacy("no such candidacy")


def candidacy_record(facts: CandidacyFacts) -> Record:
    """The candidacy as the role table sees it here: its certification's branches and its evaluator."""
    return Record(branches=facts.branches, evaluator=facts.evaluator_id, read="candidacy", unknown=unknown_candidacy())
