"""The outbox against the real SMTP server scripts/test starts (Mailpit), read back through its HTTP API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import icalendar
import pytest_asyncio

from shared import mail
from shared.mail import Key, Sender, convocation_ics, enqueue
from shared.migrations import migrate
from tests.harness import ROOT, Infrastructure, eventually, infrastructure, mailbox, smtp_settings

START = datetime(2026, 6, 15, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
# Short waits between tries, so the tests see several.
QUICK = {"mail_retry_base_seconds": 0.2, "mail_retry_max_seconds": 1.0, "mail_poll_seconds": 0.1,
         "smtp_timeout_seconds": 5.0}


@pytest_asyncio.fixture
async def outbox():
    """An outbox in a schema of its own; the pool's search_path names it."""
    _, dsn = infrastructure()
    schema = f"mail_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, server_settings={"search_path": schema})
    await migrate(pool, mail.MIGRATIONS)
    try:
        yield SimpleNamespace(pool=pool, schema=schema, dsn=dsn)
    finally:
        await pool.close()
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


def person() -> tuple[str, str]:
    """A recipient's id and a fresh address of its own (the server's mailbox is shared by every test)."""
    recipient = str(uuid.uuid4())
    return recipient, f"{recipient[:13]}@example.org"


def convocation(recipient: str, session: str) -> dict:
    return {"context": {"name": "Zoé Martin", "certification": "CQPM Opérateur régleur", "role": "candidat(e)",
                        "starts_at": START, "location": "UIMM Lyon, salle 2", "organizer_name": "Jury UIMM",
                        "organizer_email": "jury@uimm.example", "organisation_name": "UIMM"},
            "attachments": [convocation_ics(session=session, recipient=recipient, starts_at=START,
                                            ends_at=START + timedelta(hours=3), location="UIMM Lyon, salle 2",
                                            summary="Jury CQPM Opérateur régleur",
                                            organizer_email="jury@uimm.example", organizer_name="Jury UIMM")]}


async def queue(pool, settings, key: Key, address: str) -> bool:
    return await enqueue(pool, key, organisation="uimm", address=address, settings=settings,
                         **convocation(key.recipient, key.cause))


async def row(pool, key: Key):
    return await pool.fetchrow("SELECT * FROM mail_outbox WHERE cause = $1 AND recipient = $2 AND template = $3",
                               key.cause, key.recipient, key.template)


async def test_a_queued_convocation_arrives_with_its_subject_recipient_and_calendar_entry(outbox):
    settings = smtp_settings(**QUICK)
    recipient, address = person()
    key = Key(str(uuid.uuid4()), recipient, "convocation")
    assert await queue(outbox.pool, settings, key, address)
    assert await Sender(outbox.pool, settings).send_due() == 1

    [message] = await eventually(lambda: mailbox(address))
    assert message["Subject"] == "Convocation au jury « CQPM Opérateur régleur » du lundi 15 juin 2026 à 09 h 30"
    assert [to["Address"] for to in message["To"]] == [address]
    assert f"<{message['MessageID']}>" == mail.message_id(key, "cqp.localhost")
    assert "Lieu : UIMM Lyon, salle 2" in message["Text"] and "<html" in message["HTML"]
    [calendar_part] = [a for a in message["Attachments"] if a["ContentType"].startswith("text/calendar")]
    assert calendar_part["FileName"] == "convocation.ics"
    sent = await row(outbox.pool, key)
    assert (sent["state"], sent["attempts"], sent["address"], sent["message"]) == ("sent", 1, None, None)
    assert sent["sent_at"] is not None and sent["organisation"] == "uimm"


async def test_the_calendar_entry_received_parses_as_the_session_s_event(outbox):
    settings = smtp_settings(**QUICK)
    recipient, address = person()
    key = Key(str(uuid.uuid4()), recipient, "convocation")
    await queue(outbox.pool, settings, key, address)
    await Sender(outbox.pool, settings).send_due()
    [message] = await eventually(lambda: mailbox(address))
    part = next(a for a in message["Attachments"] if a["ContentType"].startswith("text/calendar"))
    async with httpx.AsyncClient() as http:
        body = (await http.get(f"{os.environ['CQP_TEST_SMTP_API']}/api/v1/message/{message['ID']}/part/"
                               f"{part['PartID']}")).content
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert event.decoded("dtstart") == START and str(event["location"]) == "UIMM Lyon, salle 2"


async def test_a_message_queued_again_or_after_it_was_sent_is_sent_once(outbox):
    settings = smtp_settings(**QUICK)
    recipient, address = person()
    key = Key(str(uuid.uuid4()), recipient, "convocation")
    assert await queue(outbox.pool, settings, key, address)
    assert not await queue(outbox.pool, settings, key, address)  # a redelivered event
    sender = Sender(outbox.pool, settings)
    assert await sender.send_due() == 1
    assert not await queue(outbox.pool, settings, key, address)  # a replay, after it was sent
    assert await sender.send_due() == 0
    await eventually(lambda: mailbox(address))
    await asyncio.sleep(0.5)
    assert len(await mailbox(address)) == 1
    assert (await outbox.pool.fetchval("SELECT count(*) FROM mail_outbox")) == 1


async def test_a_message_the_server_could_not_take_is_tried_again_and_delivered_once_it_is_back(outbox):
    settings = smtp_settings(**QUICK)
    recipient, address = person()
    key = Key(str(uuid.uuid4()), recipient, "convocation")
    await queue(outbox.pool, settings, key, address)
    sender = Sender(outbox.pool, settings)
    Infrastructure.stop_smtp()
    try:
        await sender.send_due()
        await eventually(lambda: sender.send_due(), timeout=10)  # due again after its backoff
        failed = await row(outbox.pool, key)
        assert (failed["state"], failed["attempts"]) == ("pending", 2)
        assert failed["last_error"] and address not in failed["last_error"]
        assert failed["due_at"] > await outbox.pool.fetchval("SELECT now()")
    finally:
        Infrastructure.start_smtp()
    running = asyncio.create_task(sender.run())
    try:
        await eventually(lambda: mailbox(address), timeout=20)
        assert (await row(outbox.pool, key))["state"] == "sent"
    finally:
        running.cancel()
    assert len(await mailbox(address)) == 1


async def test_after_its_last_attempt_a_message_is_set_aside_and_sent_once_an_operator_retries_it(outbox):
    wrong = smtp_settings(**QUICK, smtp_password="not-the-password", mail_max_attempts=3)
    recipient, address = person()
    key = Key(str(uuid.uuid4()), recipient, "convocation")
    await queue(outbox.pool, wrong, key, address)
    running = asyncio.create_task(Sender(outbox.pool, wrong).run())
    try:
        await eventually(lambda: _dead(outbox.pool, key), timeout=20)
    finally:
        running.cancel()
    dead = await row(outbox.pool, key)
    assert (dead["state"], dead["attempts"]) == ("dead", 3)
    assert "SMTPAuthenticationError 535" in dead["last_error"]
    assert await mailbox(address) == []

    listed = await _cli(outbox, "dead")
    assert str(key) in listed.stdout and "attempts=3" in listed.stdout and address not in listed.stdout
    assert "1 messages due again" in (await _cli(outbox, "retry", "--key", str(key))).stdout
    assert await Sender(outbox.pool, smtp_settings(**QUICK)).send_due() == 1
    assert len(await eventually(lambda: mailbox(address))) == 1
    assert (await row(outbox.pool, key))["state"] == "sent"


async def _dead(pool, key: Key) -> bool:
    return (await row(pool, key))["state"] == "dead"


async def _cli(outbox, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CQP_POSTGRES_DSN": outbox.dsn}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "shared.mail", *args, "--schema", outbox.schema],
                                   cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)


def _sender_process(outbox, log, **extra: str) -> subprocess.Popen:
    settings = smtp_settings()
    env = {**os.environ, "CQP_POSTGRES_DSN": outbox.dsn, "CQP_SMTP_HOST": settings.smtp_host,
           "CQP_SMTP_PORT": str(settings.smtp_port), "CQP_SMTP_USER": settings.smtp_user,
           "CQP_SMTP_PASSWORD": settings.smtp_password, "CQP_SMTP_FROM": settings.smtp_from,
           "CQP_MAIL_POLL_SECONDS": "0.1", "CQP_MAIL_LEASE_SECONDS": "2", "CQP_SMTP_TIMEOUT_SECONDS": "1", **extra}
    return subprocess.Popen([sys.executable, "-m", "shared.mail", "send", "--schema", outbox.schema], cwd=ROOT,
                            env=env, stdout=log, stderr=log)


async def test_a_sender_killed_after_the_server_took_a_message_and_before_recording_it_sends_it_once(outbox, tmp_path):
    settings = smtp_settings()
    recipient, address = person()
    key = Key(str(uuid.uuid4()), recipient, "convocation")
    await queue(outbox.pool, settings, key, address)
    with open(tmp_path / "sender.log", "ab") as log:
        crashing = _sender_process(outbox, log, CQP_CRASH_AT="mail_after_smtp_accepted")
        assert await asyncio.to_thread(crashing.wait, 60) == -signal.SIGKILL
        assert len(await eventually(lambda: mailbox(address))) == 1  # the server has it ...
        claimed = await row(outbox.pool, key)
        assert (claimed["state"], claimed["attempts"]) == ("pending", 1)  # ... we do not know it
        restarted = _sender_process(outbox, log)
        try:
            # Once the lease ends, the message is sent again with the same Message-ID, and recorded.
            await eventually(lambda: _sent(outbox.pool, key), timeout=30)
        finally:
            restarted.terminate()
            restarted.wait(30)
    again = await row(outbox.pool, key)
    assert again["attempts"] == 2  # sent twice by us ...
    await asyncio.sleep(0.5)
    [message] = await mailbox(address)  # ... kept once by the relay
    assert f"<{message['MessageID']}>" == mail.message_id(key, "cqp.localhost")


async def _sent(pool, key: Key) -> bool:
    return (await row(pool, key))["state"] == "sent"
