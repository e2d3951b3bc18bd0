"""The jury service's commands."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator, model_validator

from shared.commands import EMAIL, Code, Command, Id, Part, Upload
from shared.vocabulary import College, DeadlineKind, Decision, DocumentKind, MemberRole, Modality, UnansweredAdmissibility


class CompetenceResult(Part):
    competence: str = Field(min_length=1, max_length=1000)
    acquired: bool


class RecordEvaluation(Command):
    operation = "record-evaluation"

    candidacy_id: str = Id
    block: str = Field(min_length=1, max_length=64)
    competences: list[CompetenceResult] = Field(min_length=1, max_length=100)
    modality: Modality
    evaluator: str = Field(min_length=1, max_length=200, description="The person who evaluated")
    on: date
    evidence: str = Field(min_length=1, max_length=500, description="Where the evidence is kept")
    evidence_documents: list[str] = Field(default_factory=list, max_length=50, description="The evidence "
                                          "documents (attach-evaluation-evidence, this candidacy and block) the "
                                          "result rests on: at least one for an observed situation "
                                          "(PRACTICAL_SITUATION)")


class AttachEvaluationEvidence(Upload, Command):
    """Evidence of one block's evaluation (a grid, an observation report, a photo of work), recorded on the
    candidacy's dossier; sealed with the key the jury service keeps for the candidate."""

    operation = "attach-evaluation-evidence"
    graphql_name = None

    candidacy_id: str = Id
    block: str = Field(min_length=1, max_length=64)

    @property
    def kind(self) -> DocumentKind:
        return DocumentKind.EVALUATION_EVIDENCE


JURY_PAPERS = (DocumentKind.ATTENDANCE_SHEET, DocumentKind.JURY_MINUTES)


class AttachJuryPaper(Upload, Command):
    """A session's attendance sheet or minutes (each held once: a new one supersedes the current one), recorded
    on the session; sealed with a key of the session (the certifier's record: no candidate's erasure reaches it)."""

    operation = "attach-jury-paper"
    graphql_name = None

    session_id: str = Id
    kind: DocumentKind

    @field_validator("kind")
    @classmethod
    def _of_a_session(cls, kind: DocumentKind) -> DocumentKind:
        if kind not in JURY_PAPERS:
            raise ValueError(f"a jury paper is one of {', '.join(JURY_PAPERS)}")
        return kind


class ReadJuryDocument(Command):
    """Not an endpoint: the reading of a document of a dossier (`candidacy_id`) or of a session (`session_id`),
    recorded before its bytes are served (services/jury/documents.py); who may read it is its kind's row."""

    operation = "read-jury-document"
    graphql_name = None

    document_id: str = Id
    candidacy_id: str | None = Field(default=None, min_length=1, max_length=64)
    session_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _of_one_file(self):
        if (self.candidacy_id is None) == (self.session_id is None):
            raise ValueError("a document is read from a candidacy's dossier or from a session: name one")
        return self


class PurgeJuryDocument(Command):
    """The end of a document's keeping period (shared/documents.py: KINDS' keep_years): its object is deleted, the
    history keeps its facts. Sent by `cqp documents purge`, the platform's operator's."""

    operation = "purge-jury-document"
    graphql_name = None

    aggregate_id: str = Field(min_length=1, max_length=64, description="The dossier or the session holding it")
    document_id: str = Id
    kept_until: date = Field(description="The day the keeping periods are applied on: the document is purged when "
                                         "its period ended on or before it (never a day to come)")


class IssueCertificateDocument(Command):
    """Not an endpoint: the jury service runs it on its own CertificateIssued (services/jury/certificates.py), keyed
    by the certificate's number: the PDF of the certificate or attestation, sealed by its branch, attached to the
    candidacy's dossier."""

    operation = "issue-certificate-document"
    graphql_name = None

    number: str = Field(min_length=1, max_length=100)


class ScheduleSession(Command):
    operation = "schedule-session"
    graphql_name = "ScheduleJurySessionInput"

    branch: str = Code
    certifications: list[str] = Field(min_length=1, max_length=50)
    on: date
    place: str = Field(default="", max_length=300)
    remote: bool = False
    capacity: int = Field(ge=1, le=1000)


class AppointMember(Command):
    operation = "appoint-member"
    graphql_name = "AppointJuryMemberInput"

    session_id: str = Id
    name: str = Field(min_length=1, max_length=200)
    # Where their convocation goes (sealed with their name, services/jury/members.py); none: convened otherwise.
    email: str | None = Field(default=None, pattern=EMAIL, max_length=320)
    college: College
    role: MemberRole = MemberRole.MEMBER


class Present(Command):
    operation = "present"
    graphql_name = "PresentCandidacyInput"

    session_id: str = Id
    candidacy_id: str = Id


class Decide(Present):
    operation = "decide"
    graphql_name = None

    decision: Decision
    present_members: list[str] = Field(min_length=1, max_length=50)
    votes_for: int = Field(ge=0)
    votes_against: int = Field(ge=0, default=0)
    abstentions: int = Field(ge=0, default=0)


class CorrectDecision(Present):
    operation = "correct-decision"
    graphql_name = None

    decision: Decision
    reason: str = Field(max_length=2000)


class CloseSession(Command):
    """The session's minutes drawn up from its facts (members present by college, quorum, each decision), attested
    by its president, sealed by the branch and attached as its JURY_MINUTES; it then takes no more presentations
    nor decisions. The secretariat records it; the president attests it (`president`, their member id)."""

    operation = "close-session"

    session_id: str = Id
    president: str = Field(min_length=1, max_length=64, description="The member id of the session's president, "
                                                                    "who attests the minutes")


class PublishSessionResults(Command):
    """The session's decisions, certificates and their PDFs made visible to the candidates and their
    organisations (after its minutes)."""

    operation = "publish-session-results"

    session_id: str = Id


class UnpublishSessionResults(Command):
    """Its results hidden again, with the reason, as long as nobody outside the jury downloaded a certificate."""

    operation = "unpublish-session-results"

    session_id: str = Id
    reason: str = Field(max_length=2000)


class DeclareHolders(Command):
    """The awards written in a declaration file for the Caisse des Dépôts (`cqp cdc export`)."""

    operation = "declare-holders"

    file: str = Field(min_length=1, max_length=50, description="The file's idFlux")
    numbers: list[str] = Field(min_length=1, max_length=5_000)


class RecordDeclarationOutcome(Command):
    """The portal's answer for one passage (`cqp cdc report`)."""

    operation = "record-declaration-outcome"

    file: str = Field(min_length=1, max_length=50)
    number: str = Field(min_length=1, max_length=80)
    accepted: bool
    messages: list[str] = Field(default_factory=list, max_length=50)


class OpenDeadline(Command):
    """Not an endpoint: the deadline engine runs it on the event that starts a deadline
    (services/jury/deadlines/engine.py), keyed by that event."""

    operation = "open-deadline"

    kind: DeadlineKind
    subject: str = Field(min_length=1, max_length=200)
    branch: str | None = None
    certification: str | None = None
    candidacy_id: str | None = None
    session_id: str | None = None
    responsible_organisation: str | None = None
    responsible_role: str = Field(min_length=1, max_length=64)
    cause: str = Field(min_length=1, max_length=200)
    opened_on: date
    due_on: date
    remind_on: date
    effect: UnansweredAdmissibility | None = None


class SettleDeadline(Command):
    """Not an endpoint: the deadline engine runs it on the event that meets a deadline or undoes what opened it,
    keyed by that event."""

    operation = "settle-deadline"

    deadline_id: str = Id
    outcome: str = Field(pattern="^(met|cancelled)$")
    cause: str = Field(min_length=1, max_length=200)
    on: date
    reason: str = Field(default="", max_length=500)


class FireDeadline(Command):
    """Not an endpoint: the scheduler runs it when a deadline's timer comes (services/jury/deadlines/timers.py),
    keyed by the deadline and the day."""

    operation = "fire-deadline"

    deadline_id: str = Id
    today: date
