from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from services.gateway.schema.candidates.types import Candidate
from services.gateway.schema.permissions import Authenticated


@strawberry.type
class CandidateQueries:
    @strawberry.field(permission_classes=[Authenticated], description="A candidate (needs a bearer token)")
    async def candidate(self, info: Info, id: strawberry.ID) -> Candidate | None:
        try:
            candidate_id = uuid.UUID(str(id))
        except ValueError:
            return None
        row = await info.context.pool.fetchrow("SELECT * FROM candidates WHERE id = $1", candidate_id)
        return Candidate.from_row(row) if row else None
