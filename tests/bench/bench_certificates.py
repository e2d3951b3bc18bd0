"""Benchmark (issue 22): the documents and credentials of a jury session of 200 awards, beside the raw
signing rate of the same keys in the same run.

Not part of the suite (the file name does not start with test_); run it by name. It needs no service,
no database and no network (shared/certificates, and the jury's pure `credentials_of`), so the plain venv serves as well as scripts/test:

    .venv/bin/python -m pytest tests/bench/bench_certificates.py -s -q

For CQP_BENCH_AWARDS awards (200 by default) of five blocks, one after the other in one process, with a
seal key of each kind (ECDSA P-256, the default, and RSA 3072): build and sign the Open Badges 3.0
credentials as the jury service does (the certification's and one per block: six, EdDSA JWT-VC), render
the certificate PDF/A-3B with them attached, seal it (PAdES B-B). It
prints per second: credentials signed, PDFs rendered, PDFs sealed, and the whole (credential + PDF +
seal); then the raw rates of the same keys: Ed25519 signatures of a credential-sized payload
(cryptography), the seal key's raw ECDSA/RSA signature of a SHA-256 digest, and a detached CMS
SignedData of a PDF-sized input by pyHanko with that key (the CMS layer without the PDF). It asserts
only correctness (a sample of sealed PDFs valid, their embedded credential verifying), never a speed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from shared.certificates import credentials as vc
from shared.certificates import pdf, pki, seal
from services.jury.certificates import attachment_name, credentialed, credentials_of

COUNT = int(os.environ.get("CQP_BENCH_AWARDS", "200"))
UTC = dt.timezone.utc
DID = vc.did_web("cqp.example.fr", "branches", "uimm")
LIST_URL = "https://cqp.example.fr/branches/uimm/status/1"
BRANCH = "Union des industries et métiers de la métallurgie"
BLOCKS = tuple(pdf.Block(f"RNCP37869BC0{i}", f"Bloc de compétences numéro {i}", dt.date(2026, 6, 12),
                         dt.date(2031, 6, 12)) for i in range(1, 6))


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:9.1f}/s  ({seconds / count * 1000:7.2f} ms each)"


def award(i: int) -> tuple[dict[str, vc.Award], pdf.CertificateDocument]:
    """An award's document and its credentials as the jury service makes them: the certification's and one per
    block validated by evaluation (services/jury/certificates.py), each with its status entry."""
    number = f"UIMM-2026-{i:06d}"
    document = pdf.CertificateDocument(
        kind="certificate", branch="UIMM", branch_name=BRANCH,
        certification=pdf.Certification("CQPM 0123", "Technicien(ne) en maintenance industrielle", "RNCP37869",
                                        "RNCP", "4"),
        given_names=f"Prénom{i}", family_name=f"Nom{i}", blocks=BLOCKS, decided_on=dt.date(2026, 6, 12),
        session="S-2026-06-UIMM-01", number=number, verification_url=f"https://cqp.example.fr/verify/{number}")
    blocks = credentialed(document)
    entries = {b: vc.StatusEntry(LIST_URL, i * len(blocks) + n) for n, b in enumerate(blocks)}
    return credentials_of(document, DID, "https://cqp.example.fr", f"person-{i}", entries), document


def raw_seal_signature(key_pem: bytes, count: int) -> float:
    key = serialization.load_pem_private_key(key_pem, password=None)
    data = os.urandom(32)
    start = time.perf_counter()
    for _ in range(count):
        if isinstance(key, ec.EllipticCurvePrivateKey):
            key.sign(data, ec.ECDSA(hashes.SHA256()))
        else:
            assert isinstance(key, rsa.RSAPrivateKey)
            key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return time.perf_counter() - start


def raw_cms(signer, body: bytes, count: int) -> float:
    async def run():
        start = time.perf_counter()
        for _ in range(count):
            await signer.async_sign_general_data(body, "sha256", detached=True)
        return time.perf_counter() - start
    return asyncio.run(run())


def test_bench_certificates():
    awards = [award(i) for i in range(COUNT)]
    ed_key = vc.generate_key(DID, "key-2026-01")
    bits = vc.StatusList()
    status_list = vc.sign(vc.status_list_credential(LIST_URL, DID, BRANCH, bits, dt.datetime(2026, 6, 12, tzinfo=UTC)),
                          ed_key)
    pdf.render(awards[0][1])  # warm-up: imports, the template

    start = time.perf_counter()
    tokens = [{block: vc.sign_award(a, ed_key) for block, a in credentials.items()} for credentials, _ in awards]
    credential_seconds = time.perf_counter() - start
    per_award = len(tokens[0])

    start = time.perf_counter()
    bodies = [pdf.render(d, attachments=[pdf.Attachment(attachment_name(b), t.encode(), "application/vc+jwt")
                                         for b, t in signed.items()])
              for (_, d), signed in zip(awards, tokens)]
    render_seconds = time.perf_counter() - start
    sizes = [len(b) for b in bodies]

    payload = tokens[0][""].rsplit(".", 1)[0].encode()
    raw_ed = ed_key.private_key
    start = time.perf_counter()
    for _ in range(COUNT * per_award * 10):
        raw_ed.sign(payload)
    ed_seconds = (time.perf_counter() - start) / 10

    print(f"\n{COUNT} awards of {len(BLOCKS)} blocks, {per_award} credentials each, one process")
    print(f"  credentials signed (OB 3.0 JSON + EdDSA JWT)   {rate(COUNT * per_award, credential_seconds)}")
    print(f"  raw Ed25519 signature, same key, same payload  {rate(COUNT * per_award, ed_seconds)}")
    print(f"  PDFs rendered (PDF/A-3B, credentials attached) {rate(COUNT, render_seconds)}"
          f"  median {statistics.median(sizes) / 1024:.1f} KB")

    for key_type in ("ec", "rsa"):
        ca = pki.development_ca({"UIMM": BRANCH}, key_type=key_type)
        issued = ca.seals["UIMM"]
        signer = seal.signer(issued.key_pem, issued.cert_pem, [ca.root.cert_pem])
        seal.seal(bodies[0], signer)  # warm-up

        async def seal_all():
            start = time.perf_counter()
            out = [await seal.seal_async(b, signer) for b in bodies]
            return out, time.perf_counter() - start
        sealed, seal_seconds = asyncio.run(seal_all())
        raw_seconds = raw_seal_signature(issued.key_pem, COUNT)
        cms_seconds = raw_cms(signer, bodies[0], COUNT)
        name = "ECDSA P-256" if key_type == "ec" else "RSA 3072"
        whole = credential_seconds + render_seconds + seal_seconds
        print(f"  seal {name}:")
        print(f"    PDFs sealed (PAdES B-B, pyHanko)              {rate(COUNT, seal_seconds)}")
        print(f"    whole award (credentials + PDF + seal)        {rate(COUNT, whole)}")
        print(f"    raw {name} signature, same key              {rate(COUNT, raw_seconds)}")
        print(f"    raw CMS SignedData (pyHanko), same key        {rate(COUNT, cms_seconds)}")

        for index in (0, COUNT // 2, COUNT - 1):
            status = seal.check(sealed[index], ca.root.cert_pem)
            assert status.valid, status
            embedded = pdf.embedded_files(sealed[index])
            assert set(embedded) == {attachment_name(b) for b in tokens[index]}
            for token in embedded.values():
                assert vc.verify(token.decode(), vc.jwks([ed_key]), {LIST_URL: status_list}, dt.date(2026, 7, 1)).valid
