"""Mail: messages rendered from French templates, kept in an outbox and sent once each.

Rendering. Each message is a template of shared/mail_templates: <name>.txt.j2 holds the subject (its `subject`
block) and the plain text (its `body` block), <name>.html.j2 the HTML alternative (autoescaped: a name or a
place typed by someone cannot inject markup). A missing variable is an error, never an empty string. A
convocation carries an iCalendar invitation (`convocation_ics`) whose UID is the same for a session and a
recipient, so a calendar updates the entry instead of adding one.

Sending once. A message is keyed by what caused it (an event id or a deadline id), its recipient (a person's
id) and its template. `enqueue` renders it and inserts it into the outbox table with its key as primary key,
ON CONFLICT DO NOTHING: a redelivered event, a replay or a second consumer adds nothing. The `Sender` (an
asyncio task, like the relay) claims due rows (FOR UPDATE SKIP LOCKED: senders in several replicas share the
work, never a row), hands each to the SMTP server, then marks it sent and forgets its address and content.
Its Message-ID is derived from the key alone, and the stored bytes are sent as they are: the same message is
always the same bytes with the same id.

The window we cannot close alone: a crash after the SMTP server accepted a message and before the row is
marked sent. The row is then still pending; once its lease ends the message is sent again, with the same
Message-ID. Closing that window is the relay's part: a relay that drops a Message-ID it already holds keeps
one (Mailpit in development and tests is started with --ignore-duplicate-ids; a production relay or the
recipients' servers deduplicate on Message-ID as most do, and a mail client shows one message per id). So
"exactly once" here means: once from us, at most a duplicate with the same id after a crash in that window.

Failures: a refused connection, a timeout, a refused login or a 4xx answer is tried again after
base·2^(attempt-1) seconds (capped); after `mail_max_attempts` attempts, or at once when the server refuses
the recipient or the message for good (5xx), the row is set aside as 'dead' with the reason, for an operator
(`python -m shared.mail dead|retry`). Addresses are never logged: the key only.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib
import asyncpg
import icalendar
import jinja2

from shared.errors import InvalidInput
from shared.faults import crash_point
from shared.logs import log
from shared.loops import cancelled
from shared.migrations import migrate, numbered
from shared.settings import Settings

logger = logging.getLogger("mail")

MIGRATIONS = numbered(
    "mail_outbox",
    "CREATE TABLE IF NOT EXISTS mail_outbox ("
    " cause text NOT NULL, recipient text NOT NULL, template text NOT NULL,"
    " organisation text NOT NULL,"  # whose message it is (its scope)
    " message_id text NOT NULL,"
    " address text, message bytea,"  # both forgotten once sent
    " state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),"
    " attempts int NOT NULL DEFAULT 0, due_at timestamptz NOT NULL DEFAULT now(), last_error text,"
    " created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz,"
    " PRIMARY KEY (cause, recipient, template))",
    "CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (due_at) WHERE state = 'pending'",
    # 3: what the message is about (the records it names, its recipient's role), kept after it is sent: what the
    # service records of it once sent (`on_sent`), never its content nor its address.
    "ALTER TABLE mail_outbox ADD COLUMN IF NOT EXISTS about jsonb",
)

# Fixed: a session's and a recipient's invitation keeps its UID across processes and releases.
_UID_NAMESPACE = uuid.UUID("6f1d3c52-5b7e-4d59-9a51-0c2f7d8e4a10")

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")


def date_fr(value: datetime) -> str:
    """'mardi 12 mai 2026 à 09 h 00' (a date alone: without the time)."""
    text = f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"
    return f"{text} à {value:%H} h {value:%M}" if isinstance(value, datetime) else text


_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("shared", "mail_templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_templates.filters["date_fr"] = date_fr


@dataclass(frozen=True)
class Key:
    """What a message is about, to whom, which one: at most one message per key, ever."""

    cause: str  # the event's or the deadline's id
    recipient: str  # the person's id (never an address)
    template: str

    def __str__(self) -> str:
        return f"{self.cause}/{self.recipient}/{self.template}"

    @classmethod
    def parse(cls, text: str) -> Key:
        parts = text.split("/")
        if len(parts) != 3 or not all(parts):
            raise InvalidInput("a mail key is CAUSE/RECIPIENT/TEMPLATE", key=text)
        return cls(*parts)


def message_id(key: Key, domain: str) -> str:
    """The Message-ID of the key's message: the same for every attempt, in every process."""
    digest = hashlib.sha256("\x1f".join((key.cause, key.recipient, key.template)).encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, context: dict) -> Rendered:
    """The template's subject, text and HTML; InvalidInput when it is unknown or lacks a variable."""
    try:
        text = _templates.get_template(f"{template}.txt.j2")
        html = _templates.get_template(f"{template}.html.j2")
        bound = text.new_context(context)
        subject = " ".join("".join(text.blocks["subject"](bound)).split())
        body = "".join(text.blocks["body"](text.new_context(context))).strip() + "\n"
        return Rendered(subject, body, html.render(context))
    except jinja2.TemplateNotFound:
        raise InvalidInput("unknown mail template", template=template) from None
    except jinja2.UndefinedError as error:
        raise InvalidInput("the mail template lacks a value", template=template, reason=str(error)) from None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: dict = field(default_factory=dict)


def convocation_ics(*, session: str, recipient: str, starts_at: datetime, ends_at: datetime, location: str,
                    summary: str, organizer_email: str, organizer_name: str, attendee_email: str | None = None,
                    stamp: datetime | None = None, domain: str = "cqp.localhost") -> Attachment:
    """A one-event invitation (METHOD:REQUEST) to a jury session; its UID is stable per session and recipient."""
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.tzinfo is None:
            raise InvalidInput("a convocation's times need their time zone", field=name)
    if ends_at <= starts_at:
        raise InvalidInput("a convocation ends after it starts", starts_at=starts_at.isoformat())
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//CQP//convocations//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{uuid.uuid5(_UID_NAMESPACE, f'{session}/{recipient}')}@{domain}")
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    # In UTC: a TZID would need its VTIMEZONE beside it, which some calendars do not read.
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("summary", summary)
    event.add("location", location)
    organizer = icalendar.vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = icalendar.vText(organizer_name)
    event.add("organizer", organizer)
    if attendee_email:
        attendee = icalendar.vCalAddress(f"mailto:{attendee_email}")
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)
    calendar.add_component(event)
    return Attachment("convocation.ics", calendar.to_ical(), "text", "calendar", {"method": "REQUEST"})


def compose(key: Key, *, sender: str, address: str, rendered: Rendered, attachments: Sequence[Attachment] = (),
            date: datetime | None = None) -> bytes:
    """The whole message as sent (headers, text, HTML, attachments)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    message["Message-ID"] = message_id(key, domain_of(sender))
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attachment in attachments:
        message.add_attachment(attachment.content, maintype=attachment.maintype, subtype=attachment.subtype,
                               filename=attachment.filename, params=attachment.params)
    return message.as_bytes()


def domain_of(sender: str) -> str:
    address = parseaddr(sender)[1]
    if "@" not in address:
        raise InvalidInput("the sender's address (CQP_SMTP_FROM) has no domain")
    return address.rpartition("@")[2]


async def enqueue(db: asyncpg.Pool | asyncpg.Connection, key: Key, *, organisation: str, address: str,
                  context: dict, settings: Settings, attachments: Sequence[Attachment] = (),
                  due_at: datetime | None = None, about: dict | None = None) -> bool:
    """Put the key's message in the outbox (rendered now); False when the key has one already, changing nothing.
    Inside the caller's transaction when given its connection: the message is kept with what caused it."""
    if "@" not in address or any(c in address for c in "\r\n"):
        raise InvalidInput("not an e-mail address", key=str(key))
    rendered = render(key.template, context)
    message = compose(key, sender=settings.smtp_from, address=address, rendered=rendered, attachments=attachments)
    status = await db.execute(
        "INSERT INTO mail_outbox (cause, recipient, template, organisation, message_id, address, message, due_at,"
        " about) VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()), $9) ON CONFLICT DO NOTHING",
        key.cause, key.recipient, key.template, organisation, message_id(key, domain_of(settings.smtp_from)),
        address, message, due_at, json.dumps(about) if about is not None else None)
    added = status.endswith(" 1")
    log(logger, "mail queued" if added else "mail already queued", key=str(key))
    return added


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before the next try after the `attempt`-th failed one (1, 2, 3…): base, 2·base, 4·base… capped."""
    return min(cap, base * 2 ** (max(attempt, 1) - 1))


def permanent(error: Exception) -> bool:
    """The server refused this message or recipient for good (5xx): trying again would change nothing.
    A refused login is not: it is the sender's configuration, fixed by an operator, then retried."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in error.recipients)
    return isinstance(error, (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)) and error.code >= 500


def _reason(error: Exception, address: str) -> str:
    code = getattr(error, "code", None)
    text = f"{type(error).__name__}{f' {code}' if code else ''}: {error}".replace(address, "<address>")
    return " ".join(text.split())[:300]


class Sender:
    """Sends what is due in the outbox of its pool's schema, for as long as the process lives."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, batch: int = 20,
                 on_sent: Callable[[Key, str, dict | None], Awaitable[None]] | None = None):
        # A lease shorter than a send could let a second sender take a row while the first is still sending it.
        if settings.mail_lease_seconds <= settings.smtp_timeout_seconds:
            raise ValueError("CQP_MAIL_LEASE_SECONDS must be longer than CQP_SMTP_TIMEOUT_SECONDS")
        self.pool = pool
        self.settings = settings
        self.batch = batch
        self.blocked: str | None = None  # the last failure, until a message goes through
        # Told of each message the server took (key, organisation, about), before it is marked sent: it must be
        # idempotent, a crash between the two tells it again.
        self.on_sent = on_sent

    async def run(self) -> None:
        while True:
            try:
                sent = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database away: try again, loudly
                if cancelled():
                    raise asyncio.CancelledError from error
                logger.error("mail sender blocked", exc_info=error)
                sent = 0
            if not sent:
                await asyncio.sleep(self.settings.mail_poll_seconds)

    async def _claim(self) -> list[asyncpg.Record]:
        # The lease (due_at moved on) keeps a claimed row from other senders while it is sent; a sender killed
        # meanwhile leaves it due again when the lease ends. The attempt is counted before it is made.
        return await self.pool.fetch(
            "UPDATE mail_outbox o SET attempts = o.attempts + 1, due_at = now() + make_interval(secs => $1)"
            " FROM (SELECT cause, recipient, template FROM mail_outbox WHERE state = 'pending' AND due_at <= now()"
            "       ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due"
            " WHERE (o.cause, o.recipient, o.template) = (due.cause, due.recipient, due.template)"
            " RETURNING o.cause, o.recipient, o.template, o.address, o.message, o.attempts, o.organisation, o.about",
            self.settings.mail_lease_seconds, self.batch)

    async def send_due(self) -> int:
        """One batch of due messages tried; returns how many were claimed."""
        rows = await self._claim()
        for row in rows:
            await self._send(row)
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> None:
        key = Key(row["cause"], row["recipient"], row["template"])
        where = "WHERE cause = $1 AND recipient = $2 AND template = $3 AND state = 'pending'"
        settings = self.settings
        try:
            await aiosmtplib.send(
                bytes(row["message"]), sender=parseaddr(settings.smtp_from)[1], recipients=[row["address"]],
                hostname=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_user or None,
                password=settings.smtp_password or None, timeout=settings.smtp_timeout_seconds)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            reason = _reason(error, row["address"])
            self.blocked = reason
            if permanent(error) or row["attempts"] >= settings.mail_max_attempts:
                await self.pool.execute(f"UPDATE mail_outbox SET state = 'dead', last_error = $4 {where}",
                                        *_key_args(key), reason)
                logger.error("mail set aside", extra={"fields": {"key": str(key), "attempts": row["attempts"],
                                                                 "reason": reason}})
                return
            delay = backoff(row["attempts"], settings.mail_retry_base_seconds, settings.mail_retry_max_seconds)
            await self.pool.execute(
                f"UPDATE mail_outbox SET due_at = now() + make_interval(secs => $4), last_error = $5 {where}",
                *_key_args(key), delay, reason)
            logger.warning("mail not sent; trying again", extra={"fields": {
                "key": str(key), "attempts": row["attempts"], "retry_in_seconds": delay, "reason": reason}})
            return
        # Accepted by the server, not yet recorded: a crash here sends it again, with the same Message-ID.
        crash_point("mail_after_smtp_accepted")
        if self.on_sent is not None:
            await self.on_sent(key, row["organisation"], json.loads(row["about"]) if row["about"] else None)
        await self.pool.execute(
            "UPDATE mail_outbox SET state = 'sent', sent_at = now(), address = NULL, message = NULL, last_error = NULL"
            f" {where}", *_key_args(key))
        self.blocked = None
        log(logger, "mail sent", key=str(key), attempts=row["attempts"])


def _key_args(key: Key) -> tuple[str, str, str]:
    return key.cause, key.recipient, key.template


async def dead(db: asyncpg.Pool | asyncpg.Connection) -> list[asyncpg.Record]:
    """What the sender set aside, oldest first (keys and reasons; no address)."""
    return await db.fetch("SELECT cause, recipient, template, organisation, attempts, last_error, created_at"
                          " FROM mail_outbox WHERE state = 'dead' ORDER BY created_at, cause, recipient, template")


async def retry(db: asyncpg.Pool | asyncpg.Connection, key: Key | None = None) -> int:
    """Make dead messages due again (all, or the key's), with their attempts counted afresh; returns how many."""
    status = await db.execute(
        "UPDATE mail_outbox SET state = 'pending', attempts = 0, due_at = now()"
        " WHERE state = 'dead' AND ($1::text IS NULL OR (cause, recipient, template) = ($1, $2, $3))",
        *(_key_args(key) if key else (None, None, None)))
    return int(status.split()[-1])


async def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.mail", description="the outbox of a schema "
                                     "(CQP_POSTGRES_DSN, CQP_SMTP_*)")
    parser.add_argument("action", choices=("send", "dead", "retry"),
                        help="send: run the sender; dead: list what it set aside; retry: make them due again")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--key", help="retry only this one: CAUSE/RECIPIENT/TEMPLATE")
    args = parser.parse_args(argv)
    settings = Settings()
    key = Key.parse(args.key) if args.key else None
    pool = await asyncpg.create_pool(settings.postgres_dsn, min_size=1, max_size=2,
                                     server_settings={"search_path": args.schema})
    try:
        await migrate(pool, MIGRATIONS)
        if args.action == "send":
            logging.basicConfig(level=settings.log_level)
            await Sender(pool, settings).run()
        elif args.action == "dead":
            rows = await dead(pool)
            for r in rows:
                print(f"{r['cause']}/{r['recipient']}/{r['template']} {r['organisation']} {r['created_at']:%Y-%m-%d %H:%M}"
                      f" attempts={r['attempts']} {r['last_error']}")
            print("" if rows else "no dead mail", end="\n" if not rows else "")
        else:
            print(f"{await retry(pool, key)} messages due again")
        return 0
    finally:
        await pool.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1:])))
