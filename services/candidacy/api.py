"""Candidacy command inputs and endpoints. Commands that decide on catalog facts read them first
from the service's own views, as they stand today."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

import anyio
from pydantic import Field

from shared.http import Command, CommandInput, threaded

from services.candidacy import catalog_view
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import UnknownCertification

Id = Field(min_length=1, max_length=64)


class RegisterCandidate(CommandInput):
    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_date: date | None = None
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    status: Literal["EMPLOYEE", "JOB_SEEKER", "INITIAL_TRAINING", "WORK_STUDY"]
    employer_id: str | None = Field(default=None, max_length=64)
    account: str | None = Field(default=None, min_length=1, max_length=200,
                                description="The candidate's login (username) at the identity provider")


class ExperiencePeriod(CommandInput):
    start: date
    end: date
    activity: str = Field(min_length=1, max_length=2000)
    kind: Literal["PAID", "VOLUNTEER", "UNION", "ELECTED", "SPORT", "INTERNSHIP"] = "PAID"


class OpenCandidacy(CommandInput):
    candidate_id: str = Id
    certification: str = Field(min_length=2, max_length=64)
    route: Literal["TRAINING", "VAE", "DIRECT_ACCESS"]
    evaluator_id: str = Id
    trainer_id: str | None = None
    employer_id: str | None = None
    experience: list[ExperiencePeriod] = Field(default_factory=list, max_length=100)
    blocks: list[str] = Field(default_factory=list, max_length=100, description="VAE only: the blocks targeted")


class OnCandidacy(CommandInput):
    candidacy_id: str = Id


class DeclareExperience(OnCandidacy):
    periods: list[ExperiencePeriod] = Field(max_length=100)


class PathBlock(CommandInput):
    block: str = Field(min_length=1, max_length=64)
    hours: int = Field(ge=0, le=5000)
    modules: list[str] = Field(default_factory=list, max_length=50)


class SetPath(OnCandidacy):
    blocks: list[PathBlock] = Field(max_length=100)


class RequestFunding(OnCandidacy):
    funder: Literal["OPCO", "EMPLOYER_SKILLS_PLAN", "CPF", "BRANCH", "TRANSITIONS_PRO"]
    funder_id: str | None = None
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class DecideFunding(OnCandidacy):
    funding_id: str = Id
    granted: bool
    granted_amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    reason: str | None = Field(default=None, max_length=2000)


class DecideAdmissibility(OnCandidacy):
    admissible: bool
    reason: str = Field(min_length=1, max_length=2000)


class Transfer(OnCandidacy):
    evaluator_id: str = Id
    reason: str = Field(min_length=1, max_length=2000)


class Withdraw(OnCandidacy):
    reason: str = Field(min_length=1, max_length=2000)


def commands(app: CandidacyApplication, pool) -> dict[str, Command]:
    """Each command reads the catalog facts it decides on, and the branches owning the certification
    (what a branch admin's rights are checked on), from the service's own views."""

    async def facts_for(code: str):
        facts = await catalog_view.certification_facts(pool, code, date.today())
        if facts is None:
            raise UnknownCertification("no such certification in the catalog", code=code)
        return facts

    async def on_candidacy(candidacy_id: str, with_facts: bool = False):
        candidacy = await anyio.to_thread.run_sync(app.candidacy, candidacy_id)
        owners = await catalog_view.owners(pool, candidacy.certification)
        return candidacy, owners, (await facts_for(candidacy.certification) if with_facts else None)

    async def open_candidacy(body: OpenCandidacy, context):
        facts = await facts_for(body.certification)
        owners = await catalog_view.owners(pool, body.certification)
        return await anyio.to_thread.run_sync(app.open_candidacy, body.model_dump(), facts, date.today(), owners,
                                              context)

    async def check_eligibility(body: OnCandidacy, context):
        _, owners, facts = await on_candidacy(body.candidacy_id, with_facts=True)
        return await anyio.to_thread.run_sync(app.check_eligibility, body.model_dump(), facts, date.today(), owners,
                                              context)

    async def position(body: OnCandidacy, context):
        candidacy, owners, facts = await on_candidacy(body.candidacy_id, with_facts=True)
        held = await catalog_view.held_blocks(pool, candidacy.candidate_id)
        return await anyio.to_thread.run_sync(app.position, body.model_dump(), facts, held, date.today(), owners,
                                              context)

    async def decide_admissibility(body: DecideAdmissibility, context):
        _, owners, facts = await on_candidacy(body.candidacy_id, with_facts=True)
        return await anyio.to_thread.run_sync(app.decide_admissibility, body.model_dump(), facts, date.today(),
                                              owners, context)

    async def transfer(body: Transfer, context):
        _, owners, facts = await on_candidacy(body.candidacy_id, with_facts=True)
        return await anyio.to_thread.run_sync(app.transfer, body.model_dump(), facts, owners, context)

    def step(method):
        """A step on one candidacy that needs no catalog fact beyond its owners."""

        async def run(body: OnCandidacy, context):
            _, owners, _ = await on_candidacy(body.candidacy_id)
            data = body.model_dump()
            # Amounts travel and are stored as exact decimal strings.
            data.update({k: str(v) for k, v in data.items() if isinstance(v, Decimal)})
            return await anyio.to_thread.run_sync(method, data, owners, context)

        return run

    return {
        "register-candidate": threaded(RegisterCandidate, app.register_candidate),
        "open-candidacy": Command(OpenCandidacy, open_candidacy),
        "check-eligibility": Command(OnCandidacy, check_eligibility),
        "declare-experience": Command(DeclareExperience, step(app.declare_experience)),
        "position": Command(OnCandidacy, position),
        "set-path": Command(SetPath, step(app.set_path)),
        "request-funding": Command(RequestFunding, step(app.request_funding)),
        "decide-funding": Command(DecideFunding, step(app.decide_funding)),
        "file-admissibility": Command(OnCandidacy, step(app.file_admissibility)),
        "decide-admissibility": Command(DecideAdmissibility, decide_admissibility),
        "submit-validation-file": Command(OnCandidacy, step(app.submit_validation_file)),
        "transfer": Command(Transfer, transfer),
        "withdraw": Command(Withdraw, step(app.withdraw)),
    }
