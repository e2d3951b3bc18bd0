"""The facts each jury command is decided on, read before the decision from the service's own views (the
candidacies as the candidacy service publishes them, the catalog as it stands today), one reader per facts
type (services/jury/domain.py). An appointment's facts (a member's sealed name) are read by
services/jury/members.py, which holds the members' keys."""

from __future__ import annotations

from datetime import date

import asyncpg

from shared import catalog_view
from shared.commands.jury import (
    CorrectDecision, Decide, DeclareHolders, Present, RecordDeclarationOutcome, RecordEvaluation, ScheduleSession,
)
from shared.policy import authorize

from services.jury import views
from services.jury.application import candidacy_record, unknown_candidacy
from services.jury.domain import (
    CandidacyFacts, CorrectionFacts, DecisionFacts, EvaluationFacts, OwnerFacts,
)
from services.jury.evaluations import Evaluations


class Facts:
    def __init__(self, pool: asyncpg.Pool, evaluations: Evaluations):
        self.pool = pool
        self.evaluations = evaluations

    async def candidacy(self, command: Present | RecordEvaluation) -> CandidacyFacts:
        """The candidacy the command names, as the jury knows it (presenting is decided on this alone)."""
        found = await views.candidacy_facts(self.pool, command.candidacy_id)
        if found is None:
            raise unknown_candidacy()
        return found

    async def version(self, candidacy: CandidacyFacts) -> dict:
        """The candidacy's certification version: {"blocks": [...], "settings": {...}}."""
        return (await catalog_view.versions(self.pool, candidacy.certification))[candidacy.version]

    async def evaluation(self, command: RecordEvaluation) -> EvaluationFacts:
        candidacy = await self.candidacy(command)
        today = date.today()
        accredited = await catalog_view.accredited_evaluators(self.pool, candidacy.certification, command.on)
        withdrawn = await catalog_view.withdrawn_evaluators(self.pool, candidacy.certification, today)
        validity = (await self.version(candidacy))["settings"]["block_validity_months"]
        # The caller's right first: no key is made for a candidate on behalf of whoever may not evaluate them.
        authorize(command.operation, candidacy_record(candidacy))
        personal = await self.evaluations.seal(candidacy.candidate_id, command.evaluator, command.evidence)
        return EvaluationFacts(candidacy=candidacy, personal=personal, accredited=frozenset(accredited),
                               withdrawn=frozenset(withdrawn), validity_months=validity, today=today)

    async def session(self, command: ScheduleSession) -> OwnerFacts:
        owners = await catalog_view.owners_by_certification(self.pool, command.certifications)
        return OwnerFacts(owners={code: owners.get(code, frozenset()) for code in command.certifications})

    async def decision(self, command: Decide) -> DecisionFacts:
        candidacy = await self.candidacy(command)
        version = await self.version(candidacy)
        return DecisionFacts(candidacy=candidacy, version_blocks=tuple(b["code"] for b in version["blocks"]),
                             today=date.today(), quorum=version["settings"]["jury_quorum"])

    async def correction(self, command: CorrectDecision) -> CorrectionFacts:
        candidacy = await self.candidacy(command)
        version = await self.version(candidacy)
        return CorrectionFacts(candidacy=candidacy, version_blocks=tuple(b["code"] for b in version["blocks"]),
                               today=date.today())

    async def today(self, command) -> date:
        """Publishing a session's results, or unpublishing them: decided on the day alone."""
        return date.today()

    async def declaration(self, command: DeclareHolders | RecordDeclarationOutcome) -> OwnerFacts:
        return OwnerFacts(owners=await catalog_view.owners_by_certification(self.pool))
