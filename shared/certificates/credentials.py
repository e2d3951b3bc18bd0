"""The verifiable credential of an award or of a validated block: an Open Badges 3.0
`OpenBadgeCredential` (W3C Verifiable Credentials Data Model 2.0) signed by the issuing branch with an
Ed25519 key, its revocation in a W3C Bitstring Status List, and its verification without any database.

Proof format: a JWT-VC (VC-JWT, Open Badges 3.0 §8.2; VC-JOSE-COSE for VC 2.0), not a Data Integrity
proof. The signature is over the exact bytes of the payload, so checking it needs only a JWS library
and the issuer's public key (joserfc here; any language has one), where Data Integrity (eddsa-rdfc-2022)
signs the RDF canonical form of the JSON-LD document: verifying it needs a JSON-LD processor that
fetches or pins every @context, and a canonicalisation implementation, i.e. more code and more ways
to disagree, for no gain to this project's verifiers (the credential travels whole, embedded in the PDF
or as a file, never as selectively disclosed parts). Both are allowed by Open Badges 3.0.

The JWT: header {"alg": "EdDSA", "kid": "<issuer DID>#<key id>", "typ": "vc+jwt"}; the payload is the
credential itself (its members at the top level, no "vc" wrapper, as VC 2.0 does) plus the registered
claims Open Badges 3.0 maps: iss = issuer.id, jti = id, nbf = validFrom, exp = validUntil (when it
ends), sub = credentialSubject.id (only when the subject has one: here it has none, see below). EdDSA
is the algorithm name OB 3.0 verifiers know (RFC 9864's "Ed25519" is accepted when verifying).

The holder: no `credentialSubject.id` (no DID of the person, and nothing that links them across
credentials beyond what they show). The subject is identified as OB 3.0 allows, by `identifier`
IdentityObjects: their names as printed on the certificate (identityType "name", not hashed) and the
platform's person id salted and hashed (identityType "systemId", "sha256$<hex>", the salt beside it),
which lets the platform recognise its own without publishing the id. Nothing else personal.

Keys: one Ed25519 key pair per branch and key id; `verify` picks the public key by the token's kid
among the keys given (the issuer's JWKS, e.g. served with its did:web document, or a cached copy), so a
rotated key kept published keeps its old credentials verifiable. `did_document` and `jwks` make what
the gateway serves for did:web.

Status: each credential names its entry (BitstringStatusListEntry, statusPurpose revocation, an index
in its branch's list). A status list is one BIT per credential, at least 131,072 bits (16 KB) as the
spec requires for herd privacy, GZIP-compressed and multibase base64url encoded ("u" prefix, no
padding); index 0 is the most significant bit of the first byte. Its credential
(BitstringStatusListCredential) is signed the same way. The bit tells revoked or not; when and why are
carried, as this project's own addition, in the list credential's subject ("revocations": index →
{"revokedOn", "reason"}), terms the VC 2.0 context's @vocab admits.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import secrets
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, Sequence

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
ALG = "EdDSA"
ACCEPTED_ALGS = ("EdDSA", "Ed25519")
MIN_BITS = 131_072  # 16 KB uncompressed, the Bitstring Status List minimum

Verdict = Literal["valid", "revoked", "expired", "not-yet-valid", "tampered", "unknown-key", "malformed",
                  "status-unknown"]


# --- keys, did:web ---------------------------------------------------------------------------------

def did_web(host: str, *path: str) -> str:
    """did:web of a host and path, e.g. did_web("cqp.example.fr", "branches", "uimm") resolves at
    https://cqp.example.fr/branches/uimm/did.json (a port is written %3A)."""
    return ":".join(["did:web", host.replace(":", "%3A"), *path])


def did_web_url(did: str) -> str:
    """Where a did:web document is served."""
    if not did.startswith("did:web:"):
        raise ValueError(f"{did!r} is not a did:web")
    host, *path = did[len("did:web:"):].split(":")
    host = host.replace("%3A", ":")
    return f"https://{host}/{'/'.join(path)}/did.json" if path else f"https://{host}/.well-known/did.json"


def generate_key(issuer_did: str, key_id: str) -> OKPKey:
    """A new Ed25519 key of the issuer, its kid the DID URL "<did>#<key_id>"."""
    return OKPKey.generate_key("Ed25519", parameters={"kid": f"{issuer_did}#{key_id}"}, private=True)


def private_jwk(key: OKPKey) -> dict:
    """The key as a private JWK (keep it as a secret); `OKPKey.import_key(jwk)` reads it back."""
    return key.as_dict(private=True)


def public_jwk(key: OKPKey | Mapping[str, Any]) -> dict:
    key = key if isinstance(key, OKPKey) else OKPKey.import_key(dict(key))
    return key.as_dict(private=False)


def jwks(keys: Iterable[OKPKey | Mapping[str, Any]]) -> dict:
    """The public JWKS of an issuer: every key still published, the current one and the rotated ones."""
    return {"keys": [public_jwk(k) for k in keys]}


def did_document(issuer_did: str, keys: Iterable[OKPKey | Mapping[str, Any]]) -> dict:
    """The did:web document of an issuer: one JsonWebKey verification method per published key."""
    methods = [{"id": jwk["kid"], "type": "JsonWebKey", "controller": issuer_did,
                "publicKeyJwk": {k: v for k, v in jwk.items() if k != "kid"}}
               for jwk in jwks(keys)["keys"]]
    ids = [m["id"] for m in methods]
    return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
            "id": issuer_did, "verificationMethod": methods, "assertionMethod": ids, "authentication": ids}


# --- the credential -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Alignment:
    """What the achievement aligns to: an RNCP or RS registration, or a block code of one."""

    target_code: str  # "RNCP37869", "RS5678", "RNCP37869BC01"
    target_framework: str  # "RNCP" or "RS"
    target_name: str
    target_url: str  # the France Compétences fiche (required by OB 3.0)
    target_type: str | None = None  # e.g. "ceterms:Credential", "ceasn:Competency"

    def as_json(self) -> dict:
        out = {"type": ["Alignment"], "targetCode": self.target_code, "targetFramework": self.target_framework,
               "targetName": self.target_name, "targetUrl": self.target_url}
        if self.target_type:
            out["targetType"] = self.target_type
        return out


def credential_id(number: str, block: str = "") -> str:
    """A credential's stable id: the award's (block "") or one block's of the certificate `number`."""
    name = f"cqp-certificate:{number}" + (f":{block}" if block else "")
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def block_code(registration: str, code: str) -> str:
    """The block's code as France Compétences names it: its registration then BCnn (e.g. RNCP37869BC01); a code
    written without the registration ("BC01") gets it."""
    return code if code.upper().startswith(registration.upper()) else f"{registration}{code}"


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.timezone.utc)


def end_of(day: dt.date) -> dt.datetime:
    """A block "valid until" a day is valid through that day (UTC)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.timezone.utc)


def france_competences_url(registration: str) -> str:
    """The public fiche of an RNCP/RS registration (a block code points at its certification's fiche)."""
    registry = "rs" if registration.upper().startswith("RS") else "rncp"
    digits = "".join(ch for ch in registration.upper().removeprefix(registry.upper()).split("BC")[0] if ch.isdigit())
    return f"https://www.francecompetences.fr/recherche/{registry}/{digits}/"


@dataclass(frozen=True)
class StatusEntry:
    list_url: str  # the status list credential's URL
    index: int

    def as_json(self) -> dict:
        return {"id": f"{self.list_url}#{self.index}", "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation", "statusListIndex": str(self.index),
                "statusListCredential": self.list_url}


@dataclass(frozen=True)
class Award:
    """Everything a credential says, as plain data (an award, or one validated block)."""

    credential_id: str  # "urn:uuid:..." (stable: the same award keeps it)
    issuer_did: str
    issuer_name: str
    achievement_id: str  # the certification's or block's URL on the platform
    achievement_name: str
    achievement_description: str
    criteria: str  # narrative: how it is obtained
    achievement_type: str  # OB 3.0 AchievementType: "Certificate" (a CQP), "Competency" (a block)
    alignments: tuple[Alignment, ...]
    given_names: str
    family_name: str
    person_id: str  # hashed with a salt into the credential, never published as is
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    status: StatusEntry
    name: str = ""  # the credential's name; the achievement's by default
    certificate_number: str | None = None
    issuer_url: str | None = None
    salt: str = field(default_factory=lambda: secrets.token_hex(8))


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("credential dates must be aware (UTC)")
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def identity_hash(person_id: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((person_id + salt).encode()).hexdigest()


def credential(award: Award) -> dict:
    """The OpenBadgeCredential (VC 2.0 JSON) of an award, unsigned."""
    issuer = {"id": award.issuer_did, "type": ["Profile"], "name": award.issuer_name}
    if award.issuer_url:
        issuer["url"] = award.issuer_url
    achievement = {
        "id": award.achievement_id, "type": ["Achievement"], "achievementType": award.achievement_type,
        "name": award.achievement_name, "description": award.achievement_description,
        "criteria": {"narrative": award.criteria},
        "alignment": [a.as_json() for a in award.alignments],
        "creator": issuer,
    }
    subject = {
        "type": ["AchievementSubject"],
        "identifier": [
            {"type": "IdentityObject", "identityType": "name", "hashed": False,
             "identityHash": f"{award.given_names} {award.family_name}"},
            {"type": "IdentityObject", "identityType": "systemId", "hashed": True,
             "identityHash": identity_hash(award.person_id, award.salt), "salt": award.salt},
        ],
        "achievement": achievement,
    }
    if award.certificate_number:
        subject["licenseNumber"] = award.certificate_number
    out = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": award.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": award.name or award.achievement_name,
        "issuer": issuer,
        "validFrom": _iso(award.valid_from),
        "credentialSubject": subject,
        "credentialStatus": award.status.as_json(),
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if award.valid_until:
        out["validUntil"] = _iso(award.valid_until)
    return out


# --- signing and reading --------------------------------------------------------------------------

@contextmanager
def _quiet():
    """joserfc warns that RFC 9864 deprecates the name "EdDSA"; OB 3.0 verifiers still expect it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        yield


def sign(document: Mapping[str, Any], key: OKPKey) -> str:
    """The compact JWT-VC of a credential (an OpenBadgeCredential or a status list credential)."""
    issuer = document["issuer"]["id"] if isinstance(document["issuer"], Mapping) else document["issuer"]
    if not key.kid or not key.kid.startswith(issuer + "#"):
        raise ValueError(f"key {key.kid!r} is not a key of {issuer!r}")
    claims = dict(document)
    claims.update(iss=issuer, jti=document["id"], nbf=int(_parse(document["validFrom"]).timestamp()))
    if "validUntil" in document:
        claims["exp"] = int(_parse(document["validUntil"]).timestamp())
    subject_id = document["credentialSubject"].get("id")
    if subject_id:
        claims["sub"] = subject_id
    header = {"alg": ALG, "kid": key.kid, "typ": "vc+jwt"}
    with _quiet():
        return jwt.encode(header, claims, key, algorithms=[ALG])


def sign_award(award: Award, key: OKPKey) -> str:
    return sign(credential(award), key)


def unverified(token: str) -> tuple[dict, dict]:
    """The header and payload of a token, NOT verified (to show what it claims, or pick its key)."""
    obj = jws.extract_compact(token.strip().encode())
    return dict(obj.protected), json.loads(obj.payload)


def _keys(keys: Mapping[str, Any] | Sequence[Any]) -> dict[str, OKPKey]:
    """kid → public key, from a JWKS ({"keys": [...]}), a list of JWKs or keys, or a mapping kid → key."""
    if isinstance(keys, Mapping) and "keys" in keys:
        keys = keys["keys"]
    if isinstance(keys, Mapping):
        items = [(kid, k) for kid, k in keys.items()]
    else:
        items = [(None, k) for k in keys]
    out = {}
    for kid, k in items:
        jwk = public_jwk(k)
        out[kid or jwk["kid"]] = OKPKey.import_key(jwk)
    return out


class _Refused(Exception):
    def __init__(self, verdict: Verdict, reason: str):
        super().__init__(reason)
        self.verdict, self.reason = verdict, reason


def _verified(token: str, keys: dict[str, OKPKey]) -> tuple[dict, dict]:
    try:
        header, payload = unverified(token)
    except (JoseError, ValueError) as error:
        raise _Refused("malformed", f"not a compact JWS: {error}")
    if header.get("alg") not in ACCEPTED_ALGS:
        raise _Refused("malformed", f"algorithm {header.get('alg')!r} is not EdDSA")
    kid = header.get("kid")
    if kid not in keys:
        raise _Refused("unknown-key", f"no published key {kid!r}")
    try:
        with _quiet():
            jwt.decode(token.strip(), keys[kid], algorithms=list(ACCEPTED_ALGS))
    except JoseError as error:
        raise _Refused("tampered", f"the signature does not verify ({error.error})")
    issuer = payload.get("issuer", {})
    issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not kid.startswith(f"{issuer}#") or payload.get("iss") != issuer or payload.get("jti") != payload.get("id"):
        raise _Refused("tampered", f"key {kid!r}, iss and jti do not match the credential's issuer {issuer!r} and id")
    return header, payload


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    reason: str = ""
    credential: dict | None = None  # the verified payload (None when the signature did not verify)
    kid: str | None = None
    revoked_on: str | None = None
    revocation_reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.verdict == "valid"


def verify(token: str, keys: Mapping[str, Any] | Sequence[Any], status_lists: Mapping[str, str],
           today: dt.date | dt.datetime) -> Verification:
    """Check a credential offline: its signature with the key its kid names among `keys` (the issuer's
    JWKS or a cached copy), its dates on `today`, its status in the signed status list credential
    `status_lists[url]` (a JWT, verified with the same keys). Verdicts, first that applies: malformed,
    unknown-key, tampered, status-unknown (its list is not given or not valid), revoked, not-yet-valid,
    expired, valid."""
    public = _keys(keys)
    try:
        header, payload = _verified(token, public)
    except _Refused as refused:
        return Verification(refused.verdict, refused.reason)
    kid = header["kid"]
    moment = today if isinstance(today, dt.datetime) else \
        dt.datetime.combine(today, dt.time(12), tzinfo=dt.timezone.utc)

    status = payload.get("credentialStatus")
    if status:
        entries = status if isinstance(status, list) else [status]
        for entry in entries:
            if entry.get("type") != "BitstringStatusListEntry" or entry.get("statusPurpose") != "revocation":
                continue
            url, index = entry.get("statusListCredential"), int(entry.get("statusListIndex", -1))
            if url not in status_lists:
                return Verification("status-unknown", f"status list {url} not given", payload, kid)
            try:
                _, list_payload = _verified(status_lists[url], public)
            except _Refused as refused:
                return Verification("status-unknown", f"status list {url}: {refused.verdict}: {refused.reason}",
                                    payload, kid)
            subject = list_payload.get("credentialSubject", {})
            if list_payload.get("id") != url or subject.get("statusPurpose") != "revocation":
                return Verification("status-unknown", f"{url} is not a revocation list", payload, kid)
            if StatusList.decode(subject["encodedList"]).get(index):
                known = subject.get("revocations", {}).get(str(index), {})
                return Verification("revoked", f"revoked (index {index} of {url})", payload, kid,
                                    revoked_on=known.get("revokedOn"), revocation_reason=known.get("reason"))
    if moment < _parse(payload["validFrom"]):
        return Verification("not-yet-valid", f"valid from {payload['validFrom']}", payload, kid)
    if "validUntil" in payload and moment >= _parse(payload["validUntil"]):
        return Verification("expired", f"valid until {payload['validUntil']}", payload, kid)
    return Verification("valid", "", payload, kid)


# --- Bitstring Status List ------------------------------------------------------------------------

class StatusList:
    """One bit per credential; index 0 is the first byte's most significant bit."""

    def __init__(self, bits: int = MIN_BITS, data: bytes | None = None):
        if bits < MIN_BITS or bits % 8:
            raise ValueError(f"a status list holds a multiple of 8 bits, at least {MIN_BITS}")
        self.bits = bits
        self.data = bytearray(data) if data is not None else bytearray(bits // 8)
        if len(self.data) * 8 != bits:
            raise ValueError("data does not hold the number of bits")

    def _where(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.bits:
            raise IndexError(f"index {index} outside the list (0..{self.bits - 1})")
        return index // 8, 7 - index % 8

    def get(self, index: int) -> bool:
        byte, bit = self._where(index)
        return bool(self.data[byte] >> bit & 1)

    def set(self, index: int, value: bool = True) -> None:
        byte, bit = self._where(index)
        if value:
            self.data[byte] |= 1 << bit
        else:
            self.data[byte] &= ~(1 << bit) & 0xFF

    def encode(self) -> str:
        """GZIP (fixed mtime: the same bits give the same string), base64url without padding, multibase "u"."""
        packed = gzip.compress(bytes(self.data), mtime=0)
        return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()

    @classmethod
    def decode(cls, encoded: str) -> "StatusList":
        if not encoded.startswith("u"):
            raise ValueError("encodedList must be multibase base64url ('u' prefix)")
        body = encoded[1:]
        raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return cls(len(raw) * 8, raw)


def status_list_credential(url: str, issuer_did: str, issuer_name: str, status_list: StatusList,
                           valid_from: dt.datetime, revocations: Mapping[int, Mapping[str, str]] | None = None,
                           valid_until: dt.datetime | None = None) -> dict:
    """The BitstringStatusListCredential of a branch (revocation), unsigned; `revocations` index →
    {"revokedOn": "YYYY-MM-DD", "reason": ...} says when and why (this project's addition)."""
    subject = {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
               "encodedList": status_list.encode()}
    if revocations:
        subject["revocations"] = {str(i): dict(v) for i, v in sorted(revocations.items())}
    out = {"@context": [VC_CONTEXT], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
           "issuer": {"id": issuer_did, "type": ["Profile"], "name": issuer_name},
           "validFrom": _iso(valid_from), "credentialSubject": subject}
    if valid_until:
        out["validUntil"] = _iso(valid_until)
    return out
