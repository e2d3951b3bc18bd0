"""Jury commands: get, decide, save. Facts about candidacies and the catalog arrive as arguments."""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from shared.commands.jury import AppointMember, CorrectDecision, Decide, Present, RecordEvaluation, ScheduleSession
from shared.context import CommandContext
from shared.eventstore import CommandOutcome, ServiceApplication
from shared.policy import Record, authorize
from shared.vocabulary import CertificateKind, Decision

from services.jury.contracts import to_contract
from services.jury.domain import CandidacyFacts, Certificate, Dossier, JurySession, UnknownSession


class JuryApplication(ServiceApplication):
    name = "jury"
    to_contract = staticmethod(to_contract)

    def session(self, session_id: str) -> JurySession:
        return self.find(session_id, JurySession, UnknownSession("no such jury session", session_id=session_id))

    def in_scope(self, operation: str, session_id: str) -> JurySession:
        """The session, once the caller's rights over it (through its branch) are checked."""
        session = self.session(session_id)
        authorize(operation, Record(branches=frozenset({session.branch})))
        return session

    def dossier(self, facts: CandidacyFacts) -> Dossier:
        """The candidacy's dossier, opened on its first use."""
        try:
            return self.repository.get(Dossier.create_id(facts.candidacy_id))
        except AggregateNotFoundError:
            return Dossier(candidacy_id=facts.candidacy_id, candidate_id=facts.candidate_id,
                           certification=facts.certification, version=facts.version)

    def record_evaluation(self, command: RecordEvaluation, facts: CandidacyFacts, accredited: set[str],
                          validity_months: int | None, context: CommandContext) -> CommandOutcome:
        def decide():
            authorize("record-evaluation", Record(branches=facts.branches, evaluator=facts.evaluator_id))
            dossier = self.dossier(facts)
            validated = dossier.evaluate(facts, command.block, [c.model_dump() for c in command.competences],
                                         command.modality,
                                         command.evaluator, context.actor.organisation_id, accredited,
                                         command.on, command.evidence, validity_months)
            return [dossier], {"id": facts.candidacy_id, "validated": validated}

        return self.execute(command, context, decide)

    def schedule_session(self, command: ScheduleSession, context: CommandContext) -> CommandOutcome:
        def decide():
            authorize("schedule-session", Record(branches=frozenset({command.branch})))
            session = JurySession.schedule(**command.model_dump(), )
            return [session], {"id": str(session.id)}

        return self.execute(command, context, decide)

    def appoint_member(self, command: AppointMember, context: CommandContext) -> CommandOutcome:
        def decide():
            session = self.in_scope("appoint-member", command.session_id)
            member_id = session.appoint(command.name, command.college, command.role)
            return [session], {"id": str(session.id), "member_id": member_id}

        return self.execute(command, context, decide)

    def present(self, command: Present, facts: CandidacyFacts, context: CommandContext) -> CommandOutcome:
        def decide():
            session = self.in_scope("present", command.session_id)
            dossier = self.dossier(facts)
            blocks = session.present(facts, dossier)
            return [session, dossier], {"id": str(session.id), "blocks": blocks}

        return self.execute(command, context, decide)

    def decide(self, command: Decide, facts: CandidacyFacts, quorum: int, version_blocks: list[str], holder: str,
               context: CommandContext) -> CommandOutcome:
        def decide():
            session = self.in_scope("decide", command.session_id)
            dossier = self.dossier(facts)
            votes = {"for": command.votes_for, "against": command.votes_against,
                     "abstention": command.abstentions}
            blocks = session.decide(facts, dossier, command.decision, command.present_members, votes, quorum,
                                    version_blocks)
            changed = [session, dossier]
            answer = {"id": str(session.id), "blocks_acquired": blocks}
            if command.decision in (Decision.FULL_AWARD, Decision.PARTIAL_VALIDATION):
                number = Certificate.new_number(facts.certification)
                certificate = Certificate(
                    number=number,
                    kind=CertificateKind.CERTIFICATE if command.decision == Decision.FULL_AWARD else CertificateKind.ATTESTATION,
                    candidate_id=facts.candidate_id, holder=holder, candidacy_id=facts.candidacy_id,
                    certification=facts.certification, version=facts.version, blocks=blocks, awarded_on=session.on,
                    session_id=str(session.id))
                changed.append(certificate)
                answer["certificate_number"] = number
            return changed, answer

        return self.execute(command, context, decide)

    def correct_decision(self, command: CorrectDecision, context: CommandContext) -> CommandOutcome:
        def decide():
            session = self.in_scope("correct-decision", command.session_id)
            session.correct(command.candidacy_id, command.decision, command.reason)
            return [session], {"id": str(session.id)}

        return self.execute(command, context, decide)
