"""The jury service's endpoints (commands: shared/commands/jury.py): each command, the reader of the facts it
is decided on (services/jury/facts.py, members.py), and the application's decision."""

from __future__ import annotations

from shared.commands.jury import (
    AppointMember, AttachEvaluationEvidence, AttachJuryPaper, CloseSession, CorrectDecision, Decide, DeclareHolders,
    Present, PublishSessionResults, PurgeJuryDocument, RecordDeclarationOutcome, RecordEvaluation, ScheduleSession,
    UnpublishSessionResults,
)
from shared.http import Endpoint

from services.jury.application import JuryApplication
from services.jury.documents import Papers
from services.jury.evaluations import Evaluations
from services.jury.facts import Facts
from services.jury.members import Members
from services.jury.minutes import Minutes


def commands(app: JuryApplication, pool) -> dict[str, Endpoint]:
    members = Members(app, pool)
    evaluations = Evaluations(app, pool)
    facts = Facts(pool, evaluations)
    papers = Papers(app, pool, evaluations)
    minutes = Minutes(app, pool, papers, members)
    endpoints = [
        Endpoint(RecordEvaluation, facts.evaluation, app.record_evaluation),
        Endpoint(AttachEvaluationEvidence, papers.attaching, app.attach_evaluation_evidence,
                 after=papers.after_attaching),
        Endpoint(AttachJuryPaper, papers.attaching, app.attach_jury_paper, after=papers.after_attaching),
        Endpoint(PurgeJuryDocument, papers.purging, app.purge_jury_document, after=papers.after_purging),
        Endpoint(ScheduleSession, facts.session, app.schedule_session),
        Endpoint(AppointMember, members.appointment, app.appoint_member, after=members.after_appointment),
        Endpoint(Present, facts.candidacy, app.present),
        Endpoint(Decide, facts.decision, app.decide),
        Endpoint(CorrectDecision, facts.correction, app.correct_decision),
        Endpoint(CloseSession, minutes.closing, app.close_session, after=minutes.after_closing),
        Endpoint(PublishSessionResults, facts.today, app.publish_session_results),
        Endpoint(UnpublishSessionResults, facts.today, app.unpublish_session_results),
        Endpoint(DeclareHolders, facts.declaration, app.declare_holders),
        Endpoint(RecordDeclarationOutcome, facts.declaration, app.record_declaration_outcome),
    ]
    return {endpoint.input.operation: endpoint for endpoint in endpoints}
