"""What the candidacy service does with the jury's events besides its view of the blocks held: a full
award closes the candidacy (a command of its own, keyed by the event, so a redelivery closes nothing twice)."""

from __future__ import annotations

import anyio
import asyncpg

from shared.commands.candidacy import CloseCandidacy
from shared.context import Actor, CommandContext, acting
from shared.contracts import jury
from shared.envelope import Envelope
from shared.errors import CommandRefused
from shared.vocabulary import Decision

from services.candidacy.application import CandidacyApplication


def handler(app: CandidacyApplication):
    async def apply(conn: asyncpg.Connection, envelope: Envelope) -> None:
        fact = jury.REGISTRY.parse(envelope)
        awarded = isinstance(fact, jury.JuryDecided | jury.DecisionCorrected) and fact.decision == Decision.FULL_AWARD
        if awarded:
            actor = Actor(user_id=envelope.actor.user_id, organisation_id=envelope.actor.organisation_id,
                          role=envelope.actor.role)
            context = CommandContext(actor=actor, correlation_id=envelope.correlation_id,
                                     causation_id=f"jury-event:{envelope.event_id}")
            command = CloseCandidacy(candidacy_id=fact.candidacy_id,
                                     reason=f"certification awarded by session {fact.session_id}")
            try:
                with acting(context):
                    await anyio.to_thread.run_sync(app.close_candidacy, command)
            except CommandRefused:
                pass  # already withdrawn or closed: the award changes nothing here

    return apply
