from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.commands.jury import (
    AppointMember, CloseSession, CorrectDecision, Decide, Present, PublishSessionResults, RecordEvaluation,
    ScheduleSession, UnpublishSessionResults,
)

from services.gateway.schema.context import Context
from services.gateway.schema.errors import result_union
from services.gateway.schema.jury.types import Evaluation, JurySession
from services.gateway.schema.mutations import CommandMutation


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


async def evaluations(info: Info[Context, None], answer: dict) -> EvaluationRecorded:
    rows = await info.context.pool.fetch(
        "SELECT * FROM jury_evaluations WHERE candidacy_id = $1::uuid ORDER BY evaluated_on, recorded_at", answer["id"])
    return EvaluationRecorded(validated=answer["validated"], evaluations=[Evaluation.from_row(r) for r in rows])


async def session(info: Info[Context, None], answer: dict) -> JurySessionChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM jury_sessions WHERE id = $1::uuid", answer["id"])
    return JurySessionChanged(session=JurySession.from_row(row), member_id=answer.get("member_id"),
                              certificate_number=answer.get("certificate_number"))


# This feature's rows of the mutation table (schema/__init__.py).
MUTATIONS = {
    RecordEvaluation: CommandMutation(
        "record_evaluation", EvaluationResult, evaluations,
        "Record the evaluation of one block (by an organisation accredited on that date)"),
    ScheduleSession: CommandMutation("schedule_jury_session", JurySessionResult, session,
                                     "Schedule a paritaire jury session for one or several certifications"),
    AppointMember: CommandMutation("appoint_jury_member", JurySessionResult, session),
    Present: CommandMutation("present_candidacy", JurySessionResult, session,
                             "Present a candidacy whose every claimed block has a result"),
    Decide: CommandMutation("decide", JurySessionResult, session,
                            "The jury's decision on a presented candidacy (final; correct it explicitly)"),
    CorrectDecision: CommandMutation("correct_decision", JurySessionResult, session,
                                     "Correct a decision, with its reason; the decision itself is never edited"),
    CloseSession: CommandMutation("close_jury_session", JurySessionResult, session,
                                  "Close the session with its minutes, generated from its facts, attested by its "
                                  "president and sealed by the branch: it decides no more"),
    PublishSessionResults: CommandMutation("publish_session_results", JurySessionResult, session,
                                           "Show the session's decisions, certificates and their PDFs to the "
                                           "candidates and their organisations (after its minutes)"),
    UnpublishSessionResults: CommandMutation("unpublish_session_results", JurySessionResult, session,
                                             "Hide them again, with the reason: refused once a certificate of the "
                                             "session was downloaded outside the jury"),
}
