"""The credentials of a certificate (services/jury/certificates.py `credentialed`, `credentials_of`): the award's for
a certificate, one per block validated by evaluation, each with its dates, alignments, status entry and stable id;
and a credential's bytes as a document of their own (shared/documents.py, kind CREDENTIAL)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from shared import documents
from shared.certificates import credentials as vc
from shared.certificates import pdf
from shared.vocabulary import DocumentKind
from services.jury.certificates import credentialed, credentials_of
from tests.unit.test_certificate_credentials import DID, assert_open_badge, status_list
from tests.unit.test_certificate_pdf import document

URL = "https://cqp.example.fr"
BC01, BC02 = "RNCP37869BC01", "RNCP37869BC02"


def entries(blocks) -> dict[str, vc.StatusEntry]:
    return {b: vc.StatusEntry(f"{URL}/branches/uimm/status/1", 40 + n) for n, b in enumerate(blocks)}


def made(doc: pdf.CertificateDocument) -> dict[str, vc.Award]:
    return credentials_of(doc, DID, URL, "person-123", entries(credentialed(doc)))


@pytest.fixture(scope="module")
def key():
    return vc.generate_key(DID, "key-2026-01")


def test_a_full_award_gets_the_certifications_credential_and_one_per_block_validated_by_evaluation():
    awards = made(document("certificate"))
    assert list(awards) == ["", BC01, BC02]
    assert awards[""].achievement_type == "Certificate"
    assert [a.achievement_type for a in (awards[BC01], awards[BC02])] == ["Competency", "Competency"]
    for award in awards.values():
        assert_open_badge(vc.credential(award))


def test_an_attestation_gets_no_credential_of_the_certification_only_its_blocks():
    awards = made(document("attestation", blocks=document().blocks[1:]))
    assert list(awards) == [BC02]
    assert awards[BC02].achievement_name == "RNCP37869BC02 Réaliser la maintenance préventive"


def test_a_block_held_or_recognised_at_positioning_gets_no_credential():
    held = pdf.Block("RNCP37869BC03", "Organiser la maintenance", None, None)
    doc = document("attestation", blocks=(held, *document().blocks[1:]))
    assert credentialed(doc) == [BC02]
    assert list(made(doc)) == [BC02]
    assert credentials_of(doc, DID, URL, "p", entries(["RNCP37869BC03"])) == {}  # even if asked
    assert credentialed(document("certificate", blocks=(held,))) == [""]


def test_a_block_credential_is_aligned_to_the_certifications_registration_and_to_the_blocks_code():
    block = vc.credential(made(document())[BC02])["credentialSubject"]["achievement"]
    assert [(a["targetCode"], a["targetFramework"], a.get("targetType")) for a in block["alignment"]] == [
        ("RNCP37869", "RNCP", "ceterms:Credential"), (BC02, "RNCP", "ceasn:Competency")]
    assert block["alignment"][1]["targetUrl"] == "https://www.francecompetences.fr/recherche/rncp/37869/"
    assert block["id"] == f"{URL}/certifications/CQPM%200123/blocks/{BC02}"
    short = document(blocks=(pdf.Block("BC04", "Piloter", dt.date(2026, 6, 1), None),))
    assert [a.target_code for a in made(short)["BC04"].alignments] == ["RNCP37869", "RNCP37869BC04"]


def test_a_block_credential_is_valid_from_its_day_through_the_last_day_of_its_validity(key):
    doc = document(blocks=(pdf.Block(BC01, "Diagnostiquer", dt.date(2026, 3, 2), None),
                           pdf.Block(BC02, "Maintenir", dt.date(2026, 4, 1), dt.date(2031, 4, 1))))
    awards = made(doc)
    open_ended, bounded = vc.credential(awards[BC01]), vc.credential(awards[BC02])
    assert open_ended["validFrom"] == "2026-03-02T00:00:00Z" and "validUntil" not in open_ended
    assert (bounded["validFrom"], bounded["validUntil"]) == ("2026-04-01T00:00:00Z", "2031-04-01T23:59:59Z")
    assert vc.credential(awards[""])["validFrom"] == "2026-06-12T00:00:00Z"  # the award: the decision's day

    token = vc.sign_award(awards[BC02], key)
    lists = {f"{URL}/branches/uimm/status/1": status_list(key, url=f"{URL}/branches/uimm/status/1")}
    assert vc.verify(token, vc.jwks([key]), lists, dt.date(2031, 4, 1)).verdict == "valid"
    assert vc.verify(token, vc.jwks([key]), lists, dt.date(2031, 4, 2)).verdict == "expired"
    assert vc.verify(token, vc.jwks([key]), lists, dt.date(2026, 3, 31)).verdict == "not-yet-valid"


def test_each_credential_names_its_own_status_entry_and_keeps_a_stable_id_of_its_number_and_block():
    awards = made(document())
    indexes = [vc.credential(a)["credentialStatus"]["statusListIndex"] for a in awards.values()]
    assert indexes == ["40", "41", "42"]
    ids = [a.credential_id for a in awards.values()]
    assert len(set(ids)) == 3 and ids == [a.credential_id for a in made(document()).values()]
    assert ids[0] == vc.credential_id("UIMM-2026-000123") and ids[1] == vc.credential_id("UIMM-2026-000123", BC01)
    assert all(a.certificate_number == "UIMM-2026-000123" for a in awards.values())


def test_a_credential_is_a_document_of_its_own_kind_found_from_its_bytes(key):
    token = vc.sign_award(made(document())[BC01], key).encode()
    checked = documents.check(DocumentKind.CREDENTIAL, token, hashlib.sha256(token).hexdigest())
    assert checked.media_type == "application/vc+jwt"
    with pytest.raises(documents.DocumentTypeRefused):  # no other kind takes a credential
        documents.check(DocumentKind.EVALUATION_EVIDENCE, token, hashlib.sha256(token).hexdigest())
    pdf_bytes = pdf.render(document())
    with pytest.raises(documents.DocumentTypeRefused):  # nor does a credential's kind take anything else
        documents.check(DocumentKind.CREDENTIAL, pdf_bytes, hashlib.sha256(pdf_bytes).hexdigest())
    plain_jwt = b"eyJhbGciOiJFZERTQSJ9.e30.c2ln"  # a JWS, but not a credential's (no typ vc+jwt)
    assert documents.sniff(plain_jwt) is None
