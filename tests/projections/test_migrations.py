"""shared/migrations.py on a real PostgreSQL: numbered changes, each applied once."""

import asyncpg
import pytest

from shared.migrations import Migration, migrate, numbered
from tests.harness import fresh_database, infrastructure

from services.gateway import readmodels


@pytest.fixture
async def conn():
    _, dsn = infrastructure()
    conn = await asyncpg.connect(await fresh_database(dsn))
    await conn.execute("CREATE SCHEMA m; SET search_path TO m")
    yield conn
    await conn.close()


async def test_each_numbered_change_is_applied_once_and_a_later_start_applies_only_the_new_ones(conn):
    first = numbered("things", "CREATE TABLE things (id int)")
    assert await migrate(conn, first) == first
    assert await migrate(conn, first) == []
    later = numbered("things", "CREATE TABLE things (id int)", "ALTER TABLE things ADD COLUMN name text")
    assert await migrate(conn, later) == later[1:]
    await conn.execute("INSERT INTO things (id, name) VALUES (1, 'a')")
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE feature = 'things'") == 2


async def test_a_failing_change_applies_nothing_of_the_batch(conn):
    broken = [Migration("a", 1, "CREATE TABLE a (id int)"), Migration("b", 1, "CREATE TABLE nope (")]
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await migrate(conn, broken)
    assert await conn.fetchval("SELECT to_regclass('m.a')") is None


async def test_read_models_made_before_their_changes_were_numbered_are_taken_over_as_they_are(conn):
    for migration in readmodels.MIGRATIONS:  # as the gateway once ran them, unnumbered
        await conn.execute(migration.sql)
    await conn.execute("INSERT INTO branches (code, name, idcc, cpne, created_at) VALUES ('B', 'b', '{}', 'c', now())")
    assert await migrate(conn, readmodels.MIGRATIONS) == readmodels.MIGRATIONS
    assert await conn.fetchval("SELECT count(*) FROM branches") == 1
