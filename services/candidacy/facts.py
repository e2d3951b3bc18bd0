"""The facts each candidacy command is decided on, read before the decision from the service's own views
(the catalog as it stands today, the blocks a candidate holds), one reader per facts type
(services/candidacy/domain.py). Personal data's facts (a registration's sealed fields, a correction, an
erasure) are read by services/candidacy/people.py, which holds the keys."""

from __future__ import annotations

from datetime import date

import anyio
import asyncpg

from shared.commands.candidacy import EntrustCandidate, OnCandidacy, OpenCandidacy

from services.candidacy import catalog_view
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import (
    CatalogStepFacts, CertificationFacts, EntrustingFacts, OpeningFacts, PositionFacts, StepFacts,
    UnknownCertification,
)
from services.candidacy.people import People


class Facts:
    def __init__(self, app: CandidacyApplication, pool: asyncpg.Pool, people: People):
        self.app = app
        self.pool = pool
        self.people = people

    async def certification(self, code: str) -> CertificationFacts:
        found = await catalog_view.certification_facts(self.pool, code, date.today())
        if found is None:
            raise UnknownCertification("no such certification in the catalog", code=code)
        return found

    async def step(self, command: OnCandidacy) -> StepFacts:
        code = (await anyio.to_thread.run_sync(self.app.reference, command.candidacy_id)).certification
        return StepFacts(owners=await catalog_view.owners(self.pool, code), today=date.today())

    async def catalog_step(self, command: OnCandidacy) -> CatalogStepFacts:
        code = (await anyio.to_thread.run_sync(self.app.reference, command.candidacy_id)).certification
        return CatalogStepFacts(owners=await catalog_view.owners(self.pool, code), today=date.today(),
                                certification=await self.certification(code))

    async def position(self, command: OnCandidacy) -> PositionFacts:
        facts = await self.catalog_step(command)
        candidate_id = (await anyio.to_thread.run_sync(self.app.reference, command.candidacy_id)).candidate_id
        return PositionFacts(**vars(facts), held=tuple(await catalog_view.held_blocks(self.pool, candidate_id)))

    async def opening(self, command: OpenCandidacy) -> OpeningFacts:
        certification = await self.certification(command.certification)
        candidate = await anyio.to_thread.run_sync(self.app.candidate, command.candidate_id)
        return OpeningFacts(certification=certification, owners=await catalog_view.owners(self.pool, command.certification),
                            seen=tuple(await self.people.records(candidate)), today=date.today(), candidate=candidate)

    async def entrusting(self, command: EntrustCandidate) -> EntrustingFacts:
        return EntrustingFacts(accredited=await catalog_view.accredited(self.pool, command.organisation_id, date.today()))
