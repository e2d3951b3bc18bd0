"""The seal of a certificate's PDF: a PAdES signature (pyHanko) with the branch's seal key and
certificate, and its check against trust roots.

`seal` signs the PDF bytes with PAdES baseline B-B (ETSI.CAdES.detached subfilter, SHA-256, the
signing-certificate-v2 attribute, no signing time in the signed attributes: the claimed time is the
PDF's /M), as a certification signature (DocMDP, form filling only: a later PAdES B-T/LT update, a
timestamp or the DSS, stays allowed). No timestamp authority and no revocation data are embedded (B-B):
a TSA (B-T) and the DSS (B-LT) can be added later by pyHanko on the same file. The key and certificate
come as PEM bytes in memory (shared/certificates/pki.py in development, the branch's secrets otherwise).

`check` answers what a PDF reader would say, offline (no fetching of CRLs or OCSP: revocation
soft-fails): valid (intact, trusted, nothing changed after the seal but what PAdES allows), untrusted
(intact but its chain leads to none of the given roots), tampered (a byte of the signed range changed, or
the signature itself does not verify), modified (an incremental update after the seal changes the
document), unsigned, unreadable. pyHanko's sync functions run their own event loop: inside a running one
(a service) use `seal_async` / `check_async`, or a worker thread (both are CPU-bound).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from io import BytesIO
from typing import Literal, Sequence

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

State = Literal["valid", "untrusted", "tampered", "modified", "unsigned", "unreadable"]
FIELD = "Seal"


class _LoadedSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses its private key again at every signature: for RSA that includes
    cryptography's key consistency check, about 100 ms a time. This one keeps the parsed key."""

    def __init__(self, key, **kwargs):
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            name = mechanism.signature_algo
        except ValueError:
            name = mechanism["algorithm"].native
        digest = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}.get(digest_algorithm)
        if name == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey) and digest:
            return self._key.sign(data, ec.ECDSA(digest))
        if name == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey) and digest:
            return self._key.sign(data, padding.PKCS1v15(), digest)
        return super().sign_raw(data, digest_algorithm)


def signer(key_pem: bytes, cert_pem: bytes, chain_pem: Sequence[bytes] = ()) -> signers.SimpleSigner:
    """A pyHanko signer from the seal's PEM key and certificate (and the chain above it, embedded)."""
    certs = load_certs_from_pemder_data(cert_pem)
    cert = next(iter(certs))
    registry = SimpleCertificateStore.from_certs(
        [c for pem in chain_pem for c in load_certs_from_pemder_data(pem)])
    return _LoadedSigner(serialization.load_pem_private_key(key_pem, password=None), signing_cert=cert,
                         signing_key=load_private_key_from_pemder_data(key_pem, None), cert_registry=registry)


def _meta(reason: str, location: str, name: str | None) -> signers.PdfSignatureMetadata:
    return signers.PdfSignatureMetadata(
        field_name=FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location, name=name, certify=True,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS)


async def seal_async(pdf_bytes: bytes, seal: signers.Signer, *, reason: str = "Certificat délivré / Certificate issued",
                     location: str = "France", name: str | None = None) -> bytes:
    """The PDF with its PAdES B-B seal added as an incremental update."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    pdf_signer = signers.PdfSigner(_meta(reason, location, name), signer=seal)
    out = await pdf_signer.async_sign_pdf(writer, output=BytesIO())
    return out.getvalue()


def seal(pdf_bytes: bytes, seal: signers.Signer, **options) -> bytes:
    return asyncio.run(seal_async(pdf_bytes, seal, **options))


@dataclass(frozen=True)
class SealStatus:
    state: State
    intact: bool = False  # the signed bytes hash to what the signature signed
    trusted: bool = False  # the signer's chain leads to one of the trust roots
    signer: str | None = None  # e.g. "Common Name: UIMM seal, Organization: ..., Country: FR"
    organisation: str | None = None
    signed_at: str | None = None  # the claimed signing time (ISO 8601), from the PDF
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.state == "valid"


def _roots(trust_roots_pem: Sequence[bytes] | bytes):
    if isinstance(trust_roots_pem, (bytes, bytearray)):
        trust_roots_pem = [bytes(trust_roots_pem)]
    return [c for pem in trust_roots_pem for c in load_certs_from_pemder_data(pem)]


async def check_async(pdf_bytes: bytes, trust_roots_pem: Sequence[bytes] | bytes) -> SealStatus:
    """Whether the PDF carries an intact seal from a certificate under one of the trust roots, and who."""
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        embedded = reader.embedded_signatures
    except Exception as error:  # a byte changed where the structure is (xref, trailer): not a readable PDF
        return SealStatus("unreadable", detail=f"{type(error).__name__}: {error}")
    if not embedded:
        return SealStatus("unsigned")
    signature = embedded[0]
    context = ValidationContext(trust_roots=_roots(trust_roots_pem), allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        status = await async_validate_pdf_signature(signature, context)
    except (SignatureValidationError, ValueError, KeyError) as error:
        return SealStatus("tampered", detail=f"{type(error).__name__}: {error}")
    cert = status.signing_cert
    who = dict(signer=cert.subject.human_friendly,
               organisation=cert.subject.native.get("organization_name"),
               signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
               intact=status.intact, trusted=status.trusted)
    if not (status.intact and status.valid):
        return SealStatus("tampered", **who, detail=status.summary())
    level = status.modification_level
    if status.docmdp_ok is False or level not in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
                                                  ModificationLevel.FORM_FILLING):
        return SealStatus("modified", **who, detail=f"{status.summary()} ({level})")
    if not status.trusted:
        return SealStatus("untrusted", **who, detail=status.summary())
    return SealStatus("valid", **who, detail=status.summary())


def check(pdf_bytes: bytes, trust_roots_pem: Sequence[bytes] | bytes) -> SealStatus:
    return asyncio.run(check_async(pdf_bytes, trust_roots_pem))
