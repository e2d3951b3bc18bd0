"""Every process says whether it is alive and whether it is ready, and publishes its metrics."""

import httpx

from tests.harness import Process


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
