"""The candidacy service's endpoints (commands: shared/commands/candidacy.py): each command, the reader of
the facts it is decided on (services/candidacy/facts.py, people.py), and the application's decision."""

from __future__ import annotations

from shared.commands.candidacy import (
    AttachIdentityDocument, AttachVaePaper, CheckEligibility, ConfirmAccount, CorrectCandidate, DecideAdmissibility,
    DecideFunding, DeclareExperience, EntrustCandidate, EraseCandidate, FileAdmissibility, OpenCandidacy, Position,
    PurgeDocument, RegisterCandidate, RequestFunding, SetPath, SubmitValidationFile, Transfer, Withdraw,
)
from shared.http import Endpoint

from services.candidacy.application import CandidacyApplication
from services.candidacy.documents import Papers
from services.candidacy.facts import Facts
from services.candidacy.people import People


def commands(app: CandidacyApplication, pool) -> dict[str, Endpoint]:
    people = People(app, pool)
    facts = Facts(app, pool, people)
    papers = Papers(app, pool, people)
    endpoints = [
        Endpoint(RegisterCandidate, people.registration, app.register_candidate, after=people.after_registration),
        Endpoint(ConfirmAccount, None, app.confirm_account),
        Endpoint(EntrustCandidate, facts.entrusting, app.entrust_candidate),
        Endpoint(CorrectCandidate, people.correction, app.correct_candidate, after=people.after_correction),
        Endpoint(EraseCandidate, people.erasure, app.erase_candidate, after=people.after_erasure),
        Endpoint(OpenCandidacy, facts.opening, app.open_candidacy),
        Endpoint(CheckEligibility, facts.catalog_step, app.check_eligibility),
        Endpoint(DeclareExperience, facts.step, app.declare_experience),
        Endpoint(Position, facts.position, app.position),
        Endpoint(SetPath, facts.step, app.set_path),
        Endpoint(RequestFunding, facts.step, app.request_funding),
        Endpoint(DecideFunding, facts.step, app.decide_funding),
        Endpoint(FileAdmissibility, facts.step, app.file_admissibility),
        Endpoint(DecideAdmissibility, facts.catalog_step, app.decide_admissibility),
        Endpoint(SubmitValidationFile, facts.step, app.submit_validation_file),
        Endpoint(AttachVaePaper, papers.attaching, app.attach_vae_paper, after=papers.after_attaching),
        Endpoint(AttachIdentityDocument, papers.attaching, app.attach_identity_document, after=papers.after_attaching),
        Endpoint(Transfer, facts.catalog_step, app.transfer),
        Endpoint(Withdraw, facts.step, app.withdraw),
        Endpoint(PurgeDocument, papers.purging, app.purge_document, after=papers.after_purging),
    ]
    return {endpoint.input.operation: endpoint for endpoint in endpoints}

