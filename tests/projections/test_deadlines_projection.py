"""services/gateway/schema/deadlines/projection.py: deadlines and the messages sent, events in, rows out."""

import uuid
from datetime import UTC, date, datetime, timedelta

from shared.contracts import deadlines as d
from shared.contracts import candidacy as candidacy_contracts
from shared.contracts import jury

from services.gateway.schema.deadlines import projection
from tests.projections.conftest import apply, envelope

TOPIC = jury.TOPIC
T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


def about(deadline_id: str, kind: str = "HOLDER_DECLARATION", **changes) -> dict:
    return {"deadline_id": deadline_id, "kind": kind, "branch": "UIMM", "certification": "CQPM0264",
            "candidacy_id": str(uuid.uuid4()), "session_id": str(uuid.uuid4()), "subject": "CQPM0264-2026-000001",
            "responsible_organisation": "UIMM", "responsible_role": "certifier", **changes}


def opened(deadline_id: str, **changes) -> d.DeadlineOpened:
    return d.DeadlineOpened(**about(deadline_id, **changes), cause=str(uuid.uuid4()), opened_on=date(2026, 5, 4),
                            remind_on=date(2026, 7, 20), due_on=date(2026, 8, 4))


async def row(db, deadline_id: str):
    return await db.fetchrow("SELECT * FROM deadlines WHERE id = $1", deadline_id)


async def test_an_opened_deadline_is_kept_open_with_its_dates_who_must_meet_it_and_its_records(db):
    deadline = str(uuid.uuid4())
    fact = opened(deadline)
    await apply(db, TOPIC, envelope(fact, deadline, at=T0))
    found = await row(db, deadline)
    assert (found["kind"], found["state"], found["opened_on"], found["remind_on"], found["due_on"]) == \
        ("HOLDER_DECLARATION", "OPEN", date(2026, 5, 4), date(2026, 7, 20), date(2026, 8, 4))
    assert (found["responsible_organisation"], found["responsible_role"], found["branch"], found["certification"],
            str(found["candidacy_id"]), found["subject"], found["opened_at"]) == \
        ("UIMM", "certifier", "UIMM", "CQPM0264", fact.candidacy_id, "CQPM0264-2026-000001", T0)


async def test_a_deadline_becomes_due_then_met_with_the_event_that_met_it(db):
    deadline, cause = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(db, TOPIC, envelope(opened(deadline), deadline, at=T0))
    await apply(db, TOPIC, envelope(d.DeadlineDue(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 7, 20)),
                                    deadline, at=T0 + timedelta(days=77)))
    assert (await row(db, deadline))["state"] == "DUE"
    await apply(db, TOPIC, envelope(d.DeadlineMet(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 7, 25),
                                                  cause=cause, late=False), deadline, at=T0 + timedelta(days=82)))
    found = await row(db, deadline)
    assert (found["state"], found["due_since"], found["met_on"], found["met_late"], found["met_by"]) == \
        ("MET", date(2026, 7, 20), date(2026, 7, 25), False, cause)


async def test_a_deadline_met_after_it_was_missed_is_met_late_and_keeps_the_day_it_was_missed(db):
    deadline = str(uuid.uuid4())
    await apply(db, TOPIC, envelope(opened(deadline), deadline, at=T0))
    await apply(db, TOPIC, envelope(d.DeadlineMissed(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 8, 5)),
                                    deadline, at=T0 + timedelta(days=93)))
    assert (await row(db, deadline))["state"] == "MISSED"
    await apply(db, TOPIC, envelope(d.DeadlineMet(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 8, 20),
                                                  cause=str(uuid.uuid4()), late=True), deadline,
                                    at=T0 + timedelta(days=108)))
    found = await row(db, deadline)
    assert (found["state"], found["missed_on"], found["met_on"], found["met_late"]) == \
        ("MET", date(2026, 8, 5), date(2026, 8, 20), True)


async def test_a_cancelled_deadline_keeps_its_reason_and_nothing_after_brings_it_back(db):
    deadline = str(uuid.uuid4())
    await apply(db, TOPIC, envelope(opened(deadline), deadline, at=T0))
    await apply(db, TOPIC, envelope(d.DeadlineCancelled(**about(deadline), on=date(2026, 6, 1), cause="revoked",
                                                        reason="award corrected to a refusal"), deadline,
                                    at=T0 + timedelta(days=28)))
    # A DUE the engine had fired before it heard of the cancellation, arriving after it.
    await apply(db, TOPIC, envelope(d.DeadlineDue(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 7, 20)),
                                    deadline, at=T0 + timedelta(days=29)))
    found = await row(db, deadline)
    assert (found["state"], found["cancelled_on"], found["cancellation_reason"]) == \
        ("CANCELLED", date(2026, 6, 1), "award corrected to a refusal")


async def test_a_fact_delivered_again_even_under_another_event_id_changes_nothing(db):
    deadline = str(uuid.uuid4())
    first = opened(deadline)
    met = d.DeadlineMet(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 7, 25), cause="c1", late=False)
    await apply(db, TOPIC, envelope(first, deadline, at=T0), envelope(met, deadline, at=T0 + timedelta(days=82)))
    before = dict(await row(db, deadline))
    # Republished (a replay of the engine): the same facts, new event ids, later instants.
    again = d.DeadlineMet(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 7, 30), cause="c2", late=False)
    await projection.project(db, envelope(first, deadline, at=T0 + timedelta(days=90)))
    await projection.project(db, envelope(again, deadline, at=T0 + timedelta(days=91)))
    after = dict(await row(db, deadline))
    assert dict(after) == dict(before)
    assert await db.fetchval("SELECT count(*) FROM deadlines") == 1


async def test_a_message_sent_is_kept_once_without_content_or_address(db):
    candidacy = str(uuid.uuid4())
    sent = d.NotificationSent(notification_id=str(uuid.uuid4()), cause=str(uuid.uuid4()), template="convocation",
                              recipient_role="candidate", recipient_id=str(uuid.uuid4()), organisation="UIMM",
                              branch="UIMM", candidacy_id=candidacy, session_id=str(uuid.uuid4()), deadline_id=None,
                              legally_required=True, sent_at=T0)
    await apply(db, candidacy_contracts.TOPIC, envelope(sent, at=T0 + timedelta(seconds=1)))  # the candidacy's
    await projection.project_candidacy(db, envelope(sent, at=T0 + timedelta(seconds=5)))  # recorded again by a replay
    [found] = await db.fetch("SELECT * FROM notifications WHERE candidacy_id = $1::uuid", candidacy)
    assert (found["template"], found["recipient_role"], found["legally_required"], found["sent_at"]) == \
        ("convocation", "candidate", True, T0)
    assert not {"address", "email", "body", "subject"} & set(found.keys())


async def test_a_state_at_an_instant_is_what_replaying_the_events_up_to_it_gives(db):
    """asOf reads a state from the instants kept (state_at, STATE_AT): it must agree with a replay through
    this projection of the events recorded by then, at every instant, in Python and in SQL."""
    deadline = str(uuid.uuid4())
    events = [envelope(opened(deadline), deadline, at=T0),
              envelope(d.DeadlineDue(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 7, 20)), deadline,
                       at=T0 + timedelta(days=77)),
              envelope(d.DeadlineMissed(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 8, 5)), deadline,
                       at=T0 + timedelta(days=93)),
              envelope(d.DeadlineMet(**about(deadline), due_on=date(2026, 8, 4), on=date(2026, 8, 20), cause="c",
                                     late=True), deadline, at=T0 + timedelta(days=108))]
    await apply(db, TOPIC, *events)
    today = await row(db, deadline)
    for at in [T0 + timedelta(days=n) for n in (0, 50, 77, 80, 93, 100, 108, 200)]:
        async with db.transaction():
            await db.execute("CREATE TEMP TABLE deadlines (LIKE deadlines INCLUDING ALL) ON COMMIT DROP")
            for e in events:
                if e.occurred_at <= at:
                    await projection.project(db, e)
            replayed = await db.fetchval("SELECT state FROM deadlines WHERE id = $1", deadline)
            await db.execute("DROP TABLE pg_temp.deadlines")
        in_sql = await db.fetchval(f"SELECT {projection.STATE_AT('$2::timestamptz')} FROM deadlines WHERE id = $1",
                                   deadline, at)
        assert projection.state_at(today, at) == in_sql == replayed, at
