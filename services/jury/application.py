"""Jury commands, each decided in one method on its facts (services/jury/domain.py: `*Facts`, read before by
services/jury/facts.py and members.py): get the aggregates, authorize on them, call them, return them."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timezone

from eventsourcing.application import AggregateNotFoundError

from shared.commands.jury import (
    AppointMember, AttachEvaluationEvidence, AttachJuryPaper, CloseSession, CorrectDecision, Decide, DeclareHolders,
    IssueCertificateDocument, Present, PublishSessionResults, PurgeJuryDocument, ReadJuryDocument,
    RecordDeclarationOutcome, RecordEvaluation, ScheduleSession, UnpublishSessionResults,
)
from shared.context import current_caller, current_command
from shared.documents import KINDS, Documents, UnknownDocument
from shared.notices import NoticeDecisions
from shared.eventstore import Changes, ServiceApplication, decision
from shared.policy import Record, allows, authorize
from shared.vocabulary import DocumentKind

from services.jury.contracts import to_contract
from services.jury.deadlines.application import DeadlineDecisions
from services.jury.domain import (
    AppointmentFacts, AttachingFacts, CandidacyFacts, ClosingFacts, CertificateDocumentFacts, Certificate, CorrectionFacts, DecisionFacts, Dossier,
    EvaluationFacts, Holding, JurySession, OwnerFacts, PurgingFacts, ReadingFacts, Ruling, UnknownCandidacy, UnknownCertificate,
    UnknownSession,
)


class JuryApplication(DeadlineDecisions, NoticeDecisions, ServiceApplication):
    name = "jury"
    to_contract = staticmethod(to_contract)
    documents: Documents  # the papers' bytes (shared/documents.py), set by the process once its store is up

    def session(self, session_id: str) -> JurySession:
        return self.find(session_id, JurySession, unknown_session())

    def in_scope(self, operation: str, session_id: str, facts: CandidacyFacts | None = None) -> JurySession:
        """The session, once the caller's rights over it (through its branch) are checked, and over the candidacy
        the command names (`facts`), before anything about either is looked at."""
        session = self.session(session_id)
        authorize(operation, session_record(session))
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

    def holding(self, facts: CandidacyFacts) -> Holding:
        """The candidate's holding of the certification version, started on its first use."""
        try:
            return self.repository.get(Holding.create_id(facts.candidate_id, facts.certification, facts.version))
        except AggregateNotFoundError:
            return Holding(candidate_id=facts.candidate_id, certification=facts.certification, version=facts.version)

    def certificate(self, number: str) -> Certificate:
        return self.find(Certificate.create_id(number), Certificate,
                         UnknownCertificate("no such certificate", number=number))

    @decision
    def record_evaluation(self, command: RecordEvaluation, facts: EvaluationFacts) -> Changes:
        authorize(command.operation, candidacy_record(facts.candidacy))
        dossier = self.dossier(facts.candidacy)
        validated = dossier.evaluate(facts, command.block, [c.model_dump() for c in command.competences],
                                     command.modality, command.on, current_command.get().actor.organisation_id,
                                     command.evidence_documents)
        return [dossier], {"id": facts.candidacy.candidacy_id, "validated": validated}

    @decision
    def attach_evaluation_evidence(self, command: AttachEvaluationEvidence, facts: AttachingFacts) -> Changes:
        """On the dossier of the candidacy, under the kind's attach row on the candidacy (as record-evaluation)."""
        authorize(KINDS[command.kind].attach, candidacy_record(facts.candidacy))
        dossier = self.dossier(facts.candidacy)
        version = dossier.attach_evidence(facts, command.block, command.supersedes)
        return [dossier], {"id": facts.candidacy.candidacy_id, "document_id": facts.document_id, "version": version}

    @decision
    def attach_jury_paper(self, command: AttachJuryPaper, facts: AttachingFacts) -> Changes:
        """On the session, under the kind's attach row on the session's branch."""
        session = self.in_scope(KINDS[command.kind].attach, command.session_id)
        version = session.attach_paper(command.kind, facts, command.supersedes)
        return [session], {"id": str(session.id), "document_id": facts.document_id, "version": version}

    @decision
    def read_document(self, command: ReadJuryDocument, facts: ReadingFacts) -> Changes:
        """Who may read a document is its kind's row of the role table: evidence on the candidacy (and the sessions
        it was presented to), a session's paper on the session's branch. A document the caller may not read is,
        to them, no document."""
        if command.session_id is not None:
            session = self.session(command.session_id)
            record, aggregate, person_id = session_record(session), session, session_person(str(session.id))
        else:
            if facts.record is None:
                raise unknown_candidacy()
            record = dataclasses.replace(facts.record, read="candidacy", unknown=unknown_candidacy())
            try:
                aggregate = self.repository.get(Dossier.create_id(command.candidacy_id))
            except AggregateNotFoundError:
                aggregate = None
            person_id = facts.candidate_id
        found = aggregate.documents.get(command.document_id, {}) if aggregate is not None else {}
        kind = found.get("kind")
        if kind is None:
            authorize("jurySession" if command.session_id else "candidacy", record)  # out of reach: as none
            raise UnknownDocument("no such document", document_id=command.document_id)
        authorize(KINDS[kind].read, record)
        changed = [aggregate]
        if kind in (DocumentKind.CERTIFICATE_PDF, DocumentKind.CREDENTIAL) and found.get("session_id"):
            changed += self.certificate_read(command.document_id, found["session_id"], KINDS[kind].read)
        document = aggregate.read_document(command.document_id)
        return changed, {"id": str(aggregate.id), "document_id": command.document_id, "person_id": person_id,
                             "object_key": document["object_key"], "media_type": document["media_type"],
                             "sha256": document["sha256"], "personal": document["personal"]}

    @decision
    def purge_jury_document(self, command: PurgeJuryDocument, facts: PurgingFacts) -> Changes:
        authorize(command.operation, Record())
        holder = self.find(command.aggregate_id, Dossier | JurySession,
                           UnknownDocument("no such document", document_id=command.document_id))
        object_key = holder.purge_document(command.document_id, command.kept_until, facts)
        return [holder], {"id": str(holder.id), "document_id": command.document_id, "object_key": object_key}

    def certificate_read(self, document_id: str, session_id: str, read: str) -> list[JurySession]:
        """A certificate's PDF or credential is read by the session's jury side (the roles reaching the session's branch under the
        kind's read row) at any time, by anyone else once the session's results are published: before, to them,
        there is no such document. Their first read is recorded on the session (unpublishing then is refused)."""
        session = self.session(session_id)
        if allows(read, jury_side(session), current_caller.get()):
            return []
        if getattr(session, "published", None) is None:
            raise UnknownDocument("no such document", document_id=document_id)
        return [session] if session.note_download(document_id) else []

    def attached_on(self, aggregate_id: str, document_id: str) -> date | None:
        """The day the document's DocumentAttached was recorded (its timestamp, UTC); None for no such document."""
        try:
            stored = list(self.events.get(uuid.UUID(aggregate_id)))
        except ValueError:
            return None
        return next((e.timestamp.astimezone(timezone.utc).date() for e in stored
                     if isinstance(e, (Dossier.DocumentAttached, JurySession.DocumentAttached))
                     and e.document_id == document_id), None)

    @decision
    def issue_certificate_document(self, command: IssueCertificateDocument, facts: CertificateDocumentFacts) -> Changes:
        """On the jury's own CertificateIssued, through its event: no caller, the issue is the authority. The PDF
        and each credential become documents of the candidacy's dossier, and the certificate records their SHA-256
        (one change: both aggregates saved together)."""
        certificate = self.certificate(command.number)
        certificate.issue_document(facts.document_id, facts.stored.sha256, facts.credentials)
        dossier = self.repository.get(Dossier.create_id(certificate.candidacy_id))
        dossier.attach_certificate(facts, certificate.number, certificate.session_id)
        return [certificate, dossier], {"number": certificate.number, "document_id": facts.document_id,
                                        "sha256": facts.stored.sha256,
                                        "credentials": [c.document_id for c in facts.credentials]}

    @decision
    def schedule_session(self, command: ScheduleSession, facts: OwnerFacts) -> Changes:
        authorize(command.operation, Record(branches=frozenset({command.branch})))
        session = JurySession.schedule(**command.model_dump(), owners=facts.owners)
        return [session], {"id": str(session.id)}

    @decision
    def appoint_member(self, command: AppointMember, facts: AppointmentFacts) -> Changes:
        session = self.in_scope(command.operation, command.session_id)
        member_id = session.appoint(facts.member_id, facts.personal, command.college, command.role)
        return [session], {"id": str(session.id), "member_id": member_id}

    @decision
    def present(self, command: Present, facts: CandidacyFacts) -> Changes:
        session = self.in_scope(command.operation, command.session_id, facts)
        dossier = self.dossier(facts)
        blocks = session.present(facts, dossier)
        return [session, dossier], {"id": str(session.id), "blocks": blocks,
                                    "papers": session.presented[facts.candidacy_id]["papers"]}

    @decision
    def decide(self, command: Decide, facts: DecisionFacts) -> Changes:
        session = self.in_scope(command.operation, command.session_id, facts.candidacy)
        dossier = self.dossier(facts.candidacy)
        votes = {"for": command.votes_for, "against": command.votes_against, "abstention": command.abstentions}
        ruling = session.decide(facts, dossier, self.holding(facts.candidacy), command.decision,
                                command.present_members, votes)
        return ruled(session, dossier, ruling)

    @decision
    def correct_decision(self, command: CorrectDecision, facts: CorrectionFacts) -> Changes:
        session = self.in_scope(command.operation, command.session_id, facts.candidacy)
        dossier = self.dossier(facts.candidacy)
        number = dossier.document_in_force(str(session.id))
        in_force = self.certificate(number) if number else None
        ruling = session.correct(facts, dossier, in_force, self.holding(facts.candidacy), command.decision,
                                 command.reason)
        return ruled(session, dossier, ruling)

    @decision
    def close_session(self, command: CloseSession, facts: ClosingFacts) -> Changes:
        session = self.in_scope(command.operation, command.session_id)
        session.close(facts, command.president, date.today())
        return [session], {"id": str(session.id), "document_id": facts.document_id, "sha256": facts.stored.sha256}

    @decision
    def publish_session_results(self, command: PublishSessionResults, today: date) -> Changes:
        session = self.in_scope(command.operation, command.session_id)
        session.publish_results(today)
        return [session], {"id": str(session.id)}

    @decision
    def unpublish_session_results(self, command: UnpublishSessionResults, today: date) -> Changes:
        session = self.in_scope(command.operation, command.session_id)
        session.unpublish_results(command.reason)
        return [session], {"id": str(session.id)}

    @decision
    def declare_holders(self, command: DeclareHolders, facts: OwnerFacts) -> Changes:
        """The awards written in a declaration file."""
        certificates = [self.certificate(number) for number in dict.fromkeys(command.numbers)]
        for certificate in certificates:
            authorize(command.operation, Record(branches=frozenset(facts.owners.get(certificate.certification, ()))))
            certificate.declare(command.file)
        return certificates, {"file": command.file, "declared": len(certificates)}

    @decision
    def record_declaration_outcome(self, command: RecordDeclarationOutcome, facts: OwnerFacts) -> Changes:
        certificate = self.certificate(command.number)
        authorize(command.operation, Record(branches=frozenset(facts.owners.get(certificate.certification, ()))))
        certificate.record_outcome(command.file, command.accepted, command.messages)
        return [certificate], {"number": certificate.number, "state": certificate.declaration["state"]}


def ruled(session: JurySession, dossier: Dossier, ruling: Ruling) -> Changes:
    """A decision's (or a correction's) changes and answer: the blocks acquired, the document's number."""
    answer = {"id": str(session.id), "blocks_acquired": ruling.blocks}
    if ruling.document:
        answer["certificate_number"] = ruling.document
    return [session, dossier, *ruling.changed], answer


def unknown_session() -> UnknownSession:
    """For an id naming no session, and for a session the caller may not read (shared/policy.py)."""
    return UnknownSession("no such jury session")


def unknown_candidacy() -> UnknownCandidacy:
    """For an id naming no candidacy the jury knows, and for a candidacy the caller may not read."""
    return UnknownCandidacy("no such candidacy")


def candidacy_record(facts: CandidacyFacts) -> Record:
    """The candidacy as the role table sees it here: its certification's branches and its evaluator."""
    return Record(branches=facts.branches, evaluator=facts.evaluator_id, read="candidacy", unknown=unknown_candidacy())


def session_record(session: JurySession) -> Record:
    """The session as the role table sees it: its branch."""
    return Record(branches=frozenset({session.branch}), read="jurySession", unknown=unknown_session())


def jury_side(session: JurySession) -> Record:
    """The session as its jury side sees its results before they are published: the roles reaching its branch
    (its branch's admins, certifiers and auditors; its secretaries and members), not the candidate nor the
    organisations of the candidacy."""
    branch = frozenset({session.branch})
    return Record(branches=branch, presented_to_branches=branch)


def session_person(session_id: str) -> str:
    """Whose key seals a session's papers (`personal_keys`): the session's own, which no erasure destroys."""
    return f"session:{session_id}"
