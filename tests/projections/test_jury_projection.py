"""services/gateway/schema/jury/projection.py: evaluations, sessions, decisions, certificates."""

import json
import uuid
from datetime import date

from shared.contracts import jury as j

from tests.projections.conftest import apply, envelope

TOPIC = j.TOPIC


async def test_a_not_validated_block_is_kept_with_its_evaluation_date_and_no_validity(db):
    candidacy = str(uuid.uuid4())
    fact = j.BlockNotValidated(candidacy_id=candidacy, candidate_id=str(uuid.uuid4()), certification="CQPM0264",
                               version=1, block="B2", competences=[], modality="TEST", organisation_id="o",
                               personal="pd1.sealed", evaluated_on=date(2026, 3, 2))
    await apply(db, TOPIC, envelope(fact))
    row = await db.fetchrow("SELECT * FROM jury_evaluations WHERE candidacy_id = $1::uuid", candidacy)
    assert (row["block"], row["validated"], row["evaluated_on"], row["valid_until"]) == \
        ("B2", False, date(2026, 3, 2), None)
    # The evaluator's name and the evidence stay with the jury service: neither they nor their ciphertext here.
    assert not {"evaluator", "evidence", "personal"} & set(row.keys())


async def test_an_evaluation_of_version_1_keeps_nothing_of_its_clear_text_in_any_read_model(db):
    """Version 1 carried the evaluator's name and the evidence in clear: upcast, they reach no table."""
    candidacy = str(uuid.uuid4())
    payload = {"candidacy_id": candidacy, "candidate_id": str(uuid.uuid4()), "certification": "CQPM0264",
               "version": 1, "block": "B1", "competences": [], "modality": "TEST", "evaluator": "Brunehilde Ohlsson",
               "organisation_id": "o", "evidence": "dossier-ohlsson", "validated_on": "2026-03-02", "valid_until": None}
    await apply(db, TOPIC, envelope(j.BlockValidated, version=1, payload=payload))
    row = await db.fetchrow("SELECT * FROM jury_evaluations WHERE candidacy_id = $1::uuid", candidacy)
    assert (row["block"], row["validated"]) == ("B1", True)
    held = await db.fetchval("SELECT string_agg(payload::text, ' ') FROM audit_log WHERE payload ->> 'candidacy_id' = $1",
                             candidacy)
    assert held and "Ohlsson" not in held and "Ohlsson" not in json.dumps(dict(row), default=str)


async def test_a_decision_marks_its_session_held_and_a_correction_is_kept_with_who_made_it(db):
    session, candidacy = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(db, TOPIC, envelope(j.JurySessionScheduled(session_id=session, branch="UIMM",
                                                           certifications=["CQPM0264"], on=date(2026, 5, 4),
                                                           place="Lyon", remote=False, capacity=10), session))
    await apply(db, TOPIC, envelope(j.JuryDecided(
        session_id=session, candidacy_id=candidacy, candidate_id=str(uuid.uuid4()), certification="CQPM0264",
        version=1, decision="PARTIAL_VALIDATION", blocks_acquired=["B1"], members_present=["m1", "m2"],
        votes={"for": 2}, decided_on=date(2026, 5, 4)), session))
    assert await db.fetchval("SELECT status FROM jury_sessions WHERE id = $1::uuid", session) == "HELD"
    await apply(db, TOPIC, envelope(j.DecisionCorrected(
        session_id=session, candidacy_id=candidacy, previous="PARTIAL_VALIDATION", decision="FULL_AWARD",
        reason="clerical error", blocks_acquired=["B1", "B2"]), session))
    row = await db.fetchrow("SELECT * FROM jury_decisions WHERE session_id = $1::uuid", session)
    assert (row["decision"], row["blocks_acquired"]) == ("FULL_AWARD", ["B1", "B2"])
    [correction] = json.loads(row["corrections"])
    assert (correction["previous"], correction["reason"], correction["by"]["user_id"]) == \
        ("PARTIAL_VALIDATION", "clerical error", "alice")


async def test_a_certificate_is_declared_then_revoked_with_the_reason(db):
    number = "CQPM0264-2026-000001"
    await apply(db, TOPIC, envelope(j.CertificateIssued(
        number=number, kind="CERTIFICATE", candidate_id=str(uuid.uuid4()), candidacy_id=str(uuid.uuid4()),
        certification="CQPM0264", version=1, blocks=["B1", "B2"], awarded_on=date(2026, 5, 4),
        session_id=str(uuid.uuid4()))))
    assert await db.fetchval("SELECT declaration_state FROM certificates WHERE number = $1", number) == "PENDING"
    await apply(db, TOPIC, envelope(j.HolderDeclarationChanged(number=number, state="SENT", file="f1.xml",
                                                               messages=[])))
    await apply(db, TOPIC, envelope(j.CertificateRevoked(number=number, revoked_on=date(2026, 6, 1),
                                                         reason="decision corrected")))
    row = await db.fetchrow("SELECT * FROM certificates WHERE number = $1", number)
    assert (row["declaration_state"], row["declaration_file"], row["revoked_on"], row["revocation_reason"]) == \
        ("SENT", "f1.xml", date(2026, 6, 1), "decision corrected")


async def test_a_presentation_keeps_the_papers_it_listed_and_an_older_one_none(db):
    session, candidacy, older = (str(uuid.uuid4()) for _ in range(3))
    papers = [j.Paper(document_id="d1", kind="EVALUATION_EVIDENCE"), j.Paper(document_id="d2", kind="LIVRET_2")]
    await apply(db, TOPIC, envelope(j.CandidacyPresented(session_id=session, candidacy_id=candidacy, blocks=["B1"],
                                                         papers=papers)),
                envelope(j.CandidacyPresented, version=1,
                         payload={"session_id": session, "candidacy_id": older, "blocks": ["B1"]}))
    rows = {str(r["candidacy_id"]): json.loads(r["papers"])
            for r in await db.fetch("SELECT candidacy_id, papers FROM jury_presentations WHERE session_id = $1::uuid",
                                    session)}
    assert rows == {candidacy: [{"document_id": "d1", "kind": "EVALUATION_EVIDENCE"},
                                {"document_id": "d2", "kind": "LIVRET_2"}], older: []}
