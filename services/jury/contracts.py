"""Stored jury events → public contracts (a pure function)."""

from __future__ import annotations

from shared import notices
from shared.contracts import deadlines
from shared.contracts import jury as public
from shared.notices import Notice

from services.jury.deadlines.domain import Deadline
from services.jury.domain import Certificate, Dossier, JurySession


def to_contract(e) -> public.Contract | None:
    aggregate_id = str(e.originator_id)
    match e:
        case Dossier.BlockEvaluated():
            common = dict(candidacy_id=e.candidacy_id, candidate_id=e.candidate_id, certification=e.certification,
                          version=e.version, block=e.block, competences=e.competences, modality=e.modality,
                          organisation_id=e.organisation_id,
                          # Recorded before the texts were sealed: published without them (the service answers them).
                          personal=getattr(e, "personal", None) or "",
                          evidence_documents=getattr(e, "evidence_documents", None) or [])
            if e.validated:
                return public.BlockValidated(**common, validated_on=e.on, valid_until=e.valid_until)
            return public.BlockNotValidated(**common, evaluated_on=e.on)
        case JurySession.Scheduled():
            return public.JurySessionScheduled(session_id=aggregate_id, branch=e.branch, certifications=e.certifications,
                                               on=e.on, place=e.place, remote=e.remote, capacity=e.capacity)
        case JurySession.MemberAppointed():
            return public.JuryMemberAppointed(session_id=aggregate_id, member_id=e.member_id, personal=e.personal or "",
                                              college=e.college, role=e.role)
        case JurySession.CandidacyPresented():
            return public.CandidacyPresented(session_id=aggregate_id, candidacy_id=e.candidacy_id, blocks=e.blocks,
                                             papers=getattr(e, "papers", None) or [])
        case Dossier.DocumentAttached():
            return public.DocumentAttached(document_id=e.document_id, kind=e.kind, candidacy_id=e.candidacy_id,
                                           block=e.block, session_id=getattr(e, "session_id", None),
                                           version=e.version, supersedes=e.supersedes,
                                           size=e.size, media_type=e.media_type, sha256=e.sha256,
                                           certificate=getattr(e, "certificate", None),
                                           credential=getattr(e, "credential", None))
        case JurySession.DocumentAttached():
            return public.DocumentAttached(document_id=e.document_id, kind=e.kind, candidacy_id=None, block=None,
                                           session_id=aggregate_id, version=e.version, supersedes=e.supersedes,
                                           size=e.size, media_type=e.media_type, sha256=e.sha256)
        case Dossier.DocumentPurged():
            return public.DocumentPurged(document_id=e.document_id, candidacy_id=e.candidacy_id, session_id=None,
                                         kept_until=e.kept_until)
        case JurySession.DocumentPurged():
            return public.DocumentPurged(document_id=e.document_id, candidacy_id=None, session_id=aggregate_id,
                                         kept_until=e.kept_until)
        case Dossier.DocumentRead():
            return public.DocumentRead(document_id=e.document_id, candidacy_id=e.candidacy_id, session_id=None)
        case JurySession.DocumentRead():
            return public.DocumentRead(document_id=e.document_id, candidacy_id=None, session_id=aggregate_id)
        case JurySession.Decided():
            return public.JuryDecided(session_id=aggregate_id, candidacy_id=e.candidacy_id, candidate_id=e.candidate_id,
                                      certification=e.certification, version=e.version, decision=e.decision,
                                      blocks_acquired=e.blocks_acquired, members_present=e.present, votes=e.votes,
                                      decided_on=e.decided_on)
        case JurySession.DecisionCorrected():
            return public.DecisionCorrected(session_id=aggregate_id, candidacy_id=e.candidacy_id, previous=e.previous,
                                            decision=e.decision, reason=e.reason,
                                            blocks_acquired=getattr(e, "blocks_acquired", None) or [],
                                            corrected_on=getattr(e, "corrected_on", None))
        case JurySession.Closed():
            return public.SessionClosed(session_id=aggregate_id, president=e.president, closed_on=e.closed_on,
                                        minutes=e.minutes, sha256=e.sha256, members_present=e.members_present)
        case JurySession.ResultsPublished():
            return public.SessionResultsPublished(session_id=aggregate_id, published_on=e.published_on)
        case JurySession.ResultsUnpublished():
            return public.SessionResultsUnpublished(session_id=aggregate_id, reason=e.reason)
        case Certificate.Issued():
            return public.CertificateIssued(number=e.number, kind=e.kind, candidate_id=e.candidate_id,
                                            candidacy_id=e.candidacy_id, certification=e.certification,
                                            version=e.version, blocks=e.blocks, awarded_on=e.awarded_on,
                                            session_id=e.session_id)
        case Certificate.DeclarationChanged():
            return public.HolderDeclarationChanged(number=e.number, state=e.state, file=e.file, messages=e.messages)
        case Certificate.Revoked():
            return public.CertificateRevoked(number=e.number, revoked_on=e.on, reason=e.reason)
        case Notice.Sent():
            return notices.sent(e)
        case Deadline.Opened():
            return deadlines.DeadlineOpened(
                deadline_id=aggregate_id, kind=e.kind, subject=e.subject, branch=e.branch,
                certification=e.certification, candidacy_id=e.candidacy_id, session_id=e.session_id,
                responsible_organisation=e.responsible_organisation, responsible_role=e.responsible_role,
                cause=e.cause, opened_on=e.opened_on, due_on=e.due_on, remind_on=min(e.remind_on, e.due_on),
                effect=e.effect)
        case Deadline.Due():
            return deadlines.DeadlineDue(deadline_id=aggregate_id, **e.about, due_on=e.due_on, on=e.on)
        case Deadline.Missed():
            return deadlines.DeadlineMissed(deadline_id=aggregate_id, **e.about, due_on=e.due_on, on=e.on,
                                            effect=e.effect)
        case Deadline.Met():
            return deadlines.DeadlineMet(deadline_id=aggregate_id, **e.about, due_on=e.due_on, on=e.on, cause=e.cause,
                                         late=e.late)
        case Deadline.Cancelled():
            return deadlines.DeadlineCancelled(deadline_id=aggregate_id, **e.about, on=e.on, cause=e.cause,
                                               reason=e.reason)
    return None
