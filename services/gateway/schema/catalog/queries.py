from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from shared import rules

from services.gateway.schema.context import Context
from services.gateway import asof
from services.gateway.schema.catalog.loaders import catalog_loaders
from services.gateway.schema.pagination import Conditions, Connection, Key, Listing, page, sort_input
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


CERTIFICATIONS = Listing("certifications", "certifications", Key("code", "text"), {
    "CODE": Key("code", "text"), "TITLE": Key("title", "text"), "END_DATE": Key("end_date", "date", nullable=True)})
CertificationSort = sort_input(CERTIFICATIONS, "Certification", "The order of the certifications (then by code)")


@strawberry.input
class BranchFilter:
    text: str | None = strawberry.field(default=None, description="Words of its name")


BRANCHES = Listing("branches", "branches", Key("code", "text"), {"CODE": Key("code", "text"),
                                                                 "NAME": Key("name", "text")})
BranchSort = sort_input(BRANCHES, "Branch", "The order of the branches (then by code)")


def branch_conditions(f: BranchFilter) -> Conditions:
    c = Conditions()
    c.add_words("name ILIKE ?", f.text)
    return c


@strawberry.input
class OrganisationFilter:
    kind: str | None = strawberry.field(default=None, description="One of its kinds, e.g. EVALUATION_CENTRE")
    text: str | None = strawberry.field(default=None, description="Words of its name")


ORGANISATIONS = Listing("organisations", "organisations", Key("id", "uuid"), {
    "NAME": Key("name", "text"), "REGISTERED_AT": Key("registered_at", "timestamptz")})
OrganisationSort = sort_input(ORGANISATIONS, "Organisation", "The order of the organisations (then by id)")


def organisation_conditions(f: OrganisationFilter) -> Conditions:
    c = Conditions()
    if f.kind:
        c.add("? = ANY(kinds)", f.kind)
    c.add_words("name ILIKE ?", f.text)
    return c


@strawberry.input
class CertificationFilter:
    branch: str | None = None
    kind: CertificationKind | None = None
    level: str | None = strawberry.UNSET
    registry: Registry | None = None
    status: RegistrationStatus | None = None
    vae_open: bool | None = None
    text: str | None = strawberry.field(default=None, description="Words of the title or of a block title")


def certification_conditions(f: CertificationFilter) -> Conditions:
    c = Conditions()
    if f.branch:
        c.add("owners @> ARRAY[?]::text[]", f.branch)
    if f.kind:
        c.add("kind = ?", f.kind.value)
    if f.level is not strawberry.UNSET:
        c.add("level IS NULL") if f.level is None else c.add("level = ?", f.level)
    if f.registry:
        c.add("registry = ?", f.registry.value)
    # The twins of the fields `expired` and `vaeOpen` (shared/rules.py): a filter agrees with the field.
    expired, _ = rules.expired_sql()
    if f.status == RegistrationStatus.EXPIRED:
        c.add(expired)
    elif f.status == RegistrationStatus.ACTIVE:
        c.add(f"NOT {expired}")
    if f.vae_open is not None:
        vae, values = rules.vae_open_sql()
        c.add(vae if f.vae_open else f"NOT {vae}", *values)
    c.add_words("(title || ' ' || block_titles) ILIKE ?", f.text)
    return c


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="One certification by its code, e.g. RNCP34174; `asOf`: as it stood then "
                                  "(rebuilt from its events by the gateway's projections; null before it existed)")
    async def certification(
        self, info: Info[Context, None], code: str, as_of: datetime | None = None,
    ) -> Certification | None:
        row = await info.context.loaders.certification.load(code)
        if row and as_of is not None:
            return await past_certification(info, row, as_of)
        return Certification.from_row(row) if row else None

    @strawberry.field(description="Certifications, filtered, sorted and paginated (first/after, keyset cursors)")
    async def certifications(
        self,
        info: Info[Context, None],
        filter: CertificationFilter | None = None,
        sort: CertificationSort | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Certification]:
        sort = sort or CertificationSort()
        p = await page(info.context.pool, CERTIFICATIONS, certification_conditions(filter or CertificationFilter()),
                       sort.field.name, sort.direction, first, after)
        return Connection.of(p, Certification.from_row)

    @strawberry.field(description="Branches, filtered, sorted and paginated (first/after, keyset cursors)")
    async def branches(
        self, info: Info[Context, None], filter: BranchFilter | None = None, sort: BranchSort | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[Branch]:
        sort = sort or BranchSort()
        p = await page(info.context.pool, BRANCHES, branch_conditions(filter or BranchFilter()), sort.field.name,
                       sort.direction, first, after)
        return Connection.of(p, Branch.from_row)

    @strawberry.field
    async def branch(self, info: Info[Context, None], code: str) -> Branch | None:
        row = await info.context.loaders.branch.load(code)
        return Branch.from_row(row) if row else None

    @strawberry.field(description="Organisations, filtered, sorted and paginated (first/after, keyset cursors)")
    async def organisations(self, info: Info[Context, None], filter: OrganisationFilter | None = None,
                            sort: OrganisationSort | None = None, first: int = 50,
                            after: str | None = None) -> Connection[Organisation]:
        sort = sort or OrganisationSort()
        p = await page(info.context.pool, ORGANISATIONS, organisation_conditions(filter or OrganisationFilter()),
                       sort.field.name, sort.direction, first, after)
        return Connection.of(p, Organisation.from_row)

    @strawberry.field
    async def organisation(self, info: Info[Context, None], id: strawberry.ID) -> Organisation | None:
        try:
            uuid.UUID(str(id))
        except ValueError:
            return None
        row = await info.context.loaders.organisation.load(str(id))
        return Organisation.from_row(row) if row else None


async def past_certification(info: Info[Context, None], row, as_of: datetime) -> Certification | None:
    """As it stood then (asof.py), its versions then with it."""
    async with asof.replayed(info.context.pool, asof.CERTIFICATION, row["id"], as_of) as replay:
        loaders = catalog_loaders(replay.conn)
        found = await asof.read(loaders["certification"], row["code"])
        versions = await asof.read(loaders["versions"], row["code"])
    if found is None:
        return None
    past = Certification.from_row(found)
    past.past_versions = versions
    return past
