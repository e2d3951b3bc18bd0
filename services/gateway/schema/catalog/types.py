from __future__ import annotations

import enum
import json
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from shared import rules
from shared.contracts import catalog as contracts

from services.gateway.schema.context import Context
from services.gateway.schema.outputs import graphql_output
from services.gateway.schema.vocabulary import (  # noqa: F401
    AccessRoute, AccreditationScope, CertificationKind, EquivalenceSource, Level, OrganisationKind, Registry,
)


@strawberry.type
class Branch:
    code: str
    name: str
    idcc: list[str]
    cpne: str
    contact: str | None = strawberry.field(description="Its certification office's address (a functional mailbox): "
                                                       "where its reminders go")
    deadlines: BranchDeadlines = strawberry.field(description="Its delays (the defaults until it sets its own): the "
                                                              "deadlines opened from then on use them")

    @classmethod
    def from_row(cls, row) -> Branch:
        deadlines = contracts.BranchDeadlines.model_validate_json(row["deadlines"]) if row["deadlines"] \
            else contracts.BranchDeadlines()
        return cls(code=row["code"], name=row["name"], idcc=list(row["idcc"]), cpne=row["cpne"], contact=row["contact"],
                   deadlines=BranchDeadlines(**deadlines.model_dump()))


@strawberry.type
class Organisation:
    id: strawberry.ID
    name: str
    siret: str | None
    kinds: list[OrganisationKind]

    @classmethod
    def from_row(cls, row) -> Organisation:
        return cls(id=strawberry.ID(str(row["id"])), name=row["name"], siret=row["siret"],
                   kinds=[OrganisationKind(k) for k in row["kinds"]])


@strawberry.type
class Accreditation:
    id: strawberry.ID
    organisation_id: strawberry.Private[str]
    branch: str
    certifications: list[str]
    scope: AccreditationScope
    valid_from: date
    valid_until: date | None
    withdrawn_on: date | None
    withdrawal_reason: str | None

    @strawberry.field
    async def organisation(self, info: Info[Context, None]) -> Organisation | None:
        row = await info.context.loaders.organisation.load(self.organisation_id)
        return Organisation.from_row(row) if row else None

    @strawberry.field(description="In force on the given day (today by default)")
    def in_force(self, on: date | None = None) -> bool:
        return rules.accreditation_in_force(self.valid_from, self.valid_until, self.withdrawn_on, on or date.today())

    @classmethod
    def from_row(cls, row) -> Accreditation:
        return cls(id=strawberry.ID(str(row["id"])), organisation_id=str(row["organisation_id"]), branch=row["branch"],
                   certifications=list(row["certifications"]), scope=AccreditationScope(row["scope"]),
                   valid_from=row["valid_from"], valid_until=row["valid_until"], withdrawn_on=row["withdrawn_on"],
                   withdrawal_reason=row["withdrawal_reason"])


# Value objects shown as their contract declares them (outputs.py).
Block = graphql_output(contracts.Block)
BranchDeadlines = graphql_output(contracts.BranchDeadlines)
VersionSettings = graphql_output(contracts.VersionSettings,
                                 descriptions={"block_validity_months": "None: blocks stay acquired for life"})


@strawberry.type
class ReferentialVersion:
    number: int
    effective_from: date
    published_at: datetime
    blocks: list[Block]
    settings: VersionSettings

    @classmethod
    def from_row(cls, row) -> ReferentialVersion:
        return cls(number=row["version"], effective_from=row["effective_from"], published_at=row["published_at"],
                   blocks=[Block.from_row(b) for b in json.loads(row["blocks"])],
                   settings=VersionSettings.from_row(row["settings"]))


Registration = graphql_output(contracts.Registration)
Certifier = graphql_output(contracts.Certifier)
BlockEquivalence = graphql_output(
    contracts.Equivalence, name="BlockEquivalence",
    description="These blocks, together, count for those of the target (none listed: the whole)")


@strawberry.type
class Certification:
    id: strawberry.ID
    code: str
    kind: CertificationKind
    title: str
    owner_codes: strawberry.Private[list[str]]
    registration: Registration | None
    certifiers: list[Certifier]
    equivalences: list[BlockEquivalence]
    predecessor_codes: list[str] = strawberry.field(description="As the registry lists them, in the catalog or not")
    successor_codes: list[str]
    created_at: datetime
    updated_at: datetime
    past_versions: strawberry.Private[list | None] = None  # rows of its versions at `asOf` (asof.py)

    @strawberry.field(description="The branches that own it (several for a CQPI, each recognising it)")
    async def owners(self, info: Info[Context, None]) -> list[Branch]:
        rows = await info.context.loaders.branch.load_many(self.owner_codes)
        return [Branch.from_row(row) for row in rows if row]

    @strawberry.field
    async def versions(self, info: Info[Context, None]) -> list[ReferentialVersion]:
        if self.past_versions is not None:
            return [ReferentialVersion.from_row(r) for r in self.past_versions]
        return [ReferentialVersion.from_row(r) for r in await info.context.loaders.versions.load(self.code)]

    @strawberry.field(description="The version in force for new candidacies")
    async def current_version(self, info: Info[Context, None]) -> ReferentialVersion | None:
        versions = await self.versions(info)
        return versions[-1] if versions else None

    @strawberry.field(description="Blocks of the current version")
    async def blocks(self, info: Info[Context, None]) -> list[Block]:
        current = await self.current_version(info)
        return current.blocks if current else []

    @strawberry.field(description="Its registration has ended (on the given day, today by default)")
    def expired(self, on: date | None = None) -> bool:
        return rules.expired(self.registration.end_date if self.registration else None, on or date.today())

    @strawberry.field(description="VAE possible: RNCP registration in force with the VAE route open")
    def vae_open(self, on: date | None = None) -> bool:
        r = self.registration
        return bool(r) and rules.vae_open(r.registry, r.routes, r.end_date, on or date.today())

    @strawberry.field
    async def accreditations(self, info: Info[Context, None]) -> list[Accreditation]:
        return [Accreditation.from_row(r) for r in await info.context.loaders.accreditations.load(self.code)]

    @strawberry.field(description="Organisations accredited for it and in force today")
    async def accredited_organisations(
        self, info: Info[Context, None], scope: AccreditationScope | None = None,
    ) -> list[Organisation]:
        accreditations = [a for a in await self.accreditations(info)
                          if a.in_force() and (scope is None or a.scope == scope)]
        rows = await info.context.loaders.organisation.load_many(
            list(dict.fromkeys(a.organisation_id for a in accreditations)))
        return [Organisation.from_row(r) for r in rows if r]

    @strawberry.field(description="The certifications it replaced that are in the catalog")
    async def predecessors(self, info: Info[Context, None]) -> list[Certification]:
        return await _certifications(info, self.predecessor_codes)

    @strawberry.field(description="The certifications that replace it that are in the catalog")
    async def successors(self, info: Info[Context, None]) -> list[Certification]:
        return await _certifications(info, self.successor_codes)

    @classmethod
    def from_row(cls, row) -> Certification:
        return cls(
            id=strawberry.ID(str(row["id"])),
            code=row["code"],
            kind=CertificationKind(row["kind"]),
            title=row["title"],
            owner_codes=list(row["owners"]),
            registration=Registration.from_row(row["registration"]) if row["registration"] else None,
            certifiers=[Certifier.from_row(c) for c in json.loads(row["certifiers"])],
            equivalences=[BlockEquivalence.from_row(e) for e in json.loads(row["equivalences"])],
            predecessor_codes=list(row["predecessors"]),
            successor_codes=list(row["successors"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


async def _certifications(info: Info[Context, None], codes: list[str]) -> list[Certification]:
    rows = await info.context.loaders.certification.load_many(codes)
    return [Certification.from_row(row) for row in rows if row]
