from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from asyncpg import Record
from strawberry.types import Info

from services.gateway.schema.context import Context
from services.gateway.schema.candidacy.types import Candidacy, CandidacyStatus, Candidate, Route
from services.gateway.schema.pagination import (
    Conditions, Connection, Key, Listing, check_text_filter, page, sort_input,
)
from services.gateway import asof, scopes
from services.gateway.schema.documents.loaders import documents_loaders
from services.gateway.schema.jury.loaders import jury_loaders
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


CANDIDACIES = Listing("candidacies", "candidacies", Key("id", "uuid"), {
    "OPENED_AT": Key("opened_at", "timestamptz"), "UPDATED_AT": Key("updated_at", "timestamptz"),
    "CERTIFICATION": Key("certification", "text"), "STATUS": Key("status", "text")})
CandidacySort = sort_input(CANDIDACIES, "Candidacy",
                           "The order of the candidacies (then by id); a candidacy whose sort key changes between "
                           "two pages moves in the order")


@strawberry.input
class CandidateFilter:
    search: str | None = strawberry.field(default=None, description="Words of their name, email or birth date")


CANDIDATES = Listing("candidates", "candidates", Key("id", "uuid"),
                     {"REGISTERED_AT": Key("registered_at", "timestamptz")})
CandidateSort = sort_input(CANDIDATES, "Candidate",
                           "The order of the candidates (then by id); names are sealed, so not a sort key")


async def candidate_conditions(context, f: CandidateFilter, operation: str) -> Conditions:
    """The candidates of the filter the caller may read through `operation` (the list or its export)."""
    conditions = Conditions()
    caller = await context.caller()
    check_text_filter(f.search)
    if f.search and f.search.strip():  # the candidacy service's blind index: people having every word
        conditions.add("id = ANY(?::uuid[])", await context.people.search(f.search, context.token()))
    conditions.add_scope(scopes.candidates(caller, operation))
    return conditions


async def candidacy_conditions(context, f: CandidacyFilter, operation: str) -> Conditions:
    """The candidacies of the filter the caller may read through `operation` (the list or its export)."""
    c = filter_conditions(f)
    caller = await context.caller()
    check_text_filter(f.text)
    if f.text and f.text.strip():
        c.add("candidate_id = ANY(?::uuid[])", await context.people.search(f.text, context.token()))
    c.add_scope(scopes.candidacies(caller, operation))
    return c


def filter_conditions(f: CandidacyFilter) -> Conditions:
    """The conditions of the filter alone, out of any scope (the subscription adds its own)."""
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


def uuid_or_none(value) -> str | None:
    """The id in its canonical form, or None for what is not a UUID (it names no record)."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


async def candidacy_row(context, candidacy_id, operation: str = "candidacy") -> Record | None:
    """The candidacy of this id if the caller may read it through `operation` (the query, its subscription)."""
    if not uuid_or_none(candidacy_id):
        return None
    c = Conditions()
    c.add("id = ?::uuid", uuid_or_none(candidacy_id))
    c.add_scope(scopes.candidacies(await context.caller(), operation))
    return await context.pool.fetchrow(f"SELECT * FROM candidacies{c.where}", *c.args)


async def past_candidacy(info: Info[Context, None], candidacy_id, as_of: datetime) -> Candidacy | None:
    """As it stood then (asof.py), with the jury's evaluations and decisions about it, and its documents, then."""
    async with asof.replayed(info.context.pool, asof.CANDIDACY, candidacy_id, as_of) as replay:
        found = await replay.conn.fetchrow("SELECT * FROM candidacies WHERE id = $1", candidacy_id)
        # Whether its sessions' results are published is today's (scopes.published): their rows as they are now.
        schema = await replay.conn.fetchval("SELECT current_schema()")
        await replay.conn.execute(
            f'INSERT INTO jury_sessions SELECT * FROM "{schema}".jury_sessions WHERE id IN (SELECT session_id FROM'
            " jury_decisions UNION SELECT session_id FROM certificates) ON CONFLICT (id) DO UPDATE SET"
            " published_at = EXCLUDED.published_at, branch = EXCLUDED.branch")
        loaders = jury_loaders(replay.conn, people=None, caller=info.context.caller)  # no roster read here
        evaluations = await asof.read(loaders["evaluations"], str(candidacy_id))
        decisions = await asof.read(loaders["decisions_of_candidacy"], str(candidacy_id))
        documents = await asof.read(documents_loaders(info.context, replay.conn)["documents_of_candidacy"],
                                    str(candidacy_id))
    if found is None:
        return None
    past = Candidacy.from_row(found)
    past.as_of, past.past = as_of, {"evaluations": evaluations, "decisions": decisions, "documents": documents}
    return past


@strawberry.type
class CandidacyQueries:
    @strawberry.field(permission_classes=[Authenticated], description="A candidate (needs a bearer token)")
    async def candidate(self, info: Info[Context, None], id: strawberry.ID) -> Candidate | None:
        if not uuid_or_none(id):
            return None
        c = Conditions()
        c.add("id = ?::uuid", uuid_or_none(id))
        c.add_scope(scopes.candidates(await info.context.caller()))
        row = await info.context.pool.fetchrow(f"SELECT * FROM candidates{c.where}", *c.args)
        return Candidate.from_row(row) if row else None

    @strawberry.field(permission_classes=[Authenticated],
                      description="A candidacy (needs a bearer token); `asOf`: as it stood then (rebuilt from its "
                                  "events by the gateway's projections; null before it existed)")
    async def candidacy(
        self, info: Info[Context, None], id: strawberry.ID, as_of: datetime | None = None,
    ) -> Candidacy | None:
        row = await candidacy_row(info.context, id)
        if row and as_of is not None:
            return await past_candidacy(info, row["id"], as_of)
        return Candidacy.from_row(row) if row else None

    @strawberry.field(permission_classes=[Authenticated],
                      description="Candidates the caller may see, found by words of their name (or their first "
                                  "letters, three or more), email or birth date (YYYY-MM-DD), whatever the case and "
                                  "accents; a person with no candidacy too; in order of registration")
    async def candidates(
        self, info: Info[Context, None], search: str | None = None, filter: CandidateFilter | None = None,
        sort: CandidateSort | None = None, first: int = 50, after: str | None = None,
    ) -> Connection[Candidate]:
        """`search`: the same as `filter.search`, kept for the clients that use it."""
        f = filter or CandidateFilter(search=search)
        sort = sort or CandidateSort()
        p = await page(info.context.pool, CANDIDATES, await candidate_conditions(info.context, f, "candidates"),
                       sort.field.name, sort.direction, first, after)
        return Connection.of(p, Candidate.from_row)

    @strawberry.field(permission_classes=[Authenticated],
                      description="Candidacies, filtered, sorted and paginated (first/after, keyset cursors)")
    async def candidacies(
        self, info: Info[Context, None], filter: CandidacyFilter | None = None, sort: CandidacySort | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[Candidacy]:
        sort = sort or CandidacySort()
        conditions = await candidacy_conditions(info.context, filter or CandidacyFilter(), "candidacies")
        p = await page(info.context.pool, CANDIDACIES, conditions, sort.field.name, sort.direction, first, after)
        return Connection.of(p, Candidacy.from_row)
