from __future__ import annotations

import strawberry
from strawberry.types import Info

from services.gateway.schema.certifications.types import Certification


@strawberry.type
class CertificationQueries:
    @strawberry.field(description="One certification by its code, e.g. RNCP34174")
    async def certification(self, info: Info, code: str) -> Certification | None:
        row = await info.context.pool.fetchrow("SELECT * FROM certifications WHERE code = $1", code)
        return Certification.from_row(row) if row else None

    @strawberry.field
    async def certifications(self, info: Info) -> list[Certification]:
        rows = await info.context.pool.fetch("SELECT * FROM certifications ORDER BY code")
        return [Certification.from_row(row) for row in rows]
