"""Jury rules on the library's in-memory event store: each refusal is a typed error that writes nothing."""

from datetime import date

import pytest

from shared.context import Actor, CommandContext
from services.jury.application import JuryApplication
from services.jury.domain import (
    AlreadyDecided,
    AwardWithMissingBlock,
    BlockAlreadyAcquired,
    CandidacyFacts,
    Certificate,
    CorrectionNeedsReason,
    EvaluatorNotAccredited,
    MissingBlockResults,
    NoMajority,
    PresidencyRule,
    QuorumNotReached,
    UnbalancedColleges,
    add_months,
)
from tests.unit.as_client import AsClient

CENTRE = "org-centre"
BLOCKS = ["B1", "B2", "B3"]
_keys = iter(range(10**6))


def ctx(organisation=CENTRE) -> CommandContext:
    return CommandContext.new(Actor(user_id="u", organisation_id=organisation, role="branch-admin"), f"k{next(_keys)}")


def facts(candidacy="c1", positioning=None, status="POSITIONED") -> CandidacyFacts:
    blocks = {b: "TO_ACQUIRE" for b in BLOCKS} | (positioning or {})
    return CandidacyFacts(candidacy, "person-1", "RNCP34174", 1, blocks, status, branches=frozenset({"UIMM"}))


@pytest.fixture
def app():
    return AsClient(JuryApplication())


def evaluate(app, block, acquired=True, on=date(2026, 6, 1), candidacy=None, validity=None, organisation=CENTRE,
             accredited=frozenset({CENTRE})):
    command = {"candidacy_id": "c1", "block": block, "modality": "PRACTICAL_SITUATION", "evaluator": "J. Dupont",
               "on": on, "evidence": "dossier-42", "competences": [{"competence": "Conduire", "acquired": acquired}]}
    return app.record_evaluation(command, candidacy or facts(), set(accredited), validity, ctx(organisation))


def session(app, on=date(2026, 9, 15), members=(("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT"),
                                                  ("EMPLOYER", "MEMBER"), ("EMPLOYEE", "MEMBER"))):
    session_id = app.schedule_session({"branch": "UIMM", "certifications": ["RNCP34174"], "on": on, "place": "Paris",
                                       "remote": False, "capacity": 10}, ctx()).result["id"]
    ids = [app.appoint_member({"session_id": session_id, "name": f"M{i}", "college": college, "role": role},
                              ctx()).result["member_id"] for i, (college, role) in enumerate(members)]
    return session_id, ids


def decide(app, session_id, present, decision="FULL_AWARD", votes_for=None, candidacy=None, quorum=2):
    command = {"session_id": session_id, "candidacy_id": "c1", "decision": decision, "present_members": present,
               "votes_for": len(present) if votes_for is None else votes_for,
               "votes_against": 0 if votes_for is None else len(present) - votes_for, "abstentions": 0}
    return app.decide(command, candidacy or facts(), quorum, BLOCKS, "Camille Martin", ctx())


def events(app) -> int:
    return app.recorder.max_notification_id() or 0


def refused(app, error, call):
    written = events(app)
    with pytest.raises(error) as refusal:
        call()
    assert events(app) == written, "a refused command wrote events"
    return refusal.value


def test_an_unaccredited_organisation_may_not_evaluate(app):
    refused(app, EvaluatorNotAccredited, lambda: evaluate(app, "B1", organisation="someone-else"))


def test_a_block_is_validated_when_every_competence_is_acquired_and_stays_for_the_versions_validity(app):
    assert evaluate(app, "B1", validity=60).result["validated"]
    assert not evaluate(app, "B2", acquired=False).result["validated"]
    dossier = app.dossier(facts())
    assert dossier.results["B1"]["valid_until"] == date(2031, 6, 1)


def test_a_block_held_or_recognised_is_not_evaluated_again(app):
    positioned = facts(positioning={"B1": "HELD", "B2": "RECOGNISED"})
    for block in ("B1", "B2"):
        refused(app, BlockAlreadyAcquired, lambda: evaluate(app, block, candidacy=positioned))


def test_a_validated_block_is_evaluated_again_only_once_its_validity_is_over(app):
    evaluate(app, "B1", on=date(2020, 1, 1), validity=24)
    refused(app, BlockAlreadyAcquired, lambda: evaluate(app, "B1", on=date(2021, 12, 31)))
    assert evaluate(app, "B1", on=date(2022, 1, 2)).result["validated"]


def test_a_candidacy_is_presented_once_every_claimed_block_has_a_result(app):
    session_id, _ = session(app)
    evaluate(app, "B1")
    refusal = refused(app, MissingBlockResults, lambda: app.present({"session_id": session_id, "candidacy_id": "c1"},
                                                                    facts(), ctx()))
    assert refusal.details["blocks"] == ["B2", "B3"]
    evaluate(app, "B2")
    evaluate(app, "B3", acquired=False)
    assert app.present({"session_id": session_id, "candidacy_id": "c1"}, facts(), ctx()).result["blocks"] == BLOCKS


def presented(app, results=(True, True, True)):
    for block, acquired in zip(BLOCKS, results):
        evaluate(app, block, acquired=acquired)
    session_id, members = session(app)
    app.present({"session_id": session_id, "candidacy_id": "c1"}, facts(), ctx())
    return session_id, members


def test_the_colleges_present_must_be_in_equal_numbers(app):
    session_id, members = presented(app)
    refused(app, UnbalancedColleges, lambda: decide(app, session_id, members[:3]))


def test_the_quorum_of_the_version_must_be_reached(app):
    session_id, members = presented(app)
    refused(app, QuorumNotReached, lambda: decide(app, session_id, members, quorum=6))


def test_president_and_vice_president_sit_and_come_from_different_colleges(app):
    session_id, members = presented(app)
    refused(app, PresidencyRule, lambda: decide(app, session_id, members[2:]))


def test_a_decision_needs_the_absolute_majority(app):
    session_id, members = presented(app)
    refused(app, NoMajority, lambda: decide(app, session_id, members, votes_for=2))


def test_a_full_award_needs_every_block_and_issues_a_certificate(app):
    session_id, members = presented(app, results=(True, True, False))
    refusal = refused(app, AwardWithMissingBlock, lambda: decide(app, session_id, members))
    assert refusal.details["missing"] == ["B3"]
    outcome = decide(app, session_id, members, decision="PARTIAL_VALIDATION")
    assert outcome.result["blocks_acquired"] == ["B1", "B2"]
    attestation = app.repository.get(Certificate.create_id(outcome.result["certificate_number"]))
    assert attestation.kind == "ATTESTATION" and attestation.blocks == ["B1", "B2"]


def test_a_retake_presents_only_the_missing_blocks_and_then_awards(app):
    session_id, members = presented(app, results=(True, True, False))
    decide(app, session_id, members, decision="PARTIAL_VALIDATION")
    evaluate(app, "B3", on=date(2026, 10, 1))
    later, members = session(app, on=date(2026, 12, 1))
    assert app.present({"session_id": later, "candidacy_id": "c1"}, facts(), ctx()).result["blocks"] == ["B3"]
    outcome = decide(app, later, members)
    certificate = app.repository.get(Certificate.create_id(outcome.result["certificate_number"]))
    assert (certificate.kind, certificate.holder, certificate.version) == ("CERTIFICATE", "Camille Martin", 1)
    assert certificate.number.startswith("RNCP34174-") and len(certificate.number) == len("RNCP34174-") + 20


def test_a_decision_is_corrected_with_a_reason_never_edited(app):
    session_id, members = presented(app)
    decide(app, session_id, members)
    correction = {"session_id": session_id, "candidacy_id": "c1", "decision": "DEFERRAL", "reason": "  "}
    refused(app, CorrectionNeedsReason, lambda: app.correct_decision(correction, ctx()))
    app.correct_decision({**correction, "reason": "pièce manquante au dossier"}, ctx())
    refused(app, AlreadyDecided, lambda: decide(app, session_id, members))  # final: correct it instead


def test_months_are_added_to_the_last_day_of_short_months():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 6, 1), 60) == date(2031, 6, 1)


def test_every_published_field_says_what_its_source_says(app):
    """Each field of a public event equals the field of the same name of the stored event it maps, and a
    block's result carries the référentiel version of the candidacy (not the dossier's event count)."""
    from services.jury.contracts import to_contract

    version_two = CandidacyFacts("c1", "person-1", "RNCP34174", 2, {b: "TO_ACQUIRE" for b in BLOCKS}, "POSITIONED",
                                 branches=frozenset({"UIMM"}))
    for block in BLOCKS:
        evaluate(app, block, candidacy=version_two)
    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=100)]
    published = [(e, to_contract(e)) for e in events if to_contract(e) is not None]
    assert len(published) == len(BLOCKS)
    for event, contract in published:
        assert contract.version == 2
        for name, value in contract.model_dump().items():
            if hasattr(event, name) and name != "version":
                assert value == getattr(event, name), name
