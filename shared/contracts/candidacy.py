"""Events published by the candidacy service on cqp.candidacy.events.

Personal data stays in the candidacy service (encrypted in its event store): the public events carry
only what consumers need, the candidate's name and status, never contact details or birth date.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.envelope import Contract, ContractRegistry
from shared.vocabulary import BlockState, CandidateStatus, Funder, Route

TOPIC = "cqp.candidacy.events"


class PathBlock(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    block: str
    hours: int
    modules: list[str]


class CandidateRegistered(Contract):
    candidate_id: str
    given_name: str
    family_name: str
    status: CandidateStatus
    employer_id: str | None
    account: str | None = None  # the candidate's login, for their own access
    email: str | None = None  # contact, shown only to the roles related to the person
    birth_date: date | None = None
    holder: dict | None = None  # civil registry data for the declaration of holders (HolderIdentity)


class CandidacyOpened(Contract):
    candidacy_id: str
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


class CandidacyPositioned(Contract):
    candidacy_id: str
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


class AdmissibilityFiled(Contract):
    candidacy_id: str


class AdmissibilityDecided(Contract):
    candidacy_id: str
    admissible: bool
    reason: str


class ValidationFileSubmitted(Contract):
    candidacy_id: str


class CandidacyTransferred(Contract):
    candidacy_id: str
    from_evaluator_id: str
    to_evaluator_id: str
    reason: str


class CandidacyWithdrawn(Contract):
    candidacy_id: str
    reason: str


class CandidacyClosed(Contract):
    candidacy_id: str
    reason: str


REGISTRY = ContractRegistry(
    TOPIC,
    CandidateRegistered,
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
)
