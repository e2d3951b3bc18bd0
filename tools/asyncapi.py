"""The AsyncAPI document of every event topic, generated from the contracts."""

from __future__ import annotations

import json

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import create_model

from shared.contracts import candidacy, catalog, jury
from shared.envelope import Envelope

REGISTRIES = (catalog.REGISTRY, candidacy.REGISTRY, jury.REGISTRY)
PRODUCERS = {catalog.TOPIC: "catalog", candidacy.TOPIC: "candidacy", jury.TOPIC: "jury"}


def document() -> str:
    broker = KafkaBroker("127.0.0.1:9092")
    for registry in REGISTRIES:
        for contract in registry.contracts:
            message = create_model(f"{contract.event_type}V{contract.contract_version}", __base__=Envelope, payload=(contract, ...))
            broker.publisher(
                registry.topic,
                title=f"{registry.topic}:{contract.event_type}",
                description=f"{contract.event_type} v{contract.contract_version}, published by {PRODUCERS[registry.topic]}"
                " and keyed by aggregate id. " + (contract.__doc__ or "").strip(),
                schema=message,
            )
    spec = AsyncAPI(broker, title="CQP platform events", version="1", schema_version="3.0.0")
    return json.dumps(json.loads(spec.to_specification().to_json()), indent=2, sort_keys=True) + "\n"
