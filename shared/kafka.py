"""How every Kafka client of the platform connects: one place for the broker's address and credentials.

The broker authenticates clients with SASL/SCRAM-SHA-512 and lets each do only what its ACLs allow
(shared/kafka_acls.py), so a client's identity matters: each process has its own user
(CQP_KAFKA_USERNAME, CQP_KAFKA_PASSWORD), the operators' commands run as the admin user. With no
username the client speaks plaintext without authentication (a broker that asks for none).
"""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from faststream.security import SASLScram512

from shared.settings import Settings

MECHANISM = "SCRAM-SHA-512"
# How old a client's view of the topics may grow (aiokafka's default is 5 minutes): a topic deleted and
# made again is found within seconds, not after minutes of "No partition metadata".
METADATA_MAX_AGE_MS = 5_000


def client_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of an aiokafka client (producer, consumer, admin)."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap,
                               "metadata_max_age_ms": METADATA_MAX_AGE_MS}
    if settings.kafka_username:
        options.update(security_protocol="SASL_PLAINTEXT", sasl_mechanism=MECHANISM,
                       sasl_plain_username=settings.kafka_username, sasl_plain_password=settings.kafka_password)
    return options


def broker(settings: Settings, **options: Any) -> KafkaBroker:
    """A FastStream broker with the process's credentials."""
    security = SASLScram512(settings.kafka_username, settings.kafka_password) if settings.kafka_username else None
    return KafkaBroker(settings.kafka_bootstrap, security=security, metadata_max_age_ms=METADATA_MAX_AGE_MS,
                       **options)
