from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from services.gateway import asof
from services.gateway.schema.pagination import Conditions, PageInfo, edges_and_page_info, page
from services.gateway.schema.catalog.types import (
    Branch,
    Certification,
    CertificationKind,
    Organisation,
    Registry,
)


@strawberry.enum
class RegistrationStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


@strawberry.enum
class CertificationSort(enum.Enum):
    CODE = "code"
    TITLE = "title"
    END_DATE = "end_date"


@strawberry.input
class CertificationFilter:
    branch: str | None = None
    kind: CertificationKind | None = None
    level: str | None = strawberry.UNSET
    registry: Registry | None = None
    status: RegistrationStatus | None = None
    vae_open: bool | None = None
    text: str | None = strawberry.field(default=None, description="Words of the title or of a block title")


@strawberry.type
class CertificationEdge:
    cursor: str
    node: Certification


@strawberry.type
class CertificationConnection:
    total_count: int
    edges: list[CertificationEdge]
    page_info: PageInfo


def _conditions(f: CertificationFilter) -> Conditions:
    c = Conditions()
    if f.branch:
        c.add("owners @> ARRAY[?]::text[]", f.branch)
    if f.kind:
        c.add("kind = ?", f.kind.value)
    if f.level is not strawberry.UNSET:
        c.add("level IS NULL") if f.level is None else c.add("level = ?", f.level)
    if f.registry:
        c.add("registry = ?", f.registry.value)
    expired = "(end_date IS NOT NULL AND end_date < current_date)"
    if f.status == RegistrationStatus.EXPIRED:
        c.add(expired)
    elif f.status == RegistrationStatus.ACTIVE:
        c.add(f"NOT {expired}")
    if f.vae_open is not None:
        vae = f"(registry = 'RNCP' AND 'VAE' = ANY(routes) AND NOT {expired})"
        c.add(vae if f.vae_open else f"NOT {vae}")
    c.add_words("(title || ' ' || block_titles) ILIKE ?", f.text)
    return c


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="One certification by its code, e.g. RNCP34174; `asOf`: as it stood then "
                                  "(rebuilt from its events by the catalog service; null before it existed)")
    async def certification(self, info: Info, code: str, as_of: datetime | None = None) -> Certification | None:
        row = await info.context.loaders["certification"].load(code)
        if row and as_of is not None:
            state = await info.context.pasts.state("catalog", "certification-as-of", str(row["id"]), as_of, None)
            return past_certification(state) if state else None
        return Certification.from_row(row) if row else None

    @strawberry.field(description="Certifications, filtered, sorted and paginated (first/after)")
    async def certifications(
        self,
        info: Info,
        filter: CertificationFilter | None = None,
        sort: CertificationSort = CertificationSort.CODE,
        descending: bool = False,
        first: int = 50,
        after: str | None = None,
    ) -> CertificationConnection:
        order = f"{sort.value} {'DESC' if descending else 'ASC'} NULLS LAST, code"
        total, rows, offset = await page(info.context.pool, "certifications",
                                         _conditions(filter or CertificationFilter()), order, first, after)
        edges, page_info = edges_and_page_info(total, rows, offset, CertificationEdge, Certification.from_row)
        return CertificationConnection(total_count=total, edges=edges, page_info=page_info)

    @strawberry.field
    async def branches(self, info: Info) -> list[Branch]:
        return [Branch.from_row(r) for r in await info.context.pool.fetch("SELECT * FROM branches ORDER BY code")]

    @strawberry.field
    async def branch(self, info: Info, code: str) -> Branch | None:
        row = await info.context.loaders["branch"].load(code)
        return Branch.from_row(row) if row else None

    @strawberry.field
    async def organisations(self, info: Info, kind: str | None = None) -> list[Organisation]:
        rows = await info.context.pool.fetch(
            "SELECT * FROM organisations WHERE $1::text IS NULL OR $1 = ANY(kinds) ORDER BY name, id", kind)
        return [Organisation.from_row(r) for r in rows]

    @strawberry.field
    async def organisation(self, info: Info, id: strawberry.ID) -> Organisation | None:
        try:
            uuid.UUID(str(id))
        except ValueError:
            return None
        row = await info.context.loaders["organisation"].load(str(id))
        return Organisation.from_row(row) if row else None


def past_certification(state: dict) -> Certification:
    past = Certification.from_row(asof.certification_row(state))
    past.past_versions = asof.version_rows(state)
    return past
