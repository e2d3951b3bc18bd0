"""The operators' side of documents on the real stack: `cqp verify` checks every recorded document's object in
the candidacy service's bucket (missing, altered, orphans), and `cqp documents purge --kept-until DAY` applies the
keeping periods through the service's purge-document command.

A document is due when purge_day(kind, the day its DocumentAttached was recorded) is on or before the day given,
and the day given is never after today. A document old enough to be due cannot be made today, so the test that
purges one backdates the DocumentAttached events in the candidacy's event store (as the database's admin, with
the system's cipher key): the store then says the papers were attached years ago, and verify, rightly, also
reports those events as published with another content than the store's. Nothing else is forged.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import subprocess
import sys
import uuid
from datetime import date, timedelta

import pytest

from shared.documents import purge_day
from shared.objects import ObjectStore
from shared.settings import Settings
from shared.vocabulary import DocumentKind
from tests.documents import paper
from tests.harness import ROOT, _secrets, eventually, s3_settings
from tools import store

from services.candidacy.domain import Candidacy, PurgingFacts
from shared.documents import DocumentNotDue
from shared.context import Actor, CommandContext, acting
from shared.errors import Conflict, InvalidInput

CODE = "RNCP34174"


async def ok(system, service: str, operation: str, body: dict, key: str) -> dict:
    answer = await system.command(service, operation, body, key)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def candidacy(system) -> str:
    """A VAE candidacy with the catalog it needs, through the services' commands."""
    await ok(system, "catalog", "create-branch", {"code": "UIMM", "name": "Métallurgie", "idcc": ["3109"]}, "b")
    centre = (await ok(system, "catalog", "register-organisation",
                       {"name": "AFPI", "kinds": ["EVALUATION_CENTRE"]}, "o"))["id"]
    await ok(system, "catalog", "create-certification", {"code": CODE, "kind": "CQPM", "title": "CQPM conduite",
             "owners": ["UIMM"], "blocks": [{"code": f"{CODE}BC01", "title": "La conduite"}]}, "c")
    await ok(system, "catalog", "record-registration", {"code": CODE, "registry": "RNCP", "number": CODE,
             "level": "NIV3", "decision_date": "2024-01-15", "end_date": "2029-01-15", "routes": ["FC", "VAE"]}, "r")
    await ok(system, "catalog", "accredit", {"organisation_id": centre, "branch": "UIMM", "certifications": [CODE],
             "scope": "EVALUATION", "valid_from": "2024-01-01"}, "a")

    async def candidacy_service_knows_it():
        rows = await system.sql("SELECT (SELECT count(*) FROM candidacy.catalog_accreditations) AS a,"
                                " (SELECT count(*) FROM candidacy.catalog_certifications WHERE end_date IS NOT NULL) AS c")
        return rows[0]["a"] == 1 and rows[0]["c"] == 1

    await eventually(candidacy_service_knows_it)
    candidate = (await ok(system, "candidacy", "register-candidate", {
        "given_name": "Camille", "family_name": "Martin", "email": "camille@example.org", "status": "EMPLOYEE"},
        "cand"))["id"]
    return (await ok(system, "candidacy", "open-candidacy", {
        "candidate_id": candidate, "certification": CODE, "route": "VAE", "evaluator_id": centre,
        "experience": [{"start": "2019-09-01", "end": "2024-08-31", "activity": "Conducteur de ligne"}]}, "open"))["id"]


async def attach(system, candidacy_id: str, kind: str, key: str) -> str:
    content = paper(key)
    body = {"candidacy_id": candidacy_id, "filename": f"{key}.pdf", "sha256": hashlib.sha256(content).hexdigest(),
            "content": base64.b64encode(content).decode()}
    if kind == "IDENTITY_DOCUMENT":
        return (await ok(system, "candidacy", "attach-identity-document", body, key))["document_id"]
    return (await ok(system, "candidacy", "attach-vae-paper", {**body, "kind": kind}, key))["document_id"]


def s3_env(process: str = "candidacy") -> dict[str, str]:
    """The operator's key for the process's bucket, as deploy/s3's secrets file names it."""
    secrets = _secrets("CQP_TEST_S3_SECRETS")
    name = process.upper()
    return {f"CQP_S3_ACCESS_KEY_{name}": secrets[f"CQP_S3_ACCESS_KEY_{name}"],
            f"CQP_S3_SECRET_KEY_{name}": secrets[f"CQP_S3_SECRET_KEY_{name}"]}


async def cqp(system, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`cqp ARGS` as the system's operator, with more environment (S3 keys, CQP_TOKEN)."""
    environment = {**system["gateway"].env, **system.operator_env(), **env}

    def run():
        return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=180)

    return await asyncio.to_thread(run)


def bucket(system) -> ObjectStore:
    return ObjectStore.from_settings(s3_settings("candidacy").model_copy(update={"s3_prefix": system.prefix}))


def drifts(verified: subprocess.CompletedProcess) -> list[str]:
    return [line for line in verified.stdout.splitlines() if line.startswith("DRIFT")]


def operator_settings(system) -> Settings:
    return Settings(postgres_dsn=system.dsn, cipher_key=system["candidacy"].env["CQP_CIPHER_KEY"],
                    topic_prefix=system.prefix)


def object_keys(system, candidacy_id: str) -> dict[str, str]:
    """document id → its object's key, as the store records it."""
    app = store.open_store("candidacy", operator_settings(system))
    try:
        return {e.document_id: e.object_key for e in app.events.get(uuid.UUID(candidacy_id))
                if isinstance(e, Candidacy.DocumentAttached)}
    finally:
        app.close()


async def backdate(system, candidacy_id: str, document_id: str, days: int) -> None:
    """Rewrites the document's DocumentAttached in the store as recorded `days` ago (see the module's docstring)."""
    app = store.open_store("candidacy", operator_settings(system))
    try:
        event = next(e for e in app.events.get(uuid.UUID(candidacy_id))
                     if isinstance(e, Candidacy.DocumentAttached) and e.document_id == document_id)
        older = copy.copy(event)
        object.__setattr__(older, "timestamp", event.timestamp - timedelta(days=days))
        stored = app.mapper.to_stored_event(older)
    finally:
        app.close()
    await system.sql('UPDATE "candidacy"."candidacy_events" SET state = $1 WHERE originator_id = $2'
                     " AND originator_version = $3", stored.state, stored.originator_id, stored.originator_version)


async def test_verify_checks_every_documents_object_missing_altered_and_orphans(system):
    await system.start()
    candidacy_id = await candidacy(system)
    livret, support, identity = (await attach(system, candidacy_id, "LIVRET_1", "l1"),
                                 await attach(system, candidacy_id, "LIVRET_1_SUPPORT", "s1"),
                                 await attach(system, candidacy_id, "IDENTITY_DOCUMENT", "id1"))

    verified = await cqp(system, "verify", **s3_env())
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "candidacy documents: 3 recorded documents checked against 3 objects" in verified.stdout
    # Without a key for the bucket, recorded documents are not taken as verified.
    unkeyed = await cqp(system, "verify", "--wait", "5")
    assert unkeyed.returncode == 1 and "3 recorded document(s) unverified" in unkeyed.stdout
    # The root's key reads every bucket: verify takes it when the service's own is not given.
    secrets = _secrets("CQP_TEST_S3_SECRETS")
    as_admin = await cqp(system, "verify", "--wait", "5", CQP_S3_ACCESS_KEY_ADMIN=secrets["CQP_S3_ACCESS_KEY_ADMIN"],
                         CQP_S3_SECRET_KEY_ADMIN=secrets["CQP_S3_SECRET_KEY_ADMIN"])
    assert as_admin.returncode == 0, as_admin.stdout

    keys = object_keys(system, candidacy_id)
    orphan = f"candidacies/{candidacy_id}/{uuid.uuid4()}"
    async with bucket(system) as objects:
        await objects.delete(keys[livret])
        await objects.put(keys[support], b"%PDF-1.4 other bytes under the same key")
        await objects.put(orphan, b"left by a crash")
        assert await objects.get(keys[identity])  # untouched

    verified = await cqp(system, "verify", "--wait", "5", **s3_env())
    assert verified.returncode == 1
    found = drifts(verified)
    assert len(found) == 3, verified.stdout
    missing = next(d for d in found if "object is missing" in d)
    assert f"{candidacy_id}/{livret}" in missing and "1 document(s)" in missing
    altered = next(d for d in found if "SHA-256 differs" in d)
    assert f"{candidacy_id}/{support}" in altered and identity not in altered
    orphans = next(d for d in found if "orphans" in d)
    assert orphan in orphans and "1 object(s)" in orphans
    assert "3 drift(s)" in verified.stdout


async def test_purge_applies_the_keeping_periods_and_verify_no_longer_expects_the_objects(system):
    await system.start()
    candidacy_id = await candidacy(system)
    livret = await attach(system, candidacy_id, "LIVRET_1", "l1")  # kept 5 years
    identity = await attach(system, candidacy_id, "IDENTITY_DOCUMENT", "id1")  # kept 1 year
    token = await system.token()
    today = date.today()

    # Nothing is due today: a purge sends nothing, and the service refuses one ahead of time.
    purged = await cqp(system, "documents", "purge", "--kept-until", today.isoformat(), CQP_TOKEN=token, **s3_env())
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert purged.stdout.splitlines() == [f"candidacy: 0 document(s) purged, 2 kept (their keeping period not ended"
                                          f" on {today.isoformat()})"]
    early = await system.command("candidacy", "purge-document", {"candidacy_id": candidacy_id, "document_id": identity,
                                                                 "kept_until": today.isoformat()}, "early")
    assert early.status_code == 409 and early.json()["error"]["type"] == "DocumentNotDue", early.text
    assert early.json()["error"]["details"]["purge_day"] == purge_day(DocumentKind.IDENTITY_DOCUMENT, today).isoformat()
    ahead = await system.command("candidacy", "purge-document", {"candidacy_id": candidacy_id, "document_id": identity,
                                                                 "kept_until": (today + timedelta(days=1)).isoformat()},
                                 "ahead")
    assert ahead.status_code == 400, ahead.text
    future = await cqp(system, "documents", "purge", "--kept-until", (today + timedelta(days=1)).isoformat(),
                       CQP_TOKEN=token)
    assert future.returncode == 2 and "a day to come" in future.stderr
    # Only the platform's operator purges.
    centre = await system.token("SOMEORG", "evaluator")
    refused = await system.command("candidacy", "purge-document", {"candidacy_id": candidacy_id, "document_id": identity,
                                                                   "kept_until": today.isoformat()}, "c", token=centre)
    assert refused.status_code in (403, 404), refused.text

    # Attached 400 days ago: the identity document's year is over, the Livret's five are not.
    await backdate(system, candidacy_id, identity, 400)
    await backdate(system, candidacy_id, livret, 400)
    keys = object_keys(system, candidacy_id)
    # Its year ended about 35 days ago: on a day 40 days ago, nothing was due yet.
    none_yet = await cqp(system, "documents", "purge", "--kept-until", (today - timedelta(days=40)).isoformat(),
                         CQP_TOKEN=token)
    assert "0 document(s) purged, 2 kept" in none_yet.stdout, none_yet.stdout

    purged = await cqp(system, "documents", "purge", "--kept-until", today.isoformat(), CQP_TOKEN=token, **s3_env())
    assert purged.returncode == 0, purged.stdout + purged.stderr
    lines = purged.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"purged candidacy {candidacy_id}/{identity} (IDENTITY_DOCUMENT"), lines
    assert "1 document(s) purged, 1 kept" in lines[1]
    async with bucket(system) as objects:
        assert keys[identity] not in await objects.keys()
        assert keys[livret] in await objects.keys()

    # The purge stays in the history; a document purged is no longer read, nor purged again.
    history = [type(e).__name__ for e in _events(system, candidacy_id)]
    assert history[-1] == "DocumentPurged" and history.count("DocumentAttached") == 2
    again = await system.command("candidacy", "purge-document", {"candidacy_id": candidacy_id, "document_id": identity,
                                                                 "kept_until": today.isoformat()}, "again")
    assert again.status_code == 409 and again.json()["error"]["type"] == "Conflict"
    # Sent again with its key (a replay), the purge deletes again: harmless.
    replay = await system.command("candidacy", "purge-document", {"candidacy_id": candidacy_id, "document_id": identity,
                                                                  "kept_until": today.isoformat()}, f"purge.{identity}")
    assert replay.status_code == 200, replay.text
    # A second run finds nothing more to do.
    rerun = await cqp(system, "documents", "purge", "--kept-until", today.isoformat(), CQP_TOKEN=token, **s3_env())
    assert rerun.stdout.splitlines()[-1].startswith("candidacy: 0 document(s) purged, 1 kept"), rerun.stdout

    verified = await cqp(system, "verify", **s3_env())
    assert "candidacy documents: 1 recorded documents checked against 1 objects in cqp-candidacy (1 purged)" \
        in verified.stdout, verified.stdout
    # The only drift: the two events this test rewrote in the store (module docstring).
    assert [d for d in drifts(verified)] == [d for d in drifts(verified) if "another content than the store's" in d]
    assert len(drifts(verified)) == 1 and "2 event(s)" in drifts(verified)[0], verified.stdout


async def test_a_purge_lost_half_way_is_finished_by_the_next_run(system):
    """The purge recorded but its object left in the bucket (the deletion failed after the commit): verify says
    so, and the next `cqp documents purge` sends the same purge again, whose replay deletes it."""
    await system.start()
    candidacy_id = await candidacy(system)
    identity = await attach(system, candidacy_id, "IDENTITY_DOCUMENT", "id1")
    await backdate(system, candidacy_id, identity, 400)
    key = object_keys(system, candidacy_id)[identity]
    async with bucket(system) as objects:
        sealed = await objects.get(key)
    token = await system.token()
    purged = await cqp(system, "documents", "purge", "--kept-until", date.today().isoformat(), CQP_TOKEN=token)
    assert purged.returncode == 0 and "1 document(s) purged" in purged.stdout, purged.stdout
    async with bucket(system) as objects:
        await objects.put(key, sealed)  # as if the deletion had failed

    verified = await cqp(system, "verify", "--wait", "5", **s3_env())
    assert any("purged, but their object is still stored" in d and identity in d for d in drifts(verified)), \
        verified.stdout
    again = await cqp(system, "documents", "purge", "--kept-until", date.today().isoformat(), CQP_TOKEN=token,
                      **s3_env())
    assert f"purged candidacy {candidacy_id}/{identity}" in again.stdout and "deleted again" in again.stdout, again.stdout
    async with bucket(system) as objects:
        assert key not in await objects.keys()


def _events(system, candidacy_id: str) -> list:
    app = store.open_store("candidacy", operator_settings(system))
    try:
        return list(app.events.get(uuid.UUID(candidacy_id)))
    finally:
        app.close()


# --- the aggregate's rule, on facts built by hand ---

def _candidacy_with(kind: DocumentKind) -> Candidacy:
    candidacy = Candidacy(candidate_id="p", certification=CODE, version=1, route="VAE", blocks=[], evaluator_id="o",
                          trainer_id=None, employer_id=None, experience=[])
    candidacy._document_attached(document_id="d1", kind=kind, version=1, supersedes=None, object_key="candidacies/c/o",
                                 size=1, media_type="application/pdf", sha256="0" * 64, sealed_sha256="0" * 64,
                                 personal="")
    return candidacy


@pytest.mark.parametrize("attached_on, kept_until, today, refusal", [
    (date(2020, 3, 1), date(2025, 3, 1), date(2026, 1, 1), None),  # five years, to the day
    (date(2020, 3, 1), date(2025, 2, 28), date(2026, 1, 1), DocumentNotDue),
    (date(2020, 3, 1), date(2026, 1, 2), date(2026, 1, 1), InvalidInput),  # a day to come
])
def test_a_livret_is_purged_once_its_five_years_ended_on_a_day_that_has_come(attached_on, kept_until, today, refusal):
    with acting(CommandContext.new(Actor(user_id="op", organisation_id="platform", role="platform-admin"), "k")):
        _purge(attached_on, kept_until, today, refusal)


def _purge(attached_on, kept_until, today, refusal):
    candidacy = _candidacy_with(DocumentKind.LIVRET_1)
    facts = PurgingFacts(owners=frozenset(), today=today, attached_on=attached_on)
    if refusal is None:
        assert candidacy.purge_document("d1", kept_until, facts) == "candidacies/c/o"
        with pytest.raises(Conflict):
            candidacy.purge_document("d1", kept_until, facts)
    else:
        with pytest.raises(refusal):
            candidacy.purge_document("d1", kept_until, facts)
        assert not candidacy.documents["d1"].get("purged")
