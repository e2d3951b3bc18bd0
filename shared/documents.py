"""Documents: the papers of a file (Livret 1 and 2, evaluation evidence, jury papers), their rules per kind,
and their bytes, sealed with the person's own key before they reach the object store.

A document is a fact of the owning aggregate (`DocumentAttached`: kind, size, media type, digest, who, when);
its bytes are not in the event store. They go to the service's own bucket (shared/objects.py) encrypted
(AES-256-GCM) with the data key of the person they concern (shared/personal.py), bound to the object's key:
erasing the person destroys the key, and every copy of the object, backups included, is noise from then on.
A document is never edited: a new version supersedes it, and the history keeps both.

The checks, in order, before anything is stored: the size within the kind's bound, the media type found
from the first bytes (never the file's name or the type the client declares) within the kind's list, the
client's SHA-256 equal to the bytes', and the malware scanner's verdict where one is configured (ClamAV's
clamd, INSTREAM). Each refusal is typed and stores nothing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import struct
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.errors import CommandRefused, Conflict, InvalidInput, NotFound, PayloadTooLarge
from shared.vocabulary import DocumentKind

if TYPE_CHECKING:
    from shared.objects import ObjectStore

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
VC_JWT = "application/vc+jwt"  # a compact JWS whose header says typ vc+jwt (shared/certificates/credentials.py)
MB = 1024 * 1024


@dataclass(frozen=True)
class KindRule:
    """What a kind of document accepts and who deals with it. `attach` and `read` are rows of the role table
    (shared/roles.toml): the roles and scopes that may attach and read a document of the kind."""

    media_types: frozenset[str]
    max_bytes: int
    attach: str
    read: str
    keep_years: int  # kept this long after it was attached, then purged (`cqp documents purge`)


# The papers of a VAE file and the certifier's copy of an identity document: the candidacy service's; the
# evaluation evidence and the jury's papers: the jury service's. Keeping: the certifier keeps the file of a
# decision for as long as it may be disputed or controlled (France Compétences' controls go back five years);
# an identity document only as long as the declaration needs it.
KINDS: dict[DocumentKind, KindRule] = {
    DocumentKind.LIVRET_1: KindRule(frozenset({PDF}), 15 * MB, "attach-vae-paper", "read-vae-paper", 5),
    DocumentKind.LIVRET_1_SUPPORT: KindRule(frozenset({PDF, PNG, JPEG}), 10 * MB, "attach-vae-paper",
                                            "read-vae-paper", 5),
    DocumentKind.LIVRET_2: KindRule(frozenset({PDF}), 25 * MB, "attach-vae-paper", "read-vae-paper", 5),
    DocumentKind.IDENTITY_DOCUMENT: KindRule(frozenset({PDF, PNG, JPEG}), 5 * MB, "attach-identity-document",
                                             "read-identity-document", 1),
    DocumentKind.EVALUATION_EVIDENCE: KindRule(frozenset({PDF, PNG, JPEG}), 20 * MB, "attach-evaluation-evidence",
                                               "read-evaluation-evidence", 5),
    DocumentKind.ATTENDANCE_SHEET: KindRule(frozenset({PDF, PNG, JPEG}), 10 * MB, "attach-jury-paper",
                                            "read-jury-paper", 5),
    DocumentKind.JURY_MINUTES: KindRule(frozenset({PDF}), 10 * MB, "attach-jury-paper", "read-jury-paper", 5),
    # The PDF of a certificate or attestation: made and sealed by the jury service on its issue, attached by no one
    # by hand (`issue-certificate-document` is the platform's alone, and no endpoint attaches this kind). Kept fifty
    # years: it is the holder's record of a certification for their working life, not a file kept for controls.
    DocumentKind.CERTIFICATE_PDF: KindRule(frozenset({PDF}), 5 * MB, "issue-certificate-document",
                                           "read-certificate-document", 50),
    # Each credential of a certificate (the award's, each validated block's), the same file as the PDF's attachment,
    # downloadable alone: made and signed by the jury service with the PDF, read and kept like it.
    DocumentKind.CREDENTIAL: KindRule(frozenset({VC_JWT}), 64 * 1024, "issue-certificate-document",
                                      "read-certificate-document", 50),
}
# The papers each step needs (the aggregates refuse the step without them, DocumentMissing naming each; the
# gateway shows them as a candidacy's documentRequirements).
STEP_PAPERS: dict[str, tuple[DocumentKind, ...]] = {
    "file-admissibility": (DocumentKind.LIVRET_1,),
    "submit-validation-file": (DocumentKind.LIVRET_2,),
}
# The kinds a file holds once: a new one supersedes the current one.
HELD_ONCE = frozenset({DocumentKind.LIVRET_1, DocumentKind.LIVRET_2, DocumentKind.IDENTITY_DOCUMENT,
                       DocumentKind.ATTENDANCE_SHEET, DocumentKind.JURY_MINUTES})
# The most any kind accepts: the bound of an upload's request.
MAX_BYTES = max(rule.max_bytes for rule in KINDS.values())


class DocumentTypeRefused(InvalidInput):
    """The bytes are not of a type the kind accepts (found from the bytes themselves)."""


class DocumentTooLarge(PayloadTooLarge):
    pass


class DigestMismatch(InvalidInput):
    """The bytes received are not the ones the client hashed: altered or cut in transit."""


class DocumentInfected(InvalidInput):
    """The malware scanner found something in the bytes."""


class ScannerUnavailable(CommandRefused):
    """A scanner is configured but did not answer: nothing is accepted unscanned."""

    status = 503


class UnknownDocument(NotFound):
    pass


class DocumentMissing(CommandRefused):
    """A step needs a paper the file does not hold."""


class DocumentUnreadable(CommandRefused):
    """The document's bytes can no longer be read: its person was erased, or the object is gone."""

    status = 410


# --- what the bytes are ---

def sniff(data: bytes) -> str | None:
    """The media type the first bytes show, among the ones any kind accepts; None for anything else.
    Four signatures are all the kinds need: a library knowing a thousand types would decide nothing more."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    # A PDF's header may follow a little junk (readers look in the first kilobyte); an executable never starts so.
    if b"%PDF-" in data[:1024] and not data.startswith((b"MZ", b"\x7fELF", b"#!")):
        return PDF
    if _vc_jwt(data):
        return VC_JWT
    return None


_JWS = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _vc_jwt(data: bytes) -> bool:
    """A JWT has no magic bytes: a compact JWS (three base64url parts) whose header decodes to {"typ": "vc+jwt"}.
    Only the CREDENTIAL kind accepts it, and only the jury service issues that kind (its own signed bytes)."""
    if len(data) > 64 * 1024 or not _JWS.fullmatch(data):
        return False
    head = data.split(b".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + b"=" * (-len(head) % 4)))
    except ValueError:
        return False
    return isinstance(header, dict) and header.get("typ") == "vc+jwt"


@dataclass(frozen=True)
class Checked:
    """Bytes that passed their kind's checks."""

    data: bytes
    media_type: str
    sha256: str


def check(kind: DocumentKind, data: bytes, sha256: str) -> Checked:
    rule = KINDS[kind]
    if not data:
        raise InvalidInput("the document is empty", kind=kind)
    if len(data) > rule.max_bytes:
        raise DocumentTooLarge(f"a {kind} is at most {rule.max_bytes} bytes", kind=kind, size=len(data),
                               max_bytes=rule.max_bytes)
    media_type = sniff(data)
    if media_type not in rule.media_types:
        raise DocumentTypeRefused(f"a {kind} is one of {', '.join(sorted(rule.media_types))}; these bytes are "
                                  f"{media_type or 'of no accepted type'}", kind=kind, found=media_type,
                                  accepted=sorted(rule.media_types))
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256.lower():
        raise DigestMismatch("the bytes received do not have the SHA-256 given", sent=sha256.lower(), received=digest)
    return Checked(data, media_type, digest)


def purge_day(kind: DocumentKind, attached_on: date) -> date:
    """The first day the document may be purged."""
    years = KINDS[kind].keep_years
    try:
        return attached_on.replace(year=attached_on.year + years)
    except ValueError:  # 29 February
        return attached_on.replace(year=attached_on.year + years, day=28)


class DocumentNotDue(Conflict):
    """The document's keeping period has not ended on the day given."""


def check_purge(found: dict | None, document_id: str, kept_until: date, today: date,
                attached_on: date | None) -> None:
    """A document (as its aggregate keeps it) may be purged on `kept_until`: its keeping period ended on or before
    that day (purge_day of its kind and the day it was attached), a day that has come (never after `today`)."""
    if found is None or attached_on is None:
        raise UnknownDocument("no such document", document_id=document_id)
    if found.get("purged"):
        raise Conflict("the document is already purged", document_id=document_id)
    if kept_until > today:
        raise InvalidInput("a keeping period is ended on a day that has come: kept_until is after today",
                           kept_until=kept_until.isoformat(), today=today.isoformat())
    due = purge_day(found["kind"], attached_on)
    if due > kept_until:
        raise DocumentNotDue(f"the keeping period of this {found['kind']} ends on {due.isoformat()}",
                             document_id=document_id, purge_day=due.isoformat(), kept_until=kept_until.isoformat())


# --- the bytes, sealed ---

_SEALED = b"cqpdoc1"
_NONCE = 12


def seal_bytes(key: bytes, person_id: str, object_key: str, data: bytes) -> bytes:
    """The bytes, encrypted under the person's key and bound to them and to the object's key (associated data):
    an object copied under another key, or another person's, does not open."""
    nonce = os.urandom(_NONCE)
    return _SEALED + nonce + AESGCM(key).encrypt(nonce, data, f"{person_id}/{object_key}".encode())


def unseal_bytes(key: bytes, person_id: str, object_key: str, sealed: bytes) -> bytes:
    if not sealed.startswith(_SEALED):
        raise ValueError("not a sealed document")
    raw = sealed[len(_SEALED):]
    try:
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], f"{person_id}/{object_key}".encode())
    except InvalidTag:
        raise ValueError("the sealed document is not this person's, or was altered") from None


# --- the malware scan (ClamAV's clamd) ---

class Scanner:
    """clamd's INSTREAM command over TCP: the bytes in chunks, then its verdict. `address` "host:port";
    empty: no scanner configured, and nothing is scanned (the README says where one belongs)."""

    CHUNK = 1 << 16

    def __init__(self, address: str = "", timeout: float = 30.0):
        self.address, self.timeout = address, timeout

    async def scan(self, data: bytes) -> None:
        if not self.address:
            return
        host, _, port = self.address.rpartition(":")
        try:
            verdict = await asyncio.wait_for(self._instream(host, int(port), data), self.timeout)
        except (OSError, asyncio.TimeoutError, ValueError) as error:
            raise ScannerUnavailable("the malware scanner did not answer: nothing is accepted unscanned; "
                                     "send it again later", reason=type(error).__name__) from None
        if verdict.endswith("FOUND"):
            raise DocumentInfected("the malware scanner refused the document",
                                   found=verdict.removeprefix("stream:").removesuffix("FOUND").strip())
        if not verdict.endswith("OK"):
            raise ScannerUnavailable("the malware scanner could not scan the document", answer=verdict[:200])

    async def _instream(self, host: str, port: int, data: bytes) -> str:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(b"zINSTREAM\0")
            for start in range(0, len(data), self.CHUNK):
                chunk = data[start:start + self.CHUNK]
                writer.write(struct.pack(">I", len(chunk)) + chunk)
                await writer.drain()
            writer.write(struct.pack(">I", 0))
            await writer.drain()
            return (await reader.readuntil(b"\0")).rstrip(b"\0").decode(errors="replace").strip()
        finally:
            writer.close()


# --- the store: checked, scanned, sealed, stored ---

@dataclass(frozen=True)
class Stored:
    """What `DocumentAttached` records of the bytes stored."""

    object_key: str
    size: int
    media_type: str
    sha256: str  # of the document's bytes
    sealed_sha256: str  # of the object as stored: `cqp verify` checks it without any person's key


class Documents:
    """A service's documents in its own bucket."""

    def __init__(self, objects: ObjectStore, scanner: Scanner):
        self.objects, self.scanner = objects, scanner

    async def store(self, kind: DocumentKind, data: bytes, sha256: str, person_id: str, key: bytes,
                    prefix: str) -> Stored:
        """Checks the bytes and stores them sealed, under a new object key (a replayed command stores a copy
        that its `after` deletes: an object once recorded is never overwritten)."""
        checked = check(kind, data, sha256)
        await self.scanner.scan(checked.data)
        object_key = f"{prefix}/{uuid.uuid4()}"
        sealed = seal_bytes(key, person_id, object_key, checked.data)
        await self.objects.put(object_key, sealed)
        return Stored(object_key, len(checked.data), checked.media_type, checked.sha256,
                      hashlib.sha256(sealed).hexdigest())

    async def fetch(self, object_key: str, person_id: str, key: bytes) -> bytes:
        return unseal_bytes(key, person_id, object_key, await self.objects.get(object_key))

    async def discard(self, object_key: str) -> None:
        await self.objects.delete(object_key)

