"""The gateway's read models, dropped, are rebuilt from the topics to the same state."""

import os
import subprocess
import sys

import asyncpg

from tests.harness import ROOT, eventually

BRANCH = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}


async def snapshot(system):
    """The read models as one transaction sees them: the audit log counts the events applied (each is
    applied with its audit row in one transaction), so the other tables must be read in the same snapshot."""
    conn = await asyncpg.connect(system.dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            certifications = await conn.fetch("SELECT code, kind, title, owners, current_version, block_titles"
                                              " FROM gateway.certifications ORDER BY code")
            audit = await conn.fetch("SELECT event_id, type, actor, occurred_at FROM gateway.audit_log"
                                     " ORDER BY event_id")
            candidates = await conn.fetch("SELECT id, status, registered_by FROM gateway.candidates ORDER BY id")
    finally:
        await conn.close()
    return [dict(r) for r in certifications], [dict(r) for r in audit], [dict(r) for r in candidates]


async def test_rebuilding_the_read_models_gives_back_the_same_state(system):
    await system.start()
    await system.command("catalog", "create-branch", BRANCH, "b")
    for n in range(5):
        body = {"code": f"RNCP9000{n}", "kind": "CQPM", "title": f"CQPM {n}", "owners": ["UIMM"],
                "blocks": [{"code": f"RNCP9000{n}BC01", "title": "Bloc"}]}
        assert (await system.command("catalog", "create-certification", body, f"c{n}")).status_code == 200
    candidate = {"given_name": "Ana", "family_name": "Lopes", "email": "ana@example.org", "status": "JOB_SEEKER"}
    assert (await system.command("candidacy", "register-candidate", candidate, "cand")).status_code == 200

    async def settled():
        state = await snapshot(system)
        return state if len(state[1]) == 1 + 2 * 5 + 1 else None

    before = await eventually(settled)
    env = {**os.environ, **system["gateway"].env}

    def rebuild():
        return subprocess.run([sys.executable, "-m", "tools.cli", "gateway", "rebuild"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    refused = rebuild()  # the gateway still runs: nothing is touched
    assert refused.returncode != 0 and "stop the gateway first" in refused.stderr
    assert await snapshot(system) == before

    system["gateway"].kill(15)  # SIGTERM: a clean stop
    done = rebuild()
    assert done.returncode == 0, done.stderr
    assert (await system.sql("SELECT count(*) AS n FROM pg_namespace WHERE nspname = 'gateway'"))[0]["n"] == 0

    await system.start("gateway")
    assert await eventually(settled) == before
