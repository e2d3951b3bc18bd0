"""The rules of a session's end, without the application: closing with its minutes (attested by its president,
once every candidacy presented is decided, its quorum as its decisions had it), publishing its results after
the minutes, unpublishing them with a reason until someone outside the jury downloaded a certificate."""

import datetime as dt

import pytest

from shared.certificates import pki, seal
from shared.documents import Stored
from shared.errors import InvalidInput
from shared.vocabulary import DocumentKind
from services.jury import minutes
from services.jury.domain import (
    AlreadyPublished, AttachingFacts, ClosingFacts, MinutesMissing, NotPresented, NotPublished, NotThePresident,
    QuorumNotReached, ResultsAlreadyDownloaded, SessionClosed, UndecidedPresentations, UnpublicationNeedsReason,
)
from tests.unit.test_jury_domain import CANDIDACY, TODAY, corrected, decided, presented


def closing(document_id="minutes-1", quorum=2) -> ClosingFacts:
    return ClosingFacts(document_id, Stored("sessions/s/minutes", 900, "application/pdf", "ef" * 32, "01" * 32),
                        "pd1.sealed", quorum)


def closed_session():
    session, dossier, holding = presented()
    certificate = decided(session, dossier, holding, "FULL_AWARD").changed[0]
    session.close(closing(), "m1", TODAY)
    return session, dossier, holding, certificate


def test_a_session_closes_with_its_minutes_as_its_current_jury_minutes_naming_the_members_present():
    session, *_ = closed_session()
    assert session.closed == {"on": TODAY, "president": "m1", "minutes": "minutes-1"}
    assert session.current_documents(DocumentKind.JURY_MINUTES) == ["minutes-1"]
    [event] = [e for e in session.collect_events() if type(e).__name__ == "Closed"]
    assert (event.members_present, event.sha256) == (["m1", "m2"], "ef" * 32)


def test_the_generated_minutes_supersede_uploaded_ones():
    session, dossier, holding = presented()
    decided(session, dossier, holding, "REFUSAL")
    uploaded = AttachingFacts("up-1", Stored("sessions/s/up", 10, "application/pdf", "ab" * 32, "cd" * 32), "p")
    session.attach_paper(DocumentKind.JURY_MINUTES, uploaded, None)
    session.close(closing(), "m1", TODAY)
    assert session.current_documents(DocumentKind.JURY_MINUTES) == ["minutes-1"]
    assert session.documents["up-1"]["superseded_by"] == "minutes-1"


def test_the_minutes_are_attested_by_the_sessions_president_only():
    session, dossier, holding = presented()
    decided(session, dossier, holding, "REFUSAL")
    for member in ("m2", "nobody"):
        with pytest.raises(NotThePresident):
            session.close(closing(), member, TODAY)
    assert session.closed is None


def test_a_session_closes_once_every_candidacy_presented_is_decided():
    session, _, _ = presented()
    with pytest.raises(UndecidedPresentations):
        session.close(closing(), "m1", TODAY)


def test_closing_checks_the_quorum_as_its_decisions_did():
    session, dossier, holding = presented()
    decided(session, dossier, holding, "REFUSAL")
    with pytest.raises(QuorumNotReached):
        session.close(closing(quorum=4), "m1", TODAY)


def test_a_closed_session_takes_no_more_presentations_nor_decisions_nor_a_second_close():
    session, dossier, holding, _ = closed_session()
    with pytest.raises(SessionClosed):
        session.present(CANDIDACY, dossier)
    with pytest.raises(SessionClosed):
        decided(session, dossier, holding, "REFUSAL")
    with pytest.raises(SessionClosed):
        session.close(closing("minutes-2"), "m1", TODAY)


def test_a_closed_sessions_decision_may_still_be_corrected():
    session, dossier, holding, certificate = closed_session()
    ruling = corrected(session, dossier, holding, "DEFERRAL", certificate)
    assert certificate.revoked is not None and ruling.document is None


def test_results_are_published_after_the_minutes_only():
    session, dossier, holding = presented()
    decided(session, dossier, holding, "FULL_AWARD")
    with pytest.raises(MinutesMissing):
        session.publish_results(TODAY)
    assert session.published is None


def test_uploaded_minutes_are_enough_to_publish():
    session, dossier, holding = presented()
    decided(session, dossier, holding, "FULL_AWARD")
    uploaded = AttachingFacts("up-1", Stored("sessions/s/up", 10, "application/pdf", "ab" * 32, "cd" * 32), "p")
    session.attach_paper(DocumentKind.JURY_MINUTES, uploaded, None)
    session.publish_results(TODAY)
    assert session.published == {"on": TODAY}


def test_publishing_twice_is_refused():
    session, *_ = closed_session()
    session.publish_results(TODAY)
    with pytest.raises(AlreadyPublished):
        session.publish_results(TODAY)


def test_unpublishing_says_why_and_hides_the_results_until_published_again():
    session, *_ = closed_session()
    with pytest.raises(NotPublished):
        session.unpublish_results("erreur")
    session.publish_results(TODAY)
    with pytest.raises(UnpublicationNeedsReason):
        session.unpublish_results("  ")
    assert isinstance(UnpublicationNeedsReason("x"), InvalidInput)
    session.unpublish_results(" erreur de saisie ")
    assert session.published is None
    assert [e.reason for e in session.collect_events() if type(e).__name__ == "ResultsUnpublished"] == \
        ["erreur de saisie"]
    session.publish_results(TODAY)
    assert session.published == {"on": TODAY}


def test_once_a_certificate_was_downloaded_outside_the_jury_the_results_stay_published():
    session, *_ = closed_session()
    session.publish_results(TODAY)
    assert session.note_download("doc-1") is True
    assert session.note_download("doc-2") is False  # recorded once
    with pytest.raises(ResultsAlreadyDownloaded):
        session.unpublish_results("erreur")
    assert session.published == {"on": TODAY}


def test_no_correction_without_a_decision_even_when_closed():
    session, dossier, holding = presented()
    with pytest.raises(NotPresented):
        corrected(session, dossier, holding, "REFUSAL")


def test_the_minutes_render_as_a_pdf_the_branchs_seal_signs():
    doc = minutes.MinutesDocument(
        session_id="s-1", branch="UIMM", branch_name="Métallurgie", certifications=("RNCP34174 · Conduite",),
        held_on=dt.date(2026, 9, 15), place="Paris",
        members=(minutes.Member("Anne Employeur", "EMPLOYER", "PRESIDENT"),
                 minutes.Member("Paul Salarié", "EMPLOYEE", "VICE_PRESIDENT")),
        quorum=2, lines=(minutes.Line("c1", "Élodie Martin", "RNCP34174", "FULL_AWARD", ("B1", "B2"), "RNCP-1"),
                         minutes.Line("c2", "", "RNCP34174", "REFUSAL", (), "")),
        president="Anne Employeur", closed_on=TODAY)
    root = pki.make_root("test CA", organisation="tests")
    branch_seal = pki.make_seal(root, "UIMM", "Métallurgie")
    data = minutes.sealed(doc, seal.signer(branch_seal.key_pem, branch_seal.cert_pem, [root.cert_pem]))
    assert data.startswith(b"%PDF")
    status = seal.check(data, root.cert_pem)
    assert status.state == "valid", status
