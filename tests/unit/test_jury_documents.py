"""The jury's documents (services/jury/domain.py, application.py): evaluation evidence on a candidacy's dossier,
a session's attendance sheet and minutes, the papers a presentation lists, and each read recorded. The bytes are
stored before the decision (services/jury/documents.py): here, as facts built by hand."""

import uuid

import pytest
from pydantic import ValidationError

from shared.commands.jury import AttachEvaluationEvidence, AttachJuryPaper, ReadJuryDocument
from shared.context import current_caller
from shared.contracts import jury as public
from shared.documents import DocumentMissing, Stored, UnknownDocument
from shared.envelope import Envelope
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.identity import Caller
from shared.policy import Record
from services.jury.application import session_person
from services.jury.contracts import to_contract
from services.jury.domain import AttachingFacts, CandidacyNotLive, Dossier, ReadingFacts, UnknownCandidacy
from tests.unit.test_jury import (  # noqa: F401  (app: the fixture)
    BLOCKS, CENTRE, SEALED, app, attach_evidence, ctx, evaluate, events, facts, present, refused, session,
)

PDF = "JVBERi0xLjQK"  # base64 of "%PDF-1.4\n"


def paper(app, session_id, kind, supersedes=None) -> str:
    """A session's paper attached, its bytes stored (as services/jury/documents.py does before the decision)."""
    document_id = str(uuid.uuid4())
    stored = Stored(f"sessions/{session_id}/{uuid.uuid4()}", 999, "application/pdf", "ef" * 32, "01" * 32)
    body = {"session_id": session_id, "kind": kind, "filename": f"{kind.lower()}.pdf", "sha256": "ef" * 32,
            "content": PDF, "supersedes": supersedes}
    app.attach_jury_paper(body, AttachingFacts(document_id, stored, "pd1.session-sealed"), ctx())
    return document_id


def published(app, aggregate_id) -> list:
    return [c for c in map(to_contract, app.app.events.get(aggregate_id)) if c is not None]


def dossier_id(candidacy="c1") -> uuid.UUID:
    return Dossier.create_id(candidacy)


def test_an_observed_situation_is_evaluated_only_on_evidence_attached_first_and_names_it(app):
    refusal = refused(app, DocumentMissing, lambda: evaluate(app, "B1", evidence_documents=[]))
    assert refusal.details["missing"] == ["EVALUATION_EVIDENCE"] and refusal.details["block"] == "B1"
    refused(app, UnknownDocument, lambda: evaluate(app, "B1", evidence_documents=["nope"]))
    of_b2 = attach_evidence(app, "B2")
    refused(app, UnknownDocument, lambda: evaluate(app, "B1", evidence_documents=[of_b2]))  # another block's
    first = attach_evidence(app, "B1")
    attach_evidence(app, "B1", supersedes=first)
    refused(app, UnknownDocument, lambda: evaluate(app, "B1", evidence_documents=[first]))  # no longer current
    current = app.dossier(facts()).current_documents("EVALUATION_EVIDENCE", "B1")
    assert evaluate(app, "B1", evidence_documents=current).result["validated"]
    assert evaluate(app, "B3", modality="INTERVIEW").result["validated"]  # an interview needs none
    evaluations = [c for c in published(app, dossier_id()) if c.event_type == "BlockValidated"]
    assert [(c.block, c.evidence_documents) for c in evaluations] == [("B1", current), ("B3", [])]


def test_superseding_an_evidence_keeps_both_versions_and_a_block_holds_many(app):
    first = attach_evidence(app, "B1")
    second = attach_evidence(app, "B1", supersedes=first)
    other = attach_evidence(app, "B1")  # evidence is held many times: no supersession unless asked
    documents = app.dossier(facts()).documents
    assert documents[first]["superseded_by"] == second and documents[second]["version"] == 2
    assert documents[other]["version"] == 1
    assert app.dossier(facts()).current_documents("EVALUATION_EVIDENCE", "B1") == [second, other]
    refused(app, Conflict, lambda: attach_evidence(app, "B1", supersedes=first))  # only the latest is superseded
    refused(app, UnknownDocument, lambda: attach_evidence(app, "B2", supersedes=second))  # of its own block only
    [v1, v2, _] = [c for c in published(app, dossier_id()) if c.event_type == "DocumentAttached"]
    assert (v2.document_id, v2.version, v2.supersedes, v2.candidacy_id, v2.block, v2.session_id) == \
        (second, 2, first, "c1", "B1", None)
    assert v1.document_id == first


def test_a_sessions_attendance_sheet_and_minutes_are_each_held_once_a_new_one_superseding(app):
    session_id, _ = session(app)
    sheet = paper(app, session_id, "ATTENDANCE_SHEET")
    minutes = paper(app, session_id, "JURY_MINUTES")
    sheet_again = paper(app, session_id, "ATTENDANCE_SHEET")
    held = app.session(session_id)
    assert held.documents[sheet]["superseded_by"] == sheet_again and held.documents[sheet_again]["version"] == 2
    assert held.current_documents() == [minutes, sheet_again]
    refused(app, UnknownDocument, lambda: paper(app, session_id, "JURY_MINUTES", supersedes=sheet_again))
    attached = [c for c in published(app, uuid.UUID(session_id)) if c.event_type == "DocumentAttached"]
    assert [(c.kind, c.session_id, c.candidacy_id, c.supersedes) for c in attached] == [
        ("ATTENDANCE_SHEET", session_id, None, None), ("JURY_MINUTES", session_id, None, None),
        ("ATTENDANCE_SHEET", session_id, None, sheet)]


def test_presenting_a_candidacy_lists_the_papers_the_jury_reads(app):
    """The dossier's current evidence, block by block, and the candidacy's current Livret 2 (as the jury's view
    of the candidacy service's documents holds it), in the answer and the event."""
    for block in BLOCKS:
        evaluate(app, block)
    extra = attach_evidence(app, "B1")
    livret = {"document_id": "livret-2", "kind": "LIVRET_2"}
    candidacy = facts(route="VAE", status="VALIDATION_FILE_SUBMITTED")
    candidacy = type(candidacy)(**{**candidacy.__dict__, "papers": (livret,)})
    session_id, _ = session(app)
    answer = present(app, session_id, candidacy).result
    evidence = app.dossier(candidacy).current_documents("EVALUATION_EVIDENCE")
    assert extra in evidence and len(evidence) == len(BLOCKS) + 1
    assert [p["document_id"] for p in answer["papers"]] == [*sorted(evidence, key=lambda d: (
        app.dossier(candidacy).documents[d]["block"], evidence.index(d))), "livret-2"]
    assert {p["kind"] for p in answer["papers"]} == {"EVALUATION_EVIDENCE", "LIVRET_2"}
    [presented] = [c for c in published(app, uuid.UUID(session_id)) if c.event_type == "CandidacyPresented"]
    assert [p.model_dump() for p in presented.papers] == answer["papers"]


def test_kinds_outside_the_jurys_papers_and_blocks_outside_the_candidacy_are_refused(app):
    session_id, _ = session(app)
    for kind in ("EVALUATION_EVIDENCE", "LIVRET_2", "IDENTITY_DOCUMENT"):
        with pytest.raises(ValidationError):
            AttachJuryPaper.model_validate({"session_id": session_id, "kind": kind, "filename": "x.pdf",
                                            "sha256": "ef" * 32, "content": PDF})
    with pytest.raises(ValidationError):  # evidence has one kind: it is not chosen
        AttachEvaluationEvidence.model_validate({"candidacy_id": "c1", "block": "B1", "kind": "LIVRET_2",
                                                 "filename": "x.pdf", "sha256": "ef" * 32, "content": PDF})
    refused(app, InvalidInput, lambda: attach_evidence(app, "B9"))
    refused(app, CandidacyNotLive, lambda: attach_evidence(app, "B1", candidacy=facts(status="WITHDRAWN")))


def test_evidence_is_attached_only_by_who_may_evaluate_the_candidacy(app):
    current_caller.set(Caller(user_id="c", organisation_id="UIMM", branches=("UIMM",), roles=frozenset({"certifier"})))
    refused(app, Forbidden, lambda: attach_evidence(app, "B1"))  # the certifier reads the candidacy, attaches nothing
    current_caller.set(Caller(user_id="e", organisation_id="another-centre", roles=frozenset({"evaluator"})))
    refused(app, UnknownCandidacy, lambda: attach_evidence(app, "B1"))  # another centre: as no candidacy


def reading(candidate_id="person-1", presented=frozenset(), account=None) -> ReadingFacts:
    return ReadingFacts(Record(branches=frozenset({"UIMM"}), evaluator=CENTRE, account=account,
                               presented_to_branches=presented), candidate_id)


def test_reading_a_document_records_who_read_it_first_and_unknown_ones_are_refused(app):
    evidence = attach_evidence(app, "B1")
    result = app.read_document({"candidacy_id": "c1", "document_id": evidence}, reading(), ctx()).result
    assert (result["person_id"], result["document_id"], result["media_type"]) == ("person-1", evidence,
                                                                                 "application/pdf")
    assert result["personal"] == SEALED
    reads = [c for c in published(app, dossier_id()) if c.event_type == "DocumentRead"]
    assert [(r.document_id, r.candidacy_id, r.session_id) for r in reads] == [(evidence, "c1", None)]
    refused(app, UnknownDocument, lambda: app.read_document({"candidacy_id": "c1", "document_id": "nope"},
                                                            reading(), ctx()))
    refused(app, UnknownCandidacy, lambda: app.read_document({"candidacy_id": "c9", "document_id": evidence},
                                                             ReadingFacts(), ctx()))
    session_id, _ = session(app)
    minutes = paper(app, session_id, "JURY_MINUTES")
    result = app.read_document({"session_id": session_id, "document_id": minutes}, ReadingFacts(), ctx()).result
    assert result["person_id"] == session_person(session_id) == f"session:{session_id}"
    reads = [c for c in published(app, uuid.UUID(session_id)) if c.event_type == "DocumentRead"]
    assert [(r.document_id, r.candidacy_id, r.session_id) for r in reads] == [(minutes, None, session_id)]
    with pytest.raises(ValidationError):  # one file or the other
        ReadJuryDocument.model_validate({"document_id": minutes, "session_id": session_id, "candidacy_id": "c1"})


def test_evidence_is_read_by_the_jury_of_a_session_it_was_presented_to_and_no_other(app):
    evidence = attach_evidence(app, "B1")
    read = {"candidacy_id": "c1", "document_id": evidence}
    current_caller.set(Caller(user_id="m", organisation_id="LEEM", branches=("LEEM",),
                              roles=frozenset({"jury-member"})))
    refused(app, UnknownCandidacy, lambda: app.read_document(read, reading(), ctx()))
    assert app.read_document(read, reading(presented=frozenset({"LEEM"})), ctx()).result["document_id"] == evidence
    current_caller.set(Caller(user_id="person-login", organisation_id="", roles=frozenset({"candidate"})))
    assert app.read_document(read, reading(account="person-login"), ctx()).result["document_id"] == evidence


def test_older_contracts_are_upcast_with_no_evidence_and_no_papers():
    def parsed(event_type, version, payload):
        return public.REGISTRY.parse(Envelope(
            event_id=uuid.uuid4(), type=event_type, version=version, producer="jury", position=1,
            aggregate_id=uuid.uuid4(), aggregate_version=1, occurred_at="2026-01-01T00:00:00Z",
            actor={"user_id": "u", "organisation_id": "o", "role": "evaluator"}, correlation_id="c",
            causation_id="k", payload=payload))

    evaluation = {"candidacy_id": "c1", "candidate_id": "p", "certification": "RNCP1", "version": 1, "block": "B1",
                  "competences": [], "modality": "TEST", "organisation_id": "o", "validated_on": "2026-01-01",
                  "valid_until": None}
    assert parsed("BlockValidated", 2, {**evaluation, "personal": "x"}).evidence_documents == []
    assert parsed("BlockValidated", 1, {**evaluation, "evaluator": "a", "evidence": "b"}).evidence_documents == []
    assert parsed("CandidacyPresented", 1, {"session_id": "s", "candidacy_id": "c1", "blocks": ["B1"]}).papers == []


def test_a_jury_document_is_purged_only_once_its_keeping_period_has_ended_and_its_facts_stay(app):
    from datetime import date

    from shared.documents import DocumentNotDue, purge_day
    from services.jury.domain import PurgingFacts

    evidence = attach_evidence(app, "B1")
    session_id, _ = session(app)
    sheet = paper(app, session_id, "ATTENDANCE_SHEET")
    attached_on, today = date(2020, 3, 1), date(2026, 1, 1)
    due = purge_day("EVALUATION_EVIDENCE", attached_on)
    early = PurgingFacts(today=today, attached_on=attached_on)
    for holder, document in ((str(dossier_id()), evidence), (session_id, sheet)):
        body = {"aggregate_id": holder, "document_id": document}
        refused(app, DocumentNotDue, lambda: app.purge_jury_document({**body, "kept_until": date(2024, 1, 1)}, early,
                                                                     ctx()))
        refused(app, InvalidInput, lambda: app.purge_jury_document({**body, "kept_until": date(2026, 1, 2)}, early,
                                                                   ctx()))
        purged = app.purge_jury_document({**body, "kept_until": due}, early, ctx()).result
        assert purged["object_key"].split("/")[0] in ("dossiers", "sessions")
        refused(app, Conflict, lambda: app.purge_jury_document({**body, "kept_until": due}, early, ctx()))
    assert app.dossier(facts()).current_documents("EVALUATION_EVIDENCE", "B1") == []  # no longer evidence to name
    kinds = [c.event_type for c in published(app, dossier_id())]
    assert kinds.count("DocumentAttached") == 1 and kinds[-1] == "DocumentPurged"
    refused(app, UnknownDocument, lambda: app.purge_jury_document(
        {"aggregate_id": session_id, "document_id": "nope", "kept_until": due},
        PurgingFacts(today=today, attached_on=None), ctx()))
