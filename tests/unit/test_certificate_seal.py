"""The development CA (shared/certificates/pki.py) and the PAdES seal of a certificate's PDF
(shared/certificates/seal.py), checked with pyHanko's validator against the CA as the trust root."""

from __future__ import annotations

from io import BytesIO

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from shared.certificates import pdf, pki, seal
from tests.unit.test_certificate_pdf import document

BRANCHES = {"UIMM": "Union des industries et métiers de la métallurgie", "LEEM": "Les entreprises du médicament"}


@pytest.fixture(scope="module")
def ca() -> pki.DevelopmentCA:
    return pki.development_ca(BRANCHES)


@pytest.fixture(scope="module")
def sealed(ca) -> bytes:
    uimm = ca.seals["UIMM"]
    return seal.seal(pdf.render(document()), seal.signer(uimm.key_pem, uimm.cert_pem, [ca.root.cert_pem]),
                     name="UIMM")


def test_the_development_ca_issues_one_seal_per_branch(ca):
    root = x509.load_pem_x509_certificate(ca.root.cert_pem)
    assert root.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca
    for code, name in BRANCHES.items():
        cert = ca.seals[code].certificate
        assert cert.subject.rfc4514_string() == f"C=FR,O={name},CN={code} seal"
        assert cert.issuer == root.subject
        usage = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
        assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
        assert not cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca
        cert.verify_directly_issued_by(root)
        assert ca.seals[code].key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_a_sealed_pdf_validates_with_the_dev_ca_as_trust_root_and_names_its_branch(ca, sealed):
    status = seal.check(sealed, ca.root.cert_pem)
    assert status.state == "valid" and status.valid and status.intact and status.trusted
    assert status.organisation == BRANCHES["UIMM"]
    assert "UIMM seal" in status.signer
    signature = PdfFileReader(BytesIO(sealed), strict=False).embedded_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES


def test_the_seal_keeps_the_attached_credential(ca):
    uimm = ca.seals["UIMM"]
    body = pdf.render(document(), attachments=[pdf.Attachment("credential.jwt", b"a.b.c", "application/vc+jwt")])
    sealed = seal.seal(body, seal.signer(uimm.key_pem, uimm.cert_pem))
    assert pdf.embedded_files(sealed) == {"credential.jwt": b"a.b.c"}
    assert seal.check(sealed, [ca.root.cert_pem]).valid


def test_one_byte_altered_after_signing_is_tampered(ca, sealed):
    signature = PdfFileReader(BytesIO(sealed), strict=False).embedded_signatures[0]
    start, length = signature.byte_range[0], signature.byte_range[1]
    changed = 0
    for offset in (start + length // 2, start + length // 3, 200):  # inside the signed range
        altered = bytearray(sealed)
        altered[offset] ^= 0x01
        status = seal.check(bytes(altered), ca.root.cert_pem)
        assert status.state in ("tampered", "unreadable") and not status.valid
        changed += status.state == "tampered"
    assert changed  # at least one is read and reported as a broken seal


def test_an_update_appended_after_signing_is_modified(ca, sealed):
    writer = IncrementalPdfFileWriter(BytesIO(sealed), strict=False)
    stream = writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 20 20 200 40 re f"))
    writer.add_stream_to_page(0, stream)
    out = BytesIO()
    writer.write(out)
    status = seal.check(out.getvalue(), ca.root.cert_pem)
    assert status.state == "modified" and status.intact


def test_another_ca_is_not_trusted(sealed):
    other = pki.make_root("Some other CA")
    status = seal.check(sealed, other.cert_pem)
    assert status.state == "untrusted" and status.intact and not status.trusted


def test_a_seal_from_another_branch_is_its_own(ca):
    leem = ca.seals["LEEM"]
    sealed = seal.seal(pdf.render(document(branch="LEEM")), seal.signer(leem.key_pem, leem.cert_pem))
    assert seal.check(sealed, ca.root.cert_pem).organisation == BRANCHES["LEEM"]


def test_an_unsigned_pdf_is_unsigned(ca):
    assert seal.check(pdf.render(document()), ca.root.cert_pem).state == "unsigned"
    assert seal.check(b"not a pdf", ca.root.cert_pem).state == "unreadable"


def test_an_rsa_seal_validates_too():
    ca = pki.development_ca({"UIT": "Union des industries textiles"}, key_type="rsa")
    uit = ca.seals["UIT"]
    sealed = seal.seal(pdf.render(document(branch="UIT")), seal.signer(uit.key_pem, uit.cert_pem))
    assert seal.check(sealed, ca.root.cert_pem).valid


async def test_inside_a_running_event_loop_use_the_async_pair(ca):
    uimm = ca.seals["UIMM"]
    sealed = await seal.seal_async(pdf.render(document()), seal.signer(uimm.key_pem, uimm.cert_pem))
    assert (await seal.check_async(sealed, ca.root.cert_pem)).valid
