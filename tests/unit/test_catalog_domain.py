import pytest

from shared.errors import InvalidInput
from services.catalog.domain import Certification

CONTEXT = {"actor": {"user_id": "u1", "organisation_id": "UIMM", "role": "branch-admin"},
           "correlation_id": "c1", "causation_id": "k1"}


def create(**overrides):
    fields = {"code": "RNCP34174", "kind": "CQPM", "title": "CQPM", "branch": "UIMM",
              "blocks": [{"code": "RNCP34174BC01", "title": "Conduite"}], "context": CONTEXT}
    return Certification.create(**{**fields, **overrides})


def test_a_certification_is_identified_by_its_code():
    assert create().id == Certification.create_id("RNCP34174")
    assert create(code="RNCP34175").id != create().id


def test_the_creation_event_records_who_did_it():
    (created,) = create().collect_events()
    assert created.context["actor"]["organisation_id"] == "UIMM"
    assert created.timestamp is not None


@pytest.mark.parametrize("kind", ["BTS", "cqp", ""])
def test_refuses_a_kind_other_than_cqp_cqpm_cqpi(kind):
    with pytest.raises(InvalidInput, match="one of CQP, CQPM, CQPI"):
        create(kind=kind)


@pytest.mark.parametrize("code", ["rncp1", "X", "RNCP 123", "RNCP/1"])
def test_refuses_a_malformed_code(code):
    with pytest.raises(InvalidInput):
        create(code=code)


def test_refuses_a_block_code_given_twice():
    blocks = [{"code": "B1", "title": "a"}, {"code": "B1", "title": "b"}]
    with pytest.raises(InvalidInput) as refusal:
        create(blocks=blocks)
    assert refusal.value.details == {"duplicates": ["B1"]}
