"""`cqp credential verify FILE` and `cqp keys rotate BRANCH`.

Verify, offline, without any database: a sealed PDF's PAdES seal against the installation's CA and the credential
embedded in it, or a credential alone (.jwt): its signature against the issuer's published keys (its did:web
document), its status in its status list, its dates (shared/certificates/credentials.py verify). What it fetches
(the did:web document, the status lists, the CA) is kept in a cache directory; when the issuer cannot be reached the
cached copy is used and the answer says how old it is. https only, except for loopback hosts (development).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from shared.certificates import credentials as vc

FETCH_SECONDS = 10.0


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cqp" / "credentials"


def loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Unusable(Exception):
    """A URL this command does not fetch (plain http to a host that is not loopback)."""


@dataclass
class Fetcher:
    """GET with a cache: the fresh copy when the issuer answers, else the cached one (its age reported).
    `base`: fetch from there instead of each URL's own scheme and host (a mirror; the cache keys stay the URLs)."""

    cache: Path
    base: str | None = None
    notes: list[str] = field(default_factory=list)

    def _file(self, url: str) -> Path:
        return self.cache / hashlib.sha256(url.encode()).hexdigest()

    def where(self, url: str) -> str:
        parts = urlsplit(url)
        if self.base:
            base = urlsplit(self.base)
            parts = parts._replace(scheme=base.scheme, netloc=base.netloc)
        if parts.scheme == "https" and loopback(parts.hostname or ""):
            parts = parts._replace(scheme="http")  # development: the gateway serves plain http on loopback
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback(parts.hostname or "")):
            raise Unusable(f"{parts.geturl()}: only https (or http to a loopback host)")
        return parts.geturl()

    def get(self, url: str) -> bytes | None:
        """The body (None: not reachable and no cached copy, or the issuer says it has none)."""
        cached = self._file(url)
        try:
            answer = httpx.get(self.where(url), timeout=FETCH_SECONDS, follow_redirects=False)
        except (httpx.TransportError, Unusable) as error:
            reason = type(error).__name__ if isinstance(error, httpx.TransportError) else str(error)
        else:
            if answer.status_code == 200:
                self.cache.mkdir(parents=True, exist_ok=True)
                staged = cached.with_suffix(".tmp")
                staged.write_bytes(json.dumps({"url": url, "fetched_at": time.time(),
                                               "body": answer.content.decode()}).encode())
                staged.replace(cached)
                return answer.content
            if answer.status_code == 404:
                self.notes.append(f"{url}: not published (404)")
                return None
            reason = f"HTTP {answer.status_code}"
        if not cached.exists():
            self.notes.append(f"{url}: unreachable ({reason}), no cached copy")
            return None
        kept = json.loads(cached.read_bytes())
        age = int(time.time() - kept["fetched_at"])
        self.notes.append(f"{url}: unreachable ({reason}), cached copy of "
                          f"{dt.datetime.fromtimestamp(kept['fetched_at'], dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"
                          f" used (age {age}s)")
        return kept["body"].encode()


def _issuer(claims: dict) -> str | None:
    issuer = claims.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    return issuer if isinstance(issuer, str) and issuer.startswith("did:web:") else None


def _origin(did: str) -> str:
    parts = urlsplit(vc.did_web_url(did))
    return f"{parts.scheme}://{parts.netloc}"


def keys_of(document: dict, did: str) -> dict[str, dict]:
    """kid → public JWK from a did:web document (only its own verification methods)."""
    if document.get("id") != did:
        return {}
    return {m["id"]: m["publicKeyJwk"] for m in document.get("verificationMethod", [])
            if isinstance(m, dict) and m.get("controller") == did and isinstance(m.get("publicKeyJwk"), dict)
            and str(m.get("id", "")).startswith(did + "#")}


def verify_file(path: Path, cache: Path, base: str | None = None, now: dt.datetime | None = None) -> dict:
    """The verdict of a sealed PDF or a credential file, as a dict (verdict, reason, ... and notes)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    fetcher = Fetcher(cache, base)
    data = path.read_bytes()
    out: dict = {"file": str(path)}
    pdf_bytes = None
    if data.startswith(b"%PDF"):
        from shared.certificates import pdf

        pdf_bytes = data
        try:
            token = pdf.embedded_files(data).get("credential.jwt", b"").decode()
        except Exception as error:  # noqa: BLE001 (an unreadable PDF is the verdict, not a crash)
            return {**out, "verdict": "tampered", "reason": f"unreadable PDF ({type(error).__name__})",
                    "notes": fetcher.notes}
        if not token:
            return {**out, "verdict": "malformed", "reason": "no credential.jwt embedded", "notes": fetcher.notes}
    else:
        token = data.decode(errors="replace").strip()
    try:
        _, claims = vc.unverified(token)
    except Exception as error:  # noqa: BLE001
        return {**out, "verdict": "malformed", "reason": f"not a JWT-VC ({type(error).__name__})",
                "notes": fetcher.notes}
    did = _issuer(claims)
    if did is None:
        return {**out, "verdict": "unknown-key", "reason": "the issuer is not a did:web", "notes": fetcher.notes}
    if pdf_bytes is not None:
        from shared.certificates import seal

        ca = fetcher.get(f"{_origin(did)}/issuer/ca.pem")
        if ca is None:
            out["seal"] = "unchecked (no CA)"
        else:
            status = seal.check(pdf_bytes, ca)
            out["seal"], out["sealedBy"] = status.state, status.signer
            if status.state in ("tampered", "modified", "unreadable", "unsigned"):
                return {**out, "verdict": "tampered", "reason": f"the PDF's seal: {status.state} {status.detail}",
                        "notes": fetcher.notes}
            if status.state != "valid":
                return {**out, "verdict": "unknown-key", "reason": f"the PDF's seal: {status.state}",
                        "notes": fetcher.notes}
    document = fetcher.get(vc.did_web_url(did))
    keys = keys_of(json.loads(document), did) if document else {}
    lists = {}
    entries = claims.get("credentialStatus") or []
    for entry in entries if isinstance(entries, list) else [entries]:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if isinstance(url, str):
            body = fetcher.get(url)
            if body is not None:
                lists[url] = body.decode().strip()
    result = vc.verify(token, keys, lists, now)
    out.update(verdict=result.verdict, reason=result.reason, kid=result.kid)
    if result.verdict == "revoked":
        out.update(revokedOn=result.revoked_on, revocationReason=result.revocation_reason)
    if result.credential:
        subject = result.credential.get("credentialSubject", {})
        out.update(number=subject.get("licenseNumber"), validFrom=result.credential.get("validFrom"),
                   validUntil=result.credential.get("validUntil"),
                   holder=next((i.get("identityHash") for i in subject.get("identifier", [])
                                if i.get("identityType") == "name"), None),
                   achievement=subject.get("achievement", {}).get("name"))
    out["notes"] = fetcher.notes
    return out


def line(result: dict) -> str:
    """One line for a person."""
    verdict = result["verdict"]
    said = {"valid": "valid", "revoked": f"revoked on {result.get('revokedOn')}: {result.get('revocationReason')}",
            "expired": f"expired ({result.get('reason')})", "not-yet-valid": f"not yet valid ({result.get('reason')})"}
    text = said.get(verdict, f"{verdict}: {result.get('reason')}")
    who = f" — {result['number']} {result.get('holder') or ''}".rstrip() if result.get("number") else ""
    notes = "".join(f"\n  {note}" for note in result.get("notes", []))
    return f"{result['file']}: {text}{who}{notes}"


async def rotate(dsn: str, branch: str) -> list[str]:
    """Retire the branch's current seal and credential keys (services/jury/issuer.py rotate)."""
    import asyncpg

    from services.jury.issuer import rotate as retire

    conn = await asyncpg.connect(dsn, server_settings={"search_path": "jury"})
    try:
        return await retire(conn, branch.strip().upper())
    finally:
        await conn.close()
