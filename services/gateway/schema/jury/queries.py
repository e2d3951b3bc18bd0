from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from services.gateway.schema.context import Context
from services.gateway import asof, scopes, verification
from shared.contracts import jury as contracts
from shared.vocabulary import CertificateKind, DeclarationState
from services.gateway.schema.jury.loaders import jury_loaders
from services.gateway.schema.jury.types import Certificate, CertificateVerification, JurySession
from services.gateway.schema.pagination import Conditions, Connection, Key, Listing, page, sort_input
from services.gateway.schema.permissions import Authenticated


@strawberry.input
class JurySessionFilter:
    branch: str | None = None
    certification: str | None = None
    held_from: date | None = None
    held_until: date | None = None
    status: str | None = strawberry.field(default=None, description="SCHEDULED or HELD")


JURY_SESSIONS = Listing("jurySessions", "jury_sessions", Key("id", "uuid"), {
    "HELD_ON": Key("held_on", "date"), "BRANCH": Key("branch", "text")})
JurySessionSort = sort_input(JURY_SESSIONS, "JurySession", "The order of the sessions (then by id)")


async def jury_session_conditions(context, f: JurySessionFilter, operation: str) -> Conditions:
    c = Conditions()
    if f.branch:
        c.add("branch = ?", f.branch)
    if f.certification:
        c.add("? = ANY(certifications)", f.certification)
    if f.held_from:
        c.add("held_on >= ?", f.held_from)
    if f.held_until:
        c.add("held_on <= ?", f.held_until)
    if f.status:
        c.add("status = ?", f.status)
    c.add_scope(scopes.jury_sessions(await context.caller(), operation))
    return c


@strawberry.input
class UndeclaredAwardFilter:
    branch: str | None = None
    awarded_before: date | None = strawberry.field(default=None, description="Another threshold than two and a "
                                                                             "half months ago")


UNDECLARED_AWARDS = Listing("undeclaredAwards", "certificates", Key("number", "text"), {
    "AWARDED_ON": Key("awarded_on", "date")})
AwardSort = sort_input(UNDECLARED_AWARDS, "Award", "The order of the awards (then by number)")


async def undeclared_award_conditions(context, f: UndeclaredAwardFilter, operation: str) -> Conditions:
    c = Conditions()
    c.add("kind = ? AND revoked_on IS NULL AND declaration_state IN (?, ?)", CertificateKind.CERTIFICATE,
          DeclarationState.PENDING, DeclarationState.REJECTED)
    if f.awarded_before:
        c.add("awarded_on < ?", f.awarded_before)
    else:
        c.add("awarded_on <= current_date - interval '2 months 15 days'")
    if f.branch:
        c.add("certification IN (SELECT code FROM certifications WHERE ? = ANY(owners))", f.branch)
    clause, values = scopes.candidacies(await context.caller(), operation)
    c.add(f"candidacy_id IN (SELECT id FROM candidacies WHERE {clause})", *values)
    return c


@strawberry.type
class JuryQueries:
    @strawberry.field(permission_classes=[Authenticated],
                      description="A jury session; `asOf`: as it stood then, with its presentations and decisions "
                                  "(rebuilt from its events by the gateway's projections; null before it existed)")
    async def jury_session(
        self, info: Info[Context, None], id: strawberry.ID, as_of: datetime | None = None,
    ) -> JurySession | None:
        try:
            session_id = uuid.UUID(str(id))
        except ValueError:
            return None
        c = Conditions()
        c.add("id = ?", session_id)
        c.add_scope(scopes.jury_sessions(await info.context.caller()))
        row = await info.context.pool.fetchrow(f"SELECT * FROM jury_sessions{c.where}", *c.args)
        if row and as_of is not None:
            return await past_session(info, session_id, as_of)
        return JurySession.from_row(row) if row else None

    @strawberry.field(permission_classes=[Authenticated],
                      description="Jury sessions, filtered, sorted and paginated (first/after, keyset cursors)")
    async def jury_sessions(self, info: Info[Context, None], filter: JurySessionFilter | None = None,
                            sort: JurySessionSort | None = None, first: int = 50,
                            after: str | None = None) -> Connection[JurySession]:
        sort = sort or JurySessionSort()
        conditions = await jury_session_conditions(info.context, filter or JurySessionFilter(), "jurySessions")
        p = await page(info.context.pool, JURY_SESSIONS, conditions, sort.field.name, sort.direction, first, after)
        return Connection.of(p, JurySession.from_row)

    @strawberry.field(permission_classes=[Authenticated],
                      description="Full awards whose holder is not declared to the Caisse des Dépôts two and a half "
                                  "months after the award (the law gives three): pending or rejected, oldest first")
    async def undeclared_awards(self, info: Info[Context, None], filter: UndeclaredAwardFilter | None = None,
                                sort: AwardSort | None = None, first: int = 50,
                                after: str | None = None) -> Connection[Certificate]:
        sort = sort or AwardSort()
        conditions = await undeclared_award_conditions(info.context, filter or UndeclaredAwardFilter(),
                                                       "undeclaredAwards")
        p = await page(info.context.pool, UNDECLARED_AWARDS, conditions, sort.field.name, sort.direction, first,
                       after)
        return Connection.of(p, Certificate.from_row)

    @strawberry.field(description="Anyone may check a certificate by its number, or a credential (a JWT-VC, as "
                                  "embedded in the certificate's PDF) against its branch's published keys and "
                                  "status list; it shows only what the certificate shows")
    async def verify_certificate(self, info: Info[Context, None], number: str | None = None,
                                 credential: str | None = None) -> CertificateVerification | None:
        if (number is None) == (credential is None):
            raise GraphQLError("give either `number` or `credential`", extensions={"code": "InvalidInput"})
        if number is not None:
            return await verification.by_number(info.context.pool, info.context.people, number)
        commands = info.context.commands
        return await verification.by_credential(info.context.pool, info.context.people, commands.http,
                                                commands.service_urls["jury"], verification.public_url(), credential)


async def past_session(info: Info[Context, None], session_id: uuid.UUID, as_of: datetime) -> JurySession | None:
    """As it stood then (asof.py), with its presentations and decisions then, its members in the order
    of their appointment."""
    async with asof.replayed(info.context.pool, asof.JURY_SESSION, session_id, as_of) as replay:
        found = await replay.conn.fetchrow("SELECT * FROM jury_sessions WHERE id = $1", session_id)
        loaders = jury_loaders(replay.conn, people=None)  # no roster read here
        presented = await asof.read(loaders["presentations"], str(session_id))
        decisions = await asof.read(loaders["decisions_of_session"], str(session_id))
    if found is None:
        return None
    past = JurySession.from_row(found)
    appointed = [e.payload["member_id"] for e in replay.events if e.type == contracts.JuryMemberAppointed.event_type]
    past.members.sort(key=lambda m: appointed.index(str(m.id)))
    past.past = {"presented": presented, "decisions": decisions}
    past.as_of = as_of
    return past
