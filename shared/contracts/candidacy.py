"""Events published by the candidacy service on cqp.candidacy.events."""

from __future__ import annotations

from shared.envelope import Contract, ContractRegistry

TOPIC = "cqp.candidacy.events"


class CandidateRegistered(Contract):
    candidate_id: str
    given_name: str
    family_name: str
    email: str
    certification_code: str


REGISTRY = ContractRegistry(TOPIC, CandidateRegistered)
