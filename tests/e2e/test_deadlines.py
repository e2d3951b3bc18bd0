"""The deadline engine on the whole system: the journey's events open their deadlines (a registration's end, the
admissibility answer, each block's validity, the session's results, the award's declaration), their meeting
events close them, and the clock makes them due and missed, each transition once, across a SIGKILL."""

from datetime import UTC, date, datetime, timedelta

from services.jury.deadlines.engine import add_months
from tests.e2e.test_erasure import PERSON, candidacy, catalog
from tests.documents import attach_paper
from tests.e2e.test_jury_journey import (BLOCKS, EXPERIENCE, TODAY, decide, evaluate, mutate, ok, once_known,
                                        paritaire_session, present)
from tests.harness import eventually, read_topic

DEADLINE_EVENTS = ("DeadlineOpened", "DeadlineDue", "DeadlineMet", "DeadlineMissed", "DeadlineCancelled")


async def transitions(system) -> list[dict]:
    return [e for e in await read_topic(system, "cqp.jury.events") if e["type"] in DEADLINE_EVENTS]


def of(events: list[dict], kind: str, type_: str | None = None) -> list[dict]:
    return [e for e in events if e["payload"]["kind"] == kind and type_ in (None, e["type"])]


async def test_the_journey_opens_its_deadlines_and_the_clock_makes_them_due_then_missed_once(system):
    await system.start()
    await catalog(system)
    # The branch's own delays: two months to declare an award, reminded ten days before.
    changed = await ok(system, "setBranchDeadlines", "SetBranchDeadlinesInput",
                       {"code": "UIMM", "deadlines": {"declarationMonths": 2, "declarationReminderDays": 10}}, "delays",
                       "... on BranchChanged { branch { deadlines { declarationMonths declarationReminderDays"
                       " admissibilityAnswerDays } } }")
    assert changed["branch"]["deadlines"] == {"declarationMonths": 2, "declarationReminderDays": 10,
                                              "admissibilityAnswerDays": 60}
    await ok(system, "createBranch", "CreateBranchInput", {"code": "LEEM", "name": "Industries du médicament"}, "leem")
    other = await system.token(organisation=system.centre, role="branch-admin", branches=("LEEM",))
    refused = await mutate(system, "setBranchDeadlines", "SetBranchDeadlinesInput",
                           {"code": "UIMM", "deadlines": {"declarationMonths": 12}}, "delays-leem", token=other)
    assert refused["code"] == "Forbidden", refused
    _, candidacy_id = await candidacy(system, PERSON, "d")
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(system, candidacy_id, block, True, f"d-e{n}"))["validated"]
    session_id, members = await paritaire_session(system, TODAY, "s")
    await present(system, session_id, candidacy_id, "d-present")
    number = (await decide(system, session_id, candidacy_id, "FULL_AWARD", members, "d-d"))["certificateNumber"]
    today = date.fromisoformat(TODAY)

    async def opened():
        events = await transitions(system)
        return events if of(events, "HOLDER_DECLARATION") and of(events, "SESSION_RESULTS", "DeadlineDue") else None

    events = await eventually(opened)
    declaration = of(events, "HOLDER_DECLARATION")[0]
    assert declaration["type"] == "DeadlineOpened"
    assert {k: declaration["payload"][k] for k in ("subject", "branch", "certification", "candidacy_id",
                                                    "responsible_role", "opened_on", "due_on", "remind_on")} == {
        "subject": number, "branch": "UIMM", "certification": "RNCP34174", "candidacy_id": candidacy_id,
        "responsible_role": "certifier", "opened_on": TODAY, "due_on": add_months(today, 2).isoformat(),
        "remind_on": (add_months(today, 2) - timedelta(days=10)).isoformat()}
    decision = next(e for e in await read_topic(system, "cqp.jury.events") if e["type"] == "CertificateIssued")
    # Recorded as the engine's, under the award's correlation; the award's own actor did not open it.
    assert declaration["actor"] == {"user_id": "jury-deadline-engine", "organisation_id": "platform", "role": "service"}
    assert (declaration["correlation_id"], declaration["payload"]["cause"]) == (decision["correlation_id"],
                                                                                 decision["event_id"])
    # The registration's end and each block's validity (60 months) are opened; the admissibility answer was met.
    assert [e["payload"]["subject"].split("/")[0] for e in of(events, "REGISTRATION_END")] == ["RNCP34174"]
    assert of(events, "REGISTRATION_END")[0]["payload"]["due_on"] == "2029-01-15"
    assert len(of(events, "BLOCK_VALIDITY", "DeadlineOpened")) == 3
    assert [e["type"] for e in of(events, "ADMISSIBILITY_ANSWER")] == ["DeadlineOpened", "DeadlineMet"]
    assert of(events, "ADMISSIBILITY_ANSWER", "DeadlineMet")[0]["payload"]["late"] is False
    # The session's day has come: its results are due.
    assert of(events, "SESSION_RESULTS", "DeadlineDue")[0]["payload"]["on"] == TODAY

    before = datetime.now(UTC)

    # The timers are in the database: a SIGKILL of the jury process loses none.
    system["jury"].kill()
    await system["jury"].wait_exit()
    await system.start("jury")
    moved = await system.acli("deadlines", "clock", "--advance", "100")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == f"deadline clock: {(today + timedelta(days=100)).isoformat()}"

    async def missed():
        events = await transitions(system)
        return events if (of(events, "HOLDER_DECLARATION", "DeadlineMissed")
                          and of(events, "SESSION_RESULTS", "DeadlineMissed")) else None

    await eventually(missed)
    await ok(system, "closeJurySession", "CloseSessionInput", {"sessionId": session_id, "president": members[0]},
             "close")

    async def met_late():
        events = await transitions(system)
        return events if of(events, "SESSION_RESULTS", "DeadlineMet") else None

    events = await eventually(met_late)
    assert [e["type"] for e in of(events, "HOLDER_DECLARATION")] == ["DeadlineOpened", "DeadlineDue", "DeadlineMissed"]
    assert of(events, "HOLDER_DECLARATION", "DeadlineMissed")[0]["payload"]["on"] == (
        add_months(today, 2) + timedelta(days=1)).isoformat()
    assert [e["type"] for e in of(events, "SESSION_RESULTS")] == ["DeadlineOpened", "DeadlineDue", "DeadlineMissed",
                                                                  "DeadlineMet"]
    assert of(events, "SESSION_RESULTS", "DeadlineMet")[0]["payload"]["late"] is True
    assert not of(events, "BLOCK_VALIDITY", "DeadlineDue")  # five years: not yet near
    assert len({e["event_id"] for e in events}) == len(events)

    # Through GraphQL: the declaration missed now, open as it stood before the clock moved.
    listing = ("query($f: DeadlineFilter, $at: DateTime) { deadlines(filter: $f, asOf: $at) { totalCount"
               " edges { node { subject state dueOn missedOn responsibleRole } } } }")

    async def shown_missed():
        found = (await system.graphql(listing, {"f": {"kind": "HOLDER_DECLARATION", "state": "MISSED"}}))["deadlines"]
        return found if found["totalCount"] else None

    assert [e["node"] for e in (await eventually(shown_missed))["edges"]] == [{
        "subject": number, "state": "MISSED", "dueOn": add_months(today, 2).isoformat(),
        "missedOn": (add_months(today, 2) + timedelta(days=1)).isoformat(), "responsibleRole": "certifier"}]
    then = (await system.graphql(listing, {"f": {"kind": "HOLDER_DECLARATION"}, "at": before.isoformat()}))
    assert [(e["node"]["state"], e["node"]["missedOn"]) for e in then["deadlines"]["edges"]] == [("OPEN", None)]
    # The branch's follow-up: the operator reads the candidacy's deadlines; the centre, which reads the candidacy,
    # none of them (the role table's `deadlines` row).
    of_candidacy = "query($id: ID!) { candidacy(id: $id) { deadlines { kind state } } }"
    operator = (await system.graphql(of_candidacy, {"id": candidacy_id}))["candidacy"]
    assert sorted(d["kind"] for d in operator["deadlines"]) == [
        "ADMISSIBILITY_ANSWER", *["BLOCK_VALIDITY"] * 3, "HOLDER_DECLARATION"]
    centre = (await system.graphql(of_candidacy, {"id": candidacy_id}, token=system.evaluator))["candidacy"]
    assert centre == {"deadlines": []}


async def test_the_clock_moves_only_forward_and_only_where_the_installation_allows_it(system):
    await system.start("jury")
    back = await system.acli("deadlines", "clock", "--advance", "-3")
    assert back.returncode != 0 and "only moves forward" in back.stderr
    shown = await system.acli("deadlines", "clock")
    assert shown.stdout.strip() == f"deadline clock: {TODAY}"


async def test_an_admissibility_request_left_unanswered_past_its_delay_is_deemed_admissible_naming_its_deadline(system):
    await system.start()
    await catalog(system)
    candidate = await ok(system, "registerCandidate", "RegisterCandidateInput", PERSON, "u-r",
                         "... on CandidateRegistered { candidate { id } }")
    opened = await once_known(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate["candidate"]["id"], "certification": "RNCP34174", "route": "VAE",
        "evaluatorId": system.centre, "experience": EXPERIENCE}, "u-o", "... on CandidacyChanged { candidacy { id } }")
    candidacy_id = opened["candidacy"]["id"]
    await attach_paper(system, candidacy_id, "LIVRET_1", "u-d1")
    await ok(system, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, "u-l1")

    async def open_deadline():
        found = of(await transitions(system), "ADMISSIBILITY_ANSWER")
        return found or None

    deadline = (await eventually(open_deadline))[0]["payload"]
    assert deadline["due_on"] == (date.fromisoformat(TODAY) + timedelta(days=60)).isoformat()
    assert deadline["effect"] == "DEEMED_ADMISSIBLE"
    moved = await system.acli("deadlines", "clock", "--advance", "61")
    assert moved.returncode == 0, moved.stderr
    query = "query($id: ID!) { candidacy(id: $id) { status admissibility { status reason } deadlines { kind state } } }"

    async def deemed():
        shown = (await system.graphql(query, {"id": candidacy_id}))["candidacy"]
        return shown if shown["status"] == "ADMISSIBLE" else None

    shown = await eventually(deemed)
    assert "réputée recevable" in shown["admissibility"]["reason"]
    assert shown["deadlines"] == [{"kind": "ADMISSIBILITY_ANSWER", "state": "MISSED"}]  # not met: missed, its effect applied
    decided = [e for e in await read_topic(system, "cqp.candidacy.events") if e["type"] == "AdmissibilityDecided"]
    assert [e["payload"]["deemed"] for e in decided] == [deadline["deadline_id"]]
    # The certifier's answer now comes too late: the candidacy is no longer waiting for it.
    late = await mutate(system, "decideAdmissibility", "DecideAdmissibilityInput",
                        {"candidacyId": candidacy_id, "admissible": False, "reason": "Livret 1 incomplet"}, "u-late")
    assert (late["__typename"], late["code"]) == ("Refused", "TransitionRefused"), late


async def test_a_subscriber_is_pushed_the_deadlines_of_its_scope_again_when_one_becomes_due(system):
    from tests.e2e.test_subscriptions import live

    await system.start()
    await catalog(system)
    admin = await system.token(organisation=system.centre, role="branch-admin", branches=("UIMM",))
    query = ("subscription($f: DeadlineFilter) { deadlinesDue(filter: $f) { kind state subject sessionId dueOn"
             " responsibleRole } }")
    async with live(system, admin) as subscriber:
        await subscriber.subscribe("due", query, {"f": {"kind": "SESSION_RESULTS"}})
        assert (await subscriber.next("due"))["deadlinesDue"] == []  # none due yet
        session_id, _ = await paritaire_session(system, TODAY, "live")  # its results are due from its day
        pushed = (await subscriber.next("due", timeout=60))["deadlinesDue"]
    assert pushed == [{"kind": "SESSION_RESULTS", "state": "DUE", "subject": session_id, "sessionId": session_id,
                       "dueOn": (date.fromisoformat(TODAY) + timedelta(days=15)).isoformat(),
                       "responsibleRole": "jury-secretary"}]
