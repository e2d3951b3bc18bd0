"""services/gateway/schema/documents/projection.py: each document attached, as its event says, from the topic of
the service that holds its bytes; a new version marks the one it supersedes."""

import uuid
from datetime import UTC, datetime

from shared.contracts import candidacy as c
from shared.vocabulary import DocumentKind

from tests.projections.conftest import ACTOR, apply, envelope

SHA = "ab" * 32


def attached(candidacy_id, document_id: str, kind=DocumentKind.LIVRET_1, version: int = 1,
             supersedes: str | None = None) -> c.DocumentAttached:
    return c.DocumentAttached(candidacy_id=str(candidacy_id), document_id=document_id, kind=kind, version=version,
                              supersedes=supersedes, size=1234, media_type="application/pdf", sha256=SHA)


async def test_a_candidacys_paper_is_kept_with_its_facts_its_service_and_who_attached_it_when(db):
    candidacy, document, at = uuid.uuid4(), str(uuid.uuid4()), datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    await apply(db, c.TOPIC, envelope(attached(candidacy, document), candidacy, at=at))
    row = dict(await db.fetchrow("SELECT * FROM documents WHERE id = $1", document))
    assert row == {
        "id": document, "service": "candidacy", "kind": "LIVRET_1", "candidacy_id": candidacy, "block": None,
        "session_id": None, "version": 1, "supersedes": None, "superseded_by": None, "size": 1234,
        "media_type": "application/pdf", "sha256": SHA, "attached_at": at, "attached_by_user": ACTOR["user_id"],
        "attached_by_organisation": ACTOR["organisation_id"], "attached_by_role": ACTOR["role"], "purged_at": None}


async def test_a_new_version_supersedes_the_one_it_names_and_both_stay(db):
    candidacy, first, second = uuid.uuid4(), str(uuid.uuid4()), str(uuid.uuid4())
    await apply(db, c.TOPIC, envelope(attached(candidacy, first), candidacy),
                envelope(attached(candidacy, second, version=2, supersedes=first), candidacy))
    rows = {r["id"]: r for r in await db.fetch("SELECT * FROM documents WHERE candidacy_id = $1", candidacy)}
    assert (rows[first]["version"], rows[first]["superseded_by"]) == (1, second)
    assert (rows[second]["version"], rows[second]["supersedes"], rows[second]["superseded_by"]) == (2, first, None)


async def test_a_purged_document_keeps_its_row_marked_with_when_its_bytes_went(db):
    candidacy, document = uuid.uuid4(), str(uuid.uuid4())
    at = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)
    await apply(db, c.TOPIC, envelope(attached(candidacy, document), candidacy),
                envelope(c.DocumentPurged(candidacy_id=str(candidacy), document_id=document,
                                          kept_until=datetime(2031, 3, 2).date()), candidacy, at=at))
    row = await db.fetchrow("SELECT kind, purged_at FROM documents WHERE id = $1", document)
    assert (row["kind"], row["purged_at"]) == ("LIVRET_1", at)


async def test_papers_of_several_kinds_are_rows_of_their_own(db):
    candidacy = uuid.uuid4()
    kinds = [DocumentKind.LIVRET_1, DocumentKind.LIVRET_1_SUPPORT, DocumentKind.LIVRET_1_SUPPORT,
             DocumentKind.IDENTITY_DOCUMENT]
    await apply(db, c.TOPIC, *[envelope(attached(candidacy, str(uuid.uuid4()), kind), candidacy) for kind in kinds])
    found = await db.fetch("SELECT kind FROM documents WHERE candidacy_id = $1 ORDER BY kind", candidacy)
    assert sorted(r["kind"] for r in found) == sorted(kinds)


async def test_a_reading_changes_no_row_and_other_events_make_none(db):
    candidacy, document = uuid.uuid4(), str(uuid.uuid4())
    await apply(db, c.TOPIC, envelope(attached(candidacy, document), candidacy),
                envelope(c.DocumentRead(candidacy_id=str(candidacy), document_id=document), candidacy),
                envelope(c.CandidacyWithdrawn(candidacy_id=str(candidacy), status="WITHDRAWN", reason="r"), candidacy))
    assert await db.fetchval("SELECT count(*) FROM documents") == 1


async def test_the_jurys_evidence_and_session_papers_are_kept_with_their_owner_and_block(db):
    from shared.contracts import jury as j

    candidacy, session, evidence, minutes = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4()), str(uuid.uuid4())
    common = {"version": 1, "supersedes": None, "size": 10, "media_type": "image/png", "sha256": SHA}
    await apply(db, j.TOPIC,
                envelope(j.DocumentAttached(document_id=evidence, kind=DocumentKind.EVALUATION_EVIDENCE,
                                            candidacy_id=str(candidacy), block="B2", session_id=None, **common)),
                envelope(j.DocumentAttached(document_id=minutes, kind=DocumentKind.JURY_MINUTES, candidacy_id=None,
                                            block=None, session_id=str(session), **common), session))
    rows = {r["id"]: r for r in await db.fetch("SELECT * FROM documents")}
    assert (rows[evidence]["service"], rows[evidence]["candidacy_id"], rows[evidence]["block"]) == ("jury", candidacy, "B2")
    assert (rows[minutes]["service"], rows[minutes]["session_id"], rows[minutes]["candidacy_id"]) == ("jury", session, None)


class Reading:
    """A request's context as the documents' loaders see it: a caller, and the database."""

    def __init__(self, conn, caller):
        self.pool, self._caller = conn, caller

    async def caller(self):
        return self._caller


async def test_a_candidacys_documents_show_only_the_kinds_whose_read_row_reaches_the_caller(db):
    from shared.identity import Caller
    from services.gateway.schema.documents.loaders import documents_loaders

    candidacy = uuid.uuid4()
    await db.execute(
        "INSERT INTO candidacies (id, candidate_id, certification, version, route, status, evaluator_id, trainer_id,"
        " blocks, opened_at, updated_at) VALUES ($1, $2, 'CQPM0264', 1, 'VAE', 'OPEN', 'centre', 'school', '{}',"
        " now(), now())", candidacy, uuid.uuid4())
    livret, identity = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(db, c.TOPIC, envelope(attached(candidacy, livret), candidacy),
                envelope(attached(candidacy, identity, DocumentKind.IDENTITY_DOCUMENT), candidacy))

    async def seen(caller) -> set[str]:
        rows = await documents_loaders(Reading(db, caller))["documents_of_candidacy"].load(str(candidacy))
        return {r["id"] for r in rows}

    # The evaluation centre reads the VAE papers (read-vae-paper: evaluated), not the identity document.
    assert await seen(Caller(user_id="e", organisation_id="centre", roles=frozenset({"evaluator"}))) == {livret}
    # The training organisation reads the candidacy but none of its papers; another centre nothing.
    assert await seen(Caller(user_id="t", organisation_id="school", roles=frozenset({"trainer"}))) == set()
    assert await seen(Caller(user_id="o", organisation_id="other", roles=frozenset({"evaluator"}))) == set()
