"""CSV exports for the certifier's daily work, with the caller's scope applied as in GraphQL:

    GET /exports/sessions/{id}/roster.csv      attendance and results sheet of a jury session
    GET /exports/sessions/{id}/decisions.csv   the session's decisions (after corrections)
    GET /exports/branches/{code}/holders.csv?from=YYYY-MM-DD&to=YYYY-MM-DD
                                               certificates awarded for the branch's certifications
    GET /exports/{list}.csv?<filter>&sort=FIELD&direction=ASC|DESC
                                               any GraphQL list (branches, certifications, organisations, candidates,
                                               candidacies, jury-sessions, undeclared-awards) with the same
                                               filter fields (GraphQL names), sort and scope as the list
    GET /exports/dashboard/pass-rates.csv?branch=UIMM|organisation=ID|certification=CODE&from=&to=
                                               the pass rates of the dashboard of that scope and period

A bearer token is required (the public lists excepted); a session or holders out of the caller's scope
read as not found (404) or are simply not listed. Rows are streamed from a database cursor, never held
whole in memory; people's names are asked of the candidacy service per batch of rows. A cell that a
spreadsheet would take for a formula (= + - @, tab, carriage return) is prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.utils.str_converters import to_camel_case

from shared.errors import CommandRefused, InvalidInput, NotFound

from services.gateway import scopes
from services.gateway.reports import dashboard
from shared.people import NOBODY
from services.gateway.reports.roster import roster
from services.gateway.schema.context import Context
from services.gateway.schema.pagination import Conditions, select
from services.gateway.schema.vocabulary import SortDirection
from services.gateway.lists import LISTS


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500  # rows per database fetch and per call to the candidacy service for names


def safe_cell(value):
    """A text cell a spreadsheet would run as a formula, quoted (CSV injection); other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(header: list[str], rows: AsyncIterator[Iterable]) -> AsyncIterator[str]:
    async def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        async for row in rows:
            writer.writerow([safe_cell(cell) for cell in row])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return lines()


def routes(state: dict, verifier) -> list[Route]:
    def context(request: Request) -> Context:
        return Context(request, state["read_pool"], state["commands"], verifier, "export", people=state["people"])

    async def session_in_scope(ctx: Context, session_id: str, operation: str) -> str:
        try:
            uuid.UUID(session_id)
        except ValueError:
            raise NotFound("no such jury session") from None
        c = Conditions()
        c.add("id = ?::uuid", session_id)
        c.add_scope(scopes.jury_sessions(await ctx.caller(), operation))
        if not await ctx.pool.fetchval(f"SELECT count(*) FROM jury_sessions{c.where}", *c.args):
            raise NotFound("no such jury session")
        return session_id

    def handled(handler):
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, context(request))
            except CommandRefused as refusal:
                return JSONResponse(refusal.as_json(), refusal.status)

        return endpoint

    async def roster_csv(request: Request, ctx: Context) -> Response:
        session_id = await session_in_scope(ctx, request.path_params["id"], "exportRoster")

        async def rows():
            for line in await roster(ctx.pool, session_id, ctx.people_of):
                for block in line.blocks:
                    yield [line.family_name, line.given_name, line.route, block.code, "yes" if block.presented else "no",
                           block.result, block.evaluated_on or "", line.decision or "", ""]

        header = ["family_name", "given_name", "route", "block", "presented", "result", "evaluated_on", "decision",
                  "present (signature)"]
        return _stream(_csv(header, rows()), f"roster-{session_id}.csv")

    async def decisions_csv(request: Request, ctx: Context) -> Response:
        session_id = await session_in_scope(ctx, request.path_params["id"], "exportDecisions")

        async def rows():
            # One session's decisions (bounded by its capacity): sorted by name once the names are known.
            decisions = await ctx.pool.fetch(
                "SELECT d.*, (SELECT c.number FROM certificates c"
                " WHERE c.session_id = d.session_id AND c.candidacy_id = d.candidacy_id AND c.revoked_on IS NULL"
                " ORDER BY c.awarded_on DESC LIMIT 1) AS number FROM jury_decisions d WHERE d.session_id = $1::uuid",
                session_id)
            people = await ctx.people_of({str(r["candidate_id"]) for r in decisions})
            lines = []
            for r in decisions:
                person = people.get(str(r["candidate_id"]), NOBODY)
                lines.append([person.family_name, person.given_name, r["certification"], r["decision"],
                              " ".join(r["blocks_acquired"]), r["decided_on"],
                              "yes" if json.loads(r["corrections"]) else "no", r["number"] or ""])
            for line in sorted(lines, key=lambda line: (line[0].casefold(), line[1].casefold())):
                yield line

        header = ["family_name", "given_name", "certification", "decision", "blocks_acquired", "decided_on",
                  "corrected", "certificate"]
        return _stream(_csv(header, rows()), f"decisions-{session_id}.csv")

    async def holders_csv(request: Request, ctx: Context) -> Response:
        try:
            start = date.fromisoformat(request.query_params.get("from", "1900-01-01"))
            end = date.fromisoformat(request.query_params.get("to", "2999-12-31"))
        except ValueError:
            raise InvalidInput("from and to are dates: YYYY-MM-DD") from None
        c = Conditions()
        c.add("c.kind = 'CERTIFICATE' AND c.awarded_on BETWEEN ? AND ?", start, end)
        c.add("c.certification IN (SELECT code FROM certifications WHERE ? = ANY(owners))", request.path_params["code"])
        clause, values = scopes.candidacies(await ctx.caller(), "exportHolders")
        c.add(f"c.candidacy_id IN (SELECT id FROM candidacies WHERE {clause})", *values)

        async def rows():
            async for batch in batches(ctx, f"SELECT c.* FROM certificates c{c.where} ORDER BY c.awarded_on, c.number",
                                       c.args):
                for line in await holder_lines(batch):
                    yield line

        async def holder_lines(batch) -> list[list]:
            """The names of a batch of certificates' holders, in one call to the candidacy service."""
            people = await ctx.people_of({str(r["candidate_id"]) for r in batch})
            return [[r["number"], people.get(str(r["candidate_id"]), NOBODY).name, r["certification"], r["version"],
                     r["awarded_on"], r["revoked_on"] or "", r["revocation_reason"] or ""] for r in batch]

        header = ["number", "holder", "certification", "version", "awarded_on", "revoked_on", "revocation_reason"]
        return _stream(_csv(header, rows()), f"holders-{request.path_params['code']}.csv")

    async def list_csv(request: Request, ctx: Context) -> Response:
        export = LISTS.get(request.path_params["list"])
        if export is None:
            raise NotFound("no such list", lists=sorted(LISTS))
        params = dict(request.query_params)
        sort, direction = params.pop("sort", None), params.pop("direction", "ASC")
        sort = sort or export.listing.default_sort
        if sort not in export.listing.sorts or direction not in SortDirection.__members__:
            raise InvalidInput("sort is one of the list's sort fields, direction ASC or DESC",
                               sorts=sorted(export.listing.sorts))
        if not export.public:
            await ctx.caller()  # no token, no rows (401 before anything is read)
        conditions = await export.conditions(ctx, filter_from(params, export.filter), export.operation)
        statement = select(export.listing, conditions, sort, SortDirection[direction])

        async def rows():
            async for batch in batches(ctx, statement, conditions.args):
                people = await ctx.people_of({str(r[export.person]) for r in batch}) if export.person else {}
                for r in batch:
                    yield export.line(r, people.get(str(r[export.person]), NOBODY) if export.person else None)

        return _stream(_csv(export.header, rows()), f"{request.path_params['list']}.csv")

    async def pass_rates_csv(request: Request, ctx: Context) -> Response:
        params = dict(request.query_params)
        given = [(kind, params.pop(kind.lower())) for kind in dashboard.KINDS if kind.lower() in params]
        start, end = params.pop("from", None), params.pop("to", None)
        try:
            period = dashboard.Period(date.fromisoformat(start) if start else None,
                                      date.fromisoformat(end) if end else None)
        except ValueError:
            raise InvalidInput("from and to are dates: YYYY-MM-DD") from None
        if params:
            raise InvalidInput("unknown parameters", unknown=sorted(params))
        target = dashboard.Target(*given[0]) if len(given) == 1 else dashboard.Target("", "")
        figures = await dashboard.figures(ctx.pool, await ctx.caller(), target, period, operation="exportDashboard")

        async def rows():
            for r in figures.pass_rates:
                yield [r.grouping, r.key, r.label, r.decided, r.full_awards, r.partial_validations, r.refusals,
                       r.full_rate, r.partial_rate, r.refusal_rate]

        header = ["grouping", "key", "label", "decided", "full_awards", "partial_validations", "refusals",
                  "full_rate", "partial_rate", "refusal_rate"]
        return _stream(_csv(header, rows()), "pass-rates.csv")

    return [  # each is a row of the role table: exportRoster, exportDecisions, exportHolders, exportDashboard,
        # export<List>
        Route("/exports/sessions/{id}/roster.csv", handled(roster_csv)),
        Route("/exports/sessions/{id}/decisions.csv", handled(decisions_csv)),
        Route("/exports/branches/{code}/holders.csv", handled(holders_csv)),
        Route("/exports/dashboard/pass-rates.csv", handled(pass_rates_csv)),
        Route("/exports/{list}.csv", handled(list_csv)),
    ]


async def batches(ctx: Context, statement: str, args: list) -> AsyncIterator[list]:
    """The rows of `statement` in batches, from a server-side cursor (a transaction holds it open)."""
    async with ctx.pool.acquire() as conn, conn.transaction(readonly=True):
        batch = []
        async for row in conn.cursor(statement, *args, prefetch=BATCH):
            batch.append(row)
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def filter_from(params: dict[str, str], filter_type: type):
    """The GraphQL list's filter input from query parameters named as its fields are in GraphQL
    (`openedFrom=2025-01-01&status=OPEN`); a parameter the filter does not have is refused."""
    fields = {f.graphql_name or to_camel_case(f.python_name): f for f in filter_type.__strawberry_definition__.fields}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise InvalidInput("unknown filter parameters", unknown=unknown, known=sorted(fields) + ["sort", "direction"])
    values = {}
    for name, raw in params.items():
        field = fields[name]
        kind = getattr(field.type, "of_type", field.type)
        try:
            if isinstance(kind, StrawberryEnumDefinition):
                value = kind.wrapped_cls[raw]
            elif kind is bool:
                value = {"true": True, "false": False}[raw.lower()]
            elif kind is date:
                value = date.fromisoformat(raw)
            elif kind is int:
                value = int(raw)
            else:
                value = raw
        except (KeyError, ValueError):
            raise InvalidInput(f"{name} cannot be {raw!r}", field=name) from None
        values[field.python_name] = value
    return filter_type(**values)


def _stream(lines: AsyncIterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="{filename}"'})
