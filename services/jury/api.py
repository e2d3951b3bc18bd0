"""Jury command inputs and endpoints. Facts about the candidacy and the catalog are read first from
the service's own views, as they stand at the time of the command."""

from __future__ import annotations

from datetime import date
from typing import Literal

import anyio
from pydantic import Field

from shared import catalog_view
from shared.http import Command, CommandInput, threaded

from services.jury import views
from services.jury.application import JuryApplication
from services.jury.domain import UnknownCandidacy

Id = Field(min_length=1, max_length=64)
Decision = Literal["FULL_AWARD", "PARTIAL_VALIDATION", "REFUSAL", "DEFERRAL", "ABSENT"]


class CompetenceResult(CommandInput):
    competence: str = Field(min_length=1, max_length=1000)
    acquired: bool


class RecordEvaluation(CommandInput):
    candidacy_id: str = Id
    block: str = Field(min_length=1, max_length=64)
    competences: list[CompetenceResult] = Field(min_length=1, max_length=100)
    modality: Literal["PRACTICAL_SITUATION", "TEST", "INTERVIEW", "REPORT"]
    evaluator: str = Field(min_length=1, max_length=200)
    on: date
    evidence: str = Field(min_length=1, max_length=500, description="Where the evidence is kept")


class ScheduleSession(CommandInput):
    branch: str = Field(min_length=2, max_length=64)
    certifications: list[str] = Field(min_length=1, max_length=50)
    on: date
    place: str = Field(default="", max_length=300)
    remote: bool = False
    capacity: int = Field(ge=1, le=1000)


class AppointMember(CommandInput):
    session_id: str = Id
    name: str = Field(min_length=1, max_length=200)
    college: Literal["EMPLOYER", "EMPLOYEE"]
    role: Literal["PRESIDENT", "VICE_PRESIDENT", "MEMBER"] = "MEMBER"


class Present(CommandInput):
    session_id: str = Id
    candidacy_id: str = Id


class Decide(Present):
    decision: Decision
    present_members: list[str] = Field(min_length=1, max_length=50)
    votes_for: int = Field(ge=0)
    votes_against: int = Field(ge=0, default=0)
    abstentions: int = Field(ge=0, default=0)


class CorrectDecision(Present):
    decision: Decision
    reason: str = Field(max_length=2000)


def commands(app: JuryApplication, pool) -> dict[str, Command]:
    async def candidacy(candidacy_id: str):
        facts = await views.candidacy_facts(pool, candidacy_id)
        if facts is None:
            raise UnknownCandidacy("no such candidacy", candidacy_id=candidacy_id)
        return facts

    async def version(facts) -> dict:
        return (await catalog_view.versions(pool, facts.certification))[facts.version]

    async def record_evaluation(body: RecordEvaluation, context):
        facts = await candidacy(body.candidacy_id)
        accredited = await catalog_view.accredited_evaluators(pool, facts.certification, body.on)
        validity = (await version(facts))["settings"]["block_validity_months"]
        return await anyio.to_thread.run_sync(app.record_evaluation, body.model_dump(), facts, accredited, validity,
                                              context)

    async def present(body: Present, context):
        facts = await candidacy(body.candidacy_id)
        return await anyio.to_thread.run_sync(app.present, body.model_dump(), facts, context)

    async def decide(body: Decide, context):
        facts = await candidacy(body.candidacy_id)
        settings_and_blocks = await version(facts)
        quorum = settings_and_blocks["settings"]["jury_quorum"]
        blocks = [b["code"] for b in settings_and_blocks["blocks"]]
        holder = await views.holder_name(pool, facts.candidate_id)
        return await anyio.to_thread.run_sync(app.decide, body.model_dump(), facts, quorum, blocks, holder, context)

    commands = {
        "record-evaluation": Command(RecordEvaluation, record_evaluation),
        "schedule-session": threaded(ScheduleSession, app.schedule_session),
        "appoint-member": threaded(AppointMember, app.appoint_member),
        "present": Command(Present, present),
        "decide": Command(Decide, decide),
        "correct-decision": threaded(CorrectDecision, app.correct_decision),
    }
    return commands
