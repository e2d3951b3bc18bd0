from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.commands import Command
from shared.commands.jury import AppointMember, CorrectDecision, Decide, Present, RecordEvaluation, ScheduleSession

from services.gateway.schema.errors import result_union
from services.gateway.schema.forward import forward
from services.gateway.schema.inputs import graphql_input
from services.gateway.schema.jury.types import Evaluation, JurySession

RecordEvaluationInput = graphql_input(RecordEvaluation)
ScheduleJurySessionInput = graphql_input(ScheduleSession)
AppointJuryMemberInput = graphql_input(AppointMember)
PresentCandidacyInput = graphql_input(Present)
DecideInput = graphql_input(Decide)
CorrectDecisionInput = graphql_input(CorrectDecision)


@strawberry.type
class EvaluationRecorded:
    validated: bool
    evaluations: list[Evaluation]


@strawberry.type
class JurySessionChanged:
    session: JurySession
    member_id: strawberry.ID | None = None
    certificate_number: str | None = None


EvaluationResult = result_union("EvaluationResult", EvaluationRecorded)
JurySessionResult = result_union("JurySessionResult", JurySessionChanged)


async def _session(info: Info, answer: dict) -> JurySessionChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM jury_sessions WHERE id = $1::uuid", answer["id"])
    return JurySessionChanged(session=JurySession.from_row(row), member_id=answer.get("member_id"),
                              certificate_number=answer.get("certificate_number"))


async def _on_session(info: Info, command: type[Command], input, key: str) -> JurySessionResult:
    return await forward(info, command, input, key, lambda answer: _session(info, answer))


@strawberry.type
class JuryMutations:
    @strawberry.mutation(description="Record the evaluation of one block (by an organisation accredited on that date)")
    async def record_evaluation(self, info: Info, input: RecordEvaluationInput, idempotency_key: str) -> EvaluationResult:
        async def answer(result):
            rows = await info.context.pool.fetch(
                "SELECT * FROM jury_evaluations WHERE candidacy_id = $1::uuid ORDER BY evaluated_on, recorded_at",
                result["id"])
            return EvaluationRecorded(validated=result["validated"], evaluations=[Evaluation.from_row(r) for r in rows])

        return await forward(info, RecordEvaluation, input, idempotency_key, answer)

    @strawberry.mutation(description="Schedule a paritaire jury session for one or several certifications")
    async def schedule_jury_session(self, info: Info, input: ScheduleJurySessionInput,
                                    idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, ScheduleSession, input, idempotency_key)

    @strawberry.mutation
    async def appoint_jury_member(self, info: Info, input: AppointJuryMemberInput,
                                  idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, AppointMember, input, idempotency_key)

    @strawberry.mutation(description="Present a candidacy whose every claimed block has a result")
    async def present_candidacy(self, info: Info, input: PresentCandidacyInput,
                                idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, Present, input, idempotency_key)

    @strawberry.mutation(description="The jury's decision on a presented candidacy (final; correct it explicitly)")
    async def decide(self, info: Info, input: DecideInput, idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, Decide, input, idempotency_key)

    @strawberry.mutation(description="Correct a decision, with its reason; the decision itself is never edited")
    async def correct_decision(self, info: Info, input: CorrectDecisionInput,
                               idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, CorrectDecision, input, idempotency_key)
