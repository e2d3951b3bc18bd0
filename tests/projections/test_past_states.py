"""services/gateway/asof.py: a past state is the audited events up to the instant replayed through the same
projections, in a transaction that leaves nothing behind."""

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from shared.contracts import catalog as c, jury as j
from shared.envelope import Envelope
from shared.migrations import migrate
from tests.harness import fresh_database, infrastructure
from tests.projections.conftest import ACTOR

from services.gateway import asof, readmodels
from services.gateway.schema.catalog.loaders import catalog_loaders
from services.gateway.schema.jury.loaders import jury_loaders

START = datetime(2026, 5, 4, 9, tzinfo=UTC)


@pytest.fixture
async def pool():
    _, dsn = infrastructure()
    fresh = await fresh_database(dsn)
    conn = await asyncpg.connect(fresh)
    await conn.execute("CREATE SCHEMA readmodels")
    await conn.execute("SET search_path TO readmodels")
    await migrate(conn, readmodels.MIGRATIONS)
    await conn.close()
    # As the gateway's pools: the read models' schema first, no prepared statements kept.
    pool = await asyncpg.create_pool(fresh, min_size=1, max_size=1, statement_cache_size=0,
                                     server_settings={"search_path": "readmodels"})
    yield pool
    await pool.close()


def published(topic: str, aggregate_id: str, facts) -> list[Envelope]:
    """The events of one aggregate as the relay publishes them, a minute apart from START."""
    return [Envelope(event_id=uuid.uuid4(), type=f.event_type, version=f.contract_version,
                     producer=topic.split(".")[1], position=n, aggregate_id=aggregate_id, aggregate_version=n,
                     occurred_at=START + timedelta(minutes=n), actor=ACTOR, correlation_id="corr",
                     causation_id="cause", payload=f.model_dump(mode="json"))
            for n, f in enumerate(facts, start=1)]


async def session_rows(conn, session: str) -> tuple:
    """What GraphQL reads of a session: its row, presentations and decisions (the request's own queries)."""
    loaders = jury_loaders(conn, people=None)
    row = await conn.fetchrow("SELECT * FROM jury_sessions WHERE id = $1::uuid", session)
    return (dict(row) if row else None, [dict(r) for r in await asof.read(loaders["presentations"], session)],
            [dict(r) for r in await asof.read(loaders["decisions_of_session"], session)])


def session_events(session: str, candidacy: str) -> list[Envelope]:
    return published(j.TOPIC, session, [
        j.JurySessionScheduled(session_id=session, branch="UIMM", certifications=["CQPM0264"], on=date(2026, 5, 4),
                               place="Lyon", remote=False, capacity=10),
        j.JuryMemberAppointed(session_id=session, member_id="m1", personal="sealed", college="EMPLOYER",
                              role="PRESIDENT"),
        j.CandidacyPresented(session_id=session, candidacy_id=candidacy, blocks=["B1", "B2"]),
        j.JuryDecided(session_id=session, candidacy_id=candidacy, candidate_id=str(uuid.uuid4()),
                      certification="CQPM0264", version=1, decision="PARTIAL_VALIDATION", blocks_acquired=["B1"],
                      members_present=["m1"], votes={"for": 1}, decided_on=date(2026, 5, 4)),
        j.DecisionCorrected(session_id=session, candidacy_id=candidacy, previous="PARTIAL_VALIDATION",
                            decision="FULL_AWARD", reason="clerical error", blocks_acquired=["B1", "B2"]),
    ])


async def apply_one(pool, topic: str, e: Envelope) -> None:
    """As the inbox does: the audit log, then every feature's handler of the topic, in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await readmodels.PROJECTIONS[topic](conn, e)


async def test_a_past_session_is_the_rows_its_projection_wrote_at_that_instant(pool):
    session, candidacy = str(uuid.uuid4()), str(uuid.uuid4())
    today = []  # the rows the live projection wrote after each event
    for e in session_events(session, candidacy):
        await apply_one(pool, j.TOPIC, e)
        async with pool.acquire() as conn:
            today.append(await session_rows(conn, session))
    async with asof.replayed(pool, asof.JURY_SESSION, session, START) as replay:
        conn = replay.conn
        assert await session_rows(conn, session) == (None, [], [])  # before it existed
    for n, expected in enumerate(today, start=1):
        for instant in (START + timedelta(minutes=n), START + timedelta(minutes=n, seconds=59)):
            async with asof.replayed(pool, asof.JURY_SESSION, session, instant) as replay:
                conn = replay.conn
                assert await session_rows(conn, session) == expected, n
    assert today[3][0]["status"] == "HELD" and today[4][2][0]["decision"] == "FULL_AWARD"  # it did change


async def test_a_past_certification_has_the_title_and_versions_it_had_then(pool):
    certification, code = str(uuid.uuid4()), "RNCP99901"
    settings = c.VersionSettings(vae_min_experience_months=12, block_validity_months=None, jury_quorum=2,
                                 jury_rule="PARITAIRE")
    block = c.Block(code="B1", title="Bloc", competences=None, modalities=None)
    events = published(c.TOPIC, certification, [
        c.CertificationCreated(code=code, kind="CQPM", title="Avant", owners=["UIMM"]),
        c.ReferentialVersionPublished(code=code, version=1, effective_from=date(2026, 1, 1), blocks=[block],
                                      settings=settings),
        c.CertificationRetitled(code=code, title="Après"),
    ])
    today = []
    for e in events:
        await apply_one(pool, c.TOPIC, e)
        async with pool.acquire() as conn:
            loaders = catalog_loaders(conn)
            today.append((dict(await asof.read(loaders["certification"], code)),
                          [dict(v) for v in await asof.read(loaders["versions"], code)]))
    for n, expected in enumerate(today, start=1):
        async with asof.replayed(pool, asof.CERTIFICATION, certification, START + timedelta(minutes=n)) as replay:
            conn = replay.conn
            loaders = catalog_loaders(conn)
            assert (dict(await asof.read(loaders["certification"], code)),
                    [dict(v) for v in await asof.read(loaders["versions"], code)]) == expected, n
    assert (today[0][0]["title"], today[0][1], today[2][0]["title"]) == ("Avant", [], "Après")


async def read_models(pool) -> dict:
    async with pool.acquire() as conn:
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'readmodels' ORDER BY tablename")]
        return {t: sorted(map(str, await conn.fetch(f"SELECT * FROM readmodels.{t}"))) for t in tables}


async def test_nothing_of_a_past_state_stays_in_the_read_models_and_it_cannot_write_them(pool):
    session, candidacy = str(uuid.uuid4()), str(uuid.uuid4())
    events = session_events(session, candidacy)
    for e in events[:3]:
        await apply_one(pool, j.TOPIC, e)
    before = await read_models(pool)
    async with asof.replayed(pool, asof.JURY_SESSION, session, START + timedelta(minutes=2)) as replay:
        conn = replay.conn
        assert (await session_rows(conn, session))[1] == []  # the replay's own presentations: none yet
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):  # a table not shadowed cannot be written
            await conn.execute("DELETE FROM readmodels.jury_sessions")
    async with asof.replayed(pool, asof.JURY_SESSION, session, START + timedelta(minutes=2)) as replay:
        conn = replay.conn
        await conn.fetchval("SELECT 1")
    assert await read_models(pool) == before
    async with pool.acquire() as conn:  # the same connection, its shadows gone: today's rows again
        assert await conn.fetchval("SELECT count(*) FROM pg_class WHERE relpersistence = 't'") == 0
        assert len((await session_rows(conn, session))[1]) == 1


async def test_a_past_state_replaying_more_events_than_its_cost_counts_is_refused(pool, monkeypatch):
    session = str(uuid.uuid4())
    for e in session_events(session, str(uuid.uuid4())):
        await apply_one(pool, j.TOPIC, e)
    monkeypatch.setattr(asof, "MAX_EVENTS", 4)
    with pytest.raises(asof.PastTooLong) as refused:
        async with asof.replayed(pool, asof.JURY_SESSION, session, START + timedelta(hours=1)):
            pass
    assert refused.value.extensions["code"] == "PastTooLong"
    async with asof.replayed(pool, asof.JURY_SESSION, session, START + timedelta(minutes=4)) as replay:
        conn = replay.conn
        assert (await session_rows(conn, session))[0]["status"] == "HELD"
