from __future__ import annotations

import strawberry
from strawberry.types import Info

from services.gateway.schema.candidates.types import Candidate
from services.gateway.schema.errors import result_union
from services.gateway.schema.forward import command_body, forward


@strawberry.input
class RegisterCandidateInput:
    given_name: str
    family_name: str
    email: str
    certification_code: str


@strawberry.type
class CandidateRegistered:
    candidate: Candidate


RegisterCandidateResult = result_union("RegisterCandidateResult", CandidateRegistered)


@strawberry.type
class CandidateMutations:
    @strawberry.mutation(description="Register a candidate for a certification of the catalog (candidacy)")
    async def register_candidate(
        self, info: Info, input: RegisterCandidateInput, idempotency_key: str
    ) -> RegisterCandidateResult:
        async def answer(result):
            row = await info.context.pool.fetchrow("SELECT * FROM candidates WHERE id = $1::uuid", result["id"])
            return CandidateRegistered(candidate=Candidate.from_row(row))

        return await forward(info, "candidacy", "register-candidate", command_body(input), idempotency_key, answer)
