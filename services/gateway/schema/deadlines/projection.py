"""The deadlines read model, from the deadline engine's events on cqp.jury.events (services/jury/deadlines): one
row per deadline (its kind, state, dates, who must meet it and the records it is about); and one per message sent
(from either service's NotificationSent: template, recipient's role and id, when; never its content nor an address).

Each transition keeps its business date (`met_on`…) and the instant it was recorded (`met_at`…, the event's
`occurred_at`). A deadline's state at an instant is read from those instants (`state_at`, `STATE_AT`): the
same answer as replaying its events up to then through this projection (what asof.py does for one record),
in one statement for a whole list. Each transition is written once (the first wins), and a state never goes
back: a DUE arriving after the MET, or the same fact published again under another event id, changes nothing.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.contracts import candidacy, deadlines, jury
from shared.envelope import Envelope
from shared.migrations import numbered
from shared.vocabulary import DeadlineState

MIGRATIONS = numbered(
    "deadlines",
    """
    CREATE TABLE IF NOT EXISTS deadlines (
        id text PRIMARY KEY,
        kind text NOT NULL,
        state text NOT NULL,
        branch text,
        certification text,
        candidacy_id uuid,
        session_id uuid,
        subject text NOT NULL,
        responsible_organisation text,
        responsible_role text NOT NULL,
        cause text NOT NULL,
        effect text,
        opened_on date NOT NULL,
        remind_on date NOT NULL,
        due_on date NOT NULL,
        due_since date,
        met_on date,
        met_late boolean,
        met_by text,
        missed_on date,
        cancelled_on date,
        cancellation_reason text,
        opened_at timestamptz NOT NULL,
        due_at timestamptz,
        met_at timestamptz,
        missed_at timestamptz,
        cancelled_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS deadlines_candidacy ON deadlines (candidacy_id);
    CREATE INDEX IF NOT EXISTS deadlines_session ON deadlines (session_id);
    CREATE INDEX IF NOT EXISTS deadlines_state_due ON deadlines (state, due_on);
    CREATE INDEX IF NOT EXISTS deadlines_branch ON deadlines (branch, kind);
    CREATE TABLE IF NOT EXISTS notifications (
        id text PRIMARY KEY,
        cause text NOT NULL,
        template text NOT NULL,
        recipient_role text NOT NULL,
        recipient_id text NOT NULL,
        organisation text,
        branch text,
        candidacy_id uuid,
        session_id uuid,
        deadline_id text,
        legally_required boolean NOT NULL,
        sent_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS notifications_candidacy ON notifications (candidacy_id);
    CREATE INDEX IF NOT EXISTS notifications_session ON notifications (session_id);
    CREATE INDEX IF NOT EXISTS notifications_deadline ON notifications (deadline_id);
    """,
)


def state_at(row, at: datetime | None = None) -> DeadlineState:
    """Its state at `at` (None: now), from the instants of its transitions: a cancellation ends it, a meeting
    ends it (even after a miss: met late), then missed, then due. Twin of STATE_AT."""
    def by(column: str) -> bool:
        return row[column] is not None and (at is None or row[column] <= at)

    for column, state in (("cancelled_at", DeadlineState.CANCELLED), ("met_at", DeadlineState.MET),
                          ("missed_at", DeadlineState.MISSED), ("due_at", DeadlineState.DUE)):
        if by(column):
            return state
    return DeadlineState.OPEN


def STATE_AT(at: str) -> str:  # noqa: N802 (an SQL expression, twin of state_at)
    """The SQL of `state_at` at the instant `at` (an SQL expression: a parameter, or 'infinity')."""
    return (f"CASE WHEN cancelled_at <= {at} THEN 'CANCELLED' WHEN met_at <= {at} THEN 'MET'"
            f" WHEN missed_at <= {at} THEN 'MISSED' WHEN due_at <= {at} THEN 'DUE' ELSE 'OPEN' END")


STATE_NOW = STATE_AT("'infinity'::timestamptz")


async def _transition(conn: asyncpg.Connection, deadline_id: str, at: datetime, column: str, **values) -> None:
    """Record a transition once (its instant and its facts, the first recording wins), then the state."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=3))
    await conn.execute(f"UPDATE deadlines SET {column} = $2, {sets}"
                       f" WHERE id = $1 AND {column} IS NULL", deadline_id, at, *values.values())
    await conn.execute(f"UPDATE deadlines SET state = {STATE_NOW} WHERE id = $1", deadline_id)


async def project(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await apply(conn, jury.REGISTRY.parse(envelope), envelope.occurred_at)


async def project_candidacy(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """The candidate's messages, sent by the candidacy service (services/candidacy/notices.py)."""
    fact = candidacy.REGISTRY.parse(envelope)
    if isinstance(fact, deadlines.NotificationSent):
        await apply(conn, fact, envelope.occurred_at)


async def apply(conn: asyncpg.Connection, fact, at: datetime) -> None:
    match fact:
        case deadlines.DeadlineOpened():
            await conn.execute(
                "INSERT INTO deadlines (id, kind, state, branch, certification, candidacy_id, session_id, subject,"
                " responsible_organisation, responsible_role, cause, effect, opened_on, remind_on, due_on, opened_at)"
                " VALUES ($1, $2, $3, $4, $5, $6::uuid, $7::uuid, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                " ON CONFLICT (id) DO NOTHING",
                fact.deadline_id, fact.kind, DeadlineState.OPEN, fact.branch, fact.certification, fact.candidacy_id,
                fact.session_id, fact.subject, fact.responsible_organisation, fact.responsible_role, fact.cause,
                fact.effect, fact.opened_on, fact.remind_on, fact.due_on, at)
        case deadlines.DeadlineDue():
            await _transition(conn, fact.deadline_id, at, "due_at", due_since=fact.on)
        case deadlines.DeadlineMet():
            await _transition(conn, fact.deadline_id, at, "met_at", met_on=fact.on, met_late=fact.late,
                              met_by=fact.cause)
        case deadlines.DeadlineMissed():
            await _transition(conn, fact.deadline_id, at, "missed_at", missed_on=fact.on)
        case deadlines.DeadlineCancelled():
            await _transition(conn, fact.deadline_id, at, "cancelled_at", cancelled_on=fact.on,
                              cancellation_reason=fact.reason)
        case deadlines.NotificationSent():
            await conn.execute(
                "INSERT INTO notifications (id, cause, template, recipient_role, recipient_id, organisation, branch,"
                " candidacy_id, session_id, deadline_id, legally_required, sent_at, recorded_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid, $9::uuid, $10, $11, $12, $13)"
                " ON CONFLICT (id) DO NOTHING",
                fact.notification_id, fact.cause, fact.template, fact.recipient_role, fact.recipient_id,
                fact.organisation, fact.branch, fact.candidacy_id, fact.session_id, fact.deadline_id,
                fact.legally_required, fact.sent_at, at)


HANDLERS = {jury.TOPIC: project, candidacy.TOPIC: project_candidacy}
