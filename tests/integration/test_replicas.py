"""Two replicas of every process on one Kafka and one PostgreSQL: one relay per service publishes (the
advisory lock), the consumers share the partitions (their group), and a mutation answered by either
gateway is readable at once through it (read-your-writes, whichever replica applied the events). One
replica of each is killed under load: the clients go on through the other, nothing is lost."""

import asyncio
import random
import signal
import time

import httpx

from tests.harness import PROCESSES, Process, free_port

REGISTER = """mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename ... on CandidateRegistered { candidate { id } } ... on Error { code message } } }"""
READ = "query($id: ID!) { candidate(id: $id) { id } }"
RETRY = {"OutcomeUnknown", "ServiceUnavailable", "ReadModelTimeout"}


async def test_two_replicas_of_each_process_serve_through_the_kill_of_one_of_each(system):
    await system.start()
    twins = {}
    for name in PROCESSES:
        env = dict(system[name].env)
        twins[name] = Process(name, env, free_port())
    for name in ("catalog", "candidacy", "jury"):  # the second gateway talks to the second replicas
        twins["gateway"].env[f"CQP_{name.upper()}_URL"] = twins[name].url
    for twin in twins.values():
        twin.start()
    await asyncio.gather(*(twin.wait_healthy() for twin in twins.values()))
    gateways = [f"{system['gateway'].url}/graphql", f"{twins['gateway'].url}/graphql"]
    alive = [True, True]
    token = await system.token()
    registered, stale_reads = [], []

    async def ask(url: str, query: str, variables: dict) -> dict:
        async with httpx.AsyncClient(timeout=60) as http:
            answer = await http.post(url, json={"query": query, "variables": variables},
                                     headers={"authorization": f"Bearer {token}"})
        return answer.json()

    async def client(n: int) -> None:
        for sent in range(12):
            person = {"givenName": f"R{n}", "familyName": f"N{sent}", "email": f"r{n}.{sent}@example.org",
                      "status": "EMPLOYEE"}
            variables, deadline = {"input": person, "key": f"k{n}-{sent}"}, time.monotonic() + 120
            while True:
                which = random.choice([i for i in (0, 1) if alive[i]])
                try:
                    result = (await ask(gateways[which], REGISTER, variables))["data"]["registerCandidate"]
                except (httpx.TransportError, ValueError, TypeError, KeyError):
                    result = None
                if result and result["__typename"] not in RETRY:
                    break
                assert time.monotonic() < deadline, result
                await asyncio.sleep(0.2)
            assert result["__typename"] == "CandidateRegistered", result
            registered.append(result["candidate"]["id"])
            try:
                read = await ask(gateways[which], READ, {"id": result["candidate"]["id"]})
                if read["data"]["candidate"] is None:
                    stale_reads.append(result["candidate"]["id"])
            except httpx.TransportError:
                pass  # this gateway was just killed: nothing to read through it

    async def killer() -> None:
        for name in ("catalog", "candidacy", "jury", "gateway"):
            await asyncio.sleep(random.uniform(0.5, 1.5))
            if name == "gateway":
                alive[0] = False
            system[name].kill(signal.SIGKILL)  # the first replica of each, not started again

    await asyncio.gather(killer(), *(client(n) for n in range(4)))

    assert stale_reads == []  # each mutation was readable at once through the gateway that answered it
    verified = await system.acli("verify", "--wait", "120", timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    rows = await system.sql("SELECT id::text AS id FROM gateway.candidates")
    assert sorted(r["id"] for r in rows) == sorted(registered) and len(registered) == 48
    for twin in twins.values():
        twin.kill(signal.SIGTERM)
