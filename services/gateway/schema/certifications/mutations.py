from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.errors import CommandRefused

from services.gateway.schema.certifications.types import Certification, CertificationKind
from services.gateway.schema.errors import result_union, to_graphql


@strawberry.input
class BlockInput:
    code: str
    title: str


@strawberry.input
class CreateCertificationInput:
    code: str
    kind: CertificationKind
    title: str
    branch: str
    blocks: list[BlockInput]


@strawberry.type
class CertificationCreated:
    certification: Certification


CreateCertificationResult = result_union("CreateCertificationResult", CertificationCreated)


@strawberry.type
class CertificationMutations:
    @strawberry.mutation(description="Create a certification with its blocks (catalog)")
    async def create_certification(
        self, info: Info, input: CreateCertificationInput, idempotency_key: str
    ) -> CreateCertificationResult:
        body = {
            "code": input.code,
            "kind": input.kind.value,
            "title": input.title,
            "branch": input.branch,
            "blocks": [{"code": b.code, "title": b.title} for b in input.blocks],
        }
        try:
            answer = await info.context.send("catalog", "create-certification", body, idempotency_key)
        except CommandRefused as refusal:
            return to_graphql(refusal)
        row = await info.context.pool.fetchrow("SELECT * FROM certifications WHERE id = $1::uuid", answer["id"])
        return CertificationCreated(certification=Certification.from_row(row))
