"""services/gateway/schema/audit/projection.py: every event of every topic, with who, when and why."""

import json
import uuid

from shared.contracts import candidacy, catalog, jury

from tests.projections.conftest import apply, envelope


async def test_every_topic_s_events_are_recorded_with_their_actor_correlation_and_payload(db):
    facts = {
        catalog.TOPIC: catalog.CertificationRetitled(code="CQP1", title="T"),
        candidacy.TOPIC: candidacy.CandidateErased(candidate_id=str(uuid.uuid4())),
        jury.TOPIC: jury.CertificateRevoked(number="N1", revoked_on="2026-01-02", reason="r"),
    }
    for topic, fact in facts.items():
        await apply(db, topic, envelope(fact))
    rows = await db.fetch("SELECT * FROM audit_log ORDER BY type")
    assert [r["type"] for r in rows] == ["CandidateErased", "CertificateRevoked", "CertificationRetitled"]
    assert {json.loads(r["actor"])["user_id"] for r in rows} == {"alice"}
    assert {(r["correlation_id"], r["causation_id"]) for r in rows} == {("corr", "cause")}
    assert json.loads(rows[2]["payload"]) == {"code": "CQP1", "title": "T"}


async def test_an_event_of_a_type_the_gateway_does_not_know_is_still_in_the_audit_log(db):
    fact = catalog.CertificationRetitled(code="CQP1", title="T")
    unknown = envelope(fact).model_copy(update={"type": "CertificationRenamedInTheFuture"})
    await apply(db, catalog.TOPIC, unknown)
    assert await db.fetchval("SELECT type FROM audit_log") == "CertificationRenamedInTheFuture"
    assert await db.fetchval("SELECT count(*) FROM certifications") == 0
