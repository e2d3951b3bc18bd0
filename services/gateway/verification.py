"""What anyone may learn of a certificate: by its number (the read model) or by its credential (a JWT-VC, checked
against its branch's published keys and status list, shared/certificates/credentials.py verify). One place, used by
`verifyCertificate` and by the public page `GET /verify/{number}` (issuer_routes.py)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import httpx

from shared.certificates import credentials as vc
from shared.people import WITHHELD
from shared.settings import Settings
from shared.vocabulary import CertificateKind

from services.gateway.commands import ServiceUnavailable
from services.gateway.schema.jury.types import CertificateVerdict, CertificateVerification

MAX_CREDENTIAL_CHARS = 64_000
_BRANCH = re.compile(r"^[a-z0-9_-]{1,40}$")
_STATUS_PATH = re.compile(r"^/branches/([a-z0-9_-]{1,40})/status/([1-9][0-9]{0,9})$")


async def by_number(pool, people, number: str) -> CertificateVerification | None:
    """The certificate of that number as the read model knows it; None when there is none."""
    row = await pool.fetchrow(
        "SELECT c.*, cert.title, (SELECT s.published_at IS NOT NULL FROM jury_sessions s WHERE s.id = c.session_id)"
        " AS published FROM certificates c LEFT JOIN certifications cert ON cert.code = c.certification"
        " WHERE c.number = $1", number.strip())
    if row is None:
        return None
    if not row["published"]:  # its session's results are not published: it vouches for nothing yet, names no one
        return CertificateVerification(number=row["number"], kind=CertificateKind(row["kind"]), holder=WITHHELD,
                                       certification_code=row["certification"], certification_title=row["title"],
                                       version=row["version"], blocks=[], awarded_on=row["awarded_on"],
                                       valid=False, verdict=CertificateVerdict.NOT_YET_PUBLISHED)
    # The holder's name comes from the candidacy service, which learns of the award through its own
    # consumer: just after the award it may not know it yet, and a certificate of nobody vouches for nothing.
    holder = (await people.holders([row["number"]])).get(row["number"])
    verdict = CertificateVerdict.REVOKED if row["revoked_on"] is not None else \
        CertificateVerdict.PENDING if holder is None else CertificateVerdict.VALID
    return CertificateVerification(number=row["number"], kind=CertificateKind(row["kind"]), holder=holder or WITHHELD,
                                   certification_code=row["certification"], certification_title=row["title"],
                                   version=row["version"], blocks=list(row["blocks"]), awarded_on=row["awarded_on"],
                                   valid=verdict == CertificateVerdict.VALID,
                                   revoked_on=row["revoked_on"], revocation_reason=row["revocation_reason"],
                                   verdict=verdict)


async def issuer_material(http: httpx.AsyncClient, jury_url: str, public_url: str, token: str) \
        -> tuple[list, dict[str, str]]:
    """The published keys of the credential's branch and its status lists, asked of the jury service; nothing for
    an issuer or a list that is not this installation's (the credential then verifies as unknown-key or
    status-unknown)."""
    try:
        _, claims = vc.unverified(token)
    except Exception:  # noqa: BLE001 (any undecodable token: credentials.verify says malformed)
        return [], {}
    issuer = claims.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    ours = vc.did_web(urlsplit(public_url).netloc, "branches", "")
    if not isinstance(issuer, str) or not issuer.startswith(ours) or not _BRANCH.match(issuer[len(ours):]):
        return [], {}
    keys = await _ask(http, f"{jury_url}/queries/jwks", {"branch": issuer[len(ours):]})
    lists = {}
    entries = claims.get("credentialStatus") or []
    for entry in entries if isinstance(entries, list) else [entries]:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url.startswith(public_url.rstrip("/") + "/"):
            continue
        path = _STATUS_PATH.match(url[len(public_url.rstrip("/")):])
        if path:
            answer = await _ask(http, f"{jury_url}/queries/status", {"branch": path[1], "list": int(path[2])})
            if answer and isinstance(answer.get("credential"), str):
                lists[url] = answer["credential"]
    return (keys or {}).get("keys", []), lists


async def _ask(http: httpx.AsyncClient, url: str, body: dict) -> dict | None:
    try:
        answer = await http.post(url, json=body)
    except httpx.TransportError as error:
        raise ServiceUnavailable("the jury service did not answer; try again shortly",
                                 reason=type(error).__name__) from None
    return answer.json() if answer.status_code == 200 else None


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


async def by_credential(pool, people, http: httpx.AsyncClient, jury_url: str, public_url: str, token: str,
                        today: dt.date | None = None) -> CertificateVerification:
    """The verdict of a credential; when it verifies, what the certificate of its number shows beside it."""
    if len(token) > MAX_CREDENTIAL_CHARS:
        result = vc.Verification("malformed", f"longer than {MAX_CREDENTIAL_CHARS} characters")
    else:
        keys, lists = await issuer_material(http, jury_url, public_url, token)
        result = vc.verify(token, keys, lists, today or dt.datetime.now(dt.timezone.utc))
    verdict = CertificateVerdict(result.verdict)
    answer = CertificateVerification(number=None, kind=None, holder=None, certification_code=None,
                                     certification_title=None, version=None, blocks=None, awarded_on=None,
                                     valid=result.valid, verdict=verdict, reason=result.reason or None,
                                     key_id=result.kid, revocation_reason=result.revocation_reason,
                                     revoked_on=dt.date.fromisoformat(result.revoked_on) if result.revoked_on else None)
    if result.credential is None:
        return answer
    answer.valid_from = _moment(result.credential.get("validFrom"))
    answer.valid_until = _moment(result.credential.get("validUntil"))
    number = result.credential.get("credentialSubject", {}).get("licenseNumber")
    known = await by_number(pool, people, number) if isinstance(number, str) else None
    if known is not None and known.verdict == CertificateVerdict.NOT_YET_PUBLISHED and answer.valid:
        answer.valid, answer.verdict = False, CertificateVerdict.NOT_YET_PUBLISHED
    if known is not None:
        for name in ("number", "kind", "holder", "certification_code", "certification_title", "version", "blocks",
                     "awarded_on"):
            setattr(answer, name, getattr(known, name))
    return answer


_settings: Settings | None = None


def public_url() -> str:
    """The installation's public address (the issuers' did:web and the status lists' URLs are under it)."""
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings.public_url.rstrip("/")
