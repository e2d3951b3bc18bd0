from __future__ import annotations

import enum
import json
from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from shared.contracts import jury as contracts

from services.gateway.schema.context import Context
from services.gateway.reports.roster import RosterLine
from services.gateway.schema.catalog.types import Certification
from services.gateway.schema.deadlines.types import Deadline, Notification, past as deadlines_then, sent
from services.gateway.schema.documents.types import Document
from services.gateway.schema.outputs import graphql_output
from services.gateway.schema.vocabulary import (  # noqa: F401
    CertificateKind, College, DeclarationState, Decision, DocumentKind, JurySessionStatus, MemberRole, Modality, Route,
)


CompetenceResult = graphql_output(contracts.CompetenceResult)


@strawberry.type
class Evaluation:
    block: str
    validated: bool
    competences: list[CompetenceResult]
    modality: Modality
    organisation_id: str
    evaluated_on: date
    valid_until: date | None = strawberry.field(description="None: acquired for life")
    candidacy_id: strawberry.Private[str] = ""
    event_id: strawberry.Private[str] = ""
    evidence_document_ids: strawberry.Private[tuple[str, ...]] = ()

    @strawberry.field(description="The evidence documents it names (an observed situation names one at least), those "
                                  "the caller may read")
    async def evidence_documents(self, info: Info[Context, None]) -> list[Document]:
        if not self.evidence_document_ids:
            return []
        rows = await info.context.loaders.documents_of_candidacy.load(self.candidacy_id)
        return [Document.from_row(r) for r in rows if r["id"] in self.evidence_document_ids]

    @strawberry.field(description="From the jury service, which alone keeps it (sealed per candidate)")
    async def evaluator(self, info: Info[Context, None]) -> str:
        return (await info.context.evaluation_text(self.candidacy_id, self.event_id))["evaluator"]

    @strawberry.field(description="From the jury service, which alone keeps it (sealed per candidate)")
    async def evidence(self, info: Info[Context, None]) -> str:
        return (await info.context.evaluation_text(self.candidacy_id, self.event_id))["evidence"]

    @classmethod
    def from_row(cls, r) -> Evaluation:
        return cls(block=r["block"], validated=r["validated"],
                   competences=[CompetenceResult(**c) for c in json.loads(r["competences"])],
                   modality=Modality(r["modality"]), organisation_id=r["organisation_id"],
                   evaluated_on=r["evaluated_on"], valid_until=r["valid_until"],
                   candidacy_id=str(r["candidacy_id"]), event_id=str(r["event_id"]),
                   evidence_document_ids=tuple(r.get("evidence_documents") or ()))


@strawberry.type
class Correction:
    previous: Decision
    decision: Decision
    reason: str
    by: JSON
    at: str


@strawberry.type
class JuryDecision:
    session_id: strawberry.ID
    candidacy_id: strawberry.ID
    decision: Decision
    blocks_acquired: list[str]
    members_present: list[str]
    votes: JSON
    decided_on: date
    corrections: list[Correction]

    @classmethod
    def from_row(cls, r) -> JuryDecision:
        return cls(session_id=strawberry.ID(str(r["session_id"])), candidacy_id=strawberry.ID(str(r["candidacy_id"])),
                   decision=Decision(r["decision"]), blocks_acquired=list(r["blocks_acquired"]),
                   members_present=list(r["members_present"]), votes=json.loads(r["votes"]),
                   decided_on=r["decided_on"],
                   corrections=[Correction(**{**c, "previous": Decision(c["previous"]),
                                              "decision": Decision(c["decision"])})
                                for c in json.loads(r["corrections"])])


@strawberry.type
class JuryMember:
    id: strawberry.ID
    session_id: strawberry.Private[str]
    college: College
    role: MemberRole

    @strawberry.field(description="From the jury service, which alone keeps members' names (sealed per person)")
    async def name(self, info: Info[Context, None]) -> str:
        return await info.context.member_name(self.session_id, self.id)


@strawberry.type(description="A paper the jury reads for a candidacy presented (its bytes: the candidacy's documents)")
class PresentedPaper:
    document_id: strawberry.ID
    kind: DocumentKind


@strawberry.type
class Presentation:
    candidacy_id: strawberry.ID
    blocks: list[str]
    papers: list[PresentedPaper] = strawberry.field(description="What the jury reads, as listed when presented: the "
                                                                "current evaluation evidence, then the Livret 2")


def _papers(row) -> list[dict]:
    """A presentation's papers (jsonb, as text; none in rows made before they were listed)."""
    raw = row.get("papers")
    return json.loads(raw) if isinstance(raw, str) else list(raw or [])


@strawberry.type
class JurySession:
    id: strawberry.ID
    branch: str
    certification_codes: list[str]
    held_on: date
    place: str
    remote: bool
    capacity: int
    status: JurySessionStatus
    members: list[JuryMember]
    closed_on: date | None = strawberry.field(default=None, description="The day its minutes were drawn up "
                                                                         "(close-session): it decides no more")
    published: bool = strawberry.field(default=False, description="Its results (decisions, certificates, their "
                                                                  "PDFs) are visible to the candidates and their "
                                                                  "organisations; until then only to its jury side")
    published_at: datetime | None = None
    past: strawberry.Private[dict | None] = None  # rows of its presentations and decisions at `asOf` (asof.py)
    as_of: strawberry.Private[datetime | None] = None

    @strawberry.field(description="Its deadlines (its results to enter), by due day; at `asOf`, as they stood then")
    async def deadlines(self, info: Info[Context, None]) -> list[Deadline]:
        return deadlines_then(await info.context.loaders.deadlines_of_session.load(str(self.id)), self.as_of)

    @strawberry.field(description="The messages sent about it (its convocations, its results) the caller may read: to "
                                  "whom by role, when, which template; never the content")
    async def notifications(self, info: Info[Context, None]) -> list[Notification]:
        return sent(await info.context.loaders.notifications_of_session.load(str(self.id)), self.as_of)

    @strawberry.field
    async def certifications(self, info: Info[Context, None]) -> list[Certification]:
        rows = await info.context.loaders.certification.load_many(self.certification_codes)
        return [Certification.from_row(r) for r in rows if r]

    @strawberry.field
    async def presented(self, info: Info[Context, None]) -> list[Presentation]:
        rows = self.past["presented"] if self.past is not None else \
            await info.context.loaders.presentations.load(str(self.id))
        return [Presentation(candidacy_id=strawberry.ID(str(r["candidacy_id"])), blocks=list(r["blocks"]),
                             papers=[PresentedPaper(document_id=strawberry.ID(p["document_id"]),
                                                    kind=DocumentKind(p["kind"]))
                                     for p in _papers(r)]) for r in rows]

    @strawberry.field
    async def decisions(self, info: Info[Context, None]) -> list[JuryDecision]:
        rows = self.past["decisions"] if self.past is not None else \
            await info.context.loaders.decisions_of_session.load(str(self.id))
        return [JuryDecision.from_row(r) for r in rows]

    @strawberry.field(description="The session's papers (attendance sheet, minutes) the caller may read, current "
                                  "ones only unless `includeSuperseded`; their bytes at their `downloadUrl`")
    async def documents(self, info: Info[Context, None], include_superseded: bool = False) -> list[Document]:
        rows = await info.context.loaders.documents_of_session.load(str(self.id))
        return [Document.from_row(r) for r in rows if include_superseded or r["superseded_by"] is None]

    @strawberry.field(description="Its minutes (JURY_MINUTES, generated and sealed on closing, or uploaded; the "
                                  "current one), if the caller may read them (the kind's read row); the bytes at "
                                  "`downloadUrl`")
    async def minutes(self, info: Info[Context, None]) -> Document | None:
        rows = await info.context.loaders.documents_of_session.load(str(self.id))
        current = [r for r in rows if r["kind"] == DocumentKind.JURY_MINUTES.value and r["superseded_by"] is None]
        return Document.from_row(current[-1]) if current else None

    @strawberry.field(description="The candidacies presented, with each candidate's name, route, blocks and results, "
                                  "and the decision (one query for every session asked; as CSV: "
                                  "/exports/sessions/{id}/roster.csv)")
    async def roster(self, info: Info[Context, None]) -> list[RosterEntry]:
        return [RosterEntry.from_line(line) for line in await info.context.loaders.rosters.load(str(self.id))]

    @classmethod
    def from_row(cls, r) -> JurySession:
        return cls(id=strawberry.ID(str(r["id"])), branch=r["branch"], certification_codes=list(r["certifications"]),
                   held_on=r["held_on"], place=r["place"], remote=r["remote"], capacity=r["capacity"],
                   status=JurySessionStatus(r["status"]), closed_on=r.get("closed_on"),
                   published=r.get("published_at") is not None, published_at=r.get("published_at"),
                   members=[JuryMember(id=strawberry.ID(k), session_id=str(r["id"]), college=College(v["college"]),
                                       role=MemberRole(v["role"])) for k, v in json.loads(r["members"]).items()])


@strawberry.type
class RosterBlock:
    code: str
    presented: bool = strawberry.field(description="Examined at this session (a retake presents only the missing)")
    result: str = strawberry.field(description="VALIDATED, NOT_VALIDATED, HELD, RECOGNISED or NONE")
    evaluated_on: date | None


@strawberry.type(description="One line of a session's roster")
class RosterEntry:
    candidacy_id: strawberry.ID
    given_name: str
    family_name: str
    route: Route
    blocks: list[RosterBlock]
    decision: Decision | None
    blocks_acquired: list[str]

    @classmethod
    def from_line(cls, line: RosterLine) -> RosterEntry:
        return cls(candidacy_id=strawberry.ID(line.candidacy_id), given_name=line.given_name,
                   family_name=line.family_name, route=Route(line.route),
                   decision=Decision(line.decision) if line.decision else None,
                   blocks_acquired=line.blocks_acquired,
                   blocks=[RosterBlock(code=b.code, presented=b.presented, result=b.result,
                                       evaluated_on=date.fromisoformat(b.evaluated_on) if b.evaluated_on else None)
                           for b in line.blocks])


@strawberry.type(description="A certificate (full award) or an attestation of blocks (partial validation)")
class Certificate:
    number: str
    kind: CertificateKind
    candidate_id: strawberry.Private[str]
    certification_code: str
    version: int
    blocks: list[str]
    awarded_on: date
    session_id: strawberry.ID
    revoked_on: date | None = None
    revocation_reason: str | None = None
    declaration_state: DeclarationState = strawberry.field(
        default=DeclarationState.PENDING,
        description="Its holder's declaration to the Caisse des Dépôts: PENDING, SENT, ACCEPTED or REJECTED")
    declaration_file: str | None = None
    declaration_messages: list[str] = strawberry.field(default_factory=list)
    candidacy_id: strawberry.ID | None = None

    @strawberry.field
    async def certification(self, info: Info[Context, None]) -> Certification | None:
        row = await info.context.loaders.certification.load(self.certification_code)
        return Certification.from_row(row) if row else None

    @strawberry.field(description="The holder's name, from the candidacy service ([erased] once erased)")
    async def holder(self, info: Info[Context, None]) -> str:
        return (await info.context.person(self.candidate_id)).name

    @classmethod
    def from_row(cls, r) -> Certificate:
        return cls(number=r["number"], kind=CertificateKind(r["kind"]), candidate_id=str(r["candidate_id"]),
                   certification_code=r["certification"],
                   version=r["version"], blocks=list(r["blocks"]), awarded_on=r["awarded_on"],
                   session_id=strawberry.ID(str(r["session_id"])), revoked_on=r["revoked_on"],
                   revocation_reason=r["revocation_reason"], declaration_state=DeclarationState(r["declaration_state"]),
                   declaration_file=r["declaration_file"], declaration_messages=json.loads(r["declaration_messages"]),
                   candidacy_id=strawberry.ID(str(r["candidacy_id"])))


@strawberry.enum(description="What a verification found, the first that applies")
class CertificateVerdict(enum.Enum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    PENDING = "pending"  # its holder not yet known (just after the award): ask again shortly
    TAMPERED = "tampered"  # a credential whose signature does not verify: nothing it says is vouched for
    UNKNOWN_KEY = "unknown-key"  # signed with a key the branch never published
    MALFORMED = "malformed"
    STATUS_UNKNOWN = "status-unknown"  # its status list could not be read
    NOT_YET_PUBLISHED = "not-yet-published"  # its session's results are not published: it vouches for nothing yet


@strawberry.type(description="What anyone may know of a certificate from its number or its credential; by a "
                             "credential that does not verify, only the verdict and its reason")
class CertificateVerification:
    number: str | None
    kind: CertificateKind | None
    holder: str | None
    certification_code: str | None
    certification_title: str | None
    version: int | None
    blocks: list[str] | None
    awarded_on: date | None
    valid: bool = strawberry.field(description="False once revoked: the certificate no longer vouches for anything; "
                                               "false too for the moment its holder is not yet known (just after "
                                               "the award, `holder` [withheld]): ask again shortly")
    revoked_on: date | None = None
    revocation_reason: str | None = None
    verdict: CertificateVerdict = CertificateVerdict.VALID
    reason: str | None = strawberry.field(default=None, description="Why the verdict, when not valid")
    key_id: str | None = strawberry.field(default=None, description="The key a credential was signed with")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
