"""The candidacy service's commands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field, ValidationInfo, field_validator

from shared.commands import Code, Command, Id, Part, Upload
from shared.vocabulary import CandidateStatus, DocumentKind, ExperienceKind, Funder, Route, Sex


class HolderIdentity(Part):
    """What the declaration of holders to the Caisse des Dépôts needs (civil registry data)."""

    birth_name: str = Field(min_length=1, max_length=60)
    usage_name: str | None = Field(default=None, min_length=1, max_length=60)
    first_names: list[str] = Field(min_length=1, max_length=3)
    sex: Sex
    birth_commune_insee: str = Field(pattern=r"^[0-9][0-9AB][0-9]{3}$", description="INSEE code of the birth commune")
    birth_country: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3, e.g. FRA")


class RegisterCandidate(Command):
    operation = "register-candidate"

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_date: date | None = None
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    status: CandidateStatus
    employer_id: str | None = Field(default=None, max_length=64)
    account: str | None = Field(default=None, min_length=1, max_length=200,
                                description="The candidate's login (username) at the identity provider: it "
                                            "reaches the record once the person, signed in, confirms it")
    holder: HolderIdentity | None = Field(default=None, description="Civil registry data, for the holders' declaration")


class CorrectCandidate(Command):
    """Rectification of a candidate's personal data: only the fields given change (the others stay)."""

    operation = "correct-candidate"

    candidate_id: str = Id
    given_name: str | None = Field(default=None, min_length=1, max_length=200)
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_date: date | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    holder: HolderIdentity | None = Field(default=None, description="Civil registry data, for the holders' declaration")

    def changes(self) -> dict:
        """The personal fields given, as plain JSON values."""
        return self.model_dump(mode="json", exclude={"candidate_id"}, exclude_none=True)


class EraseCandidate(Command):
    """Erasure of a candidate on their request: their key is destroyed, their data never readable again."""

    operation = "erase-candidate"

    candidate_id: str = Id


class ConfirmAccount(Command):
    """The person, signed in as the login their registering organisation named, confirms the record is theirs
    (a person registered twice, by two centres, claims each record this way: never an organisation for them)."""

    operation = "confirm-account"

    candidate_id: str = Id


class EntrustCandidate(Command):
    """The person, signed in, links their record to an organisation (a centre of their choice): it then has
    the same right over them as the one that registered them."""

    operation = "entrust-candidate"

    candidate_id: str = Id
    organisation_id: str = Id


class ExperiencePeriod(Part):
    start: date
    end: date
    activity: str = Field(min_length=1, max_length=2000)
    kind: ExperienceKind = ExperienceKind.PAID

    @field_validator("end")
    @classmethod
    def _not_before_start(cls, end: date, info: ValidationInfo) -> date:
        # Here rather than in the domain: the refusal then names the field (periods.0.end).
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError("a period ends on or after the day it starts")
        return end


class OpenCandidacy(Command):
    operation = "open-candidacy"

    candidate_id: str = Id
    certification: str = Code
    route: Route
    evaluator_id: str = Id
    trainer_id: str | None = Field(default=None, max_length=64)
    employer_id: str | None = Field(default=None, max_length=64)
    experience: list[ExperiencePeriod] = Field(default_factory=list, max_length=100)
    blocks: list[str] = Field(default_factory=list, max_length=100, description="VAE only: the blocks targeted")


class OnCandidacy(Command):
    """A step on one candidacy."""

    graphql_name = "CandidacyInput"

    candidacy_id: str = Id


class CheckEligibility(OnCandidacy):
    operation = "check-eligibility"


class Position(OnCandidacy):
    operation = "position"


class FileAdmissibility(OnCandidacy):
    operation = "file-admissibility"


class SubmitValidationFile(OnCandidacy):
    operation = "submit-validation-file"


class DeclareExperience(OnCandidacy):
    operation = "declare-experience"
    graphql_name = None

    periods: list[ExperiencePeriod] = Field(max_length=100)


class PathBlock(Part):
    block: str = Field(min_length=1, max_length=64)
    hours: int = Field(ge=0, le=5000)
    modules: list[str] = Field(default_factory=list, max_length=50)


class SetPath(OnCandidacy):
    operation = "set-path"
    graphql_name = None

    blocks: list[PathBlock] = Field(max_length=100)


class RequestFunding(OnCandidacy):
    operation = "request-funding"
    graphql_name = None

    funder: Funder
    funder_id: str | None = Field(default=None, max_length=64)
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class DecideFunding(OnCandidacy):
    operation = "decide-funding"
    graphql_name = None

    funding_id: str = Id
    granted: bool
    granted_amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    reason: str | None = Field(default=None, max_length=2000)


class DecideAdmissibility(OnCandidacy):
    operation = "decide-admissibility"
    graphql_name = None

    admissible: bool
    reason: str = Field(min_length=1, max_length=2000)


class Transfer(OnCandidacy):
    operation = "transfer"
    graphql_name = "TransferCandidacyInput"

    evaluator_id: str = Id
    reason: str = Field(min_length=1, max_length=2000)


class Withdraw(OnCandidacy):
    operation = "withdraw"
    graphql_name = "WithdrawCandidacyInput"

    reason: str = Field(min_length=1, max_length=2000)


class AttachVaePaper(Upload, OnCandidacy):
    """A paper of a VAE file: the admissibility request (Livret 1), one of its supporting documents, or the
    validation file (Livret 2)."""

    operation = "attach-vae-paper"
    graphql_name = None

    kind: DocumentKind

    @field_validator("kind")
    @classmethod
    def _of_a_vae_file(cls, kind: DocumentKind) -> DocumentKind:
        if kind not in VAE_PAPERS:
            raise ValueError(f"a VAE paper is one of {', '.join(VAE_PAPERS)}")
        return kind


VAE_PAPERS = (DocumentKind.LIVRET_1, DocumentKind.LIVRET_1_SUPPORT, DocumentKind.LIVRET_2)


class AttachIdentityDocument(Upload, OnCandidacy):
    """A copy of the holder's identity document, where the certifier collects it to check their civil data for the
    declaration to the Caisse des Dépôts."""

    operation = "attach-identity-document"
    graphql_name = None

    @property
    def kind(self) -> DocumentKind:
        return DocumentKind.IDENTITY_DOCUMENT


class ReadDocument(OnCandidacy):
    """Not an endpoint: the reading of a document, recorded before its bytes are served
    (services/candidacy/documents.py); who may read it is its kind's row of the role table."""

    operation = "read-document"
    graphql_name = None

    document_id: str = Id


class CloseCandidacy(OnCandidacy):
    """Not an endpoint: the candidacy service runs it on the jury's full award."""

    operation = "close-candidacy"
    graphql_name = None

    reason: str


class DeemAdmissible(OnCandidacy):
    """Not an endpoint: the candidacy service runs it when the jury's deadline engine says a VAE admissibility
    request went unanswered past its delay and the branch deems silence acceptance (services/jury/deadlines)."""

    operation = "deem-admissible"
    graphql_name = None

    deadline_id: str
    due_on: date


class PurgeDocument(OnCandidacy):
    """The end of a document's keeping period (shared/documents.py: KINDS' keep_years): its object is deleted,
    the candidacy's history keeps its facts. Sent by `cqp documents purge`, the platform's operator's."""

    operation = "purge-document"
    graphql_name = None

    document_id: str = Id
    kept_until: date = Field(description="The day the keeping periods are applied on: the document is purged when "
                                         "its period ended on or before it (never a day to come)")
