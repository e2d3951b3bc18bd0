"""Stored events → public envelopes."""

import uuid

from shared.context import Actor, CommandContext
from shared.contracts import catalog
from shared.envelope import Envelope, event_id_for
from shared.relay import to_envelope
from services.catalog.application import CatalogApplication
from services.catalog.contracts import to_contract
from tests.unit.as_client import AsClient

ACTOR = Actor(user_id="u1", organisation_id="UIMM", role="branch-admin")


def stored_events():
    app = AsClient(CatalogApplication())
    app.create_branch({"code": "UIMM", "name": "UIMM", "idcc": ["3109"], "cpne": ""}, CommandContext.new(ACTOR, "k0"))
    command = {"code": "RNCP34174", "kind": "CQPM", "title": "CQPM", "owners": ["UIMM"], "settings": {},
               "effective_from": None, "blocks": [{"code": "RNCP34174BC01", "title": "Conduite", "competences": None,
                                                   "modalities": None}]}
    app.create_certification(command, CommandContext.new(ACTOR, "k1", "corr-1"))
    return [(n.id, app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(3, 10)]


def test_only_public_facts_are_published():
    contracts = [to_contract(event) for _, event in stored_events()]
    assert [type(c).__name__ for c in contracts] == ["CertificationCreated", "ReferentialVersionPublished", "NoneType"]


def test_the_envelope_carries_who_when_why_and_where_from():
    position, event = stored_events()[0]
    envelope = to_envelope("catalog", position, event, to_contract(event))
    assert envelope.type == "CertificationCreated" and envelope.version == 1
    assert envelope.actor == ACTOR
    assert envelope.correlation_id == "corr-1" and envelope.causation_id == "k1"
    assert envelope.position == position and envelope.aggregate_version == 1
    assert envelope.event_id == event_id_for(event.originator_id, 1)
    parsed = catalog.REGISTRY.parse(Envelope.model_validate_json(envelope.model_dump_json()))
    assert parsed.owners == ["UIMM"]
    position, event = stored_events()[1]
    version = catalog.REGISTRY.parse(to_envelope("catalog", position, event, to_contract(event)))
    assert version.blocks[0].code == "RNCP34174BC01" and version.settings.vae_min_experience_months == 12


def test_event_ids_are_stable_and_distinct():
    aggregate = uuid.uuid4()
    assert event_id_for(aggregate, 1) == event_id_for(aggregate, 1)
    assert event_id_for(aggregate, 1) != event_id_for(aggregate, 2)


def test_an_unknown_event_type_is_not_parsed():
    position, event = stored_events()[0]
    envelope = to_envelope("catalog", position, event, to_contract(event)).model_copy(update={"version": 99})
    assert catalog.REGISTRY.parse(envelope) is None
