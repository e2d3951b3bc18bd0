"""The relay on the real PostgreSQL and Kafka (shared/relay.py): what it publishes the broker keeps (every
in-sync replica acknowledges it, and a retried batch is not written twice), and an event it could not
publish holds its position: the relay tries again, and once the broker takes it, every stored event is on
the topic once, in order. The relay runs in the test's process, the catalog's application stores the
events, and the broker's failures are made on the producer's way to it."""

import asyncio
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError, NotEnoughReplicasError

from services.catalog.application import CatalogApplication
from shared.commands.catalog import CreateBranch
from shared.context import acting, current_caller
from shared.envelope import Envelope
from shared.relay import Relay
from shared.settings import Settings
from tests.harness import eventually, kafka_options, read_topic
from tests.unit.conftest import EVERY_RIGHT
from tests.unit.test_group_commit import context

TOPIC = "cqp.catalog.events"


class Broker:
    """The producers' way to the broker: who sends to the topic, and, while `failing`, every send refused
    ("refused": the producer raises at once) or lost ("lost": the broker answers with an error)."""

    def __init__(self, topic: str):
        self.topic = topic
        self.failing: str | None = None
        self.tries: Counter = Counter()  # event id → sends that failed
        self.producers: list[AIOKafkaProducer] = []
        self._send = AIOKafkaProducer.send

    async def send(self, producer, topic, value=None, *args, **kwargs):
        if topic != self.topic:
            return await self._send(producer, topic, value, *args, **kwargs)
        if producer not in self.producers:
            self.producers.append(producer)
        if self.failing is None:
            return await self._send(producer, topic, value, *args, **kwargs)
        self.tries[str(Envelope.model_validate_json(value).event_id)] += 1
        if self.failing == "refused":
            raise KafkaTimeoutError("no partition metadata")
        lost = asyncio.get_running_loop().create_future()
        lost.set_exception(NotEnoughReplicasError("fewer in-sync replicas than min.insync.replicas"))
        return lost


@pytest.fixture
async def catalog(system, monkeypatch):
    """The catalog's application on the system's database and its relay to the system's topic, running."""
    broker = Broker(system.topic(TOPIC))

    def send(producer, *args, **kwargs):  # a function, so that it binds to each producer
        return broker.send(producer, *args, **kwargs)

    monkeypatch.setattr(AIOKafkaProducer, "send", send)
    env = Settings(postgres_dsn=system.dsn).eventsourcing_env("catalog")
    app = await asyncio.to_thread(CatalogApplication, env=env)
    relay = Relay(app, "catalog", system.topic(TOPIC), app.to_contract, system.dsn, "catalog",
                  kafka_options("catalog"), poll_seconds=0.2)
    running = asyncio.create_task(relay.run())
    yield app, relay, broker
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    app.close()


async def create_branch(app, code: str) -> tuple[str, int]:
    """(the branch's published event id, the position of its last stored event)."""
    def command():
        current_caller.set(EVERY_RIGHT)
        with acting(context(f"branch-{code}")):
            return app.create_branch(CreateBranch(code=code, name=code, idcc=[]))

    outcome = await asyncio.to_thread(command)
    (event_id,) = outcome.event_ids
    return event_id, outcome.position


async def recorded_position(system) -> int:
    """The relay's recorded position; 0 until the relay, starting, has made its table."""
    made = await system.sql("SELECT to_regclass('catalog.relay_position') IS NOT NULL AS made")
    rows = await system.sql("SELECT position FROM catalog.relay_position") if made[0]["made"] else []
    return rows[0]["position"] if rows else 0


def relayed_to(system, position: int):
    async def check() -> bool:
        return await recorded_position(system) == position
    return check


async def test_the_relay_waits_for_every_in_sync_replica_and_its_broker_keeps_no_retried_batch_twice(system, catalog):
    app, relay, broker = catalog
    _, position = await create_branch(app, "UIMM")
    await eventually(relayed_to(system, position))

    assert broker.producers, "the relay published through no producer"
    for producer in broker.producers:
        # What aiokafka sends the broker: acks=-1 ("all") on each produce request, and a producer id the
        # broker granted, with which it drops a batch retried after a lost acknowledgement.
        assert producer._sender._acks == -1
        assert producer._txn_manager is not None and producer._txn_manager.producer_id >= 0


@pytest.mark.parametrize("failure", ["refused", "lost"])
async def test_an_event_the_broker_did_not_take_holds_the_relay_s_position_until_it_is_published_once(
        system, catalog, failure):
    app, relay, broker = catalog
    first, position = await create_branch(app, "UIMM")
    await eventually(relayed_to(system, position))

    broker.failing = failure
    second, _ = await create_branch(app, "LEEM")
    third, last = await create_branch(app, "UIT")
    async def tried_again_or_passed_over() -> bool:
        return broker.tries[second] >= 2 or await recorded_position(system) > position

    await eventually(tried_again_or_passed_over)
    assert await recorded_position(system) == position
    assert relay.blocked and {"refused": "KafkaTimeoutError", "lost": "NotEnoughReplicasError"}[failure] \
        in relay.blocked
    assert [e["event_id"] for e in await read_topic(system, TOPIC)] == [first]

    broker.failing = None
    await eventually(relayed_to(system, last), timeout=60)
    published = [e["event_id"] for e in await read_topic(system, TOPIC)]
    assert Counter(published) == Counter([first, second, third])  # nothing lost, nothing twice
    assert relay.blocked is None
