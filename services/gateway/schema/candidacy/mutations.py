from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.commands.candidacy import (
    CheckEligibility, ConfirmAccount, CorrectCandidate, DecideAdmissibility, DecideFunding, DeclareExperience,
    EntrustCandidate, EraseCandidate, FileAdmissibility, OpenCandidacy, Position, RegisterCandidate, RequestFunding,
    SetPath, SubmitValidationFile, Transfer, Withdraw,
)

from services.gateway.schema.candidacy.types import Candidacy, Candidate
from services.gateway.schema.context import Context
from services.gateway.schema.errors import result_union
from services.gateway.schema.mutations import CommandMutation


@strawberry.type
class CandidateRegistered:
    candidate: Candidate


@strawberry.type
class CandidateChanged:
    candidate: Candidate


@strawberry.type
class CandidacyChanged:
    candidacy: Candidacy


RegisterCandidateResult = result_union("RegisterCandidateResult", CandidateRegistered)
CandidateResult = result_union("CandidateResult", CandidateChanged)
CandidacyResult = result_union("CandidacyResult", CandidacyChanged)


async def candidate_row(info: Info[Context, None], answer: dict):
    return await info.context.pool.fetchrow("SELECT * FROM candidates WHERE id = $1::uuid", answer["id"])


async def registered(info: Info[Context, None], answer: dict) -> CandidateRegistered:
    return CandidateRegistered(candidate=Candidate.from_row(await candidate_row(info, answer)))


async def candidate(info: Info[Context, None], answer: dict) -> CandidateChanged:
    return CandidateChanged(candidate=Candidate.from_row(await candidate_row(info, answer)))


async def candidacy(info: Info[Context, None], answer: dict) -> CandidacyChanged:
    row = await info.context.pool.fetchrow("SELECT * FROM candidacies WHERE id = $1::uuid", answer["id"])
    return CandidacyChanged(candidacy=Candidacy.from_row(row))


def on_candidate(name: str, description: str) -> CommandMutation:
    return CommandMutation(name, CandidateResult, candidate, description)


def on_candidacy(name: str, description: str | None = None) -> CommandMutation:
    return CommandMutation(name, CandidacyResult, candidacy, description)


# This feature's rows of the mutation table (schema/__init__.py).
MUTATIONS = {
    RegisterCandidate: CommandMutation(
        "register_candidate", RegisterCandidateResult, registered,
        "Register a candidate (candidacy service; personal data stays there, encrypted)"),
    CorrectCandidate: on_candidate("correct_candidate",
                                   "Rectify a candidate's personal data (only the fields given change)"),
    ConfirmAccount: on_candidate("confirm_account", "The person, signed in as the login their registering "
                                 "organisation named, confirms the record is theirs: only then does the login reach it"),
    EntrustCandidate: on_candidate("entrust_candidate", "The person links their record to an accredited organisation "
                                   "of their choice, which then has the right over them of the organisation that "
                                   "registered them"),
    EraseCandidate: on_candidate("erase_candidate", "Erase a candidate on their request: their key is destroyed, "
                                 "their data never readable again anywhere; refused for the holder of a certificate "
                                 "in force"),
    OpenCandidacy: on_candidacy("open_candidacy", "Open a candidacy, if eligible on the catalog's facts of today"),
    CheckEligibility: on_candidacy("check_eligibility", "Check again, on today's facts, that the candidacy is eligible"),
    DeclareExperience: on_candidacy("declare_experience"),
    Position: on_candidacy("position_candidacy",
                           "Position each block: already held, recognised through an equivalence, or to acquire"),
    SetPath: on_candidacy("set_path", "Set the individual path: training per block still to acquire"),
    RequestFunding: on_candidacy("request_funding"),
    DecideFunding: on_candidacy("decide_funding"),
    FileAdmissibility: on_candidacy("file_admissibility", "VAE: file the admissibility request (Livret 1)"),
    DecideAdmissibility: on_candidacy(
        "decide_admissibility", "VAE: the certifier declares the candidacy admissible or not, with the reason"),
    SubmitValidationFile: on_candidacy("submit_validation_file",
                                       "VAE: submit the validation file (Livret 2) before the jury"),
    Transfer: on_candidacy("transfer_candidacy", "Transfer the candidacy to another accredited evaluation organisation"),
    Withdraw: on_candidacy("withdraw_candidacy"),
}
