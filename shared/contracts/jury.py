"""Events published by the jury service on cqp.jury.events.

The candidacy service consumes BlockValidated (blocks held) and JuryDecided (a full award closes the
candidacy once SessionResultsPublished says its session's results are out).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.contracts import deadlines
from shared.envelope import Contract, ContractRegistry
from shared.vocabulary import CertificateKind, College, DeclarationState, Decision, DocumentKind, MemberRole, Modality

TOPIC = "cqp.jury.events"


class CompetenceResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    competence: str
    acquired: bool


def _sealed_text(payload: dict) -> dict:
    """Version 1 carried the evaluator's name and the evidence in clear: they are not carried on (the jury
    service, which recorded them, answers them to whoever may read the candidacy)."""
    return {**{k: v for k, v in payload.items() if k not in ("evaluator", "evidence")}, "personal": ""}


def _no_evidence_documents(payload: dict) -> dict:
    """Version 2 named no evidence documents: none were attached then."""
    return {**payload, "evidence_documents": []}


class _BlockEvaluation(Contract):
    """Version 2: the evaluator's name and the evidence (free text, in clear in version 1) are sealed in
    `personal` with a key the jury service keeps for the candidate (shared/personal.py), destroyed when the
    candidate is erased; only the jury service reads it. Version 3: `evidence_documents`, the evidence documents
    (DocumentAttached, kind EVALUATION_EVIDENCE) the result rests on."""

    contract_version = 3
    upcasts = {1: _sealed_text, 2: _no_evidence_documents}

    candidacy_id: str
    candidate_id: str
    certification: str
    version: int
    block: str
    competences: list[CompetenceResult]
    modality: Modality
    organisation_id: str
    personal: str  # sealed {"evaluator", "evidence"}; empty when upcast from version 1
    evidence_documents: list[str] = []  # document ids; empty when upcast from version 2


class BlockValidated(_BlockEvaluation):
    validated_on: date
    valid_until: date | None  # None: acquired for life


class BlockNotValidated(_BlockEvaluation):
    evaluated_on: date


class JurySessionScheduled(Contract):
    session_id: str
    branch: str
    certifications: list[str]
    on: date
    place: str
    remote: bool
    capacity: int


class JuryMemberAppointed(Contract):
    """Version 2: the member's `name` (in clear in version 1) is sealed with their own key in `personal`;
    only the jury service reads it."""

    contract_version = 2

    session_id: str
    member_id: str
    personal: str
    college: College
    role: MemberRole


class Paper(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    document_id: str
    kind: DocumentKind


def _no_papers(payload: dict) -> dict:
    """Version 1 listed no papers: none were attached then."""
    return {**payload, "papers": []}


class CandidacyPresented(Contract):
    """Version 2: `papers`, what the jury reads of the candidacy: the current evaluation evidence of its dossier
    and its current validation file (Livret 2, a document of the candidacy service's), as presented."""

    contract_version = 2
    upcasts = {1: _no_papers}

    session_id: str
    candidacy_id: str
    blocks: list[str]
    papers: list[Paper] = []


class JuryDecided(Contract):
    session_id: str
    candidacy_id: str
    candidate_id: str
    certification: str
    version: int
    decision: Decision
    blocks_acquired: list[str]
    members_present: list[str]
    votes: dict[str, int]
    decided_on: date


class DecisionCorrected(Contract):
    """A decision is never edited: this is the correction, with its reason and author (the actor)."""

    session_id: str
    candidacy_id: str
    previous: Decision
    decision: Decision
    reason: str
    blocks_acquired: list[str] = []  # what the corrected decision acquires (the rules of decisions apply)
    corrected_on: date | None = None


class CertificateRevoked(Contract):
    """A certificate or attestation withdrawn (its decision corrected): it verifies as revoked from then on."""

    number: str
    revoked_on: date
    reason: str


class CertificateIssued(Contract):
    """Version 2: no `holder` name (version 1 had it in clear): the holder is the candidate, whose name
    only the candidacy service reveals (shared/personal.py)."""

    contract_version = 2

    number: str
    kind: CertificateKind
    candidate_id: str
    candidacy_id: str
    certification: str
    version: int
    blocks: list[str]
    awarded_on: date
    session_id: str


class HolderDeclarationChanged(Contract):
    """Where a holder's declaration to the Caisse des Dépôts stands: sent in a file, accepted, or rejected
    with the portal's messages."""

    number: str
    state: DeclarationState
    file: str
    messages: list[str]


class IssuedCredential(BaseModel):
    """What a CREDENTIAL document says: its credential's id, the block it is of ("" for the award's), the
    achievement's name, its validity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    block: str
    achievement: str
    valid_from: date
    valid_until: date | None


def _no_certificate(payload: dict) -> dict:
    """Version 1 named no certificate: its documents were evidence and jury papers only."""
    return {**payload, "certificate": None, "credential": None}


class DocumentAttached(Contract):
    """A document of the jury's file (shared/documents.py), version `version` of its line: evaluation evidence of
    a candidacy's block (`candidacy_id`, `block`; its bytes sealed with the candidate's key) or a session's
    attendance sheet or minutes (`session_id`; sealed with the session's key); a certificate's PDF and credentials
    name both their candidacy and the session that decided them (whose publication shows them). Its bytes are in the
    jury service's object store, its file's name with it (`POST /queries/document`). Version 2: `certificate`, the
    number a CERTIFICATE_PDF or CREDENTIAL is of, and a CREDENTIAL's `credential` (what it says)."""

    contract_version = 2
    upcasts = {1: _no_certificate}

    document_id: str
    kind: DocumentKind
    candidacy_id: str | None
    block: str | None
    session_id: str | None
    version: int
    supersedes: str | None
    size: int
    media_type: str
    sha256: str
    certificate: str | None = None
    credential: IssuedCredential | None = None


class SessionClosed(Contract):
    """The session's minutes drawn up, attested by its president (`president`, a member id), sealed by the branch
    and attached as its JURY_MINUTES document (`minutes`, the PDF's SHA-256 `sha256`): it takes no more
    presentations nor decisions."""

    session_id: str
    president: str
    closed_on: date
    minutes: str
    sha256: str
    members_present: list[str]


class SessionResultsPublished(Contract):
    """The session's decisions, certificates and their PDFs become visible to the candidates and their
    organisations (until then, only to the branch's jury side)."""

    session_id: str
    published_on: date


class SessionResultsUnpublished(Contract):
    """Hidden again, with the reason (refused once someone outside the jury downloaded a certificate of it)."""

    session_id: str
    reason: str


class DocumentPurged(Contract):
    """The document's keeping period ended (`kept_until`): its object is deleted; its facts stay."""

    document_id: str
    candidacy_id: str | None
    session_id: str | None
    kept_until: date


class DocumentRead(Contract):
    """Someone read the document (the envelope says who, for which organisation, when)."""

    document_id: str
    candidacy_id: str | None
    session_id: str | None


REGISTRY = ContractRegistry(TOPIC, BlockValidated, BlockNotValidated, JurySessionScheduled, JuryMemberAppointed,
                            CandidacyPresented, JuryDecided, DecisionCorrected, CertificateIssued, CertificateRevoked,
                            HolderDeclarationChanged, DocumentAttached, DocumentRead,
                            DocumentPurged, SessionClosed, SessionResultsPublished, SessionResultsUnpublished,
                            *deadlines.CONTRACTS)
