"""Jury aggregates: the dossier of a candidacy (block evaluations), the paritaire jury session and
its decisions, the certificates. Every event records who caused it, for which organisation, and why
(shared/domain.py).
"""

from __future__ import annotations

import calendar
import secrets
import uuid
from dataclasses import dataclass
from datetime import date

from eventsourcing.domain import event

from shared.documents import HELD_ONCE, DocumentMissing, Stored, UnknownDocument, check_purge
from shared.domain import Aggregate
from shared.errors import CommandRefused, Conflict, InvalidInput, NotFound
from shared.policy import Record
from shared.vocabulary import (
    BlockState, CandidacyStatus, CertificateKind, College, DeclarationState, Decision, DocumentKind, MemberRole,
    Modality, Route,
)

_IDS = uuid.UUID("9d4c1a52-6f0e-4b8a-b1f3-2e7d5c9a0b64")
MODALITIES = tuple(Modality)
COLLEGES = tuple(College)
MEMBER_ROLES = tuple(MemberRole)
DECISIONS = tuple(Decision)


class UnknownCandidacy(NotFound):
    pass


class UnknownSession(NotFound):
    pass


class UnknownMember(NotFound):
    pass


class UnknownCertificate(NotFound):
    pass


class EvaluatorNotAccredited(CommandRefused):
    pass


class BlockAlreadyAcquired(CommandRefused):
    pass


class CandidacyNotLive(CommandRefused):
    pass


class MissingBlockResults(CommandRefused):
    pass


class NotPresented(CommandRefused):
    pass


class AlreadyDecided(CommandRefused):
    pass


class UnbalancedColleges(CommandRefused):
    pass


class QuorumNotReached(CommandRefused):
    pass


class PresidencyRule(CommandRefused):
    pass


class NoMajority(CommandRefused):
    pass


class AwardWithMissingBlock(CommandRefused):
    pass


class SessionFull(CommandRefused):
    pass


class CorrectionNeedsReason(InvalidInput):
    pass


class AlreadyAwarded(CommandRefused):
    """A candidacy is awarded once: it is presented nowhere after its full award."""


class PresentedElsewhere(CommandRefused):
    """A candidacy awaits one session's decision at a time."""


class NotReadyForJury(CommandRefused):
    """The candidacy's route has steps to complete before the jury (VAE: admissible, validation file)."""


class AlreadyCertified(CommandRefused):
    """A candidate holds one certificate per certification version obtained through a candidacy."""


class DateRefused(CommandRefused):
    """A date the rules do not allow: an evaluation in the future or before the candidacy, a decision
    before the session."""


class CertificateAlreadyRevoked(CommandRefused):
    pass


class CertificateDocumentAlreadyIssued(Conflict):
    pass


class CertificationNotOwnedByBranch(CommandRefused):
    pass


class NotDeclarable(CommandRefused):
    pass


class SessionClosed(CommandRefused):
    """A closed session (its minutes drawn up) takes no more presentations or decisions; corrections stay possible."""


class UndecidedPresentations(CommandRefused):
    """A session closes once every candidacy presented to it is decided."""


class NotThePresident(CommandRefused):
    """The minutes are attested by the session's president."""


class MinutesMissing(CommandRefused):
    """Results are published after the session's minutes."""


class AlreadyPublished(CommandRefused):
    pass


class NotPublished(CommandRefused):
    pass


class ResultsAlreadyDownloaded(CommandRefused):
    """Someone outside the jury downloaded a certificate of the session: its results stay published."""


class UnpublicationNeedsReason(InvalidInput):
    pass


# The statuses in which a candidacy of each route may be presented to a jury: a VAE candidacy once
# declared admissible and its validation file (Livret 2) submitted; the other routes once positioned.
READY_FOR_JURY = {
    Route.VAE: (CandidacyStatus.VALIDATION_FILE_SUBMITTED,),
    Route.TRAINING: (CandidacyStatus.POSITIONED,),
    Route.DIRECT_ACCESS: (CandidacyStatus.POSITIONED,),
}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class CandidacyFacts:
    """What the jury service knows of a candidacy, from the candidacy service's events."""

    candidacy_id: str
    candidate_id: str
    certification: str
    version: int
    blocks: dict[str, str]  # block → positioning state: PENDING, TO_ACQUIRE, HELD, RECOGNISED
    status: str
    evaluator_id: str | None = None  # the organisation evaluating it
    branches: frozenset[str] = frozenset()  # the branches owning its certification
    route: str | None = None
    opened_on: date | None = None
    # The candidacy service's papers the jury reads (its current Livret 2), as {"document_id", "kind"}.
    papers: tuple[dict, ...] = ()

    def check_ready_for_jury(self) -> None:
        """Each route's preconditions for presentation (see the service's README)."""
        self.check_live()
        needed = READY_FOR_JURY.get(self.route, ())
        if self.status not in needed:
            raise NotReadyForJury(f"a {str(self.route).lower()} candidacy goes before the jury once "
                                  + " or ".join(s.lower().replace("_", " ") for s in needed),
                                  route=self.route, status=self.status, needed=list(needed))

    def check_live(self) -> None:
        if self.status in (CandidacyStatus.WITHDRAWN, CandidacyStatus.CLOSED):
            raise CandidacyNotLive("the candidacy is " + self.status.lower(), status=self.status)


# --- what each command is decided on besides its aggregates (read by services/jury/facts.py, members.py) ---
# Presenting a candidacy is decided on its CandidacyFacts alone.


@dataclass(frozen=True)
class EvaluationFacts:
    """Recording an evaluation: the candidacy; the evaluator's name and the evidence sealed with the
    candidate's key (services/jury/evaluations.py); the organisations accredited to evaluate on the
    evaluation's date, and those whose accreditation was withdrawn by today (they record nothing more,
    whatever the date given); the version's block validity; the day."""

    candidacy: CandidacyFacts
    personal: str
    accredited: frozenset[str]
    withdrawn: frozenset[str]
    validity_months: int | None
    today: date


@dataclass(frozen=True)
class AttachingFacts:
    """Attaching a document: its bytes, checked and stored sealed (shared/documents.py) with the key of the person
    it concerns (the candidate; for a session's papers, the session), and its file's name sealed with that key.
    `candidacy`: the candidacy of an evaluation evidence (None for a session's paper)."""

    document_id: str
    stored: Stored
    personal: str
    candidacy: CandidacyFacts | None = None


@dataclass(frozen=True)
class CredentialDocument:
    """One credential of a certificate, stored alone (the same bytes as the PDF's attachment): the award's (`block`
    "") or a validated block's, with what the credential says (its id, achievement, dates)."""

    document_id: str
    stored: Stored
    personal: str
    block: str
    credential_id: str
    achievement: str
    valid_from: date
    valid_until: date | None = None

    def facts(self) -> dict:
        return {"id": self.credential_id, "block": self.block, "achievement": self.achievement,
                "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat() if self.valid_until else None}


@dataclass(frozen=True)
class CertificateDocumentFacts:
    """Issuing a certificate's PDF: the PDF, rendered and sealed by the branch, stored sealed with the candidate's key
    (services/jury/certificates.py), and its file's name sealed with that key; and each of its credentials stored
    alone likewise."""

    document_id: str
    stored: Stored
    personal: str
    credentials: tuple[CredentialDocument, ...] = ()


@dataclass(frozen=True)
class ClosingFacts:
    """Closing a session: its minutes, rendered from its facts and sealed by the branch (services/jury/minutes.py),
    stored sealed with the session's key, and their file's name sealed with it; the quorum its decisions were
    checked against (the largest of its certifications' versions')."""

    document_id: str
    stored: Stored
    personal: str
    quorum: int


@dataclass(frozen=True)
class ReadingFacts:
    """Reading a document of a candidacy's dossier: the candidacy as the role table sees it to read it (its
    branches, evaluator, trainer, employer, funders, candidate's login, the branches of the sessions it was
    presented to: services/jury/evaluations.py), and its candidate. None for a session's paper, or a candidacy
    the jury does not know."""

    record: Record | None = None
    candidate_id: str | None = None


@dataclass(frozen=True)
class PurgingFacts:
    """Purging a document: the day it is decided on, and the day the document was attached (its stored event's
    timestamp; None for no such document)."""

    today: date
    attached_on: date | None


@dataclass(frozen=True)
class OwnerFacts:
    """The branches owning each certification (the catalog's facts): those of a session to schedule, or every
    one, whose admins' rights are checked on a declaration of holders."""

    owners: dict[str, frozenset[str]]


@dataclass(frozen=True)
class AppointmentFacts:
    """Appointing a member: the id chosen for them, and their name sealed with the key made for it."""

    member_id: str
    personal: str


@dataclass(frozen=True)
class CorrectionFacts:
    """Correcting a decision: the candidacy, the blocks of its certification version, the day."""

    candidacy: CandidacyFacts
    version_blocks: tuple[str, ...]
    today: date


@dataclass(frozen=True)
class DecisionFacts(CorrectionFacts):
    """Deciding: also the version's quorum."""

    quorum: int


@dataclass(frozen=True)
class Ruling:
    """What a decision or its correction gives: the blocks acquired, the number of the document issued (if
    any), and the aggregates besides the session and the dossier it changed, in the order they changed."""

    blocks: list[str]
    document: str | None
    changed: tuple[Aggregate, ...] = ()


class Dossier(Aggregate):
    """The jury's file of one candidacy: each block's latest evaluation, and the decisions on it."""

    @staticmethod
    def create_id(candidacy_id: str, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, f"dossier:{candidacy_id}")

    @event("Opened")
    def __init__(self, candidacy_id: str, candidate_id: str, certification: str, version: int):
        self.candidacy_id = candidacy_id
        self.candidate_id = candidate_id
        self.certification = certification
        # Not `self.version`: that is the aggregate's own version, which every event moves on.
        self.referential_version = version
        self.results: dict[str, dict] = {}  # block → latest evaluation
        self.awaiting: str | None = None  # the session it is presented to, until that session decides
        # session → the decision in force there (after any correction): decision, blocks, document number
        self.decisions: dict[str, dict] = {}
        self.documents: dict[str, dict] = {}  # document id → what DocumentAttached recorded, and superseded_by

    def acquired(self, block: str, positioning: dict[str, str], on: date) -> bool:
        """Held or recognised at positioning, or validated and still within its validity."""
        if positioning.get(block) in (BlockState.HELD, BlockState.RECOGNISED):
            return True
        result = self.results.get(block)
        return bool(result and result["validated"] and (result["valid_until"] is None or result["valid_until"] >= on))

    @property
    def acquired_by_decision(self) -> list[str]:
        return sorted({b for d in self.decisions.values() for b in d["blocks"]})

    @property
    def awarded(self) -> bool:
        return any(d["decision"] == Decision.FULL_AWARD for d in self.decisions.values())

    def evaluate(self, facts: EvaluationFacts, block: str, competences: list[dict], modality: str, on: date,
                 organisation_id: str, evidence_documents: list[str] = ()) -> bool:
        """`organisation_id`: the evaluator's. The evaluator's name and the evidence are recorded sealed
        (`facts.personal`): free text about the person, never recorded in clear. `evidence_documents`: the
        current evidence of the block the result rests on, at least one for an observed situation."""
        candidacy = facts.candidacy
        candidacy.check_live()
        if on > facts.today:
            raise DateRefused("an evaluation is not dated in the future", on=str(on), today=str(facts.today))
        if candidacy.opened_on is not None and on < candidacy.opened_on:
            raise DateRefused("an evaluation is not dated before the candidacy was opened", on=str(on),
                              opened_on=str(candidacy.opened_on))
        if organisation_id in facts.withdrawn:
            raise EvaluatorNotAccredited("the organisation's accreditation was withdrawn: it records no result "
                                         "since, whatever date it gives", organisation_id=organisation_id)
        if organisation_id not in facts.accredited:
            raise EvaluatorNotAccredited("the organisation is not accredited to evaluate for this certification on "
                                         "that date", organisation_id=organisation_id, on=str(on))
        if block not in candidacy.blocks:
            raise InvalidInput("the block is not claimed by this candidacy", block=block)
        if modality not in MODALITIES:
            raise InvalidInput(f"a modality is one of {', '.join(MODALITIES)}", modality=modality)
        if not competences:
            raise InvalidInput("an evaluation gives the result of each competence assessed")
        if self.acquired(block, candidacy.blocks, on):
            raise BlockAlreadyAcquired("this block is already acquired and is not evaluated again", block=block)
        evidence_documents = self.check_evidence(block, modality, list(dict.fromkeys(evidence_documents)))
        validated = all(c["acquired"] for c in competences)
        valid_until = add_months(on, facts.validity_months) if validated and facts.validity_months else None
        self._evaluated(candidacy_id=self.candidacy_id, candidate_id=self.candidate_id,
                        certification=self.certification, version=self.referential_version, block=block, validated=validated,
                        competences=competences, modality=modality, personal=facts.personal,
                        organisation_id=organisation_id, on=on, valid_until=valid_until,
                        evidence_documents=evidence_documents)
        return validated

    @event("BlockEvaluated")
    def _evaluated(self, candidacy_id: str, candidate_id: str, certification: str, version: int, block: str,
                   validated: bool, competences: list[dict], modality: str, organisation_id: str,
                   on: date, valid_until: date | None, personal: str | None = None, evaluator: str | None = None,
                   evidence: str | None = None, evidence_documents: list[str] | None = None) -> None:
        # `evaluator`, `evidence`: in clear in the evaluations recorded before they were sealed.
        # `evidence_documents`: none in the evaluations recorded before documents were attached.
        self.results[block] = {"validated": validated, "on": on, "valid_until": valid_until}

    # --- evaluation evidence (shared/documents.py: the kind's rules; the bytes sealed with the candidate's key) ---

    # The modalities whose result rests on evidence attached first: the observed situation.
    NEEDS_EVIDENCE = frozenset({Modality.PRACTICAL_SITUATION})

    def current_documents(self, kind: DocumentKind | None = None, block: str | None = None) -> list[str]:
        return [i for i, d in self.documents.items() if not d.get("superseded_by") and not d.get("purged")
                and kind in (None, d["kind"]) and block in (None, d["block"])]

    def check_evidence(self, block: str, modality: str, named: list[str]) -> list[str]:
        """The evidence documents an evaluation names: current evidence of this block, one at least where the
        modality needs it (an observed situation)."""
        current = self.current_documents(DocumentKind.EVALUATION_EVIDENCE, block)
        if unknown := [d for d in named if d not in current]:
            raise UnknownDocument(f"not a current {DocumentKind.EVALUATION_EVIDENCE} of block {block} in this "
                                  "candidacy's dossier", documents=unknown, block=block)
        if modality in self.NEEDS_EVIDENCE and not named:
            raise DocumentMissing(f"an evaluation by {modality} names its {DocumentKind.EVALUATION_EVIDENCE}: "
                                  "attach it first, then name it in evidence_documents", step="record-evaluation",
                                  block=block, missing=[DocumentKind.EVALUATION_EVIDENCE])
        return named

    def attach_evidence(self, facts: AttachingFacts, block: str, supersedes: str | None) -> int:
        """Records an evidence document of the block (its bytes already stored sealed); answers its version.
        A block holds many: one supersedes another only when it says so."""
        facts.candidacy.check_live()
        if block not in facts.candidacy.blocks:
            raise InvalidInput("the block is not claimed by this candidacy", block=block)
        version = superseding(self.documents, DocumentKind.EVALUATION_EVIDENCE, supersedes, block)
        self._document_attached(candidacy_id=self.candidacy_id, document_id=facts.document_id,
                                kind=DocumentKind.EVALUATION_EVIDENCE, block=block, version=version,
                                supersedes=supersedes, **stored(facts))
        return version

    def attach_certificate(self, facts: CertificateDocumentFacts, number: str | None = None,
                           session_id: str | None = None) -> None:
        """Records the PDF of a certificate or attestation of this candidacy (its bytes already stored sealed), then
        each of its credentials: documents of their own lines (a correction's new certificate has its own; the old
        ones stay, revoked). `number`: the certificate they are of; `session_id`: the session that decided it,
        whose publication shows them."""
        self._document_attached(candidacy_id=self.candidacy_id, document_id=facts.document_id,
                                kind=DocumentKind.CERTIFICATE_PDF, block=None, version=1, supersedes=None,
                                certificate=number, session_id=session_id, **stored(facts))
        for credential in facts.credentials:
            self._document_attached(candidacy_id=self.candidacy_id, document_id=credential.document_id,
                                    kind=DocumentKind.CREDENTIAL, block=credential.block or None, version=1,
                                    supersedes=None, certificate=number, credential=credential.facts(),
                                    session_id=session_id, **stored(credential))

    # `certificate`, `credential`: none on the documents attached before certificates' credentials were stored.
    @event("DocumentAttached")
    def _document_attached(self, candidacy_id: str, document_id: str, kind: str, block: str | None, version: int,
                           supersedes: str | None, object_key: str, size: int, media_type: str, sha256: str,
                           sealed_sha256: str, personal: str, session_id: str | None = None,
                           certificate: str | None = None, credential: dict | None = None) -> None:
        # `session_id`: a certificate's PDF's session (none recorded on the PDFs made before publication existed).
        attached(self.documents, document_id, kind, version, supersedes, object_key, size, media_type, sha256,
                 sealed_sha256, personal, block=block)
        self.documents[document_id]["session_id"] = session_id

    def read_document(self, document_id: str) -> dict:
        """Records who read the document (the audit trail's): what the reader then serves."""
        found = readable(self.documents, document_id)
        self._document_read(candidacy_id=self.candidacy_id, document_id=document_id)
        return found

    @event("DocumentRead")
    def _document_read(self, candidacy_id: str, document_id: str) -> None:
        pass

    def purge_document(self, document_id: str, kept_until: date, facts: PurgingFacts) -> str:
        """The end of the evidence's keeping period: answers its object's key (deleted after; the history keeps it)."""
        check_purge(self.documents.get(document_id), document_id, kept_until, facts.today, facts.attached_on)
        self._document_purged(candidacy_id=self.candidacy_id, document_id=document_id, kept_until=kept_until.isoformat())
        return self.documents[document_id]["object_key"]

    @event("DocumentPurged")
    def _document_purged(self, candidacy_id: str, document_id: str, kept_until: str) -> None:
        self.documents[document_id]["purged"] = True

    def papers(self) -> list[dict]:
        """The current evidence the jury reads, block by block."""
        return [{"document_id": i, "kind": str(self.documents[i]["kind"])}
                for i in sorted(self.current_documents(DocumentKind.EVALUATION_EVIDENCE),
                                key=lambda i: (self.documents[i]["block"], list(self.documents).index(i)))]

    def to_present(self, facts: CandidacyFacts, on: date) -> list[str]:
        """The blocks a session examines: those with a result and not acquired by an earlier decision.
        Refused while any claimed block has no result (or a result past its validity)."""
        missing = [b for b in facts.blocks
                   if not self.acquired(b, facts.blocks, on) and (b not in self.results or self.results[b]["validated"])]
        if missing:
            raise MissingBlockResults("every block claimed needs an evaluation result before the jury",
                                      blocks=missing)
        return [b for b in facts.blocks if b not in self.acquired_by_decision]

    def check_presentable(self, session_id: str) -> None:
        if self.awarded:
            raise AlreadyAwarded("the candidacy was awarded the certification: it is presented nowhere again")
        if self.awaiting is not None and self.awaiting != session_id:
            raise PresentedElsewhere("the candidacy awaits the decision of another session", session_id=self.awaiting)

    @event("Presented")
    def presented(self, session_id: str) -> None:
        self.awaiting = session_id


    def document_in_force(self, session_id: str) -> str | None:
        decision = self.decisions.get(session_id)
        return decision and decision["document"]

    @event("DecisionRecorded")
    def record_decision(self, session_id: str, decision: str, blocks_acquired: list[str],
                        document: str | None = None) -> None:
        self.decisions[session_id] = {"decision": decision, "blocks": blocks_acquired, "document": document}
        if self.awaiting == session_id:
            self.awaiting = None


# --- documents, on a dossier or a session: one line of versions per document, never edited ---

def superseding(documents: dict[str, dict], kind: DocumentKind, supersedes: str | None, block: str | None = None) -> int:
    """The version of a new document of the kind, superseding `supersedes` (of its kind, and block): 1 if none."""
    if supersedes is None:
        return 1
    replaced = documents.get(supersedes)
    if replaced is None or replaced["kind"] != kind or replaced.get("block") != block:
        raise UnknownDocument(f"no {kind} {supersedes!r} here to supersede", kind=kind, block=block)
    if replaced.get("superseded_by"):
        raise Conflict("that document is already superseded: supersede its latest version",
                       superseded_by=replaced["superseded_by"])
    return replaced["version"] + 1


def stored(facts: AttachingFacts) -> dict:
    return dict(object_key=facts.stored.object_key, size=facts.stored.size, media_type=facts.stored.media_type,
                sha256=facts.stored.sha256, sealed_sha256=facts.stored.sealed_sha256, personal=facts.personal)


def attached(documents: dict[str, dict], document_id: str, kind: str, version: int, supersedes: str | None,
             object_key: str, size: int, media_type: str, sha256: str, sealed_sha256: str, personal: str,
             block: str | None = None) -> None:
    documents[document_id] = {"kind": DocumentKind(kind), "block": block, "version": version, "supersedes": supersedes,
                              "object_key": object_key, "size": size, "media_type": media_type, "sha256": sha256,
                              "sealed_sha256": sealed_sha256, "personal": personal}
    if supersedes is not None:
        documents[supersedes]["superseded_by"] = document_id


def readable(documents: dict[str, dict], document_id: str) -> dict:
    found = documents.get(document_id)
    if found is None:
        raise UnknownDocument("no such document", document_id=document_id)
    if found.get("purged"):
        raise UnknownDocument("the document was purged at the end of its keeping period", document_id=document_id)
    return found


class JurySession(Aggregate):
    """A paritaire national jury, scheduled by a branch for one or several certifications."""

    @event("Scheduled")
    def __init__(self, branch: str, certifications: list[str], on: date, place: str, remote: bool, capacity: int):
        self.branch = branch
        self.certifications = certifications
        self.on = on
        self.place = place
        self.remote = remote
        self.capacity = capacity
        self.members: dict[str, dict] = {}
        self.presented: dict[str, dict] = {}  # candidacy → {"blocks": [...], "decision": None | {...}, "papers"}
        self.documents: dict[str, dict] = {}  # its papers: document id → what DocumentAttached recorded
        self.closed: dict | None = None  # {"on", "president", "minutes"}: its minutes drawn up
        self.published: dict | None = None  # {"on"}: its results visible to the candidates and their organisations
        self.downloaded = False  # someone outside the jury downloaded one of its certificates' PDFs

    @classmethod
    def schedule(cls, branch: str, certifications: list[str], on: date, place: str, remote: bool, capacity: int,
                 owners: dict[str, set[str]]) -> JurySession:
        """`owners`: the branches owning each certification (the catalog's facts)."""
        if not_owned := [c for c in certifications if branch not in owners.get(c, set())]:
            raise CertificationNotOwnedByBranch("a branch schedules sessions for the certifications it owns",
                                                branch=branch, certifications=not_owned)
        if capacity < 1:
            raise InvalidInput("a session examines at least one candidacy", capacity=capacity)
        if not remote and not place:
            raise InvalidInput("a session is held remotely or at a place")
        return cls(branch=branch, certifications=certifications, on=on, place=place, remote=remote,
                   capacity=capacity)

    def appoint(self, member_id: str, personal: str, college: str, role: str) -> str:
        """`personal`: the member's name, sealed with their own key (shared/personal.py), made for `member_id`."""
        if college not in COLLEGES:
            raise InvalidInput(f"a college is one of {', '.join(COLLEGES)}", college=college)
        if role not in MEMBER_ROLES:
            raise InvalidInput(f"a member's role is one of {', '.join(MEMBER_ROLES)}", role=role)
        if role != MemberRole.MEMBER and any(m["role"] == role for m in self.members.values()):
            raise InvalidInput(f"the session already has a {role.lower().replace('_', '-')}", role=role)
        if member_id in self.members:
            raise InvalidInput("this member is already appointed", member_id=member_id)
        self._appointed(member_id=member_id, personal=personal, college=college, role=role)
        return member_id

    @event("MemberAppointed")
    def _appointed(self, member_id: str, college: str, role: str, personal: str | None = None,
                   name: str | None = None) -> None:
        # `name`: in clear in the members appointed before names were sealed per person.
        self.members[member_id] = {"personal": personal, "name": name, "college": college, "role": role}

    def check_open(self) -> None:
        if getattr(self, "closed", None) is not None:
            raise SessionClosed("the session is closed: it takes no more presentations or decisions")

    def present(self, facts: CandidacyFacts, dossier: Dossier) -> list[str]:
        self.check_open()
        # The certification first: its status is not told to a session that does not examine it.
        if facts.certification not in self.certifications:
            raise InvalidInput("the session does not examine this certification", certification=facts.certification)
        facts.check_ready_for_jury()
        if facts.candidacy_id in self.presented:
            raise AlreadyDecided("the candidacy is already presented to this session")
        if len(self.presented) >= self.capacity:
            raise SessionFull("the session has no room left", capacity=self.capacity)
        dossier.check_presentable(str(self.id))
        blocks = dossier.to_present(facts, self.on)
        papers = [*dossier.papers(), *({"document_id": p["document_id"], "kind": str(p["kind"])} for p in facts.papers)]
        self._presented(candidacy_id=facts.candidacy_id, blocks=blocks, papers=papers)
        dossier.presented(session_id=str(self.id))
        return blocks

    @event("CandidacyPresented")
    def _presented(self, candidacy_id: str, blocks: list[str], papers: list[dict] | None = None) -> None:
        # `papers`: none listed in the presentations recorded before documents were attached.
        self.presented[candidacy_id] = {"blocks": blocks, "decision": None, "papers": papers or []}

    # --- the session's papers: its attendance sheet and minutes, each held once (sealed with the session's key) ---

    def current_documents(self, kind: DocumentKind | None = None) -> list[str]:
        return [i for i, d in self.documents.items()
                if not d.get("superseded_by") and not d.get("purged") and kind in (None, d["kind"])]

    def attach_paper(self, kind: DocumentKind, facts: AttachingFacts, supersedes: str | None) -> int:
        """Records the paper (its bytes already stored sealed); answers its version. A kind held once
        supersedes the current one."""
        if supersedes is None and kind in HELD_ONCE and (current := self.current_documents(kind)):
            supersedes = current[0]
        version = superseding(self.documents, kind, supersedes)
        self._document_attached(document_id=facts.document_id, kind=kind, version=version, supersedes=supersedes,
                                **stored(facts))
        return version

    @event("DocumentAttached")
    def _document_attached(self, document_id: str, kind: str, version: int, supersedes: str | None, object_key: str,
                           size: int, media_type: str, sha256: str, sealed_sha256: str, personal: str) -> None:
        attached(self.documents, document_id, kind, version, supersedes, object_key, size, media_type, sha256,
                 sealed_sha256, personal)

    def read_document(self, document_id: str) -> dict:
        """Records who read the paper (the audit trail's): what the reader then serves."""
        found = readable(self.documents, document_id)
        self._document_read(document_id=document_id)
        return found

    @event("DocumentRead")
    def _document_read(self, document_id: str) -> None:
        pass

    def purge_document(self, document_id: str, kept_until: date, facts: PurgingFacts) -> str:
        """The end of the paper's keeping period: answers its object's key (deleted after; the history keeps it)."""
        check_purge(self.documents.get(document_id), document_id, kept_until, facts.today, facts.attached_on)
        self._document_purged(document_id=document_id, kept_until=kept_until.isoformat())
        return self.documents[document_id]["object_key"]

    @event("DocumentPurged")
    def _document_purged(self, document_id: str, kept_until: str) -> None:
        self.documents[document_id]["purged"] = True

    def check_composition(self, present: list[str], quorum: int) -> None:
        unknown = [m for m in present if m not in self.members]
        if unknown:
            raise UnknownMember("these members were not appointed to the session", members=unknown)
        members = [self.members[m] for m in present]
        employers = sum(m["college"] == College.EMPLOYER for m in members)
        if employers * 2 != len(members):
            raise UnbalancedColleges("the colleges present are not in equal numbers",
                                     employer=employers, employee=len(members) - employers)
        if len(members) < quorum:
            raise QuorumNotReached("fewer members present than the quorum", present=len(members), quorum=quorum)
        colleges = {m["role"]: m["college"] for m in members if m["role"] != MemberRole.MEMBER}
        if (set(colleges) != {MemberRole.PRESIDENT, MemberRole.VICE_PRESIDENT}
                or colleges[MemberRole.PRESIDENT] == colleges[MemberRole.VICE_PRESIDENT]):
            raise PresidencyRule("the president and the vice-president must be present, from different colleges",
                                 present_roles=colleges)

    def decide(self, facts: DecisionFacts, dossier: Dossier, holding: Holding, decision: str, present: list[str],
               votes: dict) -> Ruling:
        """Record the decision on a presented candidacy, dated the day it is taken, and issue its document
        (`issue`); the dossier records both. `holding`: the candidate's of the certification version."""
        candidacy, today = facts.candidacy, facts.today
        self.check_open()
        if today < self.on:
            raise DateRefused("a session decides on or after the day it is scheduled", on=str(self.on),
                              today=str(today))
        if decision not in DECISIONS:
            raise InvalidInput(f"a decision is one of {', '.join(DECISIONS)}", decision=decision)
        presented = self.presented.get(candidacy.candidacy_id)
        if presented is None:
            raise NotPresented("the candidacy was not presented to this session")
        if presented["decision"] is not None:
            raise AlreadyDecided("a decision is final: correct it with its reason instead")
        self.check_composition(present, facts.quorum)
        if sum(votes.values()) != len(present) or votes["for"] * 2 <= len(present):
            raise NoMajority("a decision needs the absolute majority of the members present", votes=votes,
                             present=len(present))
        blocks = self.blocks_acquired(candidacy, dossier, decision, facts.version_blocks)
        self._decided(candidacy_id=candidacy.candidacy_id, candidate_id=candidacy.candidate_id,
                      certification=candidacy.certification, version=candidacy.version, decision=decision,
                      blocks_acquired=blocks, present=present, votes=votes, decided_on=today)
        return self.issue(facts, dossier, holding, decision, blocks)

    def issue(self, facts: CorrectionFacts, dossier: Dossier, holding: Holding, decision: str, blocks: list[str],
              changed: tuple[Aggregate, ...] = ()) -> Ruling:
        """The document a decision gives, dated the day of the decision: a certificate for a full award (once
        per candidate and certification version: the holding), an attestation of the blocks for a partial
        validation, none otherwise; the dossier records the decision with it. `changed`: by the decision."""
        candidacy, issued = facts.candidacy, []
        if decision in (Decision.FULL_AWARD, Decision.PARTIAL_VALIDATION):
            full = decision == Decision.FULL_AWARD
            issued.append(Certificate(
                number=Certificate.new_number(candidacy.certification),
                kind=CertificateKind.CERTIFICATE if full else CertificateKind.ATTESTATION,
                candidate_id=candidacy.candidate_id, candidacy_id=candidacy.candidacy_id,
                certification=candidacy.certification, version=candidacy.version, blocks=blocks,
                awarded_on=facts.today, session_id=str(self.id)))
            if full:
                holding.take(issued[0].number)
                issued.append(holding)
        document = issued[0].number if issued else None
        dossier.record_decision(session_id=str(self.id), decision=decision, blocks_acquired=blocks, document=document)
        unique = {id(a): a for a in (*changed, *issued)}  # a holding released, then taken again, changed once
        return Ruling(blocks, document, tuple(unique.values()))

    def blocks_acquired(self, facts: CandidacyFacts, dossier: Dossier, decision: str,
                        version_blocks: tuple[str, ...]) -> list[str]:
        """What a decision acquires, under the rules of decisions (a correction obeys them too)."""
        acquired = [b for b in version_blocks if dossier.acquired(b, facts.blocks, self.on)]
        if decision == Decision.FULL_AWARD and (missing := [b for b in version_blocks if b not in acquired]):
            raise AwardWithMissingBlock("a full award needs every block of the version validated, held or "
                                        "recognised", missing=missing)
        if decision == Decision.PARTIAL_VALIDATION and not acquired:
            raise InvalidInput("a partial validation acquires at least one block")
        return acquired if decision in (Decision.FULL_AWARD, Decision.PARTIAL_VALIDATION) else []

    @event("Decided")
    def _decided(self, candidacy_id: str, candidate_id: str, certification: str, version: int, decision: str,
                 blocks_acquired: list[str], present: list[str], votes: dict, decided_on: date) -> None:
        self.presented[candidacy_id]["decision"] = {"decision": decision, "blocks_acquired": blocks_acquired,
                                                    "present": present}

    # --- closing (the minutes) and publishing the results ---

    def members_present(self) -> list[str]:
        """The members present at its decisions (each decision names its own), in the order of their appointment."""
        present = {m for p in self.presented.values() if p["decision"] for m in p["decision"].get("present", ())}
        return [m for m in self.members if m in present]

    def check_closable(self, president: str, quorum: int) -> None:
        """What closing needs, checked by the facts reader before the minutes are rendered, and again on closing."""
        if getattr(self, "closed", None) is not None:
            raise SessionClosed("the session is already closed")
        if undecided := sorted(c for c, p in self.presented.items() if p["decision"] is None):
            raise UndecidedPresentations("every candidacy presented is decided before the session closes",
                                         candidacies=undecided)
        if self.members.get(president, {}).get("role") != MemberRole.PRESIDENT:
            raise NotThePresident("the minutes are attested by the session's president", member_id=president)
        present = self.members_present()
        if president not in present:
            raise NotThePresident("the president attesting the minutes sat at the session's decisions",
                                  member_id=president)
        self.check_composition(present, quorum)

    def close(self, facts: ClosingFacts, president: str, today: date) -> None:
        """Closed with its minutes (attested by `president`), which become its MINUTES paper (superseding an
        uploaded one); it takes no more presentations nor decisions from then on."""
        self.check_closable(president, facts.quorum)
        current = self.current_documents(DocumentKind.JURY_MINUTES)
        supersedes = current[0] if current else None
        self._closed(president=president, closed_on=today, minutes=facts.document_id, sha256=facts.stored.sha256,
                     members_present=self.members_present())
        self._document_attached(document_id=facts.document_id, kind=DocumentKind.JURY_MINUTES,
                                version=superseding(self.documents, DocumentKind.JURY_MINUTES, supersedes),
                                supersedes=supersedes, **stored(facts))

    @event("Closed")
    def _closed(self, president: str, closed_on: date, minutes: str, sha256: str, members_present: list[str]) -> None:
        self.closed = {"on": closed_on, "president": president, "minutes": minutes}

    def publish_results(self, today: date) -> None:
        """Its decisions, certificates and their PDFs become visible to the candidates and their organisations,
        once its minutes are drawn up (generated on closing, or uploaded). Publishing twice is refused."""
        if getattr(self, "published", None) is not None:
            raise AlreadyPublished("the session's results are already published")
        if not self.current_documents(DocumentKind.JURY_MINUTES):
            raise MinutesMissing("a session's results are published after its minutes: close the session first")
        self._published(published_on=today)

    @event("ResultsPublished")
    def _published(self, published_on: date) -> None:
        self.published = {"on": published_on}

    def unpublish_results(self, reason: str) -> None:
        """Hidden again, with the reason, as long as nobody outside the jury downloaded a certificate of it."""
        if getattr(self, "published", None) is None:
            raise NotPublished("the session's results are not published")
        if not reason.strip():
            raise UnpublicationNeedsReason("an unpublication says why")
        if getattr(self, "downloaded", False):
            raise ResultsAlreadyDownloaded("a certificate of the session was downloaded outside the jury: its "
                                           "results stay published (correct a decision instead)")
        self._unpublished(reason=reason.strip())

    @event("ResultsUnpublished")
    def _unpublished(self, reason: str) -> None:
        self.published = None

    def note_download(self, document_id: str) -> bool:
        """A certificate's PDF of the session read outside the jury: recorded once (what unpublishing looks at)."""
        if getattr(self, "downloaded", False):
            return False
        self._downloaded(document_id=document_id)
        return True

    @event("ResultsDownloaded")
    def _downloaded(self, document_id: str) -> None:
        self.downloaded = True

    def correct(self, facts: CorrectionFacts, dossier: Dossier, in_force: Certificate | None, holding: Holding,
                decision: str, reason: str) -> Ruling:
        """Correct a decision under the rules of decisions: the document of the corrected decision (`in_force`,
        the dossier's for this session) is revoked, with the date, the reason and, in its event, the author;
        a certificate's holding is released; the corrected decision's document is issued (`issue`)."""
        candidacy, today = facts.candidacy, facts.today
        presented = self.presented.get(candidacy.candidacy_id)
        if presented is None or presented["decision"] is None:
            raise NotPresented("there is no decision on this candidacy to correct")
        if not reason.strip():
            raise CorrectionNeedsReason("a correction says why")
        if decision not in DECISIONS:
            raise InvalidInput(f"a decision is one of {', '.join(DECISIONS)}", decision=decision)
        previous = presented["decision"]["decision"]
        if decision == previous:
            raise InvalidInput("the correction changes nothing: it is the decision in force", decision=decision)
        if decision == Decision.FULL_AWARD and any(
                d["decision"] == Decision.FULL_AWARD for s, d in dossier.decisions.items() if s != str(self.id)):
            raise AlreadyAwarded("the candidacy was awarded by another session: it is awarded once")
        blocks = self.blocks_acquired(candidacy, dossier, decision, facts.version_blocks)
        self._corrected(candidacy_id=candidacy.candidacy_id, previous=previous, decision=decision,
                        reason=reason.strip(), blocks_acquired=blocks, corrected_on=today)
        revoked = () if in_force is None else in_force.revoke_on_correction(today, reason, holding)
        return self.issue(facts, dossier, holding, decision, blocks, revoked)

    @event("DecisionCorrected")
    def _corrected(self, candidacy_id: str, previous: str, decision: str, reason: str,
                   blocks_acquired: list[str] | None = None, corrected_on: date | None = None) -> None:
        self.presented[candidacy_id]["decision"]["decision"] = decision
        self.presented[candidacy_id]["decision"]["blocks_acquired"] = blocks_acquired or []


class Certificate(Aggregate):
    """A certificate (full award) or an attestation of the blocks acquired (partial validation)."""

    @staticmethod
    def create_id(number: str, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, f"certificate:{number}")

    @staticmethod
    def new_number(certification: str) -> str:
        # 80 random bits: a number cannot be guessed from another.
        return f"{certification}-{secrets.token_hex(10).upper()}"

    @event("Issued")
    def __init__(self, number: str, kind: str, candidate_id: str, candidacy_id: str, certification: str,
                 version: int, blocks: list[str], awarded_on: date, session_id: str, holder: str | None = None):
        self.number = number
        self.kind = kind
        self.candidacy_id = candidacy_id
        self.candidate_id = candidate_id
        # The holder is the candidate (`candidate_id`): their name stays with the candidacy service, sealed
        # with their own key (shared/personal.py). Certificates issued before that named them here.
        self.holder = holder
        self.certification = certification
        self.referential_version = version
        self.blocks = blocks
        self.awarded_on = awarded_on
        self.session_id = session_id
        self.revoked: dict | None = None
        self.declaration = {"state": DeclarationState.PENDING, "file": None, "messages": []}
        self.document: dict | None = None  # its PDF: {"document_id", "sha256"}, once issued

    def issue_document(self, document_id: str, sha256: str, credentials: tuple = ()) -> None:
        """Its PDF and its credentials (CredentialDocument), issued once in one fact: a second issue for the same
        certificate is refused (a redelivered event issues nothing twice)."""
        if getattr(self, "document", None) is not None:
            raise CertificateDocumentAlreadyIssued("the certificate's PDF is already issued", number=self.number,
                                                   document_id=self.document["document_id"])
        self._document_issued(number=self.number, document_id=document_id, sha256=sha256,
                              credentials=[{"document_id": c.document_id, "block": c.block, "sha256": c.stored.sha256,
                                            "id": c.credential_id} for c in credentials])

    # `credentials`: none in the PDFs issued before their credentials were stored alone.
    @event("DocumentIssued")
    def _document_issued(self, number: str, document_id: str, sha256: str, credentials: list | None = None) -> None:
        self.document = {"document_id": document_id, "sha256": sha256, "credentials": credentials or []}

    def declare(self, file: str) -> None:
        """Written in a declaration file to the Caisse des Dépôts; a passage accepted is never sent again."""
        if self.kind != CertificateKind.CERTIFICATE or self.revoked is not None:
            raise NotDeclarable("only a certificate in force is declared", number=self.number)
        if self.declaration["state"] in (DeclarationState.SENT, DeclarationState.ACCEPTED):
            raise NotDeclarable(f"the holder is already declared ({self.declaration['state'].lower()})",
                                number=self.number, file=self.declaration["file"])
        self._declared(number=self.number, state=DeclarationState.SENT, file=file, messages=[])

    def record_outcome(self, file: str, accepted: bool, messages: list[str]) -> None:
        if self.declaration["state"] != DeclarationState.SENT or self.declaration["file"] != file:
            raise NotDeclarable("this passage was not sent in that file", number=self.number, file=file)
        state = DeclarationState.ACCEPTED if accepted else DeclarationState.REJECTED
        self._declared(number=self.number, state=state, file=file, messages=messages)

    @event("DeclarationChanged")
    def _declared(self, number: str, state: str, file: str, messages: list[str]) -> None:
        self.declaration = {"state": state, "file": file, "messages": messages}

    def revoke(self, on: date, reason: str) -> None:
        if self.revoked is not None:
            raise CertificateAlreadyRevoked("the certificate is already revoked", number=self.number)
        self._revoked(number=self.number, on=on, reason=reason)

    def revoke_on_correction(self, on: date, reason: str, holding: Holding) -> tuple[Aggregate, ...]:
        """The document of a corrected decision is revoked; a certificate frees its holding (the candidate
        may be awarded the version again). Returns what changed."""
        self.revoke(on, f"decision corrected: {reason.strip()}")
        if self.kind != CertificateKind.CERTIFICATE:
            return (self,)
        holding.release(number=self.number)
        return self, holding

    @event("Revoked")
    def _revoked(self, number: str, on: date, reason: str) -> None:
        self.revoked = {"on": on, "reason": reason}


class Holding(Aggregate):
    """That a candidate holds a certification version: one certificate through a candidacy at a time."""

    @staticmethod
    def create_id(candidate_id: str, certification: str, version: int, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, f"holding:{candidate_id}:{certification}:{version}")

    @event("Started")
    def __init__(self, candidate_id: str, certification: str, version: int):
        self.candidate_id = candidate_id
        self.certification = certification
        self.referential_version = version
        self.number: str | None = None

    def check_free(self) -> None:
        if self.number is not None:
            raise AlreadyCertified("the candidate already holds a certificate of this certification version",
                                   certificate=self.number)

    def take(self, number: str) -> None:
        """Held by the certificate `number`, unless another holds it."""
        self.check_free()
        self.hold(number=number)

    @event("Held")
    def hold(self, number: str) -> None:
        self.number = number

    @event("Released")
    def release(self, number: str) -> None:
        if self.number == number:
            self.number = None
