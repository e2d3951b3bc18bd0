"""Candidacy commands."""

from __future__ import annotations

from shared.context import CommandContext
from shared.eventstore import CommandOutcome, ServiceApplication

from services.candidacy.domain import Candidate


class CandidacyApplication(ServiceApplication):
    name = "candidacy"

    def register_candidate(self, command: dict, context: CommandContext) -> CommandOutcome:
        def decide():
            candidate = Candidate(**command, context=context.as_event_data())
            return [candidate], {"id": str(candidate.id)}

        return self.execute("register-candidate", command, context, decide)
