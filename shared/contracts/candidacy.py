"""Events published by the candidacy service on cqp.candidacy.events.

Personal data never travels in clear: a candidate's names, contact, birth date and civil registry data
travel only as `personal`, sealed with the person's own key, which only the candidacy service holds
(shared/personal.py). Consumers keep the candidate's id and ask the candidacy service for the fields
they show (`POST /personal/reveal`); once the person is erased (`CandidateErased`) their key is gone and
every copy of `personal` is unreadable, on the topic as everywhere else.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.contracts.deadlines import NotificationSent
from shared.envelope import Contract, ContractRegistry
from shared.vocabulary import BlockState, CandidacyStatus, CandidateStatus, DocumentKind, Funder, Route

TOPIC = "cqp.candidacy.events"


class PathBlock(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    block: str
    hours: int
    modules: list[str]


class CandidateRegistered(Contract):
    """Version 2: the personal fields (given_name, family_name, email, birth_date, holder in version 1)
    are sealed in `personal`. Version 3: the login named at registration is `invited_account`, which takes
    effect on `CandidateAccountConfirmed`; `account` (effective at once) is only ever set by earlier ones."""

    contract_version = 3
    upcasts = {2: lambda payload: {**payload, "invited_account": None}}

    candidate_id: str
    personal: str  # sealed with the person's key: only the candidacy service reads it
    status: CandidateStatus
    employer_id: str | None
    account: str | None = None  # the candidate's login, for their own access
    invited_account: str | None = None  # the login named, until the person confirms it


class CandidateAccountConfirmed(Contract):
    """The person, signed in as the login named at registration, confirmed the record is theirs."""

    candidate_id: str
    account: str


class CandidateEntrusted(Contract):
    """An organisation gained a right over the person: `by` the person themself, or by a `transfer` of their
    candidacy by the organisation that held it."""

    candidate_id: str
    organisation_id: str
    by: str


class CandidateCorrected(Contract):
    """Rectification: the person's data as corrected (sealed), and the names of the fields that changed."""

    candidate_id: str
    personal: str
    fields: list[str]


class CandidateErased(Contract):
    """Erasure on request: the person's key is destroyed; everything sealed with it is unreadable for good."""

    candidate_id: str


class CandidacyStep(Contract):
    """A step of a candidacy's life that sets its status: since version 2 it carries the status it leaves
    the candidacy in, so that no consumer re-derives the candidacy's rules. Version 1 did not; each step
    always led to one status (or, for an admissibility decision, one per answer), which its upcast says."""

    contract_version = 2

    candidacy_id: str
    status: CandidacyStatus


def led_to(status: CandidacyStatus) -> dict:
    """The upcast of a version 1 step that always led to this status."""
    return {1: lambda payload: {**payload, "status": status}}


class CandidacyOpened(CandidacyStep):
    upcasts = led_to(CandidacyStatus.OPEN)

    candidate_id: str
    certification: str
    version: int
    route: Route
    blocks: list[str]
    evaluator_id: str
    trainer_id: str | None
    employer_id: str | None
    experience_months: int  # declared for a VAE, overlaps counted once; the periods stay in the service


class EligibilityConfirmed(Contract):
    candidacy_id: str
    on: date


class ExperienceDeclared(Contract):
    candidacy_id: str
    periods: int
    months: int


class CandidacyPositioned(CandidacyStep):
    upcasts = led_to(CandidacyStatus.POSITIONED)  # from OPEN, or again when POSITIONED

    blocks: dict[str, BlockState]


class PathSet(Contract):
    candidacy_id: str
    blocks: list[PathBlock]


class FundingRequested(Contract):
    candidacy_id: str
    funding_id: str
    funder: Funder
    funder_id: str | None
    amount: str


class FundingDecided(Contract):
    candidacy_id: str
    funding_id: str
    granted: bool
    granted_amount: str | None
    reason: str | None


class AdmissibilityFiled(CandidacyStep):
    upcasts = led_to(CandidacyStatus.ADMISSIBILITY_FILED)


class AdmissibilityDecided(CandidacyStep):
    upcasts = {1: lambda payload: {**payload, "status": CandidacyStatus.ADMISSIBLE if payload["admissible"]
                                   else CandidacyStatus.INADMISSIBLE}}

    admissible: bool
    reason: str
    # The deadline whose missing made it admissible (the branch deems silence acceptance); None: decided.
    deemed: str | None = None


class ValidationFileSubmitted(CandidacyStep):
    upcasts = led_to(CandidacyStatus.VALIDATION_FILE_SUBMITTED)


class CandidacyTransferred(Contract):
    candidacy_id: str
    from_evaluator_id: str
    to_evaluator_id: str
    reason: str


class CandidacyWithdrawn(CandidacyStep):
    upcasts = led_to(CandidacyStatus.WITHDRAWN)

    reason: str


class CandidacyClosed(CandidacyStep):
    upcasts = led_to(CandidacyStatus.CLOSED)

    reason: str


class DocumentAttached(Contract):
    """A paper of the candidacy's file (shared/documents.py), version `version` of its kind's line: its bytes are
    in the candidacy service's object store, sealed with the candidate's key; its file's name too."""

    candidacy_id: str
    document_id: str
    kind: DocumentKind
    version: int
    supersedes: str | None
    size: int
    media_type: str
    sha256: str


class DocumentRead(Contract):
    """Someone read the document (the envelope says who, for which organisation, when)."""

    candidacy_id: str
    document_id: str


class DocumentPurged(Contract):
    """The document's keeping period ended (`kept_until`): its object is deleted; its facts stay."""

    candidacy_id: str
    document_id: str
    kept_until: date


REGISTRY = ContractRegistry(
    TOPIC,
    CandidateRegistered,
    CandidateAccountConfirmed,
    CandidateEntrusted,
    CandidateCorrected,
    CandidateErased,
    CandidacyOpened,
    EligibilityConfirmed,
    ExperienceDeclared,
    CandidacyPositioned,
    PathSet,
    FundingRequested,
    FundingDecided,
    AdmissibilityFiled,
    AdmissibilityDecided,
    ValidationFileSubmitted,
    CandidacyTransferred,
    CandidacyWithdrawn,
    CandidacyClosed,
    DocumentAttached,
    DocumentRead,
    DocumentPurged,
    NotificationSent,  # the candidate's messages (services/candidacy/notices.py)
)
