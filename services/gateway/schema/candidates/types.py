from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from services.gateway.schema.catalog.types import Certification


@strawberry.type
class Candidate:
    id: strawberry.ID
    given_name: str
    family_name: str
    email: str
    certification_code: str
    registered_at: datetime

    @strawberry.field
    async def certification(self, info: Info) -> Certification | None:
        row = await info.context.loaders["certification"].load(self.certification_code)
        return Certification.from_row(row) if row else None

    @classmethod
    def from_row(cls, row) -> Candidate:
        return cls(
            id=strawberry.ID(str(row["id"])),
            given_name=row["given_name"],
            family_name=row["family_name"],
            email=row["email"],
            certification_code=row["certification_code"],
            registered_at=row["registered_at"],
        )
