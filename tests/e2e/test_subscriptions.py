"""Live updates through GraphQL subscriptions (graphql-transport-ws over a real WebSocket on /graphql), with
real Keycloak tokens: a candidacy pushed again when another client changes it, counters pushed again when a
candidacy opens, and everything a subscriber may not see refused or ended."""

import asyncio
import contextlib
import json
import signal
import uuid
from datetime import date

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.test_jury_journey import ok, once_known
from tests.documents import attach_evidence
from tests.harness import Process, System, eventually, free_port

TODAY = date.today().isoformat()
CODE, BLOCK = "RNCP99301", "RNCP99301BC01"
# Well under the slow recheck (services/gateway/live.py): a push this soon was woken, not found by polling.
PROMPTLY = 5

CANDIDACY = """subscription($id: ID!) { candidacyChanged(id: $id) {
  id status evaluator { name } blocks { code state } evaluations { block validated } } }"""
COUNTERS = """subscription($branch: String) { candidacyCounters(branch: $branch) { total byStatus { status count } } }"""
DASHBOARD = """subscription($scope: DashboardScope!) { dashboardChanged(scope: $scope) {
  funnel { opened } byRoute { route count } } }"""


class Live:
    """One graphql-transport-ws connection: messages kept by operation id as they come."""

    def __init__(self, ws):
        self.ws = ws
        self.received: dict[str, list[dict]] = {}

    async def subscribe(self, op: str, query: str, variables: dict | None = None) -> None:
        await self.ws.send(json.dumps({"id": op, "type": "subscribe",
                                       "payload": {"query": query, "variables": variables or {}}}))

    async def message(self, op: str, timeout: float = 30) -> dict:
        """The next message (next, error or complete) of the operation."""
        async def arrived():
            while not self.received.get(op):
                message = json.loads(await self.ws.recv())
                if "id" in message:
                    self.received.setdefault(message["id"], []).append(message)
            return self.received[op].pop(0)

        return await asyncio.wait_for(arrived(), timeout)

    async def next(self, op: str, timeout: float = 30) -> dict:
        message = await self.message(op, timeout)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def until(self, op: str, check, timeout: float = PROMPTLY) -> dict:
        """The first pushed data that passes `check` (a mutation may push intermediate states)."""
        async def found():
            while not check(data := await self.next(op)):
                pass
            return data

        return await asyncio.wait_for(found(), timeout)


def ws_url(system: System, gateway: Process | None = None) -> str:
    return f"{(gateway or system['gateway']).url.replace('http://', 'ws://', 1)}/graphql"


@contextlib.asynccontextmanager
async def live(system: System, token: str, gateway: Process | None = None):
    async with connect(ws_url(system, gateway), subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        yield Live(ws)


async def refusal_of(system: System, init: dict) -> int:
    """The close code answering this `connection_init`."""
    async with connect(ws_url(system), subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps(init))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        return ws.close_code


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world():
    system = await System.create()
    await system.start()
    for code in ("UIMM", "LEEM"):
        await ok(system, "createBranch", "CreateBranchInput", {"code": code, "name": code, "idcc": ["3109"]}, code)
    centres = []
    for name in ("AFPI Live", "AFPI Ailleurs"):
        centre = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                          {"name": name, "kinds": ["EVALUATION_CENTRE"]}, name,
                          "... on OrganisationRegistered { organisation { id } }")
        centres.append(centre["organisation"]["id"])
    system.centre, system.elsewhere = centres
    await ok(system, "createCertification", "CreateCertificationInput", {
        "code": CODE, "kind": "CQPM", "title": "CQPM en direct", "owners": ["UIMM"],
        "blocks": [{"code": BLOCK, "title": "Bloc 1"}]}, "c")
    for centre in centres:
        await ok(system, "accredit", "AccreditInput", {"organisationId": centre, "branch": "UIMM",
                                                         "certifications": [CODE], "scope": "EVALUATION",
                                                         "validFrom": "2024-01-01"}, f"a-{centre}")
    system.evaluator = await system.token(organisation=system.centre, role="evaluator", username="live-evaluator")
    system.outsider = await system.token(organisation=system.elsewhere, role="evaluator", username="live-outsider")
    system.uimm_admin = await system.token(organisation="UIMM", role="branch-admin", branches=("UIMM",),
                                           username="live-uimm-admin")
    system.leem_admin = await system.token(organisation="LEEM", role="branch-admin", branches=("LEEM",),
                                           username="live-leem-admin")
    yield system
    system.stop()


async def open_candidacy(system: System, key: str) -> str:
    candidate = await ok(system, "registerCandidate", "RegisterCandidateInput",
                         {"givenName": "Camille", "familyName": "Direct", "email": f"{key}@example.org",
                          "status": "EMPLOYEE"}, f"r-{key}",
                         "... on CandidateRegistered { candidate { id } }")
    opened = await once_known(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate["candidate"]["id"], "certification": CODE, "route": "DIRECT_ACCESS",
        "evaluatorId": system.centre}, f"o-{key}", "... on CandidacyChanged { candidacy { id } }")
    return opened["candidacy"]["id"]


async def test_a_subscriber_receives_the_candidacy_again_each_time_another_client_changes_it(world):
    candidacy = await open_candidacy(world, "changes")
    async with live(world, world.evaluator) as subscriber:
        await subscriber.subscribe("1", CANDIDACY, {"id": candidacy})
        now = (await subscriber.next("1"))["candidacyChanged"]
        assert now["status"] == "OPEN" and now["evaluator"] == {"name": "AFPI Live"}

        await ok(world, "positionCandidacy", "CandidacyInput", {"candidacyId": candidacy}, "p-changes")
        positioned = await subscriber.until("1", lambda d: d["candidacyChanged"]["status"] == "POSITIONED")
        assert positioned["candidacyChanged"]["blocks"] == [{"code": BLOCK, "state": "TO_ACQUIRE"}]

        evidence = await attach_evidence(world, candidacy, BLOCK, "evidence-changes", world.evaluator)
        await once_known(world, "recordEvaluation", "RecordEvaluationInput", {
            "candidacyId": candidacy, "block": BLOCK, "modality": "PRACTICAL_SITUATION", "evaluator": "J. Dupont",
            "on": TODAY, "evidence": "preuves/1", "evidenceDocuments": [evidence], "competences": [{"competence": "Conduire", "acquired": True}]},
            "e-changes", token=world.evaluator)
        evaluated = await subscriber.until("1", lambda d: d["candidacyChanged"]["evaluations"])
        assert evaluated["candidacyChanged"]["evaluations"] == [{"block": BLOCK, "validated": True}]


async def test_the_counters_are_pushed_again_when_a_candidacy_is_opened(world):
    async with live(world, world.uimm_admin) as subscriber:
        await subscriber.subscribe("c", COUNTERS, {"branch": "UIMM"})
        before = (await subscriber.next("c"))["candidacyCounters"]
        await open_candidacy(world, "counted")
        after = (await subscriber.until("c", lambda d: d["candidacyCounters"]["total"] == before["total"] + 1))
        opened = {s["status"]: s["count"] for s in after["candidacyCounters"]["byStatus"]}
        assert opened["OPEN"] == {s["status"]: s["count"] for s in before["byStatus"]}["OPEN"] + 1


async def test_the_counters_count_only_the_candidacies_in_the_callers_scope(world):
    await open_candidacy(world, "unseen")
    async with live(world, world.leem_admin) as subscriber:
        await subscriber.subscribe("c", COUNTERS)
        assert (await subscriber.next("c"))["candidacyCounters"]["total"] == 0


async def test_a_branch_dashboard_is_pushed_again_when_a_candidacy_of_the_branch_is_opened(world):
    async with live(world, world.uimm_admin) as subscriber:
        await subscriber.subscribe("d", DASHBOARD, {"scope": {"branch": "UIMM"}})
        before = (await subscriber.next("d"))["dashboardChanged"]["funnel"]["opened"]
        await open_candidacy(world, "dashboarded")
        after = await subscriber.until("d", lambda d: d["dashboardChanged"]["funnel"]["opened"] == before + 1)
        assert sum(r["count"] for r in after["dashboardChanged"]["byRoute"]) == before + 1


async def test_another_branch_cannot_subscribe_to_a_branch_dashboard(world):
    async with live(world, world.leem_admin) as subscriber:
        await subscriber.subscribe("d", DASHBOARD, {"scope": {"branch": "UIMM"}})
        refused = await subscriber.message("d")
        assert refused["payload"]["data"] is None
        assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["Forbidden"]


async def test_a_connection_without_a_token_or_with_a_forged_one_is_closed_with_4403(world):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(world.evaluator, options={"verify_signature": False})
    forged = jwt.encode(claims, key, algorithm="RS256", headers={"kid": jwt.get_unverified_header(world.evaluator)["kid"]})
    assert await refusal_of(world, {"type": "connection_init"}) == 4403
    assert await refusal_of(world, {"type": "connection_init", "payload": {"authorization": "Bearer"}}) == 4403
    assert await refusal_of(world, {"type": "connection_init", "payload": {"authorization": f"Bearer {forged}"}}) == 4403


async def test_subscribing_before_the_connection_is_acknowledged_closes_it_with_4401(world):
    async with connect(ws_url(world), subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": COUNTERS}}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 4401


async def test_an_evaluator_of_another_organisation_cannot_subscribe_to_the_candidacy(world):
    candidacy = await open_candidacy(world, "not-theirs")
    async with live(world, world.outsider) as subscriber:
        await subscriber.subscribe("1", CANDIDACY, {"id": candidacy})
        refused = await subscriber.message("1")
        assert refused["type"] == "next" and refused["payload"]["data"] is None
        assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["NotFound"]
        assert (await subscriber.message("1"))["type"] == "complete"


async def test_a_candidacy_transferred_to_another_organisation_ends_its_former_evaluators_subscription(world):
    candidacy = await open_candidacy(world, "transferred")
    async with live(world, world.evaluator) as subscriber:
        await subscriber.subscribe("1", CANDIDACY, {"id": candidacy})
        await subscriber.next("1")
        await ok(world, "transferCandidacy", "TransferCandidacyInput",
                 {"candidacyId": candidacy, "evaluatorId": world.elsewhere, "reason": "déménagement"}, "t")
        ended = await subscriber.message("1", PROMPTLY)
        assert ended["payload"]["data"] is None and ended["payload"]["errors"][0]["extensions"]["code"] == "NotFound"
        assert (await subscriber.message("1"))["type"] == "complete"


async def test_a_disabled_account_s_subscription_ends_within_a_minute(world):
    """Its token still unexpired, the account disabled at Keycloak: a push at most a minute later ends the
    subscription with Unauthenticated (candidacies opened meanwhile make the pushes)."""
    username = f"live-leaver-{uuid.uuid4().hex[:8]}"
    token = await world.token(organisation="UIMM", role="branch-admin", branches=("UIMM",), username=username)
    async with live(world, token) as subscriber:
        await subscriber.subscribe("c", COUNTERS, {"branch": "UIMM"})
        await subscriber.next("c")
        await world.keycloak.disable(username)

        async def ended():
            await open_candidacy(world, f"leaver-{uuid.uuid4().hex[:8]}")
            message = await subscriber.message("c")
            return message if message["payload"].get("errors") else None

        message = await eventually(ended, timeout=60, interval=1)
        assert message["payload"]["errors"][0]["extensions"]["code"] == "Unauthenticated"
        assert "disabled or signed out" in message["payload"]["errors"][0]["message"]


async def test_a_connection_carries_at_most_twenty_subscriptions(world):
    async with live(world, world.uimm_admin) as subscriber:
        for n in range(21):
            await subscriber.subscribe(str(n), COUNTERS, {"branch": "UIMM"})
        assert (await subscriber.message("20"))["payload"][0]["message"] == "Subscription limit reached"
        assert all([(await subscriber.message(str(n)))["type"] == "next" for n in range(20)])


async def test_a_subscriber_that_goes_away_is_forgotten(world):
    async def watches() -> float:
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{world['gateway'].url}/metrics")).text
        return float(next(line.split()[1] for line in metrics.splitlines() if line.startswith("cqp_live_watches ")))

    async def forgotten() -> bool:
        return await watches() == 0

    candidacy = await open_candidacy(world, "gone")
    async with live(world, world.evaluator) as subscriber:
        await subscriber.subscribe("1", CANDIDACY, {"id": candidacy})
        await subscriber.next("1")
        assert await watches() == 1
    assert await eventually(forgotten)


async def test_subscribers_on_every_gateway_replica_are_woken_whichever_replica_applied_the_event(world):
    twin = Process("gateway", dict(world["gateway"].env), free_port()).start()
    try:
        await twin.wait_healthy()
        candidacy = await open_candidacy(world, "replicas")
        async with live(world, world.evaluator) as here, live(world, world.evaluator, twin) as there:
            for subscriber in (here, there):
                await subscriber.subscribe("1", CANDIDACY, {"id": candidacy})
                await subscriber.next("1")
            await ok(world, "positionCandidacy", "CandidacyInput", {"candidacyId": candidacy}, "p-replicas")
            for subscriber in (here, there):  # one of them at least learnt it by NOTIFY from the other
                await subscriber.until("1", lambda d: d["candidacyChanged"]["status"] == "POSITIONED")
    finally:
        twin.kill(signal.SIGTERM)  # it leaves the consumer group: its partitions go back at once to the world's


# Predecessors of predecessors, each with versions of blocks: lists of lists, as costly over WebSocket as over HTTP.
COSTLY = """certification { predecessors { predecessors { versions { blocks { code title competences modalities } } } } }"""


async def test_a_subscription_goes_through_the_guard_of_queries(world):
    """A selection refused as too costly over HTTP is refused as a subscription before anything runs or is
    pushed; a control character in a subscription's variable is the typed InvalidInput, never the database's
    error."""
    candidacy = await open_candidacy(world, "guarded")
    over_http = await world.graphql_answer(f"query($id: ID!) {{ candidacy(id: $id) {{ id {COSTLY} }} }}",
                                           {"id": candidacy}, token=world.evaluator)
    assert over_http["errors"][0]["extensions"]["code"] == "QueryTooCostly"
    async with live(world, world.evaluator) as subscriber:
        await subscriber.subscribe("1", f"subscription($id: ID!) {{ candidacyChanged(id: $id) {{ id {COSTLY} }} }}",
                                   {"id": candidacy})
        refused = await subscriber.message("1")
        assert refused["type"] == "error" and [e["extensions"]["code"] for e in refused["payload"]] == ["QueryTooCostly"]
        await subscriber.subscribe("2", COUNTERS, {"branch": "UI\u0000MM"})
        nul = await subscriber.message("2")
        assert nul["type"] == "error" and [e["extensions"]["code"] for e in nul["payload"]] == ["InvalidInput"]
        await subscriber.subscribe("3", CANDIDACY, {"id": candidacy})  # the connection serves on
        assert (await subscriber.next("3"))["candidacyChanged"]["id"] == candidacy
