"""Candidacy command inputs and endpoints."""

from __future__ import annotations

import anyio
from pydantic import BaseModel, ConfigDict, Field

from shared.http import Command

from services.candidacy import catalog_view
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import UnknownCertification


class RegisterCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    certification_code: str = Field(min_length=1, max_length=64)


def commands(app: CandidacyApplication, pool) -> dict[str, Command]:
    async def register_candidate(body: RegisterCandidate, context):
        if not await catalog_view.certification_exists(pool, body.certification_code):
            raise UnknownCertification("no such certification in the catalog", code=body.certification_code)
        return await anyio.to_thread.run_sync(app.register_candidate, body.model_dump(), context)

    return {"register-candidate": Command(RegisterCandidate, register_candidate)}
