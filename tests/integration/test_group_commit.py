"""Group commit on real PostgreSQL: commands sent at once to a service share transactions, and each is
still accepted once, with its own id, its own events and its own command record."""

import asyncio
import re

import httpx

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
