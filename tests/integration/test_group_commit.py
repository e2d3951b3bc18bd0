"""Group commit on real PostgreSQL: commands sent at once to a service share transactions, and each is
still accepted once, with its own id, its own events and its own command record; a refusal concerns its
command alone, and each command of a batch decides on what the earlier ones left.

The first tests go through a running service; the others drive an application in the test's process on
the real database, a batch made deterministic as in tests/unit/test_group_commit.py. Rows one
transaction inserted share its id (`xmin`): what was saved together is read off the table itself."""

import asyncio
import re
from datetime import date

import httpx
import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from services.catalog.application import CatalogApplication
from services.catalog.domain import Branch, BranchAlreadyExists, Certification
from shared.commands.catalog import CreateBranch
from shared.context import current_caller
from shared.settings import Settings
from tests.harness import fresh_database, infrastructure
from tests.unit.as_client import AsClient
from tests.unit.conftest import EVERY_RIGHT
from tests.unit.test_group_commit import Saves, branch, context, executed, records, together, version

CANDIDATE = {"given_name": "Ana", "family_name": "Lopes", "email": "ana@example.org", "status": "JOB_SEEKER"}


async def saves(system, service: str) -> tuple[float, float]:
    """(transactions, commands) so far, from the service's cqp_commands_per_save histogram."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{system[service].url}/metrics")).text
    count = re.search(r"^cqp_commands_per_save_count (\S+)$", text, re.M)
    total = re.search(r"^cqp_commands_per_save_sum (\S+)$", text, re.M)
    return float(count[1]) if count else 0.0, float(total[1]) if total else 0.0


async def test_fifty_registrations_sent_at_once_are_each_accepted_once_in_fewer_transactions(system):
    await system.start("candidacy")
    token = await system.token()
    before = await saves(system, "candidacy")

    answers = await asyncio.gather(*(system.command("candidacy", "register-candidate", CANDIDATE, f"at-once-{n}",
                                                    token=token) for n in range(50)))

    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.status_code != 200]
    bodies = [a.json() for a in answers]
    assert len({b["id"] for b in bodies}) == 50
    assert len({b["position"] for b in bodies}) == 50
    assert not any(b["replayed"] for b in bodies)
    # Each answer is its own: its position is its command record, just after its candidate's registration.
    for body in bodies:
        rows = await system.sql("SELECT notification_id, originator_id::text AS id, topic FROM "
                                "candidacy.candidacy_events WHERE notification_id IN ($1 - 1, $1) "
                                "ORDER BY notification_id", body["position"])
        assert [r["topic"].rpartition(":")[2] for r in rows] == ["Candidate.Registered", "CommandRecord.Accepted"]
        assert rows[0]["id"] == body["id"]
        assert len(body["events"]) == 1
    stored = await system.sql(
        "SELECT count(*) FILTER (WHERE topic LIKE '%Candidate.Registered') AS registered,"
        "       count(*) FILTER (WHERE topic LIKE '%CommandRecord.Accepted') AS records "
        "FROM candidacy.candidacy_events")
    assert (stored[0]["registered"], stored[0]["records"]) == (50, 50)

    after = await saves(system, "candidacy")
    transactions, commands = after[0] - before[0], after[1] - before[1]
    assert commands == 50
    assert transactions < 50, "no two commands shared a transaction"


async def test_twins_and_others_sent_at_once_keep_one_effect_per_key(system):
    await system.start("candidacy")
    token = await system.token()
    keys = [f"twin-{n % 10}" for n in range(40)]  # ten keys, each sent four times at once

    answers = await asyncio.gather(*(system.command("candidacy", "register-candidate", CANDIDATE, key, token=token)
                                     for key in keys))

    assert [a.status_code for a in answers] == [200] * 40, [a.text for a in answers if a.status_code != 200]
    ids = {}
    for key, answer in zip(keys, answers):
        ids.setdefault(key, set()).add(answer.json()["id"])
    assert all(len(found) == 1 for found in ids.values()), ids
    assert len({next(iter(found)) for found in ids.values()}) == 10
    stored = await system.sql("SELECT count(*) AS n FROM candidacy.candidacy_events "
                              "WHERE topic LIKE '%Candidate.Registered'")
    assert stored[0]["n"] == 10


def catalog_application(dsn: str) -> AsClient:
    """The catalog's application on the real database, as a replica of the service runs it."""
    return AsClient(CatalogApplication(env=Settings(postgres_dsn=dsn).eventsourcing_env("catalog")))


@pytest.fixture
async def database():
    _, dsn = infrastructure()
    return await fresh_database(dsn)


@pytest.fixture
def app(database):
    caller = current_caller.set(EVERY_RIGHT)
    app = catalog_application(database)
    app.create_branch(branch("UIMM"), context("setup-branch"))
    app.create_certification({"code": "RNCP34174", "kind": "CQPM", "title": "CQPM", "owners": ["UIMM"]},
                             context("setup-certification"))
    yield app
    app.close()
    current_caller.reset(caller)


def transactions(database: str, *aggregate_ids) -> list[int]:
    """The transactions that stored these aggregates' events, oldest first."""
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT xmin::text::bigint FROM catalog.catalog_events WHERE originator_id = ANY(%s)"
                            " GROUP BY 1 ORDER BY min(notification_id)", (list(aggregate_ids),)).fetchall()
    return [row[0] for row in rows]


def test_a_refused_command_writes_nothing_and_the_others_of_its_batch_share_one_transaction(app, database):
    saves = Saves(app, queued=3)
    _, aa, taken, bb = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: app.create_branch(branch("AA"), context("a")),
        lambda: app.create_branch(branch("UIMM"), context("taken")),  # exists: refused
        lambda: app.create_branch(branch("BB"), context("b")),
    ])
    assert isinstance(taken, BranchAlreadyExists)
    assert [aa.result["code"], bb.result["code"]] == ["AA", "BB"]
    assert len(transactions(database, Branch.create_id("AA"), Branch.create_id("BB"))) == 1
    assert "taken" not in [r.idempotency_key for r in records(app)]
    assert aa.position < bb.position == app.recorder.max_notification_id()


def test_commands_of_one_batch_on_one_aggregate_each_decide_on_what_the_earlier_left(app, database):
    saves = Saves(app, queued=3)
    _, *published = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda n=n: app.publish_version(version(block=f"BC0{n}"), context(f"v{n}")) for n in (1, 2, 3)
    ])
    assert [p.result["version"] for p in published] == [1, 2, 3]
    certification_id = Certification.create_id("RNCP34174")
    assert len(transactions(database, certification_id)) == 2  # its creation, then one for the three
    stored = catalog_application(database).repository.get(certification_id)  # as another replica reads it
    assert [v["blocks"][0]["code"] for v in stored.versions] == [f"RNCP34174BC0{n}" for n in (1, 2, 3)]


def test_a_command_that_fails_after_changing_an_aggregate_leaves_no_trace_for_the_next_of_its_batch(app, database):
    certification_id = Certification.create_id("RNCP34174")

    def half_done():
        certification = app.repository.get(certification_id)
        certification.publish_version([{"code": "X", "title": "X", "competences": None, "modalities": None}],
                                      {}, date(2024, 1, 1))
        raise BranchAlreadyExists("refused after a change", code="X")

    saves = Saves(app, queued=2)
    _, failed, published = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: executed(app, CreateBranch(**branch("ZZ")), context("half"), half_done),
        lambda: app.publish_version(version(block="BC09"), context("v")),
    ])
    assert isinstance(failed, BranchAlreadyExists)
    assert published.result["version"] == 1
    stored = catalog_application(database).repository.get(certification_id)
    assert [v["blocks"][0]["code"] for v in stored.versions] == ["RNCP34174BC09"]


def test_a_write_by_another_replica_during_a_batch_fails_only_the_command_it_touches(app, database):
    """The other replica keeps writing the certification (a hot aggregate) just before each save holding a
    change to it: PostgreSQL refuses that transaction; the batch's commands then run again alone, and only
    the one on the certification gets the Conflict."""
    certification_id = Certification.create_id("RNCP34174")
    replica = catalog_application(database)
    blocks = [{"code": "OTHER", "title": "by another replica", "competences": None, "modalities": None}]

    def the_other_replica_writes_the_certification_first(stored_events) -> None:
        if any(s.originator_id == certification_id for s in stored_events):
            certification = replica.repository.get(certification_id)
            certification.publish_version(blocks, {}, date(2024, 1, 1))
            replica.save(certification)

    saves = Saves(app, queued=3, before_insert=the_other_replica_writes_the_certification_first)
    _, aa, conflicting, bb = together(saves, lambda: app.create_branch(branch("FIRST"), context("first")), [
        lambda: app.create_branch(branch("AA"), context("a")),
        lambda: app.publish_version(version(block="BC01"), context("v")),
        lambda: app.create_branch(branch("BB"), context("b")),
    ])
    assert isinstance(conflicting, IntegrityError)  # the endpoint answers Conflict: retry with the same key
    assert saves.sizes[1] == 6  # the batch's transaction, refused as a whole; then each alone
    assert [aa.result["code"], bb.result["code"]] == ["AA", "BB"]
    keys = [r.idempotency_key for r in records(app)]
    assert "a" in keys and "b" in keys and "v" not in keys
    stored = replica.repository.get(certification_id)
    assert "RNCP34174BC01" not in [v["blocks"][0]["code"] for v in stored.versions]
    replica.close()
