from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from services.gateway.schema.candidacy.types import Candidacy, Candidate, Route
from services.gateway.schema.errors import result_union
from services.gateway.schema.forward import command_body, forward


@strawberry.input
class RegisterCandidateInput:
    given_name: str
    family_name: str
    email: str
    status: str = strawberry.field(description="EMPLOYEE, JOB_SEEKER, INITIAL_TRAINING or WORK_STUDY")
    birth_date: date | None = None
    phone: str | None = None
    employer_id: str | None = None
    account: str | None = strawberry.field(default=None,
                                           description="The candidate's login at the identity provider: their own access")


@strawberry.input
class ExperiencePeriodInput:
    start: date
    end: date
    activity: str
    kind: str = strawberry.field(default="PAID",
                                 description="PAID, VOLUNTEER, UNION, ELECTED, SPORT or INTERNSHIP")


@strawberry.input
class OpenCandidacyInput:
    candidate_id: strawberry.ID
    certification: str
    route: Route
    evaluator_id: strawberry.ID
    trainer_id: strawberry.ID | None = None
    employer_id: str | None = None
    experience: list[ExperiencePeriodInput] = strawberry.field(default_factory=list)
    blocks: list[str] = strawberry.field(default_factory=list, description="VAE only: the blocks targeted")


@strawberry.input
class CandidacyInput:
    candidacy_id: strawberry.ID


@strawberry.input
class DeclareExperienceInput:
    candidacy_id: strawberry.ID
    periods: list[ExperiencePeriodInput]


@strawberry.input
class PathBlockInput:
    block: str
    hours: int
    modules: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class SetPathInput:
    candidacy_id: strawberry.ID
    blocks: list[PathBlockInput]


@strawberry.input
class RequestFundingInput:
    candidacy_id: strawberry.ID
    funder: str = strawberry.field(description="OPCO, EMPLOYER_SKILLS_PLAN, CPF, BRANCH or TRANSITIONS_PRO")
    amount: Decimal
    funder_id: strawberry.ID | None = None


@strawberry.input
class DecideFundingInput:
    candidacy_id: strawberry.ID
    funding_id: strawberry.ID
    granted: bool
    granted_amount: Decimal | None = None
    reason: str | None = None


@strawberry.input
class DecideAdmissibilityInput:
    candidacy_id: strawberry.ID
    admissible: bool
    reason: str


@strawberry.input
class TransferCandidacyInput:
    candidacy_id: strawberry.ID
    evaluator_id: strawberry.ID
    reason: str


@strawberry.input
class WithdrawCandidacyInput:
    candidacy_id: strawberry.ID
    reason: str


@strawberry.type
class CandidateRegistered:
    candidate: Candidate


@strawberry.type
class CandidacyChanged:
    candidacy: Candidacy


RegisterCandidateResult = result_union("RegisterCandidateResult", CandidateRegistered)
CandidacyResult = result_union("CandidacyResult", CandidacyChanged)


async def _candidacy(info: Info, answer: dict) -> CandidacyChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM candidacies WHERE id = $1::uuid", answer["id"])
    return CandidacyChanged(candidacy=Candidacy.from_row(row))


async def _on_candidacy(info: Info, command: str, input, idempotency_key: str) -> CandidacyResult:
    body = command_body(input)
    for key in ("amount", "granted_amount"):  # exact decimals travel as strings
        if body.get(key) is not None:
            body[key] = str(body[key])
    return await forward(info, "candidacy", command, body, idempotency_key, lambda answer: _candidacy(info, answer))


@strawberry.type
class CandidacyMutations:
    @strawberry.mutation(description="Register a candidate (candidacy service; personal data stays there, encrypted)")
    async def register_candidate(
        self, info: Info, input: RegisterCandidateInput, idempotency_key: str
    ) -> RegisterCandidateResult:
        async def answer(result):
            row = await info.context.pool.fetchrow("SELECT * FROM candidates WHERE id = $1::uuid", result["id"])
            return CandidateRegistered(candidate=Candidate.from_row(row))

        return await forward(info, "candidacy", "register-candidate", command_body(input), idempotency_key, answer)

    @strawberry.mutation(description="Open a candidacy, if eligible on the catalog's facts of today")
    async def open_candidacy(self, info: Info, input: OpenCandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "open-candidacy", input, idempotency_key)

    @strawberry.mutation(description="Check again, on today's facts, that the candidacy is eligible")
    async def check_eligibility(self, info: Info, input: CandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "check-eligibility", input, idempotency_key)

    @strawberry.mutation
    async def declare_experience(self, info: Info, input: DeclareExperienceInput,
                                 idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "declare-experience", input, idempotency_key)

    @strawberry.mutation(description="Position each block: already held, recognised through an equivalence, or to acquire")
    async def position_candidacy(self, info: Info, input: CandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "position", input, idempotency_key)

    @strawberry.mutation(description="Set the individual path: training per block still to acquire")
    async def set_path(self, info: Info, input: SetPathInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "set-path", input, idempotency_key)

    @strawberry.mutation
    async def request_funding(self, info: Info, input: RequestFundingInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "request-funding", input, idempotency_key)

    @strawberry.mutation
    async def decide_funding(self, info: Info, input: DecideFundingInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "decide-funding", input, idempotency_key)

    @strawberry.mutation(description="VAE: file the admissibility request (Livret 1)")
    async def file_admissibility(self, info: Info, input: CandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "file-admissibility", input, idempotency_key)

    @strawberry.mutation(description="VAE: the certifier declares the candidacy admissible or not, with the reason")
    async def decide_admissibility(self, info: Info, input: DecideAdmissibilityInput,
                                   idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "decide-admissibility", input, idempotency_key)

    @strawberry.mutation(description="VAE: submit the validation file (Livret 2) before the jury")
    async def submit_validation_file(self, info: Info, input: CandidacyInput,
                                     idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "submit-validation-file", input, idempotency_key)

    @strawberry.mutation(description="Transfer the candidacy to another accredited evaluation organisation")
    async def transfer_candidacy(self, info: Info, input: TransferCandidacyInput,
                                 idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "transfer", input, idempotency_key)

    @strawberry.mutation
    async def withdraw_candidacy(self, info: Info, input: WithdrawCandidacyInput,
                                 idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, "withdraw", input, idempotency_key)
