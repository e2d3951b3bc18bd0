"""What the jury side is told, by e-mail, from the jury process: it holds the members' addresses (sealed with their
names, members.py) and reads the deadlines and declarations.

| on | template | to |
|---|---|---|
| JuryMemberAppointed (with an address) | convocation, with the session's calendar entry (legally required) | the member |
| DeadlineDue, DeadlineMissed (not a block's validity: the holder's) | echeance | the branch's certification office |
| HolderDeclarationChanged REJECTED | declaration-rejetee, the portal's messages | the branch's certification office |

The office is the address the branch set (catalog `set-branch-contact`, a functional mailbox); a branch without
one is told nothing by mail (its deadlines are still listed, `deadlines`). As in the candidacy service, each
message goes into the outbox in the transaction of its event, keyed by (event, recipient, template), and is
recorded once sent (shared/notices.py); addresses are never logged."""

from __future__ import annotations

import functools
import datetime as dt
from zoneinfo import ZoneInfo

import anyio
import asyncpg

from shared import mail, notices
from shared.context import Actor
from shared.contracts import catalog, deadlines, jury
from shared.envelope import Envelope
from shared.identity import PLATFORM
from shared.migrations import numbered
from shared.personal import KeyDestroyed, Vault, unseal, vault_of
from shared.service import Subscription
from shared.settings import Settings
from shared.vocabulary import DeadlineKind, DeclarationState, MemberRole

PARIS = ZoneInfo("Europe/Paris")
NOTIFIER = Actor(user_id="jury-notifier", organisation_id=PLATFORM, role="service")
SESSION_HOURS = (dt.time(9), dt.time(17))  # a session has a day: its convocation holds the working day
ROLES = {MemberRole.PRESIDENT: "président(e) du jury", MemberRole.VICE_PRESIDENT: "vice-président(e) du jury",
         MemberRole.MEMBER: "membre du jury"}
KINDS = {DeadlineKind.HOLDER_DECLARATION: "déclaration du titulaire à la Caisse des Dépôts",
         DeadlineKind.ADMISSIBILITY_ANSWER: "réponse à une demande de recevabilité VAE",
         DeadlineKind.SESSION_RESULTS: "saisie des résultats et procès-verbal de la session",
         DeadlineKind.SESSION_CONVOCATION: "convocation de la session",
         DeadlineKind.REGISTRATION_END: "fin d'enregistrement de la certification",
         DeadlineKind.ACCREDITATION_END: "fin d'habilitation d'un organisme"}

MIGRATIONS = [
    *mail.MIGRATIONS,
    *numbered(
        "notices",
        """
    -- The branches' certification offices (catalog BranchContactSet).
    CREATE TABLE IF NOT EXISTS notice_contacts (
        branch text PRIMARY KEY,
        email text NOT NULL
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

    @property
    def organizer(self) -> str:
        return self.settings.smtp_from.rpartition("<")[2].rstrip(">")

    async def on_catalog(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = catalog.REGISTRY.parse(envelope)
        if isinstance(fact, catalog.BranchContactSet):
            await conn.execute("INSERT INTO notice_contacts (branch, email) VALUES ($1, $2)"
                               " ON CONFLICT (branch) DO UPDATE SET email = EXCLUDED.email", fact.branch, fact.email)

    async def on_jury(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = jury.REGISTRY.parse(envelope)
        match fact:
            case jury.JuryMemberAppointed():
                await self.convene(conn, envelope, fact)
            case deadlines.DeadlineDue() | deadlines.DeadlineMissed() if fact.kind != DeadlineKind.BLOCK_VALIDITY:
                await self.tell_office(
                    conn, envelope, fact.branch, "echeance", deadline_id=fact.deadline_id,
                    candidacy_id=fact.candidacy_id, session_id=fact.session_id, recipient_role=fact.responsible_role,
                    what=KINDS.get(fact.kind, fact.kind), subject=fact.subject, due_on=fact.due_on,
                    missed=isinstance(fact, deadlines.DeadlineMissed), certification=fact.certification or "")
            case jury.HolderDeclarationChanged(state=DeclarationState.REJECTED):
                certificate = await anyio.to_thread.run_sync(self.app.certificate, fact.number)
                session = await anyio.to_thread.run_sync(self.app.session, certificate.session_id)
                await self.tell_office(conn, envelope, session.branch, "declaration-rejetee",
                                       candidacy_id=certificate.candidacy_id, session_id=certificate.session_id,
                                       recipient_role="certifier", number=fact.number, file=fact.file,
                                       messages=fact.messages)

    async def convene(self, conn: asyncpg.Connection, envelope: Envelope, fact: jury.JuryMemberAppointed) -> None:
        try:
            person = unseal(await self.vault.key(fact.member_id), fact.member_id, fact.personal)
        except KeyDestroyed:
            return
        if not person.get("email"):
            return  # convened otherwise
        session = await anyio.to_thread.run_sync(self.app.session, fact.session_id)
        titles = [r["title"] for r in await conn.fetch(
            "SELECT title FROM catalog_certifications WHERE code = ANY($1::text[]) ORDER BY code",
            list(session.certifications))] or list(session.certifications)
        certification = ", ".join(titles)
        branch_name = await conn.fetchval("SELECT name FROM catalog_branches WHERE code = $1", session.branch) \
            or session.branch
        starts, ends = (dt.datetime.combine(session.on, t, PARIS) for t in SESSION_HOURS)
        place = "à distance" if session.remote else session.place
        invitation = mail.convocation_ics(
            session=fact.session_id, recipient=fact.member_id, starts_at=starts, ends_at=ends, location=place,
            summary=f"Jury {certification}", organizer_email=self.organizer, organizer_name=branch_name,
            attendee_email=person["email"], domain=mail.domain_of(self.settings.smtp_from))
        await mail.enqueue(
            conn, mail.Key(str(envelope.event_id), fact.member_id, "convocation"), organisation=session.branch,
            address=person["email"], settings=self.settings, attachments=[invitation],
            context={"name": person["name"], "certification": certification, "role": ROLES.get(fact.role, fact.role),
                     "starts_at": starts, "location": place, "organizer_name": branch_name,
                     "organizer_email": self.organizer, "organisation_name": branch_name},
            about={"recipient_role": "jury-member", "branch": session.branch, "session_id": fact.session_id,
                   "legally_required": True})

    async def tell_office(self, conn: asyncpg.Connection, envelope: Envelope, branch: str | None, template: str,
                          candidacy_id: str | None = None, session_id: str | None = None,
                          deadline_id: str | None = None, recipient_role: str = "certifier", **values) -> None:
        """The branch's certification office told, once per event; nothing where the branch set no address."""
        address = branch and await conn.fetchval("SELECT email FROM notice_contacts WHERE branch = $1", branch)
        if not address:
            return
        branch_name = await conn.fetchval("SELECT name FROM catalog_branches WHERE code = $1", branch) or branch
        await mail.enqueue(
            conn, mail.Key(str(envelope.event_id), f"office:{branch}", template), organisation=branch, address=address,
            settings=self.settings, context={"organisation_name": branch_name, **values},
            about={"recipient_role": recipient_role, "branch": branch, "candidacy_id": candidacy_id,
                   "session_id": session_id, "deadline_id": deadline_id, "legally_required": False})


def sender(app, pool: asyncpg.Pool, settings: Settings) -> mail.Sender:
    return mail.Sender(pool, settings, on_sent=notices.recorder(app, NOTIFIER))


def subscriptions(app, pool: asyncpg.Pool) -> list[Subscription]:
    notifier = Notifier(app, pool, Settings())
    return [Subscription(jury.TOPIC, notifier.on_jury), Subscription(catalog.TOPIC, notifier.on_catalog)]
