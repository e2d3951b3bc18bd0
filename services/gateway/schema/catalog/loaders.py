"""Batched reads of the catalog read models, one set of DataLoaders per request."""

from __future__ import annotations

from collections import defaultdict

import asyncpg
from strawberry.dataloader import DataLoader


def catalog_loaders(pool: asyncpg.Pool) -> dict[str, DataLoader]:
    async def certifications(codes: list[str]):
        rows = await pool.fetch("SELECT * FROM certifications WHERE code = ANY($1)", codes)
        by_code = {row["code"]: row for row in rows}
        return [by_code.get(code) for code in codes]

    async def branches(codes: list[str]):
        rows = await pool.fetch("SELECT * FROM branches WHERE code = ANY($1)", codes)
        by_code = {row["code"]: row for row in rows}
        return [by_code.get(code) for code in codes]

    async def organisations(ids: list[str]):
        rows = await pool.fetch("SELECT * FROM organisations WHERE id = ANY($1::uuid[])", ids)
        by_id = {str(row["id"]): row for row in rows}
        return [by_id.get(i) for i in ids]

    async def versions(codes: list[str]):
        rows = await pool.fetch("SELECT * FROM certification_versions WHERE code = ANY($1) ORDER BY version", codes)
        grouped = defaultdict(list)
        for row in rows:
            grouped[row["code"]].append(row)
        return [grouped[code] for code in codes]

    async def accreditations(codes: list[str]):
        rows = await pool.fetch(
            "SELECT * FROM accreditations WHERE certifications && $1 ORDER BY valid_from, id", codes)
        grouped = defaultdict(list)
        for row in rows:
            for code in row["certifications"]:
                grouped[code].append(row)
        return [grouped[code] for code in codes]

    return {
        "certification": DataLoader(certifications),
        "branch": DataLoader(branches),
        "organisation": DataLoader(organisations),
        "versions": DataLoader(versions),
        "accreditations": DataLoader(accreditations),
    }
