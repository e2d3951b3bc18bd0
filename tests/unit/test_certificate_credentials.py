"""The Open Badges 3.0 credential signed as a JWT-VC, its Bitstring Status List and its offline
verification (shared/certificates/credentials.py).

No registry package ships the 1EdTech JSON schemas (openbadgeslib 4.6.3 ships the JSON-LD contexts
only), so `assert_open_badge` checks the required fields of the Open Badges 3.0 and VC 2.0 data models
one by one."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re

import pytest

from shared.certificates import credentials as vc

UTC = dt.timezone.utc
DID = vc.did_web("cqp.example.fr", "branches", "uimm")
LIST_URL = "https://cqp.example.fr/branches/uimm/status/1"
DAY = dt.date(2026, 7, 1)


def uri(value) -> bool:
    return isinstance(value, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", value) is not None


def timestamp(value) -> bool:
    return isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
                                              value) is not None


def types(node) -> list:
    value = node.get("type")
    return value if isinstance(value, list) else [value]


def assert_open_badge(credential: dict) -> None:
    """The required fields of an OpenBadgeCredential (OB 3.0) and of a verifiable credential (VC 2.0)."""
    context = credential["@context"]
    assert context[0] == "https://www.w3.org/ns/credentials/v2"  # VC 2.0: the base context first
    assert any(c.startswith("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0") for c in context)
    assert uri(credential["id"])
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(types(credential))
    assert isinstance(credential["name"], str) and credential["name"]  # required by OB 3.0
    issuer = credential["issuer"]  # Profile: id and type required
    assert uri(issuer["id"]) and "Profile" in types(issuer)
    assert timestamp(credential["validFrom"])  # OB 3.0 requires validFrom
    if "validUntil" in credential:
        assert timestamp(credential["validUntil"]) and credential["validUntil"] > credential["validFrom"]
    subject = credential["credentialSubject"]
    assert "AchievementSubject" in types(subject)
    assert "id" in subject or subject["identifier"]  # an id or at least one identifier
    for identity in subject.get("identifier", []):
        assert identity["type"] == "IdentityObject"
        assert isinstance(identity["hashed"], bool) and isinstance(identity["identityHash"], str)
        assert identity["identityType"] in ("name", "systemId", "sourcedId", "emailAddress", "identifier")
        if identity["hashed"]:
            assert identity["identityHash"].startswith(("sha256$", "md5$"))
    achievement = subject["achievement"]  # Achievement: id, type, criteria, description, name
    assert uri(achievement["id"]) and "Achievement" in types(achievement)
    assert achievement["name"] and achievement["description"]
    assert achievement["criteria"].get("id") or achievement["criteria"].get("narrative")
    for alignment in achievement.get("alignment", []):  # Alignment: type, targetName, targetUrl
        assert "Alignment" in types(alignment) and alignment["targetName"] and uri(alignment["targetUrl"])
    status = credential["credentialStatus"]  # BitstringStatusListEntry
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert re.fullmatch(r"\d+", status["statusListIndex"]) and uri(status["statusListCredential"])
    for schema in credential.get("credentialSchema", []):
        assert uri(schema["id"]) and schema["type"]
    assert "proof" not in credential  # the JWS is the proof


def award(**changes) -> vc.Award:
    values = dict(
        credential_id="urn:uuid:7c9d5d4e-3f1b-4c37-9a8e-2f2f8e6c1a01", issuer_did=DID,
        issuer_name="UIMM — Union des industries et métiers de la métallurgie",
        achievement_id="https://cqp.example.fr/certifications/CQPM0123",
        achievement_name="CQPM 0123 Technicien(ne) en maintenance industrielle",
        achievement_description="Certificat de qualification paritaire de la métallurgie, niveau 4",
        criteria="Validation de tous les blocs par le jury paritaire de la branche",
        achievement_type="Certificate",
        alignments=(vc.Alignment("RNCP37869", "RNCP", "Technicien(ne) en maintenance industrielle",
                                 vc.france_competences_url("RNCP37869"), "ceterms:Credential"),),
        given_names="Élodie", family_name="Lefèvre", person_id="person-123",
        valid_from=dt.datetime(2026, 6, 12, tzinfo=UTC), valid_until=None,
        status=vc.StatusEntry(LIST_URL, 42), certificate_number="UIMM-2026-000123")
    values.update(changes)
    return vc.Award(**values)


@pytest.fixture(scope="module")
def key():
    return vc.generate_key(DID, "key-2026-01")


def status_list(key, revoked: dict[int, dict] | None = None, url: str = LIST_URL) -> str:
    bits = vc.StatusList()
    for index in revoked or {}:
        bits.set(index)
    return vc.sign(vc.status_list_credential(url, DID, "UIMM", bits, dt.datetime(2026, 6, 13, tzinfo=UTC),
                                             revoked), key)


def test_the_credential_has_every_required_field_of_open_badges_3_and_vc_2(key):
    credential = vc.credential(award())
    assert_open_badge(credential)
    assert_open_badge(vc.credential(award(valid_until=dt.datetime(2031, 6, 12, tzinfo=UTC))))
    alignment = credential["credentialSubject"]["achievement"]["alignment"][0]
    assert alignment["targetCode"] == "RNCP37869" and alignment["targetFramework"] == "RNCP"
    assert alignment["targetUrl"] == "https://www.francecompetences.fr/recherche/rncp/37869/"
    assert credential["issuer"]["id"] == "did:web:cqp.example.fr:branches:uimm"


def test_the_holder_is_named_as_printed_and_otherwise_only_hashed():
    credential = vc.credential(award())
    subject = credential["credentialSubject"]
    assert "id" not in subject
    names, system = subject["identifier"]
    assert names == {"type": "IdentityObject", "identityType": "name", "hashed": False,
                     "identityHash": "Élodie Lefèvre"}
    assert system["hashed"] and system["identityHash"] == vc.identity_hash("person-123", system["salt"])
    assert "person-123" not in json.dumps(credential)


def test_the_jwt_follows_vc_jwt(key):
    token = vc.sign_award(award(valid_until=dt.datetime(2031, 6, 12, tzinfo=UTC)), key)
    header, payload = vc.unverified(token)
    assert header == {"alg": "EdDSA", "kid": f"{DID}#key-2026-01", "typ": "vc+jwt"}
    assert payload["iss"] == DID and payload["jti"] == payload["id"]
    assert payload["nbf"] == int(dt.datetime(2026, 6, 12, tzinfo=UTC).timestamp())
    assert payload["exp"] == int(dt.datetime(2031, 6, 12, tzinfo=UTC).timestamp())
    assert "sub" not in payload and "vc" not in payload  # VC 2.0: the credential is the payload
    assert_open_badge({k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf", "exp")})


def test_a_signed_credential_verifies_offline(key):
    token = vc.sign_award(award(), key)
    result = vc.verify(token, vc.jwks([key]), {LIST_URL: status_list(key)}, DAY)
    assert result.verdict == "valid" and result.valid and result.kid == f"{DID}#key-2026-01"
    assert result.credential["credentialSubject"]["licenseNumber"] == "UIMM-2026-000123"


def tamper(token: str, old: str, new: str) -> str:
    head, body, signature = token.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    assert old in payload
    changed = base64.urlsafe_b64encode(payload.replace(old, new, 1).encode()).rstrip(b"=").decode()
    return ".".join([head, changed, signature])


def test_one_character_of_the_holders_name_changed_is_tampered(key):
    token = tamper(vc.sign_award(award(), key), "Lefèvre", "Lefèvrf")
    result = vc.verify(token, vc.jwks([key]), {LIST_URL: status_list(key)}, DAY)
    assert result.verdict == "tampered" and result.credential is None


def test_a_key_not_published_is_an_unknown_key(key):
    token = vc.sign_award(award(), vc.generate_key(DID, "key-stolen"))
    assert vc.verify(token, vc.jwks([key]), {LIST_URL: status_list(key)}, DAY).verdict == "unknown-key"


def test_a_key_of_another_issuer_cannot_sign_for_this_one(key):
    other = vc.generate_key(vc.did_web("evil.example"), "k")
    with pytest.raises(ValueError):
        vc.sign_award(award(), other)
    forged = vc.sign({**vc.credential(award()), "issuer": {"id": vc.did_web("evil.example"), "type": ["Profile"]}},
                     other)
    forged = tamper(forged, vc.did_web("evil.example"), DID)  # claims to be the branch
    assert vc.verify(forged, vc.jwks([key, other]), {}, DAY).verdict == "tampered"


def test_a_rotated_key_kept_published_still_verifies_old_credentials(key):
    old = vc.sign_award(award(), key)
    new_key = vc.generate_key(DID, "key-2027-01")
    new = vc.sign_award(award(credential_id="urn:uuid:2"), new_key)
    lists = {LIST_URL: status_list(new_key)}  # the list re-signed with the new key
    both = vc.jwks([new_key, key])
    assert vc.verify(old, both, lists, DAY).verdict == "valid"
    assert vc.verify(new, both, lists, DAY).verdict == "valid"
    assert vc.verify(old, vc.jwks([new_key]), lists, DAY).verdict == "unknown-key"


def test_a_revoked_credential_says_when_and_why(key):
    token = vc.sign_award(award(), key)
    lists = {LIST_URL: status_list(key, {42: {"revokedOn": "2026-06-13", "reason": "décision corrigée en refus"}})}
    result = vc.verify(token, vc.jwks([key]), lists, DAY)
    assert (result.verdict, result.revoked_on, result.revocation_reason) == \
        ("revoked", "2026-06-13", "décision corrigée en refus")
    other_bit = {LIST_URL: status_list(key, {41: {}, 43: {}})}
    assert vc.verify(token, vc.jwks([key]), other_bit, DAY).verdict == "valid"


def test_a_status_list_missing_forged_or_of_another_url_is_status_unknown(key):
    token = vc.sign_award(award(), key)
    assert vc.verify(token, vc.jwks([key]), {}, DAY).verdict == "status-unknown"
    forged = tamper(status_list(key), '"statusPurpose":"revocation"', '"statusPurpose":"revocation" ')
    assert vc.verify(token, vc.jwks([key]), {LIST_URL: forged}, DAY).verdict == "status-unknown"
    elsewhere = status_list(key, url="https://cqp.example.fr/branches/uimm/status/2")
    assert vc.verify(token, vc.jwks([key]), {LIST_URL: elsewhere}, DAY).verdict == "status-unknown"
    unknown = vc.sign(json.loads(json.dumps(vc.unverified(status_list(key))[1])), vc.generate_key(DID, "x"))
    assert vc.verify(token, vc.jwks([key]), {LIST_URL: unknown}, DAY).verdict == "status-unknown"


def test_a_block_credential_expires_with_the_block(key):
    block = award(achievement_id="https://cqp.example.fr/certifications/CQPM0123/blocks/RNCP37869BC02",
                  achievement_name="RNCP37869BC02 Réaliser la maintenance préventive", achievement_type="Competency",
                  alignments=(vc.Alignment("RNCP37869BC02", "RNCP", "Réaliser la maintenance préventive",
                                           vc.france_competences_url("RNCP37869BC02"), "ceasn:Competency"),),
                  valid_until=dt.datetime(2031, 6, 12, tzinfo=UTC), status=vc.StatusEntry(LIST_URL, 43))
    assert_open_badge(vc.credential(block))
    token = vc.sign_award(block, key)
    lists = {LIST_URL: status_list(key)}
    assert vc.verify(token, vc.jwks([key]), lists, dt.date(2031, 6, 11)).verdict == "valid"
    assert vc.verify(token, vc.jwks([key]), lists, dt.date(2031, 6, 13)).verdict == "expired"
    assert vc.verify(token, vc.jwks([key]), lists, dt.date(2026, 6, 1)).verdict == "not-yet-valid"


def test_garbage_is_malformed(key):
    assert vc.verify("not a token", vc.jwks([key]), {}, DAY).verdict == "malformed"
    hs = "eyJhbGciOiJub25lIn0.eyJhIjoxfQ."  # alg none
    assert vc.verify(hs, vc.jwks([key]), {}, DAY).verdict == "malformed"


def test_the_status_list_is_one_bit_per_credential_and_at_least_16_kb():
    bits = vc.StatusList()
    assert bits.bits == 131_072 and len(bits.data) == 16 * 1024
    bits.set(0)
    bits.set(9)
    assert bits.data[:2] == bytes([0b1000_0000, 0b0100_0000])  # index 0 is the first byte's high bit
    assert bits.get(0) and bits.get(9) and not bits.get(1)
    bits.set(9, False)
    assert not bits.get(9)
    with pytest.raises(IndexError):
        bits.get(131_072)
    with pytest.raises(ValueError):
        vc.StatusList(8 * 1024)


def test_the_encoded_list_is_gzip_then_multibase_base64url():
    bits = vc.StatusList()
    bits.set(131_071)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16 * 1024 and raw[-1] == 1
    assert vc.StatusList.decode(encoded).get(131_071)
    assert encoded == bits.encode()  # deterministic: the same bits, the same list


def test_the_status_list_credential(key):
    payload = vc.unverified(status_list(key, {42: {"revokedOn": "2026-06-13", "reason": "x"}}))[1]
    assert payload["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["id"] == LIST_URL and payload["iss"] == DID and timestamp(payload["validFrom"])
    subject = payload["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert vc.StatusList.decode(subject["encodedList"]).get(42)


def test_did_web_document_and_jwks_publish_public_keys_only(key):
    rotated = vc.generate_key(DID, "key-2027-01")
    document = vc.did_document(DID, [key, rotated])
    assert document["id"] == DID
    assert [m["id"] for m in document["verificationMethod"]] == [f"{DID}#key-2026-01", f"{DID}#key-2027-01"]
    assert document["assertionMethod"] == [f"{DID}#key-2026-01", f"{DID}#key-2027-01"]
    assert all("d" not in m["publicKeyJwk"] for m in document["verificationMethod"])
    assert all("d" not in k for k in vc.jwks([key])["keys"])
    assert vc.did_web_url(DID) == "https://cqp.example.fr/branches/uimm/did.json"
    assert vc.did_web_url(vc.did_web("localhost:8443")) == "https://localhost:8443/.well-known/did.json"
    restored = vc.OKPKey.import_key(vc.private_jwk(key))
    assert vc.verify(vc.sign_award(award(), restored), vc.jwks([key]), {LIST_URL: status_list(key)}, DAY).valid
