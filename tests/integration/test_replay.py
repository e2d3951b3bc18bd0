"""`cqp replay` rebuilds every read model while queries and mutations go on, with no failed query, and a
replay of the same history gives the same tables, row for row."""

import asyncio

from tests.harness import eventually

BRANCH = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}
LIST = "{ certifications(first: 50) { edges { node { code title } } } }"
CREATE = """mutation($input: CreateCertificationInput!, $key: String!) {
  createCertification(input: $input, idempotencyKey: $key) { __typename } }"""


def certification(code: str) -> dict:
    return {"code": code, "kind": "CQPM", "title": f"CQPM {code}", "owners": ["UIMM"],
            "blocks": [{"code": f"{code}BC01", "title": "Bloc"}]}


async def tables(system) -> dict[str, list[str]]:
    """Every row of every view table (the gateway's, the services' views), as text, sorted."""
    rows = await system.sql(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('gateway', 'jury', 'candidacy')"
        " AND table_name NOT IN ('dead_letters', 'relay_position', 'personal_keys', 'personal_search', 'personal_erasures')"
        " AND table_name NOT LIKE '%\\_events' AND table_name NOT LIKE '%snapshots%' ORDER BY 1, 2")
    snapshot = {}
    for r in rows:
        name = f'"{r["table_schema"]}"."{r["table_name"]}"'
        values = await system.sql(f"SELECT (to_jsonb(t) - 'applied_at')::text AS row FROM {name} t")
        snapshot[name] = sorted(v["row"] for v in values)
    return snapshot


async def test_a_replay_while_queries_and_mutations_go_on_fails_none_and_loses_nothing(system):
    await system.start()
    await system.command("catalog", "create-branch", BRANCH, "b")
    for n in range(5):
        assert (await system.command("catalog", "create-certification", certification(f"RNCP9600{n}"), f"c{n}")).status_code == 200
    candidate = {"given_name": "Ana", "family_name": "Lopes", "email": "ana@example.org", "status": "JOB_SEEKER"}
    assert (await system.command("candidacy", "register-candidate", candidate, "cand")).status_code == 200
    await eventually(lambda: _count(system, 5))
    token = await system.token()
    failures, created, replaying = [], [], asyncio.Event()

    async def traffic():
        n = 0
        while not replaying.is_set():
            answer = await system.graphql_answer(LIST, token=token)
            if "errors" in answer:
                failures.append(answer["errors"])
            result = await system.graphql_answer(CREATE, {"input": {**_camel(certification(f"RNCP961{n:02}"))},
                                                          "key": f"during-{n}"}, token=token)
            if result.get("data", {}).get("createCertification", {}).get("__typename") != "CertificationChanged":
                failures.append(result)
            else:
                created.append(n)
            n += 1

    running = asyncio.create_task(traffic())
    replayed = await system.acli("replay")
    replaying.set()
    await running

    assert replayed.returncode == 0, replayed.stderr
    assert "gateway: " in replayed.stdout and "jury: " in replayed.stdout
    assert failures == []
    assert created  # mutations went on during the replay
    await eventually(lambda: _count(system, 5 + len(created)))
    verified = await system.acli("verify")
    assert verified.returncode == 0, verified.stdout

    before = await tables(system)
    again = await system.acli("replay")
    assert again.returncode == 0, again.stderr
    assert await tables(system) == before  # the same history, the same tables


def _camel(body: dict) -> dict:
    return {"code": body["code"], "kind": body["kind"], "title": body["title"], "owners": body["owners"],
            "blocks": body["blocks"]}


async def _count(system, expected: int) -> bool:
    rows = await system.sql("SELECT count(*) AS n FROM gateway.certifications")
    return rows[0]["n"] == expected
