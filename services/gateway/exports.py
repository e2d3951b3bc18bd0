"""CSV exports for the certifier's daily work, with the caller's scope applied as in GraphQL:

    GET /exports/sessions/{id}/roster.csv      attendance and results sheet of a jury session
    GET /exports/sessions/{id}/decisions.csv   the session's decisions (after corrections)
    GET /exports/branches/{code}/holders.csv?from=YYYY-MM-DD&to=YYYY-MM-DD
                                               certificates awarded for the branch's certifications

A bearer token is required; a session or holders out of the caller's scope read as not found (404) or
are simply not listed. Rows are streamed from a database cursor, never held whole in memory.
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

from shared.errors import CommandRefused, InvalidInput, NotFound

from services.gateway import scopes
from shared.people import NOBODY
from services.gateway.reports.roster import roster
from services.gateway.schema.context import Context
from services.gateway.schema.pagination import Conditions


def _csv(header: list[str], rows: AsyncIterator[Iterable]) -> AsyncIterator[str]:
    async def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        async for row in rows:
            writer.writerow(row)
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
            async with ctx.pool.acquire() as conn, conn.transaction():
                batch = []
                async for r in conn.cursor(f"SELECT c.* FROM certificates c{c.where} ORDER BY c.awarded_on, c.number",
                                           *c.args):
                    batch.append(r)
                    if len(batch) == 500:
                        for line in await holder_lines(batch):
                            yield line
                        batch = []
                for line in await holder_lines(batch):
                    yield line

        async def holder_lines(batch) -> list[list]:
            """The names of a batch of certificates' holders, in one call to the candidacy service."""
            people = await ctx.people_of({str(r["candidate_id"]) for r in batch})
            return [[r["number"], people.get(str(r["candidate_id"]), NOBODY).name, r["certification"], r["version"],
                     r["awarded_on"], r["revoked_on"] or "", r["revocation_reason"] or ""] for r in batch]

        header = ["number", "holder", "certification", "version", "awarded_on", "revoked_on", "revocation_reason"]
        return _stream(_csv(header, rows()), f"holders-{request.path_params['code']}.csv")

    return [  # each is a row of the role table: exportRoster, exportDecisions, exportHolders
        Route("/exports/sessions/{id}/roster.csv", handled(roster_csv)),
        Route("/exports/sessions/{id}/decisions.csv", handled(decisions_csv)),
        Route("/exports/branches/{code}/holders.csv", handled(holders_csv)),
    ]


def _stream(lines: AsyncIterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="{filename}"'})
