"""The rules of the jury's aggregates, without the application: which document a decision issues, and what
correcting a decision does to the document in force and to the candidate's holding."""

import uuid
from datetime import date

import pytest

from shared.documents import Stored
from services.jury.domain import (
    AlreadyCertified, AttachingFacts, CandidacyFacts, Certificate, CorrectionFacts, DecisionFacts, Dossier, EvaluationFacts, Holding,
    JurySession,
)

BLOCKS = ("B1", "B2", "B3")
TODAY = date(2027, 1, 4)
CANDIDACY = CandidacyFacts("c1", "person-1", "RNCP34174", 1, {b: "TO_ACQUIRE" for b in BLOCKS}, "POSITIONED",
                           evaluator_id="centre", branches=frozenset({"UIMM"}), route="TRAINING",
                           opened_on=date(2019, 9, 1))
MEMBERS = (("m1", "EMPLOYER", "PRESIDENT"), ("m2", "EMPLOYEE", "VICE_PRESIDENT"))
VOTES = {"for": 2, "against": 0, "abstention": 0}


def presented(results=(True, True, True)) -> tuple[JurySession, Dossier, Holding]:
    """A session with a president and a vice-president, and the candidacy presented to it."""
    session = JurySession.schedule("UIMM", ["RNCP34174"], date(2026, 9, 15), "Paris", False, 10,
                                   owners={"RNCP34174": frozenset({"UIMM"})})
    for member_id, college, role in MEMBERS:
        session.appoint(member_id, "pd1.sealed", college, role)
    dossier = Dossier(candidacy_id="c1", candidate_id="person-1", certification="RNCP34174", version=1)
    facts = EvaluationFacts(CANDIDACY, "pd1.sealed", frozenset({"centre"}), frozenset(), None, TODAY)
    for block, acquired in zip(BLOCKS, results):
        evidence = AttachingFacts(str(uuid.uuid4()), Stored(f"dossiers/c1/{block}", 10, "application/pdf", "ab" * 32,
                                                             "cd" * 32), "pd1.sealed", CANDIDACY)
        dossier.attach_evidence(evidence, block, None)
        dossier.evaluate(facts, block, [{"competence": "C", "acquired": acquired}], "PRACTICAL_SITUATION",
                         date(2026, 6, 1), "centre", [evidence.document_id])
    session.present(CANDIDACY, dossier)
    return session, dossier, Holding(candidate_id="person-1", certification="RNCP34174", version=1)


def decided(session, dossier, holding, decision):
    facts = DecisionFacts(CANDIDACY, BLOCKS, TODAY, quorum=2)
    return session.decide(facts, dossier, holding, decision, [m for m, _, _ in MEMBERS], VOTES)


def corrected(session, dossier, holding, decision, in_force=None, reason="erreur matérielle"):
    return session.correct(CorrectionFacts(CANDIDACY, BLOCKS, TODAY), dossier, in_force, holding, decision, reason)


def test_a_full_award_issues_a_certificate_dated_the_decision_and_takes_the_candidates_holding():
    session, dossier, holding = presented()
    ruling = decided(session, dossier, holding, "FULL_AWARD")
    certificate, taken = ruling.changed
    assert (certificate.kind, certificate.blocks, certificate.awarded_on) == ("CERTIFICATE", list(BLOCKS), TODAY)
    assert taken is holding and holding.number == certificate.number == ruling.document
    assert dossier.document_in_force(str(session.id)) == certificate.number


def test_a_partial_validation_issues_an_attestation_of_its_blocks_and_leaves_the_holding_alone():
    session, dossier, holding = presented(results=(True, False, False))
    ruling = decided(session, dossier, holding, "PARTIAL_VALIDATION")
    [attestation] = ruling.changed
    assert (attestation.kind, attestation.blocks, ruling.blocks) == ("ATTESTATION", ["B1"], ["B1"])
    assert holding.number is None


@pytest.mark.parametrize("decision", ["REFUSAL", "DEFERRAL"])
def test_a_decision_that_acquires_nothing_issues_no_document(decision):
    session, dossier, holding = presented()
    ruling = decided(session, dossier, holding, decision)
    assert (ruling.blocks, ruling.document, ruling.changed) == ([], None, ())
    assert dossier.document_in_force(str(session.id)) is None


def test_a_candidate_holding_the_version_is_not_awarded_it_again():
    session, dossier, holding = presented()
    holding.take("RNCP34174-EARLIER")
    with pytest.raises(AlreadyCertified):
        decided(session, dossier, holding, "FULL_AWARD")


def test_correcting_an_award_revokes_its_certificate_and_releases_the_holding():
    session, dossier, holding = presented()
    certificate = decided(session, dossier, holding, "FULL_AWARD").changed[0]
    ruling = corrected(session, dossier, holding, "DEFERRAL", certificate, reason=" jury irrégulier ")
    assert ruling.changed == (certificate, holding) and ruling.document is None
    assert certificate.revoked == {"on": TODAY, "reason": "decision corrected: jury irrégulier"}
    assert holding.number is None and dossier.document_in_force(str(session.id)) is None


def test_correcting_a_partial_validation_revokes_its_attestation_and_leaves_the_holding_alone():
    session, dossier, holding = presented(results=(True, False, False))
    attestation = decided(session, dossier, holding, "PARTIAL_VALIDATION").changed[0]
    ruling = corrected(session, dossier, holding, "REFUSAL", attestation)
    assert ruling.changed == (attestation,) and attestation.revoked is not None
    assert not holding.collect_events()[1:]  # started, never held nor released


def test_correcting_an_award_into_an_award_again_frees_then_takes_the_holding_with_the_new_certificate():
    session, dossier, holding = presented()
    first = decided(session, dossier, holding, "FULL_AWARD").changed[0]
    corrected(session, dossier, holding, "DEFERRAL", first)
    again = corrected(session, dossier, holding, "FULL_AWARD")  # the deferral's: no document in force
    certificate, taken = again.changed
    assert isinstance(certificate, Certificate) and taken is holding
    assert holding.number == certificate.number != first.number


def test_a_certificates_pdf_is_issued_once_recorded_with_its_sha256_and_attached_to_the_dossier_as_a_certificate_pdf():
    from services.jury.domain import CertificateDocumentAlreadyIssued, CertificateDocumentFacts
    from shared.vocabulary import DocumentKind

    session, dossier, holding = presented()
    certificate = decided(session, dossier, holding, "FULL_AWARD").changed[0]
    facts = CertificateDocumentFacts("doc-1", Stored("dossiers/c1/pdf", 900, "application/pdf", "ef" * 32, "01" * 32),
                                     "pd1.sealed")
    certificate.issue_document(facts.document_id, facts.stored.sha256)
    dossier.attach_certificate(facts)
    assert certificate.document == {"document_id": "doc-1", "sha256": "ef" * 32, "credentials": []}
    assert dossier.documents["doc-1"]["kind"] == DocumentKind.CERTIFICATE_PDF
    assert dossier.current_documents(DocumentKind.CERTIFICATE_PDF) == ["doc-1"]
    certificate.collect_events()
    with pytest.raises(CertificateDocumentAlreadyIssued):
        certificate.issue_document("doc-2", "aa" * 32)
    assert certificate.collect_events() == [] and certificate.document["document_id"] == "doc-1"


def test_each_credential_of_a_certificate_is_a_document_of_the_dossier_named_in_the_one_issue_of_its_pdf():
    from services.jury.contracts import to_contract
    from services.jury.domain import CertificateDocumentFacts, CredentialDocument
    from shared.vocabulary import DocumentKind

    session, dossier, holding = presented()
    certificate = decided(session, dossier, holding, "FULL_AWARD").changed[0]
    certificate.collect_events(), dossier.collect_events()
    jwt = "application/vc+jwt"
    credentials = (
        CredentialDocument("cred-0", Stored("dossiers/c1/c0", 700, jwt, "a0" * 32, "b0" * 32), "p0", "",
                           "urn:uuid:award", "CQP1 Opérateur", date(2026, 6, 12)),
        CredentialDocument("cred-1", Stored("dossiers/c1/c1", 710, jwt, "a1" * 32, "b1" * 32), "p1", "RNCP1BC01",
                           "urn:uuid:block", "RNCP1BC01 Bloc", date(2026, 3, 1), date(2031, 3, 1)))
    facts = CertificateDocumentFacts("doc-1", Stored("dossiers/c1/pdf", 900, "application/pdf", "ef" * 32, "01" * 32),
                                     "pd1.sealed", credentials)
    certificate.issue_document(facts.document_id, facts.stored.sha256, facts.credentials)
    dossier.attach_certificate(facts, certificate.number)

    [issued] = certificate.collect_events()
    assert [(c["document_id"], c["block"], c["sha256"]) for c in issued.credentials] == \
        [("cred-0", "", "a0" * 32), ("cred-1", "RNCP1BC01", "a1" * 32)]
    assert dossier.current_documents(DocumentKind.CREDENTIAL) == ["cred-0", "cred-1"]
    published = [to_contract(e) for e in dossier.collect_events()]
    assert [(p.kind, p.block, p.certificate) for p in published] == [
        (DocumentKind.CERTIFICATE_PDF, None, certificate.number), (DocumentKind.CREDENTIAL, None, certificate.number),
        (DocumentKind.CREDENTIAL, "RNCP1BC01", certificate.number)]
    assert published[0].credential is None
    assert (published[2].credential.id, published[2].credential.valid_from, published[2].credential.valid_until) == \
        ("urn:uuid:block", date(2026, 3, 1), date(2031, 3, 1))
    assert published[1].credential.block == "" and published[1].credential.valid_until is None
