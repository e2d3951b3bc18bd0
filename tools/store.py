"""A service's event store read from outside the service, by `cqp republish` and `cqp verify`.

The envelopes are made by the relay's own mapping (`to_envelope` and the service's contracts), so what
is compared with a topic is exactly what the relay publishes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from shared.relay import to_envelope
from shared.service import ServiceDefinition, eventsourcing_env
from shared.settings import Settings

SERVICES = ("catalog", "candidacy", "jury")  # the processes with an event store and a topic
BATCH = 500


def definition(service: str) -> ServiceDefinition:
    if service not in SERVICES:
        raise ValueError(f"no event store named {service!r}: one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{service}.__main__").DEFINITION


def open_store(service: str, settings: Settings):
    """The service's eventsourcing application on its schema (read here, never written)."""
    spec = definition(service)
    return spec.application(env=eventsourcing_env(spec, settings))


def envelopes(app, service: str, start: int = 1, stop: int | None = None) -> Iterator:
    """The public envelopes of the stored events from position `start` to `stop` (inclusive)."""
    position = start
    while True:
        notifications = app.recorder.select_notifications(position, BATCH, stop=stop)
        if not notifications:
            return
        for notification in notifications:
            domain_event = app.mapper.to_domain_event(notification)
            if (contract := app.to_contract(domain_event)) is not None:
                yield to_envelope(service, notification.id, domain_event, contract)
        position = notifications[-1].id + 1
