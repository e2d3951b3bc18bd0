"""Events published by the catalog service on cqp.catalog.events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.envelope import Contract, ContractRegistry

TOPIC = "cqp.catalog.events"

CertificationKind = Literal["CQP", "CQPM", "CQPI"]


class Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    title: str


class CertificationCreated(Contract):
    code: str
    kind: CertificationKind
    title: str
    branch: str
    blocks: list[Block]


REGISTRY = ContractRegistry(TOPIC, CertificationCreated)
