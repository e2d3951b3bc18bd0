"""Events published by the jury service on cqp.jury.events (its contracts arrive with the jury issue)."""

from __future__ import annotations

from shared.envelope import ContractRegistry

TOPIC = "cqp.jury.events"

REGISTRY = ContractRegistry(TOPIC)
