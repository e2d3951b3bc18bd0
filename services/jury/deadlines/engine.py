"""What opens, meets and cancels each deadline: the engine's handler on the three topics, run in the inbox's
transaction after the jury's views (so it reads a candidacy or a certification as of the event).

Each rule changes a Deadline aggregate whose id is its kind's and subject's, each transition once (a redelivery
or a replay changes nothing: application.py), recorded as the engine's (`ENGINE`: no person did it; who did the
event that caused it is that event's) with the event as its cause; its timer is kept in the same transaction
(timers.py). The delays are the branch's (catalog BranchDeadlinesSet; the law's or usual defaults otherwise), a
référentiel version's own admissibility delay first.

| kind | opened by | due | met by | cancelled by |
|---|---|---|---|---|
| HOLDER_DECLARATION | CertificateIssued (a certificate) | awarded + declaration_months | HolderDeclarationChanged ACCEPTED | CertificateRevoked |
| ADMISSIBILITY_ANSWER | AdmissibilityFiled | filed + admissibility_answer_days | AdmissibilityDecided | CandidacyWithdrawn, CandidacyClosed |
| SESSION_RESULTS | JurySessionScheduled | session day + results_days_after | SessionClosed | |
| BLOCK_VALIDITY | BlockValidated with a validity | its last day | (a term: missed once past) | |
| REGISTRATION_END | RegistrationRecorded with an end | its end date | a later end recorded (renewed) | |
| ACCREDITATION_END | OrganisationAccredited with an end | its last day | a later accreditation of the same scope | AccreditationWithdrawn |
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import uuid
from dataclasses import dataclass

import anyio
import asyncpg

from shared.commands.jury import OpenDeadline, SettleDeadline
from shared.context import Actor, CommandContext, acting
from shared.contracts import candidacy, catalog, jury
from shared.envelope import Envelope
from shared.identity import PLATFORM
from shared.service import Subscription
from shared.vocabulary import CertificateKind, DeadlineKind, DeclarationState

from services.jury.deadlines import timers
from services.jury.deadlines.domain import Deadline


# Who the engine's commands are recorded as: the jury process, under the platform (its trail), not the person whose
# event caused them (theirs would show what they did not do).
ENGINE = Actor(user_id="jury-deadline-engine", organisation_id=PLATFORM, role="service")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last when it has no such day (31 May + 3 months: 31 August;
    30 November + 3: 28 or 29 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Opening:
    kind: DeadlineKind
    subject: str
    about: str  # what a later event meets or cancels it by (timers.py)
    due_on: dt.date
    remind_on: dt.date
    responsible_role: str
    branch: str | None = None
    certification: str | None = None
    candidacy_id: str | None = None
    session_id: str | None = None
    responsible_organisation: str | None = None
    effect: str | None = None


class Engine:
    """The rules above, one handler per topic (`subscriptions`)."""

    def __init__(self, app):
        self.app = app

    async def on_jury(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = jury.REGISTRY.parse(envelope)
        match fact:
            case jury.CertificateIssued(kind=CertificateKind.CERTIFICATE):
                session = await anyio.to_thread.run_sync(self.app.session, fact.session_id)
                delays = await branch_delays(conn, session.branch)
                due = add_months(fact.awarded_on, delays.declaration_months)
                await self.open(conn, envelope, Opening(
                    DeadlineKind.HOLDER_DECLARATION, fact.number, fact.number, due,
                    due - dt.timedelta(days=delays.declaration_reminder_days), "certifier", branch=session.branch,
                    certification=fact.certification, candidacy_id=fact.candidacy_id, session_id=fact.session_id))
            case jury.HolderDeclarationChanged(state=DeclarationState.ACCEPTED):
                await self.settle(conn, envelope, DeadlineKind.HOLDER_DECLARATION, fact.number, "met")
            case jury.CertificateRevoked():
                await self.settle(conn, envelope, DeadlineKind.HOLDER_DECLARATION, fact.number, "cancelled",
                                  reason=f"certificate revoked: {fact.reason}", on=fact.revoked_on)
            case jury.JurySessionScheduled():
                delays = await branch_delays(conn, fact.branch)
                await self.open(conn, envelope, Opening(
                    DeadlineKind.SESSION_RESULTS, fact.session_id, fact.session_id,
                    fact.on + dt.timedelta(days=delays.results_days_after), fact.on, "jury-secretary",
                    branch=fact.branch, session_id=fact.session_id))
            case jury.SessionClosed():
                await self.settle(conn, envelope, DeadlineKind.SESSION_RESULTS, fact.session_id, "met",
                                  on=fact.closed_on)
            case jury.BlockValidated(valid_until=dt.date() as last_day):
                branch = await first_owner(conn, fact.certification)
                delays = await branch_delays(conn, branch)
                await self.open(conn, envelope, Opening(
                    DeadlineKind.BLOCK_VALIDITY, f"{fact.candidacy_id}/{fact.block}/{fact.validated_on}",
                    f"{fact.candidacy_id}/{fact.block}", last_day,
                    last_day - dt.timedelta(days=delays.block_validity_notice_days), "candidate", branch=branch,
                    certification=fact.certification, candidacy_id=fact.candidacy_id), renews=True)

    async def on_candidacy(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = candidacy.REGISTRY.parse(envelope)
        match fact:
            case candidacy.AdmissibilityFiled():
                row = await conn.fetchrow(
                    "SELECT c.certification, c.version, v.settings FROM candidacy_candidacies c"
                    " LEFT JOIN catalog_versions v ON v.code = c.certification AND v.version = c.version"
                    " WHERE c.id = $1", fact.candidacy_id)
                if row is None:
                    return  # a candidacy the jury does not know (opened before its views): no deadline
                branch = await first_owner(conn, row["certification"])
                delays = await branch_delays(conn, branch)
                own = json.loads(row["settings"] or "{}").get("admissibility_answer_days")
                due = timers.paris_day(envelope.occurred_at) + dt.timedelta(days=own or delays.admissibility_answer_days)
                await self.open(conn, envelope, Opening(
                    DeadlineKind.ADMISSIBILITY_ANSWER, f"{fact.candidacy_id}/{envelope.event_id}", fact.candidacy_id,
                    due, due - dt.timedelta(days=delays.admissibility_reminder_days), "certifier", branch=branch,
                    certification=row["certification"], candidacy_id=fact.candidacy_id,
                    effect=delays.unanswered_admissibility))
            case candidacy.AdmissibilityDecided(deemed=None):  # deemed admissible: its missing stays recorded
                await self.settle(conn, envelope, DeadlineKind.ADMISSIBILITY_ANSWER, fact.candidacy_id, "met")
            case candidacy.CandidacyWithdrawn() | candidacy.CandidacyClosed():
                await self.settle(conn, envelope, DeadlineKind.ADMISSIBILITY_ANSWER, fact.candidacy_id, "cancelled",
                                  reason=f"candidacy {fact.status.lower()}: {fact.reason}")

    async def on_catalog(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = catalog.REGISTRY.parse(envelope)
        match fact:
            case catalog.BranchDeadlinesSet():
                await conn.execute("INSERT INTO deadline_settings (branch, settings) VALUES ($1, $2)"
                                   " ON CONFLICT (branch) DO UPDATE SET settings = EXCLUDED.settings",
                                   fact.branch, fact.deadlines.model_dump_json())
            case catalog.RegistrationRecorded(registration=catalog.Registration(end_date=dt.date() as end)):
                branch = await first_owner(conn, fact.code)
                delays = await branch_delays(conn, branch)
                await self.open(conn, envelope, Opening(
                    DeadlineKind.REGISTRATION_END, f"{fact.code}/{fact.registration.number}/{end}", fact.code, end,
                    end - dt.timedelta(days=delays.expiry_notice_days), "branch-admin", branch=branch,
                    certification=fact.code), renews=True)
            case catalog.OrganisationAccredited(valid_until=dt.date() as last_day):
                delays = await branch_delays(conn, fact.branch)
                await self.open(conn, envelope, Opening(
                    DeadlineKind.ACCREDITATION_END, fact.accreditation_id,
                    f"{fact.organisation_id}/{fact.branch}/{fact.scope}", last_day,
                    last_day - dt.timedelta(days=delays.expiry_notice_days), "branch-admin", branch=fact.branch,
                    responsible_organisation=fact.organisation_id), renews=True)
            case catalog.AccreditationWithdrawn():
                await self.run(conn, envelope, DeadlineKind.ACCREDITATION_END, None, SettleDeadline(
                    deadline_id=str(Deadline.create_id(DeadlineKind.ACCREDITATION_END, fact.accreditation_id)),
                    outcome="cancelled", cause=str(envelope.event_id), on=fact.on,
                    reason=f"accreditation withdrawn: {fact.reason}"))

    async def open(self, conn: asyncpg.Connection, envelope: Envelope, opening: Opening,
                   renews: bool = False) -> None:
        """Opens the deadline; one that `renews` meets the earlier ones about the same thing (a block validated
        again, a registration or an accreditation renewed)."""
        deadline_id = str(Deadline.create_id(opening.kind, opening.subject))
        if renews:
            await self.settle(conn, envelope, opening.kind, opening.about, "met", keep=deadline_id)
        day = timers.paris_day(envelope.occurred_at)
        await self.run(conn, envelope, opening.kind, opening.about, OpenDeadline(
            kind=opening.kind, subject=opening.subject, branch=opening.branch, certification=opening.certification,
            candidacy_id=opening.candidacy_id, session_id=opening.session_id,
            responsible_organisation=opening.responsible_organisation, responsible_role=opening.responsible_role,
            cause=str(envelope.event_id), opened_on=day, due_on=opening.due_on,
            remind_on=min(opening.remind_on, opening.due_on), effect=opening.effect))

    async def settle(self, conn: asyncpg.Connection, envelope: Envelope, kind: DeadlineKind, about: str,
                     outcome: str, reason: str = "", on: dt.date | None = None, keep: str | None = None) -> None:
        """Meets or cancels every unsettled deadline of that kind about that thing (but `keep`)."""
        rows = await conn.fetch("SELECT deadline_id FROM deadline_timers WHERE kind = $1 AND about = $2"
                                " ORDER BY deadline_id FOR UPDATE", kind, about)
        for row in rows:
            if str(row["deadline_id"]) == keep:
                continue
            await self.run(conn, envelope, kind, about, SettleDeadline(
                deadline_id=str(row["deadline_id"]), outcome=outcome, cause=str(envelope.event_id),
                on=on or timers.paris_day(envelope.occurred_at), reason=reason))

    async def run(self, conn: asyncpg.Connection, envelope: Envelope, kind: DeadlineKind, about: str | None,
                  command: OpenDeadline | SettleDeadline) -> None:
        """The change as the engine's, caused by the event; then its timer."""
        deadline_id = getattr(command, "deadline_id", None) or str(Deadline.create_id(command.kind, command.subject))
        context = CommandContext(actor=ENGINE, correlation_id=envelope.correlation_id,
                                 causation_id=f"deadline:{envelope.event_id}:{deadline_id}")
        method = self.app.open_deadline if isinstance(command, OpenDeadline) else self.app.settle_deadline
        with acting(context):
            result = await anyio.to_thread.run_sync(method, command)
        if result.get("state") is None:
            return  # no such deadline (it began before the engine ran)
        if about is None:
            about = await conn.fetchval("SELECT about FROM deadline_timers WHERE deadline_id = $1",
                                        uuid.UUID(deadline_id)) or ""
        await timers.keep(conn, deadline_id, kind, about, result)


async def branch_delays(conn: asyncpg.Connection, branch: str | None) -> catalog.BranchDeadlines:
    settings = branch and await conn.fetchval("SELECT settings FROM deadline_settings WHERE branch = $1", branch)
    return catalog.BranchDeadlines.model_validate_json(settings) if settings else catalog.BranchDeadlines()


async def first_owner(conn: asyncpg.Connection, code: str) -> str | None:
    """The branch a certification's deadline is kept under: its owner (the first, for an inter-branch one)."""
    owners = await conn.fetchval("SELECT owners FROM catalog_certifications WHERE code = $1", code)
    return sorted(owners)[0] if owners else None


def subscriptions(app) -> list[Subscription]:
    engine = Engine(app)
    return [Subscription(jury.TOPIC, engine.on_jury), Subscription(candidacy.TOPIC, engine.on_candidacy),
            Subscription(catalog.TOPIC, engine.on_catalog)]
