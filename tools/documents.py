"""The operators' side of documents (shared/documents.py): `cqp verify` checks the objects against the events
that record them, and `cqp documents purge` applies the keeping periods.

What a service keeps is read from its event store, data-driven: every stored event named `DocumentAttached`
that carries `document_id`, `kind`, `object_key` and `sealed_sha256` records a document (candidacy's on a
candidacy, jury's on a dossier or a session: the same shape), and a `DocumentPurged` naming its
`document_id` on the same aggregate ends it. The day it was attached is its event's timestamp (UTC), the day
the candidacy service's aggregate also decides a purge on.

The bucket of each service is read with S3 keys from the environment, named as deploy/s3's secrets file names
them (`set -a; . secrets.env; set +a` gives them all):

    CQP_S3_ACCESS_KEY_<SERVICE>, CQP_S3_SECRET_KEY_<SERVICE>   the service's own key (it reads and lists its
                                                              bucket: all verify needs), or else
    CQP_S3_ACCESS_KEY_ADMIN, CQP_S3_SECRET_KEY_ADMIN           the server's root, which reads every bucket
    CQP_S3_BUCKET_<SERVICE>                                   its bucket (default cqp-<service>)
    CQP_S3_ENDPOINT, CQP_S3_REGION, CQP_S3_PREFIX             as the processes have them

No person's key is needed: an object is checked by the SHA-256 of its sealed bytes, recorded when it was stored.
Purging never deletes from here: the service records the purge and deletes the object itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timezone

import anyio
import httpx

from shared.documents import purge_day
from shared.objects import ObjectMissing, ObjectStore, ObjectStoreError
from shared.settings import Settings
from shared.vocabulary import DocumentKind

from tools import store

SHOWN = 5
IN_FLIGHT = 8  # objects read (and hashed) at once
BATCH = 500


@dataclass
class Recorded:
    """A document as its service's events record it."""

    service: str
    aggregate_id: str
    document_id: str
    kind: DocumentKind
    object_key: str
    sealed_sha256: str
    attached_on: date
    purged: bool = False

    @property
    def purge_day(self) -> date:
        return purge_day(self.kind, self.attached_on)

    def __str__(self) -> str:
        return f"{self.aggregate_id}/{self.document_id} ({self.kind}, {self.object_key})"


def recorded(service: str, settings: Settings) -> list[Recorded]:
    """Every document the service's event store records, purged or not (synchronous: the store's driver is)."""
    app = store.open_store(service, settings)
    try:
        found: dict[tuple[str, str], Recorded] = {}
        position = 1
        while notifications := app.recorder.select_notifications(position, BATCH):
            for notification in notifications:
                name = notification.topic.rpartition(".")[2]
                if name not in ("DocumentAttached", "DocumentPurged"):
                    continue
                event = app.mapper.to_domain_event(notification)
                key = (str(event.originator_id), getattr(event, "document_id", ""))
                if name == "DocumentAttached" and all(
                        hasattr(event, a) for a in ("document_id", "kind", "object_key", "sealed_sha256")):
                    found[key] = Recorded(service, key[0], key[1], DocumentKind(event.kind), event.object_key,
                                          event.sealed_sha256, event.timestamp.astimezone(timezone.utc).date())
                elif name == "DocumentPurged" and key in found:
                    found[key].purged = True
            position = notifications[-1].id + 1
        return list(found.values())
    finally:
        app.close()


def keeps_documents(service: str) -> bool:
    return bool(getattr(store.definition(service), "documents", False))


def object_store(service: str, settings: Settings, environ=os.environ) -> ObjectStore | None:
    """The service's bucket with the operator's key for it (the module's docstring), or None without one."""
    name = service.upper()
    access, secret = environ.get(f"CQP_S3_ACCESS_KEY_{name}"), environ.get(f"CQP_S3_SECRET_KEY_{name}")
    if not (access and secret):
        access, secret = environ.get("CQP_S3_ACCESS_KEY_ADMIN"), environ.get("CQP_S3_SECRET_KEY_ADMIN")
    if not (access and secret):
        return None
    return ObjectStore(settings.s3_endpoint, access, secret, environ.get(f"CQP_S3_BUCKET_{name}", f"cqp-{service}"),
                       settings.s3_region, settings.s3_prefix)


# --- cqp verify ---

@dataclass
class Findings:
    drifts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def verify(settings: Settings) -> Findings:
    """Per service keeping documents: each recorded document not purged has its object with the recorded sealed
    SHA-256; each object in the bucket (under the prefix) is recorded by some event (else an orphan); a purged
    document's object is gone."""
    findings = Findings()
    for service in store.SERVICES:
        documents = await anyio.to_thread.run_sync(recorded, service, settings)
        if not documents and not keeps_documents(service):
            continue
        objects = object_store(service, settings)
        label = f"{service} documents"
        if objects is None:
            message = (f"{label}: bucket not checked, no S3 key (CQP_S3_ACCESS_KEY_{service.upper()} and "
                       f"CQP_S3_SECRET_KEY_{service.upper()}, or the admin's)")
            if documents:
                findings.drifts.append(f"{message}: {len(documents)} recorded document(s) unverified")
            else:
                findings.notes.append(message)
            continue
        try:
            async with objects:
                await _check(label, objects, documents, findings)
        except ObjectStoreError as error:
            findings.drifts.append(f"{label}: the bucket {objects.bucket} could not be read: "
                                   f"{type(error).__name__}: {error}")
    return findings


async def _check(label: str, objects: ObjectStore, documents: list[Recorded], findings: Findings) -> None:
    keys = set(await objects.keys())
    live = [d for d in documents if not d.purged]
    missing, altered = [], []
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def check(document: Recorded) -> None:
        async with slots:
            try:
                data = await objects.get(document.object_key)
            except ObjectMissing:
                missing.append(document)
                return
        if hashlib.sha256(data).hexdigest() != document.sealed_sha256:
            altered.append(document)

    await asyncio.gather(*(check(d) for d in live))
    known = {d.object_key for d in documents}
    orphans = sorted(keys - known)
    lingering = [d for d in documents if d.purged and d.object_key in keys]
    for what, items in (("recorded, but their object is missing from the bucket", missing),
                        ("whose object is not the one recorded (its SHA-256 differs: altered or replaced)", altered),
                        ("purged, but their object is still stored (`cqp documents purge` deletes it again)",
                         lingering)):
        if items:
            findings.drifts.append(f"{label}: {len(items)} document(s) {what}: "
                                   + ", ".join(map(str, sorted(items, key=str)[:SHOWN])))
    if orphans:
        findings.drifts.append(f"{label}: {len(orphans)} object(s) in the bucket that no event records (orphans): "
                               + ", ".join(orphans[:SHOWN]))
    findings.notes.append(f"{label}: {len(live)} recorded documents checked against {len(keys)} objects in "
                          f"{objects.bucket} ({len(documents) - len(live)} purged)")


# --- cqp documents purge ---

# The command that purges a document, per service: its operation and its body.
PURGES: dict[str, Callable[[Recorded, date], tuple[str, dict]]] = {
    "candidacy": lambda d, kept_until: ("purge-document", {"candidacy_id": d.aggregate_id, "document_id": d.document_id,
                                                           "kept_until": kept_until.isoformat()}),
    "jury": lambda d, kept_until: ("purge-jury-document", {"aggregate_id": d.aggregate_id,
                                                           "document_id": d.document_id,
                                                           "kept_until": kept_until.isoformat()}),
}


def service_url(service: str, settings: Settings) -> str:
    return getattr(settings, f"{service}_url")


async def purge(settings: Settings, kept_until: date, token: Callable[[], Awaitable[str]],
                dry_run: bool = False) -> tuple[list[str], bool]:
    """Sends the purge of every document whose keeping period ended on or before `kept_until` (a day that has
    come) to its service, one command each (idempotency key `purge.<document id>`: sending it again is a replay,
    which deletes the object again). Also sent again: a purged document whose object is still in the bucket
    (when the operator has a key for it). Answers what it printed and whether everything went through."""
    if kept_until > date.today():
        raise ValueError(f"--kept-until {kept_until.isoformat()} is a day to come: keeping periods end on days "
                         "that have come")
    lines, ok = [], True
    async with httpx.AsyncClient(timeout=60) as http:
        for service in store.SERVICES:
            documents = await anyio.to_thread.run_sync(recorded, service, settings)
            due = [d for d in documents if not d.purged and d.purge_day <= kept_until]
            again = await _lingering(service, settings, [d for d in documents if d.purged])
            kept = sum(1 for d in documents if not d.purged) - len(due)
            if not documents:
                continue
            if service not in PURGES:
                if due:
                    ok = False
                    lines.append(f"{service}: {len(due)} document(s) due, not purged: the {service} service has no "
                                 "purge command yet")
                continue
            purged = 0
            for document in sorted(due, key=lambda d: (d.purge_day, str(d))) + again:
                operation, body = PURGES[service](document, kept_until)
                if dry_run:
                    lines.append(f"would purge {service} {document}, kept until {document.purge_day.isoformat()}")
                    continue
                answer = await http.post(f"{service_url(service, settings)}/commands/{operation}", json=body,
                                         headers={"authorization": f"Bearer {await token()}",
                                                  "idempotency-key": f"purge.{document.document_id}"})
                if answer.status_code == 200:
                    purged += 1
                    how = "its object deleted again" if document.purged else \
                        f"attached {document.attached_on.isoformat()}, kept until {document.purge_day.isoformat()}"
                    lines.append(f"purged {service} {document}: {how}")
                else:
                    ok = False
                    lines.append(f"refused {service} {document}: {answer.status_code} {_refusal(answer)}")
            lines.append(f"{service}: {purged} document(s) purged{' (dry run)' if dry_run else ''}, {kept} kept "
                         f"(their keeping period not ended on {kept_until.isoformat()})")
    return lines, ok


async def _lingering(service: str, settings: Settings, purged: list[Recorded]) -> list[Recorded]:
    """The purged documents whose object is still in the bucket (a deletion that failed after the purge was
    recorded), when the operator has a key for it."""
    objects = object_store(service, settings)
    if not purged or objects is None:
        return []
    async with objects:
        keys = set(await objects.keys())
    return [d for d in purged if d.object_key in keys]


def _refusal(answer: httpx.Response) -> str:
    try:
        error = answer.json()["error"]
        return f"{error['type']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return answer.text[:300]
