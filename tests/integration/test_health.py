"""Every process says whether it is alive and whether it is ready, and publishes its metrics."""

import asyncio

import asyncpg
import httpx

from tests.harness import LOGS, Process, eventually


async def test_each_process_is_ready_once_its_database_broker_and_relay_answer_and_shows_its_metrics(system):
    await system.start()
    await system.command("catalog", "create-branch", {"code": "UIMM", "name": "UIMM"}, "b")
    async with httpx.AsyncClient(timeout=10) as http:
        for name in ("catalog", "candidacy", "jury", "gateway"):
            ready = await http.get(f"{system[name].url}/health/ready")
            assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
            assert ready.json()["dead_letters"] == 0
        metrics = (await http.get(f"{system['catalog'].url}/metrics")).text
    assert 'cqp_command_seconds_count{command="create-branch",outcome="accepted"} 1.0' in metrics


async def test_a_process_whose_broker_is_unreachable_is_alive_but_not_ready(system):
    catalog = Process("catalog", {**system["catalog"].env, "CQP_KAFKA_BOOTSTRAP": "127.0.0.1:1"}, system["catalog"].port)
    system.processes["catalog"] = catalog
    catalog.start()
    await catalog.wait_healthy()
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(f"{catalog.url}/health/live")).status_code == 200
        ready = await http.get(f"{catalog.url}/health/ready")
    assert ready.status_code == 503 and "broker" in ready.json()["failures"]


async def test_a_consumer_held_behind_its_partitions_makes_its_process_unready_until_it_catches_up(system):
    await system.start("catalog", "candidacy", "jury")
    await system.start("gateway", CQP_READY_MAX_CONSUMER_LAG="0")
    token = await system.token()  # before the lock: the operator's token lists the branches the gateway knows
    blocker = await asyncpg.connect(system.dsn)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE gateway.branches IN ACCESS EXCLUSIVE MODE")  # the projection waits on it
    try:
        for n in range(6):
            await system.command("catalog", "create-branch", {"code": f"B{n}", "name": f"Branch {n}"}, f"b{n}", token=token)

        async def unready():
            answer = await readiness(system, "gateway")
            return answer if "consumers" in answer.get("failures", {}) else None

        held = await eventually(unready)
        assert "behind" in held["failures"]["consumers"] and "cqp.catalog.events" in held["failures"]["consumers"]
    finally:
        await transaction.rollback()
        await blocker.close()

    async def ready():
        answer = await readiness(system, "gateway")
        return answer if answer["status"] == "ready" else None

    assert (await eventually(ready))["consumer_lag"] == 0
    async with httpx.AsyncClient(timeout=10) as http:
        metrics = (await http.get(f"{system['gateway'].url}/metrics")).text
    assert "cqp_consumer_lag{" in metrics and "cqp_projection_seconds_count{" in metrics


async def test_an_unreachable_broker_is_logged_once_per_interval_not_at_every_retry(system):
    catalog = Process("catalog", {**system["catalog"].env, "CQP_KAFKA_BOOTSTRAP": "127.0.0.1:1"}, system["catalog"].port)
    system.processes["catalog"] = catalog
    catalog.start()
    await catalog.wait_healthy()
    await asyncio.sleep(12)
    log = (LOGS / f"{system.prefix}catalog.log").read_text().splitlines()
    complaints = [line for line in log if '"level": "WARNING"' in line or '"level": "ERROR"' in line]
    assert complaints, "the outage is not logged at all"
    assert len(complaints) <= 10, complaints[:20]


async def readiness(system, name: str) -> dict:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{system[name].url}/health/ready")).json()
