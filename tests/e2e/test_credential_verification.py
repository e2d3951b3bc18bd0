"""A certificate's credential checked by anyone, end to end on the real system: an award's PDF downloaded →
`cqp credential verify` says valid while the gateway answers (filling its cache), and still valid from the cache once
the issuer is unreachable → one character of the holder's name changed, or the PDF altered after signing, is
tampered → `cqp keys rotate UIMM` then a new award: the new credential is signed by a new key, did.json lists both,
the old credential still valid → the first decision corrected to refusal: the old credential verifies as revoked,
with the day and the reason, from the branch's status list; `verifyCertificate(credential:)` answers the same."""

import asyncio
import base64
import datetime as dt
import json
from io import BytesIO

import httpx
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from services.jury.issuer import KEY_RECHECK_SECONDS
from shared.certificates import credentials as vc
from shared.certificates import pdf
from tests.documents import download
from tests.e2e.test_jury_journey import (  # noqa: F401 (the fixture)
    BLOCKS, TODAY, decide, evaluate, journey, mutate, paritaire_session, present, published, vae_candidacy,
)
from tests.harness import eventually

DEAD = "http://127.0.0.1:9"  # nothing listens there: the issuer unreachable
VERIFY = ("query($c: String!) { verifyCertificate(credential: $c) { verdict valid number holder revokedOn"
          " revocationReason keyId } }")


async def awarded(journey, name, key) -> tuple[str, str, str, bytes]:
    """(session, candidacy, number, sealed PDF) of a full award."""
    _, candidacy = await vae_candidacy(journey, name, key)
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(journey, candidacy, block, True, f"{key}-e{n}"))["validated"]
    session_id, members = await paritaire_session(journey, dt.date.today().isoformat(), f"s-{key}")
    await present(journey, session_id, candidacy, f"{key}-present")
    number = (await decide(journey, session_id, candidacy, "FULL_AWARD", members, f"{key}-d"))["certificateNumber"]
    await published(journey, session_id, key)

    async def listed():
        data = await journey.graphql("query($id: ID!) { candidacy(id: $id) { documents { kind downloadUrl } } }",
                                     {"id": candidacy})
        return [d for d in data["candidacy"]["documents"] if d["kind"] == "CERTIFICATE_PDF"] or None

    [document] = await eventually(listed, timeout=60)
    answer = await download(journey, document["downloadUrl"])
    assert answer.status_code == 200, answer.text
    return session_id, candidacy, number, answer.content


async def cqp_verify(journey, path, cache, base) -> dict:
    done = await journey.acli("credential", "verify", str(path), "--json", "--cache", str(cache), "--base", base)
    assert done.returncode in (0, 1), done.stderr
    result = json.loads(done.stdout)
    assert (done.returncode == 0) == (result["verdict"] == "valid")
    return result


def sealed_by(pdf_bytes: bytes) -> x509.Certificate:
    signature = PdfFileReader(BytesIO(pdf_bytes), strict=False).embedded_signatures[0]
    return x509.load_der_x509_certificate(signature.signer_cert.dump())


def forged_name(token: str) -> str:
    header, _, signature = token.split(".")
    claims = vc.unverified(token)[1]
    identity = claims["credentialSubject"]["identifier"][0]
    identity["identityHash"] = identity["identityHash"][:-1] + "e"
    body = base64.urlsafe_b64encode(json.dumps(claims, ensure_ascii=False).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


async def test_a_credential_verifies_offline_from_its_cache_survives_a_rotation_and_is_revoked_by_a_correction(
        journey, tmp_path):
    gateway = journey["gateway"].url
    session_id, candidacy, number, body = await awarded(journey, "Basile", "vc1")
    token = pdf.embedded_files(body)["credential.jwt"].decode()
    (tmp_path / "c.pdf").write_bytes(body)
    (tmp_path / "c.jwt").write_text(token)
    cache = tmp_path / "cache"

    online = await cqp_verify(journey, tmp_path / "c.pdf", cache, gateway)
    assert (online["verdict"], online["seal"], online["number"], online["holder"]) == \
        ("valid", "valid", number, "Basile Martin"), online
    assert online["notes"] == []
    offline = await cqp_verify(journey, tmp_path / "c.pdf", cache, DEAD)
    assert offline["verdict"] == "valid" and offline["notes"], offline
    assert all("cached copy of" in note and "(age " in note for note in offline["notes"])
    assert (await cqp_verify(journey, tmp_path / "c.jwt", cache, DEAD))["verdict"] == "valid"
    answer = await journey.graphql(VERIFY, {"c": token}, token=None)
    assert answer["verifyCertificate"]["verdict"] == "VALID" and answer["verifyCertificate"]["number"] == number
    assert answer["verifyCertificate"]["holder"] == "Basile Martin"

    (tmp_path / "forged.jwt").write_text(forged_name(token))
    assert (await cqp_verify(journey, tmp_path / "forged.jwt", cache, gateway))["verdict"] == "tampered"
    forged = (await journey.graphql(VERIFY, {"c": forged_name(token)}, token=None))["verifyCertificate"]
    assert (forged["verdict"], forged["valid"], forged["number"], forged["holder"]) == ("TAMPERED", False, None, None)
    altered = bytearray(body)
    at = body.index(b"Basile") if b"Basile" in body else len(body) // 3
    altered[at] ^= 0x01
    (tmp_path / "altered.pdf").write_bytes(bytes(altered))
    assert (await cqp_verify(journey, tmp_path / "altered.pdf", cache, gateway))["verdict"] == "tampered"

    rotated = await journey.acli("keys", "rotate", "UIMM")
    assert rotated.returncode == 0 and "retired credential-" in rotated.stdout, rotated.stdout + rotated.stderr
    await asyncio.sleep(KEY_RECHECK_SECONDS)  # the running jury service notices within this
    *_, second = await awarded(journey, "Clothilde", "vc2")
    new_token = pdf.embedded_files(second)["credential.jwt"].decode()
    old_kid, new_kid = vc.unverified(token)[0]["kid"], vc.unverified(new_token)[0]["kid"]
    assert old_kid != new_kid
    async with httpx.AsyncClient(timeout=30) as http:
        document = (await http.get(f"{gateway}/branches/uimm/did.json")).json()
        unknown = await http.get(f"{gateway}/branches/nosuch/did.json")
        no_list = await http.get(f"{gateway}/branches/uimm/status/99")
    assert [m["id"] for m in document["verificationMethod"]] == [old_kid, new_kid]
    async with httpx.AsyncClient(timeout=30) as http:
        seals = (await http.post(f"{journey['jury'].url}/queries/issuer", json={})).json()["branches"]["UIMM"]["seals"]
    assert len(seals) == 2 and sealed_by(second) == x509.load_pem_x509_certificate(seals[1].encode()) != sealed_by(body)
    assert unknown.status_code == 404 and no_list.status_code == 404
    assert (await cqp_verify(journey, tmp_path / "c.jwt", cache, gateway))["verdict"] == "valid"
    (tmp_path / "new.jwt").write_text(new_token)
    assert (await cqp_verify(journey, tmp_path / "new.jwt", cache, gateway))["kid"] == new_kid

    corrected = await mutate(journey, "correctDecision", "CorrectDecisionInput",
                             {"sessionId": session_id, "candidacyId": candidacy, "decision": "REFUSAL",
                              "reason": "fraude établie"}, "vc1-c")
    assert "code" not in corrected, corrected

    async def revoked():
        result = await cqp_verify(journey, tmp_path / "c.jwt", cache, gateway)
        return result if result["verdict"] == "revoked" else None

    result = await eventually(revoked, timeout=60)
    assert (result["revokedOn"], result["revocationReason"]) == (TODAY, "decision corrected: fraude établie")
    answer = (await journey.graphql(VERIFY, {"c": token}, token=None))["verifyCertificate"]
    assert (answer["verdict"], answer["valid"], answer["revokedOn"], answer["revocationReason"]) == \
        ("REVOKED", False, TODAY, "decision corrected: fraude établie")
    assert (await cqp_verify(journey, tmp_path / "new.jwt", cache, gateway))["verdict"] == "valid"
    async with httpx.AsyncClient(timeout=30) as http:
        page = await http.get(f"{gateway}/verify/{number}", headers={"accept": "application/json"})
        html = await http.get(f"{gateway}/verify/{number}")
    assert (page.json()["verdict"], page.json()["revocationReason"]) == \
        ("REVOKED", "decision corrected: fraude établie")
    assert html.headers["content-type"].startswith("text/html") and "Certificat révoqué" in html.text


async def test_verify_certificate_takes_a_number_or_a_credential_never_both(journey):
    answer = await journey.graphql_answer('{ verifyCertificate(number: "x", credential: "a.b.c") { verdict } }',
                                          token=None)
    assert answer["errors"][0]["extensions"]["code"] == "InvalidInput"
    answer = await journey.graphql_answer("{ verifyCertificate { verdict } }", token=None)
    assert answer["errors"][0]["extensions"]["code"] == "InvalidInput"
    malformed = await journey.graphql('{ verifyCertificate(credential: "not a jwt") { verdict valid } }', token=None)
    assert malformed["verifyCertificate"] == {"verdict": "MALFORMED", "valid": False}
