from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from services.gateway.schema.candidacy.types import Candidacy, CandidacyStatus, Candidate, Route
from services.gateway.schema.pagination import Conditions, PageInfo, check_text_filter, edges_and_page_info, page
from services.gateway import asof, scopes
from services.gateway.schema.permissions import Authenticated


@strawberry.input
class CandidacyFilter:
    certification: str | None = None
    organisation: strawberry.ID | None = strawberry.field(default=None, description="Evaluator or trainer")
    branch: str | None = None
    route: Route | None = None
    status: CandidacyStatus | None = None
    opened_from: date | None = None
    opened_until: date | None = None
    text: str | None = strawberry.field(default=None, description="Words of the candidate's name")


@strawberry.type
class CandidateEdge:
    cursor: str
    node: Candidate


@strawberry.type
class CandidateConnection:
    total_count: int
    edges: list[CandidateEdge]
    page_info: PageInfo


@strawberry.type
class CandidacyEdge:
    cursor: str
    node: Candidacy


@strawberry.type
class CandidacyConnection:
    total_count: int
    edges: list[CandidacyEdge]
    page_info: PageInfo


def _conditions(f: CandidacyFilter) -> Conditions:
    c = Conditions()
    if f.certification:
        c.add("certification = ?", f.certification)
    if f.organisation:
        c.add("(evaluator_id = ? OR trainer_id = ?)", str(f.organisation), str(f.organisation))
    if f.branch:
        c.add("certification IN (SELECT code FROM certifications WHERE owners @> ARRAY[?]::text[])", f.branch)
    if f.route:
        c.add("route = ?", f.route.value)
    if f.status:
        c.add("status = ?", f.status.value)
    if f.opened_from:
        c.add("opened_at >= ?", f.opened_from)
    if f.opened_until:
        c.add("opened_at < (?::date + 1)", f.opened_until)
    return c


def _uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


@strawberry.type
class CandidacyQueries:
    @strawberry.field(permission_classes=[Authenticated], description="A candidate (needs a bearer token)")
    async def candidate(self, info: Info, id: strawberry.ID) -> Candidate | None:
        if not _uuid(id):
            return None
        c = Conditions()
        c.add("id = ?::uuid", _uuid(id))
        c.add_scope(scopes.candidates(await info.context.caller()))
        row = await info.context.pool.fetchrow(f"SELECT * FROM candidates{c.where}", *c.args)
        return Candidate.from_row(row) if row else None

    @strawberry.field(permission_classes=[Authenticated],
                      description="A candidacy (needs a bearer token); `asOf`: as it stood then (rebuilt from its "
                                  "events by the candidacy service; null before it existed)")
    async def candidacy(self, info: Info, id: strawberry.ID, as_of: datetime | None = None) -> Candidacy | None:
        if not _uuid(id):
            return None
        c = Conditions()
        c.add("id = ?::uuid", _uuid(id))
        c.add_scope(scopes.candidacies(await info.context.caller(), "candidacy"))
        row = await info.context.pool.fetchrow(f"SELECT * FROM candidacies{c.where}", *c.args)
        if row and as_of is not None:
            state = await info.context.pasts.state("candidacy", "candidacy-as-of", _uuid(id), as_of,
                                                   info.context.token())
            if state is None:
                return None
            past = Candidacy.from_row(asof.candidacy_row(state))
            past.as_of = as_of
            return past
        return Candidacy.from_row(row) if row else None

    @strawberry.field(permission_classes=[Authenticated],
                      description="Candidates the caller may see, found by words of their name (or their first "
                                  "letters, three or more), email or birth date (YYYY-MM-DD), whatever the case and "
                                  "accents; a person with no candidacy too; in order of registration")
    async def candidates(self, info: Info, search: str | None = None, first: int = 50,
                         after: str | None = None) -> CandidateConnection:
        conditions = Conditions()
        caller = await info.context.caller()
        check_text_filter(search)
        if search and search.strip():  # the candidacy service's blind index: people having every word
            conditions.add("id = ANY(?::uuid[])", await info.context.people.search(search, info.context.token()))
        conditions.add_scope(scopes.candidates(caller, "candidates"))
        total, rows, offset = await page(info.context.pool, "candidates", conditions, "registered_at, id",
                                         first, after)
        edges, page_info = edges_and_page_info(total, rows, offset, CandidateEdge, Candidate.from_row)
        return CandidateConnection(total_count=total, edges=edges, page_info=page_info)

    @strawberry.field(permission_classes=[Authenticated], description="Candidacies, filtered and paginated")
    async def candidacies(self, info: Info, filter: CandidacyFilter | None = None, first: int = 50,
                          after: str | None = None) -> CandidacyConnection:
        conditions = _conditions(filter or CandidacyFilter())
        caller = await info.context.caller()
        check_text_filter(filter and filter.text)
        if filter and filter.text and filter.text.strip():
            conditions.add("candidate_id = ANY(?::uuid[])",
                           await info.context.people.search(filter.text, info.context.token()))
        conditions.add_scope(scopes.candidacies(caller))
        total, rows, offset = await page(info.context.pool, "candidacies", conditions, "opened_at, id", first, after)
        edges, page_info = edges_and_page_info(total, rows, offset, CandidacyEdge, Candidacy.from_row)
        return CandidacyConnection(total_count=total, edges=edges, page_info=page_info)
