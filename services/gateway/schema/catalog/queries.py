from __future__ import annotations

import base64
import enum
import uuid

import strawberry
from strawberry.types import Info

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
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CertificationConnection:
    total_count: int
    edges: list[CertificationEdge]
    page_info: PageInfo


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("offset:")) + 1
    except ValueError:
        raise ValueError("this cursor was not given by this API") from None


def _where(f: CertificationFilter) -> tuple[str, list]:
    clauses, args = [], []

    def add(clause: str, value) -> None:
        args.append(value)
        clauses.append(clause.replace("?", f"${len(args)}"))

    if f.branch:
        add("owners @> ARRAY[?]::text[]", f.branch)
    if f.kind:
        add("kind = ?", f.kind.value)
    if f.level is not strawberry.UNSET:
        if f.level is None:
            clauses.append("level IS NULL")
        else:
            add("level = ?", f.level)
    if f.registry:
        add("registry = ?", f.registry.value)
    expired = "(end_date IS NOT NULL AND end_date < current_date)"
    if f.status == RegistrationStatus.EXPIRED:
        clauses.append(expired)
    elif f.status == RegistrationStatus.ACTIVE:
        clauses.append(f"NOT {expired}")
    if f.vae_open is not None:
        vae = f"(registry = 'RNCP' AND 'VAE' = ANY(routes) AND NOT {expired})"
        clauses.append(vae if f.vae_open else f"NOT {vae}")
    if f.text:
        for word in f.text.split():
            add("(title || ' ' || block_titles) ILIKE ?", f"%{word}%")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="One certification by its code, e.g. RNCP34174")
    async def certification(self, info: Info, code: str) -> Certification | None:
        row = await info.context.loaders["certification"].load(code)
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
        first = max(0, min(first, 200))
        where, args = _where(filter or CertificationFilter())
        order = f"{sort.value} {'DESC' if descending else 'ASC'} NULLS LAST, code"
        offset = _offset(after)
        pool = info.context.pool
        total = await pool.fetchval(f"SELECT count(*) FROM certifications{where}", *args)
        rows = await pool.fetch(
            f"SELECT * FROM certifications{where} ORDER BY {order} LIMIT {first} OFFSET {offset}", *args)
        edges = [CertificationEdge(cursor=_cursor(offset + i), node=Certification.from_row(row))
                 for i, row in enumerate(rows)]
        return CertificationConnection(
            total_count=total, edges=edges,
            page_info=PageInfo(has_next_page=offset + len(rows) < total,
                               end_cursor=edges[-1].cursor if edges else None),
        )

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
