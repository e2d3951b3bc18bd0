"""Crashes under load: mutations keep coming through GraphQL while each process, then the broker, then
the database is killed with SIGKILL at a random moment and started again. Clients do what the typed
errors tell them (send again with the same key when the outcome is unknown or a service is away).
Afterwards every accepted command is in the read models once, nothing else is, and `cqp verify` finds
no drift. And a command whose service dies between its commit and its answer is reported as
OutcomeUnknown, never as a failure, and sending it again answers what happened."""

import asyncio
import random
import signal
import time
import uuid

import httpx

from tests.harness import Infrastructure, eventually

BRANCH = {"code": "UIMM", "name": "UIMM", "idcc": ["3109"]}
REGISTER = """mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename ... on CandidateRegistered { candidate { id } } ... on Error { code message } } }"""
CREATE = """mutation($input: CreateCertificationInput!, $key: String!) {
  createCertification(input: $input, idempotencyKey: $key) {
    __typename ... on CertificationChanged { certification { code } } ... on Error { code message } } }"""
# What a client may send again with the same key: the command did not happen, or may have.
RETRY = {"OutcomeUnknown", "ServiceUnavailable", "ReadModelTimeout"}


async def until_answered(system, token: str, query: str, variables: dict, field: str, patience: float = 240) -> dict:
    deadline = time.monotonic() + patience
    while True:
        try:
            body = await system.graphql_answer(query, variables, token=token)
        except (httpx.TransportError, ValueError):  # the gateway is down, or answered no JSON while dying
            body = {}
        result = (body.get("data") or {}).get(field)
        if result and result["__typename"] not in RETRY:
            return result
        assert time.monotonic() < deadline, f"no answer to {field} in {patience} s: {body}"
        await asyncio.sleep(0.3)


async def test_commands_under_load_survive_the_kill_of_every_process_broker_and_database(system):
    await system.start()
    await system.command("catalog", "create-branch", BRANCH, "branch")
    await eventually(lambda: system.sql("SELECT code FROM gateway.branches"))
    token = await system.token()
    killed = asyncio.Event()
    registered, created = [], []

    async def registrant(n: int) -> None:
        sent = 0
        while not killed.is_set() or sent < 3:
            person = {"givenName": f"Client{n}", "familyName": f"Number{sent}", "email": f"c{n}.{sent}@example.org",
                      "status": "EMPLOYEE"}
            result = await until_answered(system, token, REGISTER, {"input": person, "key": f"r{n}-{sent}"},
                                          "registerCandidate")
            assert result["__typename"] == "CandidateRegistered", result
            registered.append(result["candidate"]["id"])
            sent += 1

    async def certifier() -> None:
        sent = 0
        while not killed.is_set() or sent < 3:
            code = f"RNCP95{sent:03}"
            body = {"code": code, "kind": "CQPM", "title": f"CQPM {code}", "owners": ["UIMM"]}
            result = await until_answered(system, token, CREATE, {"input": body, "key": f"c-{sent}"},
                                          "createCertification")
            assert result["__typename"] == "CertificationChanged", result
            created.append(result["certification"]["code"])
            sent += 1

    async def killer() -> None:
        try:
            for target in ("catalog", "candidacy", "jury", "gateway", "kafka", "postgres"):
                await asyncio.sleep(random.uniform(0.3, 2.0))
                if target == "kafka":
                    Infrastructure.kill_kafka()
                    await asyncio.sleep(random.uniform(0, 2))
                    await asyncio.to_thread(Infrastructure.start_kafka)
                elif target == "postgres":
                    if not Infrastructure.owns_postgres():
                        continue  # an external database (CQP_TEST_POSTGRES_DSN) is not ours to kill
                    Infrastructure.kill_postgres()
                    await asyncio.sleep(random.uniform(0, 2))
                    await asyncio.to_thread(Infrastructure.start_postgres)
                else:
                    system[target].kill(signal.SIGKILL)
                    await system.start(target)
        finally:
            killed.set()

    await asyncio.gather(killer(), certifier(), *(registrant(n) for n in range(3)))

    verified = await system.acli("verify", "--wait", "180", timeout=400)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    candidates = await system.sql("SELECT id::text AS id FROM gateway.candidates")
    assert sorted(r["id"] for r in candidates) == sorted(registered)
    certifications = await system.sql("SELECT code FROM gateway.certifications")
    assert sorted(r["code"] for r in certifications) == sorted(created)
    stored = await system.sql("SELECT count(*) AS n FROM candidacy.candidacy_events WHERE topic LIKE '%Candidate.Registered'")
    assert stored[0]["n"] == len(registered)


async def test_a_service_killed_between_its_commit_and_its_answer_gives_an_unknown_outcome_and_the_retry_answers_it(system):
    await system.start("catalog", "jury", "gateway")
    await system.start("candidacy", CQP_CRASH_AT="command_after_commit")
    person = {"givenName": "Ana", "familyName": "Lopes", "email": "ana@example.org", "status": "EMPLOYEE"}
    variables = {"input": person, "key": f"k-{uuid.uuid4()}"}

    first = (await system.graphql(REGISTER, variables))["registerCandidate"]
    assert first["__typename"] == "OutcomeUnknown", first
    assert await system["candidacy"].wait_exit() == -signal.SIGKILL

    await system.start("candidacy")
    again = (await system.graphql(REGISTER, variables))["registerCandidate"]
    assert again["__typename"] == "CandidateRegistered", again
    rows = await system.sql("SELECT id::text AS id FROM gateway.candidates")
    assert [r["id"] for r in rows] == [again["candidate"]["id"]]  # it had happened, once
