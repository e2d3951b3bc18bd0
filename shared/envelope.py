"""The public event envelope, and the base of every public event contract."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.context import Actor


class Contract(BaseModel):
    """A public event payload: a past-tense fact with an explicit version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    contract_version: ClassVar[int] = 1
    # Earlier versions, still on the topics: each version's payload made into the next one's.
    upcasts: ClassVar[dict[int, Callable[[dict], dict]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.event_type = cls.__name__


class Envelope(BaseModel):
    """What goes on a Kafka topic: the payload, and who, when, why and from where."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(description="Stable: the same stored event always has the same id")
    type: str
    version: int
    producer: str = Field(description="The service that recorded the event")
    position: int = Field(description="The event's position in its producer's notification log")
    aggregate_id: uuid.UUID
    aggregate_version: int
    occurred_at: datetime
    actor: Actor
    correlation_id: str
    causation_id: str
    trace_parent: str | None = Field(None, description="The W3C traceparent of the command that caused it, if traced")
    payload: dict


def event_id_for(aggregate_id: uuid.UUID, aggregate_version: int) -> uuid.UUID:
    """One id per stored event, whoever computes it: what lets consumers drop redeliveries."""
    return uuid.uuid5(aggregate_id, str(aggregate_version))


class ContractRegistry:
    """The contracts of one topic, by type and version."""

    def __init__(self, topic: str, *contracts: type[Contract]):
        self.topic = topic
        self._by_key = {(c.event_type, c.contract_version): c for c in contracts}
        self._latest = {c.event_type: c for c in sorted(contracts, key=lambda c: c.contract_version)}

    @property
    def contracts(self) -> list[type[Contract]]:
        return list(self._by_key.values())

    def parse(self, envelope: Envelope) -> Contract | None:
        """The typed payload, in the latest version this consumer knows (an earlier one upcast), or None
        for a type or version it does not know (a newer producer)."""
        contract = self._by_key.get((envelope.type, envelope.version))
        if contract:
            return contract.model_validate(envelope.payload)
        latest = self._latest.get(envelope.type)
        if latest is None or envelope.version >= latest.contract_version:
            return None
        payload = envelope.payload
        for version in range(envelope.version, latest.contract_version):
            if version not in latest.upcasts:
                return None
            payload = latest.upcasts[version](payload)
        return latest.model_validate(payload)
