"""The building blocks together, as the jury will use them: an award's credential signed, embedded in
its certificate's PDF, the PDF sealed; then, from the PDF alone and the issuer's published material (no
database): the seal valid, the credential read out of the PDF and valid; after a correction the same
credential revoked; a PDF altered after the seal and a tampered credential reported."""

from __future__ import annotations

import datetime as dt

from shared.certificates import credentials as vc
from shared.certificates import pdf, pki, seal
from tests.unit.test_certificate_credentials import DID, LIST_URL, award, status_list, tamper
from tests.unit.test_certificate_pdf import document

UTC = dt.timezone.utc


def test_an_award_from_credential_to_sealed_pdf_and_back():
    ca = pki.development_ca({"UIMM": "Union des industries et métiers de la métallurgie"})
    uimm = ca.seals["UIMM"]
    key = vc.generate_key(DID, "key-2026-01")
    token = vc.sign_award(award(), key)
    body = pdf.render(document(), attachments=[
        pdf.Attachment("credential.jwt", token.encode(), "application/vc+jwt", "Open Badges 3.0 credential")])
    sealed = seal.seal(body, seal.signer(uimm.key_pem, uimm.cert_pem, [ca.root.cert_pem]))

    # What a verifier has: the PDF, the dev CA as its trust root, the branch's JWKS and status list.
    published_keys = vc.jwks([key])
    assert seal.check(sealed, ca.root.cert_pem).state == "valid"
    embedded = pdf.embedded_files(sealed)["credential.jwt"].decode()
    assert embedded == token
    assert vc.verify(embedded, published_keys, {LIST_URL: status_list(key)}, dt.date(2026, 7, 1)).valid

    corrected = {LIST_URL: status_list(key, {42: {"revokedOn": "2026-06-20", "reason": "décision corrigée"}})}
    revoked = vc.verify(embedded, published_keys, corrected, dt.date(2026, 7, 1))
    assert (revoked.verdict, revoked.revoked_on) == ("revoked", "2026-06-20")

    assert vc.verify(tamper(embedded, "Élodie", "Élodiе"), published_keys, {LIST_URL: status_list(key)},
                     dt.date(2026, 7, 1)).verdict == "tampered"
    altered = bytearray(sealed)
    altered[len(body) // 2] ^= 0x20  # inside the signed revision
    assert not seal.check(bytes(altered), ca.root.cert_pem).valid
