"""Jury rules on the library's in-memory event store: each refusal is a typed error that writes nothing."""

import uuid
from datetime import date, timedelta

import pytest

from shared.context import Actor, CommandContext
from shared.documents import Stored
from shared.personal import new_key, seal
from services.jury.application import JuryApplication
from services.jury.contracts import to_contract
from services.jury.domain import (
    AlreadyDecided,
    AwardWithMissingBlock,
    BlockAlreadyAcquired,
    AppointmentFacts,
    AttachingFacts,
    CandidacyFacts,
    CorrectionFacts,
    DecisionFacts,
    Dossier,
    Certificate,
    CorrectionNeedsReason,
    EvaluationFacts,
    OwnerFacts,
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


TODAY = date(2027, 1, 4)  # the day the tests' commands run
# The evaluator and evidence as the endpoint seals them with the candidate's key (services/jury/evaluations.py).
SEALED = seal(new_key(), "person-1", {"evaluator": "J. Dupont", "evidence": "dossier-42"})


def facts(candidacy="c1", positioning=None, status="POSITIONED", route="TRAINING", person="person-1",
          opened_on=date(2019, 9, 1)) -> CandidacyFacts:
    blocks = {b: "TO_ACQUIRE" for b in BLOCKS} | (positioning or {})
    return CandidacyFacts(candidacy, person, "RNCP34174", 1, blocks, status, branches=frozenset({"UIMM"}), route=route,
                          opened_on=opened_on)


@pytest.fixture
def app():
    return AsClient(JuryApplication())


def attach_evidence(app, block, candidacy=None, supersedes=None, organisation=CENTRE) -> str:
    """An evidence document of the block attached, its bytes stored (as services/jury/documents.py does before the
    decision)."""
    candidacy = candidacy or facts()
    document_id = str(uuid.uuid4())
    stored = Stored(f"dossiers/{candidacy.candidacy_id}/{uuid.uuid4()}", 1234, "application/pdf", "ab" * 32, "cd" * 32)
    body = {"candidacy_id": candidacy.candidacy_id, "block": block, "filename": "grille.pdf", "sha256": "ab" * 32,
            "content": "JVBERi0=", "supersedes": supersedes}
    app.attach_evaluation_evidence(body, AttachingFacts(document_id, stored, SEALED, candidacy), ctx(organisation))
    return document_id


def evaluate(app, block, acquired=True, on=date(2026, 6, 1), candidacy=None, validity=None, organisation=CENTRE,
             accredited=frozenset({CENTRE}), withdrawn=frozenset(), today=TODAY, modality="PRACTICAL_SITUATION",
             evidence_documents=None):
    """An evaluation of the block; an observed situation names an evidence document attached first."""
    candidacy = candidacy or facts()
    if evidence_documents is None:
        evidence_documents = [attach_evidence(app, block, candidacy, organisation=organisation)] \
            if modality == "PRACTICAL_SITUATION" else []
    command = {"candidacy_id": candidacy.candidacy_id, "block": block, "modality": modality,
               "evaluator": "J. Dupont", "on": on, "evidence": "dossier-42", "evidence_documents": evidence_documents,
               "competences": [{"competence": "Conduire", "acquired": acquired}]}
    known = EvaluationFacts(candidacy, SEALED, frozenset(accredited), frozenset(withdrawn), validity, today)
    return app.record_evaluation(command, known, ctx(organisation))


def session(app, on=date(2026, 9, 15), members=(("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT"),
                                                  ("EMPLOYER", "MEMBER"), ("EMPLOYEE", "MEMBER"))):
    session_id = app.schedule_session({"branch": "UIMM", "certifications": ["RNCP34174"], "on": on, "place": "Paris",
                                       "remote": False, "capacity": 10}, OwnerFacts(OWNERS), ctx()).result["id"]
    ids = [app.appoint_member({"session_id": session_id, "name": f"M{i}", "college": college, "role": role},
                              AppointmentFacts(str(uuid.uuid4()), "pd1.sealed"), ctx()).result["member_id"]
           for i, (college, role) in enumerate(members)]
    return session_id, ids


OWNERS = {"RNCP34174": {"UIMM"}}


def decide(app, session_id, present, decision="FULL_AWARD", votes_for=None, candidacy=None, quorum=2, today=TODAY):
    candidacy = candidacy or facts()
    command = {"session_id": session_id, "candidacy_id": candidacy.candidacy_id, "decision": decision,
               "present_members": present, "votes_for": len(present) if votes_for is None else votes_for,
               "votes_against": 0 if votes_for is None else len(present) - votes_for, "abstentions": 0}
    return app.decide(command, DecisionFacts(candidacy, tuple(BLOCKS), today, quorum), ctx())


def correct(app, session_id, decision, reason="erreur matérielle", candidacy=None, today=TODAY):
    candidacy = candidacy or facts()
    command = {"session_id": session_id, "candidacy_id": candidacy.candidacy_id, "decision": decision,
               "reason": reason}
    return app.correct_decision(command, CorrectionFacts(candidacy, tuple(BLOCKS), today), ctx())


def events(app) -> int:
    return app.recorder.max_notification_id() or 0


def refused(app, error, call):
    written = events(app)
    with pytest.raises(error) as refusal:
        call()
    assert events(app) == written, "a refused command wrote events"
    return refusal.value


def test_an_unaccredited_organisation_may_not_evaluate(app):
    refused(app, EvaluatorNotAccredited, lambda: evaluate(app, "B1", organisation="someone-else",
                                                          modality="INTERVIEW"))


def test_a_block_is_validated_when_every_competence_is_acquired_and_stays_for_the_versions_validity(app):
    assert evaluate(app, "B1", validity=60).result["validated"]
    assert not evaluate(app, "B2", acquired=False).result["validated"]
    dossier = app.dossier(facts())
    assert dossier.results["B1"]["valid_until"] == date(2031, 6, 1)


def test_a_block_held_or_recognised_is_not_evaluated_again(app):
    positioned = facts(positioning={"B1": "HELD", "B2": "RECOGNISED"})
    for block in ("B1", "B2"):
        refused(app, BlockAlreadyAcquired, lambda: evaluate(app, block, candidacy=positioned,
                                                                         modality="INTERVIEW"))


def test_a_validated_block_is_evaluated_again_only_once_its_validity_is_over(app):
    evaluate(app, "B1", on=date(2020, 1, 1), validity=24)
    refused(app, BlockAlreadyAcquired, lambda: evaluate(app, "B1", on=date(2021, 12, 31),
                                                                 modality="INTERVIEW"))
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
    assert (certificate.kind, certificate.candidate_id, certificate.version) == ("CERTIFICATE", facts().candidate_id, 1)
    assert certificate.number.startswith("RNCP34174-") and len(certificate.number) == len("RNCP34174-") + 20


def test_a_decision_is_corrected_with_a_reason_never_edited(app):
    session_id, members = presented(app)
    decide(app, session_id, members)
    refused(app, CorrectionNeedsReason, lambda: correct(app, session_id, "DEFERRAL", reason="  "))
    correct(app, session_id, "DEFERRAL", reason="pièce manquante au dossier")
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
    assert len(published) == 2 * len(BLOCKS)  # each block's evidence, then its result
    for event, contract in published:
        assert contract.version == (2 if contract.event_type.startswith("Block") else 1)  # the référentiel's; the paper's
        for name, value in contract.model_dump().items():
            if hasattr(event, name) and name != "version":
                assert value == getattr(event, name), name


# --- the rules around decisions (services/jury/README.md) ---------------------------------------------

from shared.errors import InvalidInput  # noqa: E402
from services.jury.domain import (  # noqa: E402
    AlreadyAwarded, AlreadyCertified, CertificationNotOwnedByBranch, DateRefused, NotReadyForJury, PresentedElsewhere,
)


def present(app, session_id, candidacy=None):
    candidacy = candidacy or facts()
    return app.present({"session_id": session_id, "candidacy_id": candidacy.candidacy_id}, candidacy, ctx())


def certificate(app, number) -> Certificate:
    return app.repository.get(Certificate.create_id(number))


def test_a_candidacy_awaits_one_sessions_decision_at_a_time(app):
    first, members = presented(app)
    second, _ = session(app, on=date(2026, 10, 1))
    refusal = refused(app, PresentedElsewhere, lambda: present(app, second))
    assert refusal.details["session_id"] == first
    decide(app, first, members, decision="DEFERRAL")
    assert present(app, second).result["blocks"] == BLOCKS  # decided there: free to go elsewhere


def test_an_awarded_candidacy_is_presented_nowhere_again(app):
    first, members = presented(app)
    decide(app, first, members)
    later, _ = session(app, on=date(2026, 10, 1))
    refused(app, AlreadyAwarded, lambda: present(app, later))


def test_a_candidate_holds_one_certificate_per_certification_version_through_candidacies(app):
    first, members = presented(app)
    decide(app, first, members)
    other = facts(candidacy="c2")
    for block in BLOCKS:
        evaluate(app, block, candidacy=other)
    later, members = session(app, on=date(2026, 10, 1))
    present(app, later, other)
    refused(app, AlreadyCertified, lambda: decide(app, later, members, candidacy=other))


def test_correcting_into_a_full_award_needs_every_block_and_then_issues_the_certificate(app):
    session_id, members = presented(app, results=(True, True, False))
    attestation = decide(app, session_id, members, decision="PARTIAL_VALIDATION").result["certificate_number"]
    refused(app, AwardWithMissingBlock, lambda: correct(app, session_id, "FULL_AWARD"))
    refusal = refused(app, InvalidInput, lambda: correct(app, session_id, "PARTIAL_VALIDATION"))
    assert "changes nothing" in refusal.message
    corrected = correct(app, session_id, "REFUSAL", reason="fraude constatée")
    assert corrected.result["blocks_acquired"] == [] and "certificate_number" not in corrected.result
    assert certificate(app, attestation).revoked == {"on": TODAY, "reason": "decision corrected: fraude constatée"}


def test_correcting_a_partial_validation_lists_only_the_blocks_acquired(app):
    session_id, members = presented(app, results=(True, False, False))
    decide(app, session_id, members, decision="REFUSAL")
    corrected = correct(app, session_id, "PARTIAL_VALIDATION")
    assert corrected.result["blocks_acquired"] == ["B1"]
    assert certificate(app, corrected.result["certificate_number"]).blocks == ["B1"]


def test_correcting_an_award_away_revokes_its_certificate_and_frees_the_candidate_to_be_awarded_again(app):
    session_id, members = presented(app)
    number = decide(app, session_id, members).result["certificate_number"]
    correct(app, session_id, "DEFERRAL", reason="jury irrégulièrement composé")
    revoked = certificate(app, number)
    assert revoked.revoked["reason"] == "decision corrected: jury irrégulièrement composé"
    again = correct(app, session_id, "FULL_AWARD", reason="jury régulier, décision rétablie")
    assert again.result["certificate_number"] != number
    assert certificate(app, again.result["certificate_number"]).revoked is None


def test_a_vae_candidacy_reaches_the_jury_only_admissible_and_with_its_validation_file(app):
    for block in BLOCKS:
        evaluate(app, block)
    session_id, _ = session(app)
    for status in ("POSITIONED", "ADMISSIBILITY_FILED", "ADMISSIBLE"):
        refusal = refused(app, NotReadyForJury, lambda: present(app, session_id, facts(route="VAE", status=status)))
        assert refusal.details["needed"] == ["VALIDATION_FILE_SUBMITTED"]
    present(app, session_id, facts(route="VAE", status="VALIDATION_FILE_SUBMITTED"))


def test_a_training_candidacy_reaches_the_jury_once_positioned(app):
    for block in BLOCKS:
        evaluate(app, block)
    session_id, _ = session(app)
    refused(app, NotReadyForJury, lambda: present(app, session_id, facts(status="OPEN")))


def test_an_evaluation_is_dated_neither_in_the_future_nor_before_the_candidacy(app):
    evidence = [attach_evidence(app, "B1")]
    refused(app, DateRefused, lambda: evaluate(app, "B1", on=TODAY + timedelta(days=1), evidence_documents=evidence))
    refused(app, DateRefused, lambda: evaluate(app, "B1", on=date(2019, 8, 31), evidence_documents=evidence))


def test_an_organisation_whose_accreditation_was_withdrawn_records_nothing_whatever_date_it_claims(app):
    refusal = refused(app, EvaluatorNotAccredited, lambda: evaluate(app, "B1", on=date(2026, 1, 5),
                                                                     withdrawn={CENTRE}, modality="INTERVIEW"))
    assert "withdrawn" in refusal.message


def test_a_session_decides_on_or_after_its_day_and_the_award_is_dated_the_day_of_the_decision(app):
    for block in BLOCKS:
        evaluate(app, block)
    session_id, members = session(app, on=date(2026, 12, 1))
    present(app, session_id)
    refused(app, DateRefused, lambda: decide(app, session_id, members, today=date(2026, 11, 30)))
    number = decide(app, session_id, members, today=date(2026, 12, 3)).result["certificate_number"]
    assert certificate(app, number).awarded_on == date(2026, 12, 3)


def test_a_session_examines_only_certifications_its_branch_owns(app):
    command = {"branch": "UIMM", "certifications": ["RNCP34174"], "on": date(2026, 9, 1), "place": "Paris",
               "capacity": 5}
    refusal = refused(app, CertificationNotOwnedByBranch,
                      lambda: app.schedule_session(command, OwnerFacts({"RNCP34174": {"LEEM"}}), ctx()))
    assert refusal.details["certifications"] == ["RNCP34174"]


def test_presenting_to_a_session_of_another_certification_says_nothing_of_the_candidacys_status(app):
    """The certification match is checked before the candidacy's status: a session that does not examine the
    certification learns nothing of how far the candidacy has gone."""
    session_id, _ = session(app)
    other = CandidacyFacts("c9", "person-9", "RNCP99999", 1, {b: "TO_ACQUIRE" for b in BLOCKS}, "OPEN",
                           branches=frozenset({"UIMM"}), route="TRAINING", opened_on=date(2019, 9, 1))
    refusal = refused(app, InvalidInput, lambda: present(app, session_id, other))
    assert refusal.details == {"certification": "RNCP99999"}


def test_a_candidacy_out_of_the_callers_reach_is_presented_nowhere_and_reads_as_unknown(app):
    """A jury secretary of UIMM naming a candidacy of another branch's certification hears what an unknown id
    hears, before the session's certifications or the candidacy's status are looked at."""
    from shared.context import current_caller
    from shared.identity import Caller
    from services.jury.domain import UnknownCandidacy

    session_id, _ = session(app)
    theirs = CandidacyFacts("c8", "person-8", "RNCP88888", 1, {b: "TO_ACQUIRE" for b in BLOCKS}, "OPEN",
                            branches=frozenset({"LEEM"}), route="TRAINING", opened_on=date(2019, 9, 1))
    current_caller.set(Caller(user_id="s", organisation_id="UIMM", branches=("UIMM",),
                              roles=frozenset({"jury-secretary"})))
    refusal = refused(app, UnknownCandidacy, lambda: present(app, session_id, theirs))
    assert (refusal.message, refusal.details) == ("no such candidacy", {})


def test_an_evaluation_records_its_evaluator_and_evidence_sealed_never_in_clear(app):
    """Free text about the candidate (who evaluated, the evidence) is sealed like their own data: the stored
    event and its public contract carry the ciphertext only."""
    evaluate(app, "B1")
    stored = [n.state for n in app.app.recorder.select_notifications(1, 100)]
    assert stored and not any(b"J. Dupont" in s or b"dossier-42" in s for s in stored)
    published = [to_contract(e) for e in app.app.events.get(Dossier.create_id(facts().candidacy_id))]
    [evaluation] = [c for c in published if c is not None and c.event_type == "BlockValidated"]
    assert evaluation.personal == SEALED and "J. Dupont" not in evaluation.model_dump_json()
