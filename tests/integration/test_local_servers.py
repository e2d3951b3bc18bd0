"""The local servers of scripts/dev and scripts/test (deploy/postgres, deploy/keycloak) start again after their
state was deleted, keep their files to their owner, and say what they wait for.

PostgreSQL runs as an unprivileged user; a checkout that user cannot reach (a `mktemp -d` folder, root's home)
has its server's files moved to /var/tmp. Deleting the state folder (as `scripts/test` does at every run)
must take them along: the next start makes a new server with new passwords. Runs on its own port and in
temporary folders, beside the tests' own servers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import asyncpg
import pytest

from tools.cli import ROOT
from tests.harness import free_port

POSTGRES = ROOT / "deploy" / "postgres" / "postgres.sh"
PORT = 15499  # apart from scripts/dev's and scripts/test's servers

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="the server user's folders: the scenario runs as root")


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


@root_only
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


@root_only
async def test_the_servers_logs_and_files_are_readable_by_their_owner_only(private):
    data = private / "state" / "postgres"
    dsn = postgres("start", str(PORT), str(data))
    assert await answers(dsn)
    home = server_home(data)
    files = [data / "secrets.env", home / "initdb.log", home / "postgres.log"]
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"


@root_only
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


# --- Keycloak's start, followed through its log ----------------------------------------------------------

KEYCLOAK = ROOT / "deploy" / "keycloak" / "keycloak.sh"
VERSION = next(line.split("=")[1] for line in KEYCLOAK.read_text().splitlines() if line.startswith("version="))

# Stands for the distribution's bin/kc.sh: says a line every half second for a while, then serves the
# realm's discovery document (or never does), as a slow first start of Keycloak would.
FAKE_KC = """#!/usr/bin/env bash
port=""
while [ $# -gt 0 ]; do [ "$1" = --http-port ] && port="$2"; shift; done
for i in $(seq {lines}); do echo "step $i of a slow start"; sleep 0.5; done
[ {serves} = yes ] || while :; do sleep 1; done  # still kc.sh: keycloak.sh finds it to stop it
site="$(dirname "$0")/site" && mkdir -p "$site/realms/cqp/.well-known"
echo '{{}}' >"$site/realms/cqp/.well-known/openid-configuration"
exec python3 -m http.server --bind 127.0.0.1 "$port" --directory "$site"
"""


def keycloak_checkout(folder: Path, lines: int, serves: bool) -> Path:
    """keycloak.sh as checked in, in a copy of the checkout whose cached distribution is the fake above."""
    (folder / "deploy" / "keycloak").mkdir(parents=True)
    shutil.copy2(KEYCLOAK, folder / "deploy" / "keycloak" / "keycloak.sh")
    shutil.copy2(KEYCLOAK.parent / "cqp-realm.json", folder / "deploy" / "keycloak" / "cqp-realm.json")
    cache = folder / ".cache" / "keycloak"
    cache.mkdir(parents=True)
    with zipfile.ZipFile(cache / f"keycloak-quarkus-dist-{VERSION}.zip", "w") as dist:
        script = zipfile.ZipInfo(f"keycloak-{VERSION}/bin/kc.sh")
        script.external_attr = 0o100755 << 16
        dist.writestr(script, FAKE_KC.format(lines=lines, serves="yes" if serves else "no"))
    return folder / "deploy" / "keycloak" / "keycloak.sh"


def start_keycloak(script: Path, state: Path, port: int, stall: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "CQP_KEYCLOAK_STALL_SECONDS": str(stall)}
    return subprocess.run(["bash", str(script), "start", str(port), str(state)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_wait_for_keycloak_follows_its_log_past_the_stall_bound_and_says_what_it_waits_for(tmp_path):
    script = keycloak_checkout(tmp_path / "checkout", lines=12, serves=True)  # 6 s of steps, the bound 3 s
    state, port = tmp_path / "state", free_port()
    try:
        done = start_keycloak(script, state, port, stall=3)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == f"http://127.0.0.1:{port}/realms/cqp"
        assert f"waiting for Keycloak to serve the realm cqp at http://127.0.0.1:{port}/realms/cqp" in done.stderr
        said = [int(n) for n in re.findall(r"\d+ s: step (\d+) of a slow start", done.stderr)]
        assert said and said == sorted(said) and said[-1] >= 6, "it says what Keycloak last did, as it goes"
        for path in (state / "keycloak.log", state / "secrets.env"):
            assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"
    finally:
        subprocess.run(["bash", str(script), "stop", str(state)], capture_output=True, timeout=60)


def test_the_wait_for_keycloak_gives_up_when_its_log_says_nothing_new_and_stops_it(tmp_path):
    script = keycloak_checkout(tmp_path / "checkout", lines=1, serves=False)
    state, port = tmp_path / "state", free_port()
    try:
        done = start_keycloak(script, state, port, stall=3)
        assert done.returncode != 0
        assert (f"gave up waiting for Keycloak to serve the realm cqp at http://127.0.0.1:{port}/realms/cqp: "
                "its log said nothing new for 3 s (last: step 1 of a slow start") in done.stderr
        assert not (state / "keycloak.pid").exists(), "the Keycloak it started is stopped"
    finally:
        subprocess.run(["bash", str(script), "stop", str(state)], capture_output=True, timeout=60)
