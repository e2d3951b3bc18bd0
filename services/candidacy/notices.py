"""What the candidate is told, by e-mail, sent from here because their address is here: it never leaves the
service that owns it (no notifier account asks for it, nothing logs it).

| on | template | to |
|---|---|---|
| CandidacyOpened | candidature-ouverte | the candidate |
| AdmissibilityDecided (decided, or deemed) | recevabilite | the candidate |
| CandidacyPresented (jury) | convocation, with the session's calendar entry | the candidate (legally required) |
| SessionResultsPublished (jury) | resultats, each decision of the session | its candidates |

Each message goes into the service's outbox (shared/mail.py) in the transaction that applies its event, keyed
by (event, candidate, template): a redelivery or a replay adds nothing, a crash loses nothing. The sender tells
the service of each one the server took, before marking it sent (shared/notices.py: a `NotificationSent` naming
the template, the candidate's id and the records, never the address nor the text).
An erased candidate, or one without an address, gets nothing. Results wait for their publication: a decision
alone tells the candidate nothing the jury has not published."""

from __future__ import annotations

import functools
import datetime as dt
from zoneinfo import ZoneInfo

import anyio
import asyncpg

from shared import mail, notices
from shared.context import Actor
from shared.contracts import candidacy, jury
from shared.errors import CommandRefused
from shared.envelope import Envelope
from shared.identity import PLATFORM
from shared.migrations import numbered
from shared.personal import KeyDestroyed, Vault, unseal, vault_of
from shared.service import Subscription
from shared.settings import Settings
from shared.vocabulary import Decision, Route

PARIS = ZoneInfo("Europe/Paris")
# Who records a message sent: the candidacy process's notifier, under the platform.
NOTIFIER = Actor(user_id="candidacy-notifier", organisation_id=PLATFORM, role="service")
# A session has a day, not hours: its convocation holds the working day.
SESSION_HOURS = (dt.time(9), dt.time(17))
ROUTES = {Route.TRAINING: "par la formation", Route.VAE: "par la validation des acquis de l'expérience",
          Route.DIRECT_ACCESS: "en candidature directe"}
DECISIONS = {Decision.FULL_AWARD: "certification obtenue", Decision.PARTIAL_VALIDATION: "validation partielle",
             Decision.REFUSAL: "non obtenue", Decision.DEFERRAL: "décision reportée", Decision.ABSENT: "absent(e)"}

MIGRATIONS = [
    *mail.MIGRATIONS,
    *numbered(
        "notices",
        """
    -- The sessions and decisions a convocation or a results message names (from cqp.jury.events).
    CREATE TABLE IF NOT EXISTS notice_sessions (
        id text PRIMARY KEY,
        branch text NOT NULL,
        held_on date NOT NULL,
        place text NOT NULL,
        remote boolean NOT NULL
    );
    CREATE TABLE IF NOT EXISTS notice_decisions (
        session_id text NOT NULL,
        candidacy_id text NOT NULL,
        decision text NOT NULL,
        decided_on date NOT NULL,
        PRIMARY KEY (session_id, candidacy_id)
    );
        """,
    ),
]


class Notifier:
    def __init__(self, app, pool: asyncpg.Pool, settings: Settings):
        self.app, self.pool, self.settings = app, pool, settings

    @functools.cached_property
    def vault(self) -> Vault:
        return vault_of(self.app, self.pool)

    async def on_candidacy(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = candidacy.REGISTRY.parse(envelope)
        match fact:
            case candidacy.CandidacyOpened():
                await self.tell(conn, envelope, "candidature-ouverte", fact.candidacy_id,
                                route=ROUTES.get(fact.route, fact.route))
            case candidacy.AdmissibilityDecided():
                await self.tell(conn, envelope, "recevabilite", fact.candidacy_id, admissible=fact.admissible,
                                reason=fact.reason)

    async def on_jury(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = jury.REGISTRY.parse(envelope)
        match fact:
            case jury.JurySessionScheduled():
                await conn.execute("INSERT INTO notice_sessions (id, branch, held_on, place, remote)"
                                   " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                                   fact.session_id, fact.branch, fact.on, fact.place, fact.remote)
            case jury.JuryDecided() | jury.DecisionCorrected():
                day = fact.decided_on if isinstance(fact, jury.JuryDecided) else fact.corrected_on
                await conn.execute(
                    "INSERT INTO notice_decisions (session_id, candidacy_id, decision, decided_on)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, candidacy_id) DO UPDATE"
                    " SET decision = EXCLUDED.decision", fact.session_id, fact.candidacy_id, fact.decision,
                    day or envelope.occurred_at.astimezone(PARIS).date())
            case jury.CandidacyPresented():
                session = await conn.fetchrow("SELECT * FROM notice_sessions WHERE id = $1", fact.session_id)
                if session is not None:
                    await self.convene(conn, envelope, fact.candidacy_id, session)
            case jury.SessionResultsPublished():
                for row in await conn.fetch("SELECT * FROM notice_decisions WHERE session_id = $1"
                                            " ORDER BY candidacy_id", fact.session_id):
                    await self.tell(conn, envelope, "resultats", row["candidacy_id"], session_id=fact.session_id,
                                    decision=DECISIONS.get(row["decision"], row["decision"]),
                                    decided_on=row["decided_on"])

    async def convene(self, conn: asyncpg.Connection, envelope: Envelope, candidacy_id: str, session) -> None:
        starts, ends = (dt.datetime.combine(session["held_on"], t, PARIS) for t in SESSION_HOURS)
        place = "à distance" if session["remote"] else session["place"]

        def invitation(recipient: str, address: str, certification: str, branch_name: str) -> mail.Attachment:
            return mail.convocation_ics(
                session=session["id"], recipient=recipient, starts_at=starts, ends_at=ends, location=place,
                summary=f"Jury {certification}", organizer_email=self.settings.smtp_from.rpartition("<")[2].rstrip(">"),
                organizer_name=branch_name, attendee_email=address, domain=mail.domain_of(self.settings.smtp_from))

        await self.tell(conn, envelope, "convocation", candidacy_id, session_id=session["id"], legally_required=True,
                        starts_at=starts, location=place, role="candidat(e)", invitation=invitation)

    async def tell(self, conn: asyncpg.Connection, envelope: Envelope, template: str, candidacy_id: str,
                   session_id: str | None = None, legally_required: bool = False, invitation=None, **values) -> None:
        """The candidacy's candidate told, once per event and template; nothing for an erased person or one
        without an address."""
        try:
            found = await anyio.to_thread.run_sync(self.app.candidacy, candidacy_id)
        except CommandRefused:  # a candidacy this service does not know: no one to tell
            return
        person = await self.person(found.candidate_id)
        if person is None or not person.get("email"):
            return
        row = await conn.fetchrow(
            "SELECT k.title, k.owners, b.name AS branch_name FROM catalog_certifications k"
            " LEFT JOIN catalog_branches b ON b.code = k.owners[1] WHERE k.code = $1", found.certification)
        certification = row["title"] if row else found.certification
        branch = row["owners"][0] if row and row["owners"] else None
        branch_name = (row and row["branch_name"]) or branch or "la branche"
        key = mail.Key(str(envelope.event_id), found.candidate_id, template)
        attachments = [invitation(found.candidate_id, person["email"], certification, branch_name)] if invitation else []
        await mail.enqueue(
            conn, key, organisation=branch or PLATFORM, address=person["email"], settings=self.settings,
            attachments=attachments,
            context={"name": f"{person['given_name']} {person['family_name']}", "certification": certification,
                     "organisation_name": branch_name, "organizer_name": branch_name,
                     "organizer_email": self.settings.smtp_from.rpartition("<")[2].rstrip(">"), **values},
            about={"recipient_role": "candidate", "branch": branch, "candidacy_id": candidacy_id,
                   "session_id": session_id, "legally_required": legally_required})

    async def person(self, candidate_id: str) -> dict | None:
        try:
            candidate = await anyio.to_thread.run_sync(self.app.candidate, candidate_id)
            if candidate.erased:
                return None
            return unseal(await self.vault.key(candidate_id), candidate_id, candidate.personal)
        except (CommandRefused, KeyDestroyed):  # unknown, or erased meanwhile
            return None



def sender(app, pool: asyncpg.Pool, settings: Settings) -> mail.Sender:
    return mail.Sender(pool, settings, on_sent=notices.recorder(app, NOTIFIER))


def subscriptions(notifier: Notifier) -> list[Subscription]:
    return [Subscription(candidacy.TOPIC, notifier.on_candidacy), Subscription(jury.TOPIC, notifier.on_jury)]
