"""The candidacy service's view of the catalog survives a crash, a redelivery and a restart without drift."""

import json
import signal

from tests.harness import eventually
from tests.integration.test_crash_recovery import caught_up, committed_offsets

BRANCH = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}


def certification(code: str) -> dict:
    return {"code": code, "kind": "CQPM", "title": f"CQPM {code}", "owners": ["UIMM"],
            "blocks": [{"code": f"{code}BC01", "title": "Bloc 1"}, {"code": f"{code}BC02", "title": "Bloc 2"}]}


async def view(system) -> list[dict]:
    rows = await system.sql(
        "SELECT c.code, c.current_version, (SELECT count(*) FROM candidacy.catalog_versions v WHERE v.code = c.code)"
        " AS versions, (SELECT json_agg(b->>'code') FROM candidacy.catalog_versions v,"
        " jsonb_array_elements(v.blocks) b WHERE v.code = c.code) AS blocks"
        " FROM candidacy.catalog_certifications c ORDER BY c.code")
    return [{**dict(r), "blocks": json.loads(r["blocks"])} for r in rows]


async def test_the_catalog_view_of_the_candidacy_service_has_no_drift_after_crash_redelivery_and_restart(system):
    await system.start("catalog", "gateway", "jury")
    await system.start("candidacy", CQP_CRASH_AT="consumer_after_commit")
    await system.command("catalog", "create-branch", BRANCH, "branch")
    # The candidacy service applies the first catalog event, then dies before committing its offset.
    assert await system["candidacy"].wait_exit() == -signal.SIGKILL
    assert await committed_offsets(system, "cqp.candidacy") == 0

    await system.start("candidacy")
    codes = [f"RNCP9{n:04d}" for n in range(12)]
    for index, code in enumerate(codes):
        if index == 6:  # mid-stream: a plain restart too
            system["candidacy"].kill()
            await system.start("candidacy")
        answer = await system.command("catalog", "create-certification", certification(code), f"cert-{code}")
        assert answer.status_code == 200, answer.text

    await eventually(lambda: caught_up(system, "cqp.candidacy"))
    expected = [{"code": code, "current_version": 1, "versions": 1, "blocks": [f"{code}BC01", f"{code}BC02"]}
                for code in codes]
    assert await view(system) == expected
    # Each catalog event recorded once in the service's inbox, redelivered or not.
    rows = await system.sql("SELECT count(*) AS n, count(DISTINCT event_id) AS distinct_ids FROM candidacy.inbox")
    assert rows[0]["n"] == rows[0]["distinct_ids"] == 1 + 2 * len(codes)
