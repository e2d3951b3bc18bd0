"""Stored candidacy events → public contracts (a pure function)."""

from __future__ import annotations

from shared import notices
from shared.contracts import candidacy as public
from shared.notices import Notice
from shared.vocabulary import CandidacyStatus

from services.candidacy.domain import Candidacy, Candidate, admissibility_status, experience_months


def to_contract(e) -> public.Contract | None:
    candidacy_id = str(e.originator_id)  # for candidacy events
    match e:
        case Candidate.Registered():
            return public.CandidateRegistered(candidate_id=str(e.originator_id), personal=e.personal,
                                              status=e.status, employer_id=e.employer_id, account=e.account,
                                              invited_account=getattr(e, "invited_account", None))  # older: none
        case Candidate.AccountConfirmed():
            return public.CandidateAccountConfirmed(candidate_id=str(e.originator_id), account=e.account)
        case Candidate.Entrusted():
            return public.CandidateEntrusted(candidate_id=str(e.originator_id), organisation_id=e.organisation_id,
                                             by=e.by)
        case Candidate.Corrected():
            return public.CandidateCorrected(candidate_id=str(e.originator_id), personal=e.personal, fields=e.fields)
        case Candidate.Erased():
            return public.CandidateErased(candidate_id=str(e.originator_id))
        case Candidacy.Opened():
            return public.CandidacyOpened(
                candidacy_id=candidacy_id, status=CandidacyStatus.OPEN, candidate_id=e.candidate_id, certification=e.certification,
                version=e.version, route=e.route, blocks=e.blocks, evaluator_id=e.evaluator_id,
                trainer_id=e.trainer_id, employer_id=e.employer_id, experience_months=experience_months(e.experience))
        case Candidacy.EligibilityConfirmed():
            return public.EligibilityConfirmed(candidacy_id=candidacy_id, on=e.on)
        case Candidacy.ExperienceDeclared():
            return public.ExperienceDeclared(candidacy_id=candidacy_id, periods=len(e.periods),
                                             months=experience_months(e.periods))
        case Candidacy.Positioned():
            return public.CandidacyPositioned(candidacy_id=candidacy_id, status=CandidacyStatus.POSITIONED,
                                              blocks=e.blocks)
        case Candidacy.PathSet():
            return public.PathSet(candidacy_id=candidacy_id, blocks=e.blocks)
        case Candidacy.FundingRequested():
            return public.FundingRequested(candidacy_id=candidacy_id, funding_id=e.funding_id, funder=e.funder,
                                           funder_id=e.funder_id, amount=e.amount)
        case Candidacy.FundingDecided():
            return public.FundingDecided(candidacy_id=candidacy_id, funding_id=e.funding_id, granted=e.granted,
                                         granted_amount=e.granted_amount, reason=e.reason)
        case Candidacy.AdmissibilityFiled():
            return public.AdmissibilityFiled(candidacy_id=candidacy_id, status=CandidacyStatus.ADMISSIBILITY_FILED)
        case Candidacy.AdmissibilityDecided():
            return public.AdmissibilityDecided(candidacy_id=candidacy_id, status=admissibility_status(e.admissible),
                                               admissible=e.admissible, reason=e.reason,
                                               deemed=getattr(e, "deemed", None))
        case Candidacy.ValidationFileSubmitted():
            return public.ValidationFileSubmitted(candidacy_id=candidacy_id,
                                                  status=CandidacyStatus.VALIDATION_FILE_SUBMITTED)
        case Candidacy.Transferred():
            return public.CandidacyTransferred(candidacy_id=candidacy_id, from_evaluator_id=e.from_id,
                                               to_evaluator_id=e.to_id, reason=e.reason)
        case Candidacy.Withdrawn():
            return public.CandidacyWithdrawn(candidacy_id=candidacy_id, status=CandidacyStatus.WITHDRAWN, reason=e.reason)
        case Candidacy.Closed():
            return public.CandidacyClosed(candidacy_id=candidacy_id, status=CandidacyStatus.CLOSED, reason=e.reason)
        case Candidacy.DocumentAttached():
            return public.DocumentAttached(candidacy_id=candidacy_id, document_id=e.document_id, kind=e.kind,
                                           version=e.version, supersedes=e.supersedes, size=e.size,
                                           media_type=e.media_type, sha256=e.sha256)
        case Candidacy.DocumentPurged():
            return public.DocumentPurged(candidacy_id=candidacy_id, document_id=e.document_id, kept_until=e.kept_until)
        case Candidacy.DocumentRead():
            return public.DocumentRead(candidacy_id=candidacy_id, document_id=e.document_id)
        case Notice.Sent():
            return notices.sent(e)
    return None
