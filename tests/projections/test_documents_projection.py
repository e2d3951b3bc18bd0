"""services/gateway/schema/documents/projection.py: each document attached, as its event says, from the topic of
the service that holds its bytes; a new version marks the one it supersedes."""

import uuid
from datetime import UTC, date, datetime

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
        "attached_by_organisation": ACTOR["organisation_id"], "attached_by_role": ACTOR["role"], "purged_at": None,
        "certificate": None, "credential": None}


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


def certificate_documents(candidacy, number: str, pdf_id: str, award_id: str, block_id: str):
    from shared.contracts import jury as j

    common = {"candidacy_id": str(candidacy), "session_id": None, "version": 1, "supersedes": None, "size": 900,
              "sha256": SHA, "certificate": number}
    return [
        j.DocumentAttached(document_id=pdf_id, kind=DocumentKind.CERTIFICATE_PDF, block=None,
                           media_type="application/pdf", **common),
        j.DocumentAttached(document_id=award_id, kind=DocumentKind.CREDENTIAL, block=None,
                           media_type="application/vc+jwt", **common,
                           credential=j.IssuedCredential(id="urn:uuid:award", block="", achievement="CQPM0264 Tourier",
                                                         valid_from=date(2026, 6, 12), valid_until=None)),
        j.DocumentAttached(document_id=block_id, kind=DocumentKind.CREDENTIAL, block="RNCP1BC02",
                           media_type="application/vc+jwt", **common,
                           credential=j.IssuedCredential(id="urn:uuid:block", block="RNCP1BC02",
                                                         achievement="RNCP1BC02 Façonner", valid_from=date(2026, 3, 2),
                                                         valid_until=date(2031, 3, 2)))]


async def test_a_certificates_pdf_and_credentials_are_kept_with_their_certificate_and_what_each_credential_says(db):
    from shared.contracts import jury as j
    from services.gateway.schema.documents.types import credentials

    candidacy, ids = uuid.uuid4(), [str(uuid.uuid4()) for _ in range(3)]
    await apply(db, j.TOPIC, *[envelope(f, candidacy) for f in certificate_documents(candidacy, "N-1", *ids)])
    rows = {r["id"]: r for r in await db.fetch("SELECT * FROM documents")}
    assert [(rows[i]["kind"], rows[i]["block"], rows[i]["certificate"]) for i in ids] == [
        ("CERTIFICATE_PDF", None, "N-1"), ("CREDENTIAL", None, "N-1"), ("CREDENTIAL", "RNCP1BC02", "N-1")]
    assert rows[ids[0]]["credential"] is None
    said = [(c.number, c.block, c.credential_id, c.achievement, c.valid_from, c.valid_until, c.download_url())
            for c in credentials(rows.values())]
    assert sorted(said, key=lambda c: c[2]) == [
        ("N-1", None, "urn:uuid:award", "CQPM0264 Tourier", date(2026, 6, 12), None, f"/documents/{ids[1]}"),
        ("N-1", "RNCP1BC02", "urn:uuid:block", "RNCP1BC02 Façonner", date(2026, 3, 2), date(2031, 3, 2),
         f"/documents/{ids[2]}")]


async def test_a_jury_document_of_version_1_is_kept_with_no_certificate(db):
    from shared.contracts import jury as j

    candidacy, document = uuid.uuid4(), str(uuid.uuid4())
    v1 = {"document_id": document, "kind": "CERTIFICATE_PDF", "candidacy_id": str(candidacy), "block": None,
          "session_id": None, "version": 1, "supersedes": None, "size": 900, "media_type": "application/pdf",
          "sha256": SHA}
    await apply(db, j.TOPIC, envelope(j.DocumentAttached(**v1), candidacy, version=1, payload=v1))
    row = await db.fetchrow("SELECT kind, certificate, credential FROM documents WHERE id = $1", document)
    assert tuple(row) == ("CERTIFICATE_PDF", None, None)


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


async def test_a_persons_certificate_documents_across_candidacies_show_where_the_caller_reads_each_candidacy(db):
    from shared.contracts import jury as j
    from shared.identity import Caller
    from services.gateway.schema.documents.loaders import documents_loaders

    person, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for candidacy, centre in ((first, "centre"), (second, "other-centre")):
        await db.execute(
            "INSERT INTO candidacies (id, candidate_id, certification, version, route, status, evaluator_id,"
            " blocks, opened_at, updated_at) VALUES ($1, $2, 'CQPM0264', 1, 'VAE', 'OPEN', $3, '{}', now(), now())",
            candidacy, person, centre)
    mine = [str(uuid.uuid4()) for _ in range(3)]
    theirs = [str(uuid.uuid4()) for _ in range(3)]
    evidence = str(uuid.uuid4())
    await apply(db, j.TOPIC, *[envelope(f, first) for f in certificate_documents(first, "N-1", *mine)],
                *[envelope(f, second) for f in certificate_documents(second, "N-2", *theirs)],
                envelope(j.DocumentAttached(document_id=evidence, kind=DocumentKind.EVALUATION_EVIDENCE,
                                            candidacy_id=str(first), block="B1", session_id=None, version=1,
                                            supersedes=None, size=10, media_type="image/png", sha256=SHA), first))

    async def seen(caller) -> set[str]:
        rows = await documents_loaders(Reading(db, caller))["certificate_documents_of_candidate"].load(str(person))
        assert all(r["candidate_id"] == person for r in rows)
        return {r["id"] for r in rows}

    # Only the certificates' documents (not the evidence), of the candidacies the caller reads.
    assert await seen(Caller(user_id="e", organisation_id="centre", roles=frozenset({"evaluator"}))) == set(mine)
    admin = Caller(user_id="a", organisation_id="platform", roles=frozenset({"platform-admin"}))
    assert await seen(admin) == set()  # the role table gives the platform's admin no reading of certificates
    assert await seen(Caller(user_id="x", organisation_id="elsewhere", roles=frozenset({"evaluator"}))) == set()
