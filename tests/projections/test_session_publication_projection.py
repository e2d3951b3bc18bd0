"""A session's close and the publication of its results (services/gateway/schema/jury/projection.py), and what they
show (scopes.published): events in, rows out, then the rows each caller's loaders read."""

import json
import uuid
from datetime import date

from shared.contracts import jury as j
from shared.identity import Caller
from shared.vocabulary import DocumentKind
from services.gateway.schema.documents.loaders import documents_loaders
from services.gateway.schema.jury.loaders import jury_loaders

from tests.projections.conftest import apply, envelope
from tests.projections.test_documents_projection import Reading

CENTRE = Caller(user_id="e", organisation_id="centre", roles=frozenset({"evaluator"}))
SECRETARY = Caller(user_id="s", organisation_id="uimm", roles=frozenset({"jury-secretary"}), branches=("UIMM",))
OTHER_BRANCH = Caller(user_id="o", organisation_id="leem", roles=frozenset({"jury-secretary"}), branches=("LEEM",))


async def awarded(db):
    session, candidacy, candidate = str(uuid.uuid4()), uuid.uuid4(), str(uuid.uuid4())
    await db.execute(
        "INSERT INTO candidacies (id, candidate_id, certification, version, route, status, evaluator_id, blocks,"
        " opened_at, updated_at) VALUES ($1, $2::uuid, 'CQPM0264', 1, 'TRAINING', 'OPEN', 'centre', '{}', now(), now())",
        candidacy, candidate)
    pdf = str(uuid.uuid4())
    await apply(db, j.TOPIC, *[envelope(fact, session) for fact in (
        j.JurySessionScheduled(session_id=session, branch="UIMM", certifications=["CQPM0264"], on=date(2026, 5, 4),
                               place="Lyon", remote=False, capacity=10),
        j.CandidacyPresented(session_id=session, candidacy_id=str(candidacy), blocks=["B1"]),
        j.JuryDecided(session_id=session, candidacy_id=str(candidacy), candidate_id=candidate,
                      certification="CQPM0264", version=1, decision="FULL_AWARD", blocks_acquired=["B1"],
                      members_present=["m1", "m2"], votes={"for": 2}, decided_on=date(2026, 5, 4)),
        j.CertificateIssued(number="CQPM0264-1", kind="CERTIFICATE", candidate_id=candidate,
                            candidacy_id=str(candidacy), certification="CQPM0264", version=1, blocks=["B1"],
                            awarded_on=date(2026, 5, 4), session_id=session),
        j.DocumentAttached(document_id=pdf, kind=DocumentKind.CERTIFICATE_PDF, candidacy_id=str(candidacy),
                           block=None, session_id=session, version=1, supersedes=None, size=10,
                           media_type="application/pdf", sha256="ab" * 32))])
    return session, str(candidacy), pdf


async def results(db, caller, candidacy) -> tuple[int, int, set[str]]:
    """What the caller's loaders read of the candidacy: its decisions, certificates, and documents."""
    async def who():
        return caller

    loaders = jury_loaders(db, people=None, caller=who)
    decisions = await loaders["decisions_of_candidacy"].load(candidacy)
    certificates = await loaders["certificates_of_candidacy"].load(candidacy)
    documents = await documents_loaders(Reading(db, caller))["documents_of_candidacy"].load(candidacy)
    return len(decisions), len(certificates), {d["id"] for d in documents}


async def test_a_closed_sessions_row_keeps_its_day_and_minutes(db):
    session, _, _ = await awarded(db)
    await apply(db, j.TOPIC, envelope(j.SessionClosed(session_id=session, president="m1", closed_on=date(2026, 5, 4),
                                                      minutes="min-1", sha256="cd" * 32, members_present=["m1", "m2"]),
                                      session))
    row = await db.fetchrow("SELECT * FROM jury_sessions WHERE id = $1::uuid", session)
    assert (row["closed_on"], row["minutes"], row["published_at"]) == (date(2026, 5, 4), "min-1", None)


async def test_until_published_only_the_sessions_jury_side_sees_its_decisions_certificates_and_pdfs(db):
    session, candidacy, pdf = await awarded(db)
    assert await results(db, SECRETARY, candidacy) == (1, 1, {pdf})
    assert await results(db, CENTRE, candidacy) == (0, 0, set())
    assert await results(db, OTHER_BRANCH, candidacy) == (0, 0, set())


async def test_published_results_show_to_the_candidacys_organisations_and_unpublished_ones_hide_again(db):
    session, candidacy, pdf = await awarded(db)
    await apply(db, j.TOPIC, envelope(j.SessionResultsPublished(session_id=session, published_on=date(2026, 5, 5)),
                                      session))
    assert await db.fetchval("SELECT published_at FROM jury_sessions WHERE id = $1::uuid", session) is not None
    assert await results(db, CENTRE, candidacy) == (1, 1, {pdf})
    await apply(db, j.TOPIC, envelope(j.SessionResultsUnpublished(session_id=session, reason="erreur de saisie"),
                                      session))
    row = await db.fetchrow("SELECT * FROM jury_sessions WHERE id = $1::uuid", session)
    [unpublication] = json.loads(row["unpublications"])
    assert (row["published_at"], unpublication["reason"], unpublication["by"]["user_id"]) == \
        (None, "erreur de saisie", "alice")
    assert await results(db, CENTRE, candidacy) == (0, 0, set())
