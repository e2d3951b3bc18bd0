from __future__ import annotations

import json
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from shared.contracts import candidacy as contracts
from shared.documents import STEP_PAPERS
from shared.vocabulary import AggregateKind

from services.gateway.schema.context import Context
from services.gateway import audit
from services.gateway.schema.audit.types import HistoryEntry
from services.gateway.schema.catalog.types import Certification, Organisation
from services.gateway.schema.deadlines.types import Deadline, Notification, past, sent
from services.gateway.schema.documents.types import Credential, Document, DocumentRequirement, credentials
from services.gateway.schema.jury.types import Certificate, Evaluation, JuryDecision
from services.gateway.schema.outputs import graphql_output
from services.gateway.schema.vocabulary import (  # noqa: F401
    AdmissibilityStatus, BlockState, CandidacyStatus, CandidateStatus, Funder, FundingStatus, Route,
)


async def history(info: Info[Context, None], kind: AggregateKind, aggregate_id: str, as_of: datetime | None = None) -> list[HistoryEntry]:
    """The aggregate's history (services/gateway/audit.py): its record is in the caller's scope already."""
    return [HistoryEntry.from_entry(e) for e in await audit.entries(info.context.pool, kind, aggregate_id, as_of)]


@strawberry.type
class CandidacyBlock:
    code: str
    title: str | None
    state: BlockState = strawberry.field(description="PENDING, TO_ACQUIRE, HELD or RECOGNISED")


PathBlock = graphql_output(contracts.PathBlock)


@strawberry.type
class Funding:
    id: strawberry.ID
    funder: Funder
    funder_id: str | None
    amount: str
    status: FundingStatus
    granted_amount: str | None
    reason: str | None


@strawberry.type
class Admissibility:
    status: AdmissibilityStatus
    reason: str | None


@strawberry.type
class Candidacy:
    id: strawberry.ID
    candidate_id: strawberry.ID
    certification_code: str
    version: int
    route: Route
    status: CandidacyStatus
    evaluator_id: strawberry.ID
    trainer_id: str | None
    employer_id: str | None
    block_states: strawberry.Private[dict]
    path: list[PathBlock]
    fundings: list[Funding]
    admissibility: Admissibility | None
    eligibility_confirmed_on: date | None
    experience_months: int | None
    opened_at: datetime
    updated_at: datetime
    as_of: strawberry.Private[datetime | None] = None  # a past state: its history up to then
    past: strawberry.Private[dict | None] = None  # rows of the jury's evaluations, decisions, documents at `asOf`

    @strawberry.field
    async def certification(self, info: Info[Context, None]) -> Certification | None:
        row = await info.context.loaders.certification.load(self.certification_code)
        return Certification.from_row(row) if row else None

    @strawberry.field(description="The blocks of the candidacy's version, with their state")
    async def blocks(self, info: Info[Context, None]) -> list[CandidacyBlock]:
        versions = await info.context.loaders.versions.load(self.certification_code)
        titles = {b["code"]: b["title"] for v in versions if v["version"] == self.version
                  for b in json.loads(v["blocks"])}
        return [CandidacyBlock(code=code, title=titles.get(code), state=BlockState(state))
                for code, state in self.block_states.items()]

    @strawberry.field(description="The candidate, if the caller may read them (their names asked once per request)")
    async def candidate(self, info: Info[Context, None]) -> Candidate | None:
        row = await info.context.loaders.candidate.load(str(self.candidate_id))
        return Candidate.from_row(row) if row else None

    @strawberry.field
    async def evaluator(self, info: Info[Context, None]) -> Organisation | None:
        row = await info.context.loaders.organisation.load(str(self.evaluator_id))
        return Organisation.from_row(row) if row else None

    @strawberry.field(description="The evaluations of its blocks, oldest first")
    async def evaluations(self, info: Info[Context, None]) -> list[Evaluation]:
        rows = self.past["evaluations"] if self.past is not None else \
            await info.context.loaders.evaluations.load(str(self.id))
        return [Evaluation.from_row(r) for r in rows]

    @strawberry.field(description="The jury's decisions on it, with their corrections")
    async def decisions(self, info: Info[Context, None]) -> list[JuryDecision]:
        rows = self.past["decisions"] if self.past is not None else \
            await info.context.loaders.decisions_of_candidacy.load(str(self.id))
        return [JuryDecision.from_row(r) for r in rows]

    @strawberry.field(description="The certificates and attestations awarded on it, oldest first")
    async def certificates(self, info: Info[Context, None]) -> list[Certificate]:
        rows = await info.context.loaders.certificates_of_candidacy.load(str(self.id))
        return [Certificate.from_row(r) for r in rows]

    @strawberry.field(description="The papers of its file the caller may read (each kind's read row of the role "
                                  "table), current ones only unless `includeSuperseded`; their bytes at their "
                                  "`downloadUrl`")
    async def documents(self, info: Info[Context, None], include_superseded: bool = False) -> list[Document]:
        rows = self.past["documents"] if self.past is not None else \
            await info.context.loaders.documents_of_candidacy.load(str(self.id))
        return [Document.from_row(r) for r in rows if include_superseded or r["superseded_by"] is None]

    @strawberry.field(description="The verifiable credentials of its certificates the caller may read (like their "
                                  "PDFs): the certification's for a full award, one per block validated by evaluation; "
                                  "each downloadable alone at its `downloadUrl`")
    async def credentials(self, info: Info[Context, None]) -> list[Credential]:
        rows = self.past["documents"] if self.past is not None else \
            await info.context.loaders.documents_of_candidacy.load(str(self.id))
        return credentials(rows)

    @strawberry.field(description="The papers its steps need (a VAE file's Livret 1 to file admissibility, Livret 2 "
                                  "to submit the validation file), and whether the file holds a current one")
    async def document_requirements(self, info: Info[Context, None]) -> list[DocumentRequirement]:
        if self.route != Route.VAE:  # the steps that need papers are a VAE file's (STEP_PAPERS)
            return []
        held = {r["kind"] for r in await info.context.loaders.current_kinds.load(str(self.id))}
        return [DocumentRequirement(step=step, kind=kind, satisfied=kind.value in held)
                for step, kinds in STEP_PAPERS.items() for kind in kinds]

    @strawberry.field(description="Every change of the candidacy, with who made it and when, and the jury's "
                                  "evaluations, presentations, decisions and certificates about it")
    async def history(self, info: Info[Context, None]) -> list[HistoryEntry]:
        return await history(info, AggregateKind.CANDIDACY, str(self.id), self.as_of)

    @strawberry.field(description="Its deadlines (an award's declaration once its session's results are published), "
                                  "by due day; at `asOf`, as they stood then")
    async def deadlines(self, info: Info[Context, None]) -> list[Deadline]:
        return past(await info.context.loaders.deadlines_of_candidacy.load(str(self.id)), self.as_of)

    @strawberry.field(description="The messages sent about it: to whom by role, when, which template; never the "
                                  "content; at `asOf`, those sent by then")
    async def notifications(self, info: Info[Context, None]) -> list[Notification]:
        return sent(await info.context.loaders.notifications_of_candidacy.load(str(self.id)), self.as_of)

    @classmethod
    def from_row(cls, row) -> Candidacy:
        admissibility = json.loads(row["admissibility"]) if row["admissibility"] else None
        return cls(
            id=strawberry.ID(str(row["id"])), candidate_id=strawberry.ID(str(row["candidate_id"])),
            certification_code=row["certification"], version=row["version"], route=Route(row["route"]),
            status=CandidacyStatus(row["status"]), evaluator_id=strawberry.ID(row["evaluator_id"]),
            trainer_id=row["trainer_id"], employer_id=row["employer_id"], block_states=json.loads(row["blocks"]),
            path=[PathBlock(**p) for p in json.loads(row["path"])],
            fundings=[Funding(id=strawberry.ID(k), **{**v, "funder": Funder(v["funder"]), "status": FundingStatus(v["status"])})
                      for k, v in json.loads(row["fundings"]).items()],
            admissibility=Admissibility(status=AdmissibilityStatus(admissibility["status"]), reason=admissibility["reason"])
            if admissibility else None,
            eligibility_confirmed_on=row["eligibility_confirmed_on"], experience_months=row["experience_months"],
            opened_at=row["opened_at"], updated_at=row["updated_at"],
        )


@strawberry.type(description="A candidate: their personal fields come from the candidacy service, which alone "
                             "holds them, and read as [erased] once the person is erased")
class Candidate:
    id: strawberry.ID
    status: CandidateStatus
    employer_id: str | None
    registered_at: datetime
    account_confirmed: bool = strawberry.field(
        description="The login named at registration was confirmed by the person, signed in as it: only then "
                    "does it reach the record (false: waiting for them, or no login named)")

    @strawberry.field
    async def given_name(self, info: Info[Context, None]) -> str:
        return (await info.context.person(self.id)).given_name

    @strawberry.field
    async def family_name(self, info: Info[Context, None]) -> str:
        return (await info.context.person(self.id)).family_name

    @strawberry.field
    async def email(self, info: Info[Context, None]) -> str | None:
        return (await info.context.person(self.id)).email

    @strawberry.field
    async def birth_date(self, info: Info[Context, None]) -> date | None:
        return (await info.context.person(self.id)).birth_date

    @strawberry.field(description="The person was erased on their request: their data can never be read again")
    async def erased(self, info: Info[Context, None]) -> bool:
        return (await info.context.person(self.id)).erased

    @strawberry.field
    async def candidacies(self, info: Info[Context, None]) -> list[Candidacy]:
        """Only those the caller may read: another organisation's candidacies of the same person stay hidden."""
        rows = await info.context.loaders.candidacies_of_candidate.load(str(self.id))
        return [Candidacy.from_row(row) for row in rows]

    @strawberry.field(description="Certificates and attestations delivered to the candidate")
    async def certificates(self, info: Info[Context, None]) -> list[Certificate]:
        rows = await info.context.loaders.certificates_of_candidate.load(str(self.id))
        return [Certificate.from_row(r) for r in rows]

    @strawberry.field(description="The documents of their certificates (PDFs and credentials) across their "
                                  "candidacies, those the caller may read (each kind's read row of the role table)")
    async def documents(self, info: Info[Context, None]) -> list[Document]:
        rows = await info.context.loaders.certificate_documents_of_candidate.load(str(self.id))
        return [Document.from_row(r) for r in rows]

    @strawberry.field(description="The verifiable credentials of their certificates across their candidacies, those "
                                  "the caller may read; each downloadable alone at its `downloadUrl`")
    async def credentials(self, info: Info[Context, None]) -> list[Credential]:
        return credentials(await info.context.loaders.certificate_documents_of_candidate.load(str(self.id)))

    @strawberry.field
    async def history(self, info: Info[Context, None]) -> list[HistoryEntry]:
        return await history(info, AggregateKind.CANDIDATE, str(self.id))

    @classmethod
    def from_row(cls, row) -> Candidate:
        return cls(id=strawberry.ID(str(row["id"])), status=CandidateStatus(row["status"]), employer_id=row["employer_id"],
                   registered_at=row["registered_at"], account_confirmed=row["account"] is not None)
