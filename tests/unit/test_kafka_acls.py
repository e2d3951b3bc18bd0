"""The broker's ACLs follow what each process publishes and consumes, and nothing more."""

import importlib

import pytest

from services.gateway.readmodels import PROJECTIONS
from services.gateway.rebuild import GROUP
from shared.kafka import METADATA_MAX_AGE_MS, client_options
from shared.kafka_acls import READS, WRITES, Operation, Resource, acls
from shared.settings import Settings
from shared.topics import EVENT_TOPICS


@pytest.mark.parametrize("name", ["catalog", "candidacy", "jury"])
def test_the_acl_table_names_what_each_service_publishes_and_consumes(name):
    definition = importlib.import_module(f"services.{name}.__main__").DEFINITION
    assert WRITES[name] == definition.topic
    consumed = set(definition.views) | {s.topic for s in definition.subscriptions(None, None)}
    assert consumed == set(READS.get(name, ()))


def test_the_gateway_reads_every_topic_it_projects_and_writes_none():
    assert set(READS["gateway"]) == set(PROJECTIONS) == set(EVENT_TOPICS)
    assert "gateway" not in WRITES
    assert not [rule for rule in acls() if rule[2] == "User:gateway" and rule[3] == Operation.WRITE]


def test_every_acl_is_on_a_name_of_the_prefix_and_each_service_writes_only_its_own_topic():
    rules = acls("t1.")
    assert all(name.startswith("t1.") for _, name, _, _ in rules)
    writes = {(who, name) for _, name, who, op in rules if op == Operation.WRITE}
    assert writes == {("User:catalog", "t1.cqp.catalog.events"), ("User:candidacy", "t1.cqp.candidacy.events"),
                      ("User:jury", "t1.cqp.jury.events")}
    groups = {(who, name) for kind, name, who, _ in rules if kind == Resource.GROUP}
    assert groups == {("User:candidacy", "t1.cqp.candidacy"), ("User:jury", "t1.cqp.jury"),
                      ("User:gateway", f"t1.{GROUP}")}


def test_a_client_with_a_username_authenticates_with_scram_and_one_without_does_not():
    options = client_options(Settings(kafka_bootstrap="h:1", kafka_username="jury", kafka_password="pw"))
    # Every client sees a topic made again within seconds (aiokafka's default metadata age is 5 minutes).
    fresh = {"metadata_max_age_ms": METADATA_MAX_AGE_MS}
    assert METADATA_MAX_AGE_MS <= 10_000
    assert options == {"bootstrap_servers": "h:1", "security_protocol": "SASL_PLAINTEXT", **fresh,
                       "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "jury", "sasl_plain_password": "pw"}
    assert client_options(Settings(kafka_bootstrap="h:1")) == {"bootstrap_servers": "h:1", **fresh}
