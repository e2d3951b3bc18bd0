"""What the candidacy service does with the jury's events besides its view of the blocks held: a full
award closes the candidacy (a command of its own, keyed by the award's event, so a redelivery closes nothing
twice) once the session's results are published — before that, the candidacy's status would tell the
candidate and their organisations the outcome the jury has not yet published.

An award of a session not yet published waits in `awards_awaiting_publication`; a correction away from the
award before publication takes it back; the publication closes what waits, and an award recorded after it
closes at once. An unpublication leaves closed what was closed (it is allowed only before anyone downloaded
a certificate, and the jury hides the decisions themselves again).

A VAE admissibility request the certifier left unanswered past its delay (the jury's DeadlineMissed) is deemed
admissible where the branch says silence is acceptance (`DEEMED_ADMISSIBLE`, the default): its AdmissibilityDecided
names the deadline (`deemed`). Escalated instead, it stays filed: the missed deadline is the branch's to act on."""

from __future__ import annotations

import anyio
import asyncpg

from shared.commands.candidacy import CloseCandidacy, DeemAdmissible
from shared.context import Actor, CommandContext, acting
from shared.contracts import jury
from shared.envelope import Envelope
from shared.errors import CommandRefused
from shared.migrations import numbered
from shared.contracts import deadlines
from shared.vocabulary import DeadlineKind, Decision, UnansweredAdmissibility

from services.candidacy.application import CandidacyApplication

MIGRATIONS = numbered(
    "awards_awaiting_publication",
    "CREATE TABLE IF NOT EXISTS awards_awaiting_publication ("
    " session_id text NOT NULL, candidacy_id text NOT NULL, award jsonb NOT NULL,"  # the award's envelope
    " PRIMARY KEY (session_id, candidacy_id))",
    "CREATE TABLE IF NOT EXISTS published_sessions (session_id text PRIMARY KEY)",
)


def handler(app: CandidacyApplication):
    async def close(award: Envelope, session_id: str, candidacy_id: str) -> None:
        actor = Actor(user_id=award.actor.user_id, organisation_id=award.actor.organisation_id, role=award.actor.role)
        context = CommandContext(actor=actor, correlation_id=award.correlation_id,
                                 causation_id=f"jury-event:{award.event_id}")
        command = CloseCandidacy(candidacy_id=candidacy_id, reason=f"certification awarded by session {session_id}")
        try:
            with acting(context):
                await anyio.to_thread.run_sync(app.close_candidacy, command)
        except CommandRefused:
            pass  # already withdrawn or closed: the award changes nothing here

    async def apply(conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = jury.REGISTRY.parse(envelope)
        if isinstance(fact, jury.JuryDecided | jury.DecisionCorrected):
            if fact.decision != Decision.FULL_AWARD:
                await conn.execute("DELETE FROM awards_awaiting_publication WHERE session_id = $1 AND candidacy_id = $2",
                                   fact.session_id, fact.candidacy_id)
            elif await conn.fetchval("SELECT true FROM published_sessions WHERE session_id = $1", fact.session_id):
                await close(envelope, fact.session_id, fact.candidacy_id)
            else:
                await conn.execute(
                    "INSERT INTO awards_awaiting_publication (session_id, candidacy_id, award) VALUES ($1, $2, $3)"
                    " ON CONFLICT (session_id, candidacy_id) DO UPDATE SET award = excluded.award",
                    fact.session_id, fact.candidacy_id, envelope.model_dump_json())
        elif isinstance(fact, jury.SessionResultsPublished):
            await conn.execute("INSERT INTO published_sessions VALUES ($1) ON CONFLICT DO NOTHING", fact.session_id)
            waiting = await conn.fetch("DELETE FROM awards_awaiting_publication WHERE session_id = $1"
                                       " RETURNING candidacy_id, award", fact.session_id)
            for row in sorted(waiting, key=lambda r: r["candidacy_id"]):
                await close(Envelope.model_validate_json(row["award"]), fact.session_id, row["candidacy_id"])
        elif isinstance(fact, jury.SessionResultsUnpublished):
            await conn.execute("DELETE FROM published_sessions WHERE session_id = $1", fact.session_id)
        elif (isinstance(fact, deadlines.DeadlineMissed) and fact.kind == DeadlineKind.ADMISSIBILITY_ANSWER
              and fact.effect == UnansweredAdmissibility.DEEMED_ADMISSIBLE and fact.candidacy_id):
            await deem(envelope, fact)

    async def deem(missed: Envelope, fact: deadlines.DeadlineMissed) -> None:
        """The request left unanswered is admissible (recorded as the engine's, keyed by its event); answered or
        withdrawn meanwhile, nothing."""
        actor = Actor(user_id=missed.actor.user_id, organisation_id=missed.actor.organisation_id, role=missed.actor.role)
        context = CommandContext(actor=actor, correlation_id=missed.correlation_id,
                                 causation_id=f"jury-event:{missed.event_id}")
        command = DeemAdmissible(candidacy_id=fact.candidacy_id, deadline_id=fact.deadline_id, due_on=fact.due_on)
        try:
            with acting(context):
                await anyio.to_thread.run_sync(app.deem_admissible, command)
        except CommandRefused:
            pass  # decided, withdrawn or closed meanwhile: its deadline was met or cancelled

    return apply
