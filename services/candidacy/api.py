"""The candidacy service's endpoints (commands: shared/commands/candidacy.py). Commands that decide on
catalog facts read them first from the service's own views, as they stand today, with the branches
owning the certification (what a branch admin's rights are checked on)."""

from __future__ import annotations

from datetime import date

import anyio

from shared.commands.candidacy import (
    CheckEligibility, ConfirmAccount, CorrectCandidate, EntrustCandidate, DecideAdmissibility, DecideFunding, DeclareExperience, FileAdmissibility, OnCandidacy,
    EraseCandidate, OpenCandidacy, Position, RegisterCandidate, RequestFunding, SetPath, SubmitValidationFile, Transfer, Withdraw,
)
from shared.http import Endpoint

from services.candidacy import catalog_view
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import UnknownCertification
from services.candidacy.people import People


def commands(app: CandidacyApplication, pool) -> dict[str, Endpoint]:
    people = People(app, pool)

    async def facts_for(code: str):
        facts = await catalog_view.certification_facts(pool, code, date.today())
        if facts is None:
            raise UnknownCertification("no such certification in the catalog", code=code)
        return facts

    async def on_candidacy(candidacy_id: str, with_facts: bool = False):
        candidacy = await anyio.to_thread.run_sync(app.candidacy, candidacy_id)
        owners = await catalog_view.owners(pool, candidacy.certification)
        return candidacy, owners, (await facts_for(candidacy.certification) if with_facts else None)

    async def open_candidacy(command: OpenCandidacy, context):
        facts = await facts_for(command.certification)
        owners = await catalog_view.owners(pool, command.certification)
        seen = await people.records(await anyio.to_thread.run_sync(app.candidate, command.candidate_id))
        return await anyio.to_thread.run_sync(lambda: app.open_candidacy(command, facts, date.today(), owners, context,
                                                                         seen=seen))

    def on_facts(method):
        """A step decided on the catalog's facts of the day."""

        async def run(command: OnCandidacy, context):
            _, owners, facts = await on_candidacy(command.candidacy_id, with_facts=True)
            return await anyio.to_thread.run_sync(method, command, facts, date.today(), owners, context)

        return run

    async def position(command: Position, context):
        candidacy, owners, facts = await on_candidacy(command.candidacy_id, with_facts=True)
        held = await catalog_view.held_blocks(pool, candidacy.candidate_id)
        return await anyio.to_thread.run_sync(app.position, command, facts, held, date.today(), owners, context)

    async def transfer(command: Transfer, context):
        _, owners, facts = await on_candidacy(command.candidacy_id, with_facts=True)
        return await anyio.to_thread.run_sync(app.transfer, command, facts, owners, context)

    async def confirm_account(command: ConfirmAccount, context):
        return await anyio.to_thread.run_sync(app.confirm_account, command, context)

    async def entrust_candidate(command: EntrustCandidate, context):
        known = await catalog_view.accredited(pool, command.organisation_id, date.today())
        return await anyio.to_thread.run_sync(app.entrust_candidate, command, known, context)

    def step(method):
        """A step on one candidacy that needs no catalog fact beyond its owners."""

        async def run(command: OnCandidacy, context):
            _, owners, _ = await on_candidacy(command.candidacy_id)
            return await anyio.to_thread.run_sync(method, command, owners, context)

        return run

    endpoints = [
        Endpoint(RegisterCandidate, people.register),
        Endpoint(ConfirmAccount, confirm_account),
        Endpoint(EntrustCandidate, entrust_candidate),
        Endpoint(CorrectCandidate, people.correct),
        Endpoint(EraseCandidate, people.erase),
        Endpoint(OpenCandidacy, open_candidacy),
        Endpoint(CheckEligibility, on_facts(app.check_eligibility)),
        Endpoint(DeclareExperience, step(app.declare_experience)),
        Endpoint(Position, position),
        Endpoint(SetPath, step(app.set_path)),
        Endpoint(RequestFunding, step(app.request_funding)),
        Endpoint(DecideFunding, step(app.decide_funding)),
        Endpoint(FileAdmissibility, step(app.file_admissibility)),
        Endpoint(DecideAdmissibility, on_facts(app.decide_admissibility)),
        Endpoint(SubmitValidationFile, step(app.submit_validation_file)),
        Endpoint(Transfer, transfer),
        Endpoint(Withdraw, step(app.withdraw)),
    ]
    return {endpoint.input.operation: endpoint for endpoint in endpoints}
