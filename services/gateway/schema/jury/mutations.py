from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from services.gateway.schema.errors import result_union
from services.gateway.schema.forward import command_body, forward
from services.gateway.schema.jury.types import College, Decision, Evaluation, JurySession, MemberRole, Modality


@strawberry.input
class CompetenceResultInput:
    competence: str
    acquired: bool


@strawberry.input
class RecordEvaluationInput:
    candidacy_id: strawberry.ID
    block: str
    competences: list[CompetenceResultInput]
    modality: Modality
    evaluator: str = strawberry.field(description="The person who evaluated")
    on: date
    evidence: str = strawberry.field(description="Reference of the evidence kept")


@strawberry.input
class ScheduleJurySessionInput:
    branch: str
    certifications: list[str]
    on: date
    place: str = ""
    remote: bool = False
    capacity: int


@strawberry.input
class AppointJuryMemberInput:
    session_id: strawberry.ID
    name: str
    college: College
    role: MemberRole = MemberRole.MEMBER


@strawberry.input
class PresentCandidacyInput:
    session_id: strawberry.ID
    candidacy_id: strawberry.ID


@strawberry.input
class DecideInput:
    session_id: strawberry.ID
    candidacy_id: strawberry.ID
    decision: Decision
    present_members: list[strawberry.ID]
    votes_for: int
    votes_against: int = 0
    abstentions: int = 0


@strawberry.input
class CorrectDecisionInput:
    session_id: strawberry.ID
    candidacy_id: strawberry.ID
    decision: Decision
    reason: str


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


async def _on_session(info: Info, command: str, input, key: str) -> JurySessionResult:
    return await forward(info, "jury", command, command_body(input), key, lambda answer: _session(info, answer))


@strawberry.type
class JuryMutations:
    @strawberry.mutation(description="Record the evaluation of one block (by an organisation accredited on that date)")
    async def record_evaluation(self, info: Info, input: RecordEvaluationInput, idempotency_key: str) -> EvaluationResult:
        async def answer(result):
            rows = await info.context.pool.fetch(
                "SELECT * FROM jury_evaluations WHERE candidacy_id = $1::uuid ORDER BY evaluated_on, recorded_at",
                result["id"])
            return EvaluationRecorded(validated=result["validated"], evaluations=[Evaluation.from_row(r) for r in rows])

        return await forward(info, "jury", "record-evaluation", command_body(input), idempotency_key, answer)

    @strawberry.mutation(description="Schedule a paritaire jury session for one or several certifications")
    async def schedule_jury_session(self, info: Info, input: ScheduleJurySessionInput,
                                    idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, "schedule-session", input, idempotency_key)

    @strawberry.mutation
    async def appoint_jury_member(self, info: Info, input: AppointJuryMemberInput,
                                  idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, "appoint-member", input, idempotency_key)

    @strawberry.mutation(description="Present a candidacy whose every claimed block has a result")
    async def present_candidacy(self, info: Info, input: PresentCandidacyInput,
                                idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, "present", input, idempotency_key)

    @strawberry.mutation(description="The jury's decision on a presented candidacy (final; correct it explicitly)")
    async def decide(self, info: Info, input: DecideInput, idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, "decide", input, idempotency_key)

    @strawberry.mutation(description="Correct a decision, with its reason; the decision itself is never edited")
    async def correct_decision(self, info: Info, input: CorrectDecisionInput,
                               idempotency_key: str) -> JurySessionResult:
        return await _on_session(info, "correct-decision", input, idempotency_key)
