"""Events published by the catalog service on cqp.catalog.events."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.envelope import Contract, ContractRegistry
from shared.vocabulary import (
    AccessRoute, AccreditationScope, CertificationKind, EquivalenceSource, Level, Registry, UnansweredAdmissibility,
)

TOPIC = "cqp.catalog.events"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Block(_Value):
    code: str
    title: str
    competences: str | None = None
    modalities: str | None = None


class VersionSettings(_Value):
    vae_min_experience_months: int
    block_validity_months: int | None
    jury_quorum: int
    jury_rule: str
    admissibility_answer_days: int | None = None  # the VAE admissibility answer's delay; None: the branch's


class Registration(_Value):
    registry: Registry
    number: str
    level: Level | None
    active: bool
    state: str | None
    registration_type: str | None
    decision_date: date | None
    effect_date: date | None
    end_date: date | None
    delivery_deadline: date | None
    routes: list[AccessRoute]


class Certifier(_Value):
    siret: str | None
    name: str


class Equivalence(_Value):
    """These blocks, together, count for those of the target (an empty list: the whole certification)."""

    blocks: list[str]
    target: str
    target_blocks: list[str]
    source: EquivalenceSource


class BranchCreated(Contract):
    code: str
    name: str
    idcc: list[str]
    cpne: str


class BranchDeadlines(_Value):
    """A branch's delays (services/deadlines). The defaults are the law's or the usual ones, until the branch
    sets its own; a référentiel version's `admissibility_answer_days` overrides the branch's."""

    declaration_months: int = 3  # the award declared to the Caisse des Dépôts within
    declaration_reminder_days: int = 15  # the certifier reminded this many days before that limit
    admissibility_answer_days: int = 60  # a VAE admissibility request answered within (silence: `unanswered`)
    unanswered_admissibility: UnansweredAdmissibility = UnansweredAdmissibility.DEEMED_ADMISSIBLE
    admissibility_reminder_days: int = 15
    convocation_days_before: int = 15  # candidates and members convened at the latest
    results_days_after: int = 15  # the session closed with its minutes at the latest
    expiry_notice_days: int = 30  # registrations and accreditations: the branch told this many days before
    block_validity_notice_days: int = 60  # the holder told before a block stops counting


class BranchDeadlinesSet(Contract):
    branch: str
    deadlines: BranchDeadlines


class BranchContactSet(Contract):
    """The address of the branch's certification office (a functional mailbox): where its reminders go."""

    branch: str
    email: str


class OrganisationRegistered(Contract):
    organisation_id: str
    name: str
    siret: str | None
    kinds: list[str]


class OrganisationAccredited(Contract):
    organisation_id: str
    accreditation_id: str
    branch: str
    certifications: list[str]
    scope: AccreditationScope
    valid_from: date
    valid_until: date | None


class AccreditationWithdrawn(Contract):
    organisation_id: str
    accreditation_id: str
    on: date
    reason: str


class CertificationCreated(Contract):
    code: str
    kind: CertificationKind
    title: str
    owners: list[str]


class CertificationRetitled(Contract):
    code: str
    title: str


class CertificationOwnersChanged(Contract):
    code: str
    owners: list[str]


class ReferentialVersionPublished(Contract):
    """A new version of the référentiel; earlier versions stay as they were."""

    code: str
    version: int
    effective_from: date
    blocks: list[Block]
    settings: VersionSettings


class RegistrationRecorded(Contract):
    code: str
    registration: Registration


class CertifiersRecorded(Contract):
    code: str
    certifiers: list[Certifier]


class SuccessionRecorded(Contract):
    code: str
    predecessors: list[str]
    successors: list[str]


class BlockEquivalencesRecorded(Contract):
    """The whole set of the certification's block equivalences, as it now stands."""

    code: str
    equivalences: list[Equivalence]


REGISTRY = ContractRegistry(
    TOPIC,
    BranchCreated,
    BranchDeadlinesSet,
    BranchContactSet,
    OrganisationRegistered,
    OrganisationAccredited,
    AccreditationWithdrawn,
    CertificationCreated,
    CertificationRetitled,
    CertificationOwnersChanged,
    ReferentialVersionPublished,
    RegistrationRecorded,
    CertifiersRecorded,
    SuccessionRecorded,
    BlockEquivalencesRecorded,
)
