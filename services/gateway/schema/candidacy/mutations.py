from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.commands import Command
from shared.commands.candidacy import (
    CheckEligibility, ConfirmAccount, CorrectCandidate, EntrustCandidate, DecideAdmissibility, DecideFunding, DeclareExperience, EraseCandidate,
    FileAdmissibility, OpenCandidacy,
    Position, RegisterCandidate, RequestFunding, SetPath, SubmitValidationFile, Transfer, Withdraw,
)

from services.gateway.schema.candidacy.types import Candidacy, Candidate
from services.gateway.schema.errors import result_union
from services.gateway.schema.forward import forward
from services.gateway.schema.inputs import graphql_input

RegisterCandidateInput = graphql_input(RegisterCandidate)
CorrectCandidateInput = graphql_input(CorrectCandidate)
EraseCandidateInput = graphql_input(EraseCandidate)
ConfirmAccountInput = graphql_input(ConfirmAccount)
EntrustCandidateInput = graphql_input(EntrustCandidate)
OpenCandidacyInput = graphql_input(OpenCandidacy)
CandidacyInput = graphql_input(CheckEligibility)  # shared by the steps that carry only the candidacy
DeclareExperienceInput = graphql_input(DeclareExperience)
SetPathInput = graphql_input(SetPath)
RequestFundingInput = graphql_input(RequestFunding)
DecideFundingInput = graphql_input(DecideFunding)
DecideAdmissibilityInput = graphql_input(DecideAdmissibility)
TransferCandidacyInput = graphql_input(Transfer)
WithdrawCandidacyInput = graphql_input(Withdraw)


@strawberry.type
class CandidateRegistered:
    candidate: Candidate


@strawberry.type
class CandidacyChanged:
    candidacy: Candidacy


RegisterCandidateResult = result_union("RegisterCandidateResult", CandidateRegistered)


@strawberry.type
class CandidateChanged:
    candidate: Candidate


CandidateResult = result_union("CandidateResult", CandidateChanged)


async def _candidate(info: Info, answer: dict) -> CandidateChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM candidates WHERE id = $1::uuid", answer["id"])
    return CandidateChanged(candidate=Candidate.from_row(row))
CandidacyResult = result_union("CandidacyResult", CandidacyChanged)


async def _candidacy(info: Info, answer: dict) -> CandidacyChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM candidacies WHERE id = $1::uuid", answer["id"])
    return CandidacyChanged(candidacy=Candidacy.from_row(row))


async def _on_candidacy(info: Info, command: type[Command], input, idempotency_key: str) -> CandidacyResult:
    return await forward(info, command, input, idempotency_key, lambda answer: _candidacy(info, answer))


@strawberry.type
class CandidacyMutations:
    @strawberry.mutation(description="Register a candidate (candidacy service; personal data stays there, encrypted)")
    async def register_candidate(
        self, info: Info, input: RegisterCandidateInput, idempotency_key: str
    ) -> RegisterCandidateResult:
        async def answer(result):
            row = await info.context.pool.fetchrow("SELECT * FROM candidates WHERE id = $1::uuid", result["id"])
            return CandidateRegistered(candidate=Candidate.from_row(row))

        return await forward(info, RegisterCandidate, input, idempotency_key, answer)

    @strawberry.mutation(description="Rectify a candidate's personal data (only the fields given change)")
    async def correct_candidate(self, info: Info, input: CorrectCandidateInput, idempotency_key: str) -> CandidateResult:
        return await forward(info, CorrectCandidate, input, idempotency_key, lambda answer: _candidate(info, answer))

    @strawberry.mutation(description="The person, signed in as the login their registering organisation named, "
                                     "confirms the record is theirs: only then does the login reach it")
    async def confirm_account(self, info: Info, input: ConfirmAccountInput, idempotency_key: str) -> CandidateResult:
        return await forward(info, ConfirmAccount, input, idempotency_key, lambda answer: _candidate(info, answer))

    @strawberry.mutation(description="The person links their record to an accredited organisation of their choice, "
                                     "which then has the right over them of the organisation that registered them")
    async def entrust_candidate(self, info: Info, input: EntrustCandidateInput,
                                idempotency_key: str) -> CandidateResult:
        return await forward(info, EntrustCandidate, input, idempotency_key, lambda answer: _candidate(info, answer))

    @strawberry.mutation(description="Erase a candidate on their request: their key is destroyed, their data never "
                                     "readable again anywhere; refused for the holder of a certificate in force")
    async def erase_candidate(self, info: Info, input: EraseCandidateInput, idempotency_key: str) -> CandidateResult:
        return await forward(info, EraseCandidate, input, idempotency_key, lambda answer: _candidate(info, answer))

    @strawberry.mutation(description="Open a candidacy, if eligible on the catalog's facts of today")
    async def open_candidacy(self, info: Info, input: OpenCandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, OpenCandidacy, input, idempotency_key)

    @strawberry.mutation(description="Check again, on today's facts, that the candidacy is eligible")
    async def check_eligibility(self, info: Info, input: CandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, CheckEligibility, input, idempotency_key)

    @strawberry.mutation
    async def declare_experience(self, info: Info, input: DeclareExperienceInput,
                                 idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, DeclareExperience, input, idempotency_key)

    @strawberry.mutation(description="Position each block: already held, recognised through an equivalence, or to acquire")
    async def position_candidacy(self, info: Info, input: CandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, Position, input, idempotency_key)

    @strawberry.mutation(description="Set the individual path: training per block still to acquire")
    async def set_path(self, info: Info, input: SetPathInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, SetPath, input, idempotency_key)

    @strawberry.mutation
    async def request_funding(self, info: Info, input: RequestFundingInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, RequestFunding, input, idempotency_key)

    @strawberry.mutation
    async def decide_funding(self, info: Info, input: DecideFundingInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, DecideFunding, input, idempotency_key)

    @strawberry.mutation(description="VAE: file the admissibility request (Livret 1)")
    async def file_admissibility(self, info: Info, input: CandidacyInput, idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, FileAdmissibility, input, idempotency_key)

    @strawberry.mutation(description="VAE: the certifier declares the candidacy admissible or not, with the reason")
    async def decide_admissibility(self, info: Info, input: DecideAdmissibilityInput,
                                   idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, DecideAdmissibility, input, idempotency_key)

    @strawberry.mutation(description="VAE: submit the validation file (Livret 2) before the jury")
    async def submit_validation_file(self, info: Info, input: CandidacyInput,
                                     idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, SubmitValidationFile, input, idempotency_key)

    @strawberry.mutation(description="Transfer the candidacy to another accredited evaluation organisation")
    async def transfer_candidacy(self, info: Info, input: TransferCandidacyInput,
                                 idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, Transfer, input, idempotency_key)

    @strawberry.mutation
    async def withdraw_candidacy(self, info: Info, input: WithdrawCandidacyInput,
                                 idempotency_key: str) -> CandidacyResult:
        return await _on_candidacy(info, Withdraw, input, idempotency_key)
