"""The local servers of scripts/dev and scripts/test (deploy/postgres, deploy/keycloak) start again after their
state was deleted, keep their files to their owner, and say what they wait for.

PostgreSQL runs as an unprivileged user; a checkout that user cannot reach (a `mktemp -d` folder, root's home)
has its server's files moved to /var/tmp. Deleting the state folder (as `scripts/test` does at every run)
must take them along: the next start makes a new server with new passwords. Runs on its own port and in
temporary folders, beside the tests' own servers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import pytest

from shared.cli import ROOT

POSTGRES = ROOT / "deploy" / "postgres" / "postgres.sh"
PORT = 15499  # apart from scripts/dev's and scripts/test's servers

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the server user's folders: the scenario runs as root")


def postgres(*args: str) -> str:
    done = subprocess.run([str(POSTGRES), *args], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.fixture
def private():
    """A folder only root may enter: the server user cannot reach a state folder below it."""
    folder = Path(tempfile.mkdtemp(prefix="cqp-private-"))
    assert folder.stat().st_mode & 0o777 == 0o700
    yield folder
    postgres("remove", str(folder / "state" / "postgres"))
    shutil.rmtree(folder, ignore_errors=True)


async def answers(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


def server_home(data: Path) -> Path:
    return (data / "server").resolve()


async def test_a_deleted_state_folder_takes_its_servers_files_along_and_the_next_start_makes_a_new_server(private):
    data = private / "state" / "postgres"
    first = postgres("start", str(PORT), str(data))
    assert await answers(first)
    home = server_home(data)
    assert home != data and str(home).startswith("/var/tmp/"), "the server user cannot reach the state folder"

    shutil.rmtree(private / "state")  # as scripts/test does, the server still running
    second = postgres("start", str(PORT), str(data))
    assert await answers(second)
    assert second != first, "a new server, with new passwords"
    with pytest.raises(asyncpg.InvalidPasswordError):
        await answers(first)

    postgres("stop", str(data))
    shutil.rmtree(private / "state")  # and once stopped
    third = postgres("start", str(PORT), str(data))
    assert await answers(third)

    postgres("remove", str(data))
    assert not data.exists() and not home.exists(), "remove takes the server's files along"


async def test_the_servers_logs_and_files_are_readable_by_their_owner_only(private):
    data = private / "state" / "postgres"
    dsn = postgres("start", str(PORT), str(data))
    assert await answers(dsn)
    home = server_home(data)
    files = [data / "secrets.env", home / "initdb.log", home / "postgres.log"]
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"


async def test_the_service_roles_cannot_connect_to_the_maintenance_databases(private):
    data = private / "state" / "postgres"
    dsn = postgres("start", str(PORT), str(data))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE ROLE cqp_probe LOGIN PASSWORD 'probe-password'")
    finally:
        await conn.close()
    for database in ("postgres", "template1"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await answers(f"postgresql://cqp_probe:probe-password@127.0.0.1:{PORT}/{database}")
