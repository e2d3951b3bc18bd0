"""Events published by the jury service on cqp.jury.events.

The candidacy service already consumes BlockValidated (blocks held) and JuryDecided (a full award
closes the candidacy); the jury service publishes them from its evaluations and sessions.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from shared.envelope import Contract, ContractRegistry

TOPIC = "cqp.jury.events"


class BlockValidated(Contract):
    candidacy_id: str
    candidate_id: str
    certification: str
    version: int
    block: str
    validated_on: date
    valid_until: date | None  # None: acquired for life


class JuryDecided(Contract):
    session_id: str
    candidacy_id: str
    candidate_id: str
    certification: str
    decision: Literal["FULL_AWARD", "PARTIAL_VALIDATION", "REFUSAL", "DEFERRAL", "ABSENT"]
    blocks_acquired: list[str]
    decided_on: date


REGISTRY = ContractRegistry(TOPIC, BlockValidated, JuryDecided)
