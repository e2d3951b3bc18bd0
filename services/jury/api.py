"""The jury service's endpoints (commands: shared/commands/jury.py). Facts about the candidacy and the
catalog are read first from the service's own views, as they stand at the time of the command."""

from __future__ import annotations

from datetime import date

import anyio

from shared import catalog_view
from shared.commands.jury import (
    AppointMember, CorrectDecision, Decide, DeclareHolders, Present, RecordDeclarationOutcome, RecordEvaluation,
    ScheduleSession,
)
from shared.http import Endpoint
from shared.policy import authorize

from services.jury import views
from services.jury.application import JuryApplication, candidacy_record, unknown_candidacy
from services.jury.evaluations import Evaluations
from services.jury.members import Members


def commands(app: JuryApplication, pool) -> dict[str, Endpoint]:
    evaluations = Evaluations(app, pool)

    async def candidacy(candidacy_id: str):
        facts = await views.candidacy_facts(pool, candidacy_id)
        if facts is None:
            raise unknown_candidacy()
        return facts

    async def version(facts) -> dict:
        return (await catalog_view.versions(pool, facts.certification))[facts.version]

    async def record_evaluation(command: RecordEvaluation, context):
        facts = await candidacy(command.candidacy_id)
        today = date.today()
        accredited = await catalog_view.accredited_evaluators(pool, facts.certification, command.on)
        withdrawn = await catalog_view.withdrawn_evaluators(pool, facts.certification, today)
        validity = (await version(facts))["settings"]["block_validity_months"]
        # The caller's right first: no key is made for a candidate on behalf of whoever may not evaluate them.
        authorize("record-evaluation", candidacy_record(facts))
        personal = await evaluations.seal(facts.candidate_id, command.evaluator, command.evidence)
        return await anyio.to_thread.run_sync(app.record_evaluation, command, facts, personal, accredited, validity,
                                              today, withdrawn, context)

    def with_owners(method):
        async def run(command, context):
            owners = await catalog_view.all_owners(pool)
            return await anyio.to_thread.run_sync(method, command, owners, context)

        return run

    async def schedule_session(command: ScheduleSession, context):
        owners = {code: set(await catalog_view.owners(pool, code)) for code in command.certifications}
        return await anyio.to_thread.run_sync(app.schedule_session, command, owners, context)

    async def present(command: Present, context):
        facts = await candidacy(command.candidacy_id)
        return await anyio.to_thread.run_sync(app.present, command, facts, context)

    async def decide(command: Decide, context):
        facts = await candidacy(command.candidacy_id)
        settings_and_blocks = await version(facts)
        quorum = settings_and_blocks["settings"]["jury_quorum"]
        blocks = [b["code"] for b in settings_and_blocks["blocks"]]
        return await anyio.to_thread.run_sync(app.decide, command, facts, quorum, blocks, date.today(), context)

    async def correct_decision(command: CorrectDecision, context):
        facts = await candidacy(command.candidacy_id)
        blocks = [b["code"] for b in (await version(facts))["blocks"]]
        return await anyio.to_thread.run_sync(app.correct_decision, command, facts, blocks, date.today(), context)

    endpoints = [
        Endpoint(RecordEvaluation, record_evaluation),
        Endpoint(ScheduleSession, schedule_session),
        Endpoint(AppointMember, Members(app, pool).appoint),
        Endpoint(Present, present),
        Endpoint(Decide, decide),
        Endpoint(CorrectDecision, correct_decision),
        Endpoint(DeclareHolders, with_owners(app.declare_holders)),
        Endpoint(RecordDeclarationOutcome, with_owners(app.record_declaration_outcome)),
    ]
    return {endpoint.input.operation: endpoint for endpoint in endpoints}
