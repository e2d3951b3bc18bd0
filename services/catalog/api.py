"""Catalog command inputs and endpoints."""

from __future__ import annotations

import anyio
from pydantic import BaseModel, ConfigDict, Field

from shared.http import Command

from services.catalog.application import CatalogApplication


class BlockInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=500)


class CreateCertification(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=2, max_length=64)
    kind: str
    title: str = Field(min_length=1, max_length=500)
    branch: str = Field(min_length=1, max_length=200)
    blocks: list[BlockInput] = Field(default_factory=list, max_length=100)


def commands(app: CatalogApplication, _pool) -> dict[str, Command]:
    async def create_certification(body: CreateCertification, context):
        return await anyio.to_thread.run_sync(app.create_certification, body.model_dump(), context)

    return {"create-certification": Command(CreateCertification, create_certification)}
