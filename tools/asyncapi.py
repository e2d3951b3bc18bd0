"""The AsyncAPI document of every event topic, generated from the contracts."""

from __future__ import annotations

import json
from collections import Counter

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import create_model

from shared.contracts import candidacy, catalog, jury
from shared.envelope import Envelope

REGISTRIES = (catalog.REGISTRY, candidacy.REGISTRY, jury.REGISTRY)
PRODUCERS = {catalog.TOPIC: "catalog", candidacy.TOPIC: "candidacy", jury.TOPIC: "jury"}


def document() -> str:
    broker = KafkaBroker("127.0.0.1:9092")
    # An event type published on two topics (each service's DocumentAttached) is named after its producer in the
    # document's schemas, or one would silently replace the other.
    seen = Counter(contract.event_type for registry in REGISTRIES for contract in registry.contracts)
    for registry in REGISTRIES:
        for contract in registry.contracts:
            name, payload = contract.event_type, contract
            if seen[name] > 1:
                name = PRODUCERS[registry.topic].capitalize() + name
                payload = create_model(name, __base__=contract)
            message = create_model(f"{name}V{contract.contract_version}", __base__=Envelope, payload=(payload, ...))
            broker.publisher(
                registry.topic,
                title=f"{registry.topic}:{contract.event_type}",
                description=f"{contract.event_type} v{contract.contract_version}, published by {PRODUCERS[registry.topic]}"
                " and keyed by aggregate id. " + (contract.__doc__ or "").strip(),
                schema=message,
            )
    spec = AsyncAPI(broker, title="CQP platform events", version="1", schema_version="3.0.0")
    return json.dumps(json.loads(spec.to_specification().to_json()), indent=2, sort_keys=True) + "\n"
