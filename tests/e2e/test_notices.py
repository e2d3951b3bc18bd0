"""What the candidate is told, on the whole system and a real SMTP server (Mailpit): their candidacy opened, their
admissibility decided, their convocation with a calendar entry, their results once published, each message once,
recorded without its content; a candidacy process killed between the server taking a message and recording it
sends it once."""

import os
import uuid
from datetime import UTC, date, datetime

import httpx
import icalendar

from tests.e2e.test_erasure import PERSON, candidacy, catalog
from tests.e2e.test_jury_journey import (BLOCKS, EXPERIENCE, TODAY, decide, evaluate, ok, paritaire_session, present,
                                        published)
from tests.harness import LOGS, eventually, mailbox

NOTIFICATIONS = "query($id: ID!) { candidacy(id: $id) { notifications { template recipientRole legallyRequired } } }"


def person() -> dict:
    return {**PERSON, "email": f"candidat-{uuid.uuid4().hex[:10]}@example.org"}


def subjects(messages: list[dict]) -> list[str]:
    return sorted(m["Subject"] for m in messages)


async def received(address: str, count: int) -> list[dict]:
    async def arrived():
        found = await mailbox(address)
        return found if len(found) >= count else None
    return await eventually(arrived, timeout=60)


async def calendar_of(message: dict) -> icalendar.Calendar:
    [part] = [a for a in message["Attachments"] if a["FileName"] == "convocation.ics"]
    async with httpx.AsyncClient(timeout=30) as http:
        body = (await http.get(f"{os.environ['CQP_TEST_SMTP_API']}/api/v1/message/{message['ID']}/part/"
                               f"{part['PartID']}")).content
    return icalendar.Calendar.from_ical(body)


async def test_the_candidate_is_told_each_step_once_and_their_results_only_once_published(system):
    await system.start()
    await catalog(system)
    who = person()
    _, candidacy_id = await candidacy(system, who, "n")
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(system, candidacy_id, block, True, f"n-e{n}"))["validated"]
    session_id, members = await paritaire_session(system, TODAY, "s")
    await present(system, session_id, candidacy_id, "n-present")
    await decide(system, session_id, candidacy_id, "FULL_AWARD", members, "n-d")

    first = await received(who["email"], 3)
    assert subjects(first) == sorted([
        "Convocation au jury « CQPM conduite d'installations automatisées » du "
        + _day_fr(date.fromisoformat(TODAY)) + " à 09 h 00",
        "Recevabilité de votre demande de VAE : « CQPM conduite d'installations automatisées »",
        "Votre candidature « CQPM conduite d'installations automatisées » est ouverte"])
    [convocation] = [m for m in first if m["Subject"].startswith("Convocation")]
    [event] = (await calendar_of(convocation)).walk("VEVENT")
    assert event.decoded("dtstart").date() == date.fromisoformat(TODAY)
    assert str(event["location"]) == "Paris" and "Jury" in str(event["summary"])
    assert who["email"] not in (LOGS / f"{system.prefix}candidacy.log").read_text(errors="replace")  # never logged

    publication = datetime.now(UTC)
    await published(system, session_id, "n")
    messages = await received(who["email"], 4)
    [results] = [m for m in messages if m["Subject"].startswith("Vos résultats")]
    assert datetime.fromisoformat(results["Date"].replace("Z", "+00:00")) >= publication.replace(microsecond=0)
    assert "certification obtenue" in results["Text"]

    async def recorded():
        shown = (await system.graphql(NOTIFICATIONS, {"id": candidacy_id}))["candidacy"]["notifications"]
        return shown if len(shown) == 4 else None

    shown = await eventually(recorded)
    assert sorted((n["template"], n["recipientRole"], n["legallyRequired"]) for n in shown) == [
        ("candidature-ouverte", "candidate", False), ("convocation", "candidate", True),
        ("recevabilite", "candidate", False), ("resultats", "candidate", False)]
    assert len(await mailbox(who["email"])) == 4  # each once

    # A replay rebuilds the read models from the topics: the same messages listed, none sent again.
    replayed = await system.acli("replay")
    assert replayed.returncode == 0, replayed.stderr
    again = (await system.graphql(NOTIFICATIONS, {"id": candidacy_id}))["candidacy"]["notifications"]
    assert sorted(n["template"] for n in again) == sorted(n["template"] for n in shown)
    queued = await system.sql("SELECT template, state FROM candidacy.mail_outbox ORDER BY template")
    assert [(r["template"], r["state"]) for r in queued] == [
        ("candidature-ouverte", "sent"), ("convocation", "sent"), ("recevabilite", "sent"), ("resultats", "sent")]


def _day_fr(day: date) -> str:
    days = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
    return f"{days[day.weekday()]} {day.day} {months[day.month - 1]} {day.year}"


async def test_a_candidacy_process_killed_after_the_server_took_a_message_sends_it_once_and_records_it_once(system):
    await system.start("gateway", "catalog", "jury")
    await system.start("candidacy", CQP_CRASH_AT="mail_after_smtp_accepted")
    await catalog(system)
    who = person()
    registered = await ok(system, "registerCandidate", "RegisterCandidateInput", who, "k-r",
                          "... on CandidateRegistered { candidate { id } }")
    opened = await ok(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": registered["candidate"]["id"], "certification": "RNCP34174", "route": "VAE",
        "evaluatorId": system.centre, "experience": EXPERIENCE}, "k-o", "... on CandidacyChanged { candidacy { id } }")
    candidacy_id = opened["candidacy"]["id"]
    assert await system["candidacy"].wait_exit(timeout=60) != 0  # killed once the server took the message
    await received(who["email"], 1)
    await system.start("candidacy")

    async def recorded():
        shown = (await system.graphql(NOTIFICATIONS, {"id": candidacy_id}))["candidacy"]
        return shown["notifications"] if shown and shown["notifications"] else None

    assert [n["template"] for n in await eventually(recorded, timeout=60)] == ["candidature-ouverte"]
    assert len(await mailbox(who["email"])) == 1  # sent again after the restart, with the same Message-ID: one


async def convened_session(system, emails: list[str]) -> tuple[str, list[str]]:
    """A paritaire session whose four members have an address."""
    session = await ok(system, "scheduleJurySession", "ScheduleJurySessionInput", {
        "branch": "UIMM", "certifications": ["RNCP34174"], "on": TODAY, "place": "Lyon", "capacity": 10}, "ms",
        "... on JurySessionChanged { session { id } }")
    session_id, members = session["session"]["id"], []
    for n, ((college, role), email) in enumerate(zip([("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT"),
                                                      ("EMPLOYER", "MEMBER"), ("EMPLOYEE", "MEMBER")], emails)):
        appointed = await ok(system, "appointJuryMember", "AppointJuryMemberInput",
                             {"sessionId": session_id, "name": f"Membre {n}", "email": email, "college": college,
                              "role": role}, f"ms-m{n}", "... on JurySessionChanged { memberId }")
        members.append(appointed["memberId"])
    return session_id, members


async def test_members_are_convened_and_the_office_reminded_of_a_pending_declaration_never_of_a_made_one(system):
    await system.start()
    await catalog(system)
    office = f"certification-{uuid.uuid4().hex[:8]}@uimm.example.org"
    await ok(system, "setBranchContact", "SetBranchContactInput", {"code": "UIMM", "email": office}, "contact")
    awarded = []
    for key in ("a", "b"):
        _, candidacy_id = await candidacy(system, person(), key)
        for n, block in enumerate(BLOCKS):
            assert (await evaluate(system, candidacy_id, block, True, f"{key}-e{n}"))["validated"]
        awarded.append(candidacy_id)
    emails = [f"membre-{n}-{uuid.uuid4().hex[:8]}@example.org" for n in range(4)]
    session_id, members = await convened_session(system, emails)
    numbers = []
    for key, candidacy_id in zip(("a", "b"), awarded):
        await present(system, session_id, candidacy_id, f"{key}-present")
        numbers.append((await decide(system, session_id, candidacy_id, "FULL_AWARD", members, f"{key}-d"))[
            "certificateNumber"])

    for email in emails:  # each member convened once, with the session in their calendar
        [convocation] = await received(email, 1)
        assert convocation["Subject"].startswith("Convocation au jury « CQPM conduite d'installations automatisées »")
        [event] = (await calendar_of(convocation)).walk("VEVENT")
        assert event.decoded("dtstart").date() == date.fromisoformat(TODAY) and str(event["location"]) == "Lyon"

    # The first award declared and accepted: its deadline met.
    declared, kept = numbers
    for path, body in (("declare-holders", {"file": "FLUX-1", "numbers": [declared]}),
                       ("record-declaration-outcome", {"file": "FLUX-1", "number": declared, "accepted": True})):
        answer = await system.command("jury", path, body, f"{path}-1")
        assert answer.status_code == 200, answer.text
    listing = ("query($f: DeadlineFilter) { deadlines(filter: $f) { edges { node { subject state } } } }")

    async def met():
        shown = (await system.graphql(listing, {"f": {"kind": "HOLDER_DECLARATION"}}))["deadlines"]["edges"]
        states = {e["node"]["subject"]: e["node"]["state"] for e in shown}
        return states if states.get(declared) == "MET" and kept in states else None

    assert (await eventually(met, timeout=60))[kept] == "OPEN"
    moved = await system.acli("deadlines", "clock", "--advance", "80")  # past the reminder day (due - 15 days)
    assert moved.returncode == 0, moved.stderr

    async def reminded():
        found = [m for m in await mailbox(office) if "Caisse des Dépôts" in m["Subject"]]
        return found or None

    found = await eventually(reminded, timeout=60)
    assert len(found) == 1, [m["Subject"] for m in await mailbox(office)]
    [reminder] = found
    assert reminder["Subject"] == f"Échéance proche : déclaration du titulaire à la Caisse des Dépôts — {kept}"
    # Its rejection by the portal: the office told what to fix.
    for path, body in (("declare-holders", {"file": "FLUX-2", "numbers": [kept]}),
                       ("record-declaration-outcome", {"file": "FLUX-2", "number": kept, "accepted": False,
                                                       "messages": ["Date de naissance invalide"]})):
        answer = await system.command("jury", path, body, f"{path}-2")
        assert answer.status_code == 200, answer.text

    async def rejected():
        found = [m for m in await mailbox(office) if m["Subject"].startswith("Déclaration rejetée")]
        return found or None

    [rejection] = await eventually(rejected, timeout=60)
    assert kept in rejection["Subject"] and "Date de naissance invalide" in rejection["Text"]
    assert not [m for m in await mailbox(office) if declared in m["Subject"]]  # met in time: never reminded
    # The branch's figure: one award of two declared within the delay.
    figures = (await system.graphql("{ deadlineFigures(kind: HOLDER_DECLARATION) { branch total metOnTime metLate"
                                    " due missed shareMetOnTime } }"))["deadlineFigures"]
    assert figures == [{"branch": "UIMM", "total": 2, "metOnTime": 1, "metLate": 0, "due": 1, "missed": 0,
                        "shareMetOnTime": 0.5}]
    sessions = "query($id: ID!) { jurySession(id: $id) { notifications { template recipientRole } } }"

    async def recorded():
        shown = (await system.graphql(sessions, {"id": session_id}))["jurySession"]["notifications"]
        return shown if len([n for n in shown if n["template"] == "convocation"]) >= 4 else None

    shown = await eventually(recorded, timeout=60)
    assert [n["recipientRole"] for n in shown if n["template"] == "convocation"].count("jury-member") == 4
