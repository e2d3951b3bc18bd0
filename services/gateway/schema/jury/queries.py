from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from services.gateway import asof, scopes
from shared.people import WITHHELD
from services.gateway.schema.jury.types import Certificate, CertificateVerification, JurySession
from services.gateway.schema.pagination import Conditions
from services.gateway.schema.permissions import Authenticated


@strawberry.input
class JurySessionFilter:
    branch: str | None = None
    certification: str | None = None
    held_from: date | None = None
    held_until: date | None = None
    status: str | None = strawberry.field(default=None, description="SCHEDULED or HELD")


@strawberry.type
class JuryQueries:
    @strawberry.field(permission_classes=[Authenticated],
                      description="A jury session; `asOf`: as it stood then, with its presentations and decisions "
                                  "(rebuilt from its events by the jury service; null before it existed)")
    async def jury_session(self, info: Info, id: strawberry.ID, as_of: datetime | None = None) -> JurySession | None:
        try:
            session_id = uuid.UUID(str(id))
        except ValueError:
            return None
        c = Conditions()
        c.add("id = ?", session_id)
        c.add_scope(scopes.jury_sessions(await info.context.caller()))
        row = await info.context.pool.fetchrow(f"SELECT * FROM jury_sessions{c.where}", *c.args)
        if row and as_of is not None:
            state = await info.context.pasts.state("jury", "jury-session-as-of", str(session_id), as_of,
                                                   info.context.token())
            if state is None:
                return None
            past = JurySession.from_row(asof.session_row(state))
            past.past = {"presented": state["presented"], "decisions": asof.decision_rows(state)}
            return past
        return JurySession.from_row(row) if row else None

    @strawberry.field(permission_classes=[Authenticated])
    async def jury_sessions(self, info: Info, filter: JurySessionFilter | None = None) -> list[JurySession]:
        f, c = filter or JurySessionFilter(), Conditions()
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
        c.add_scope(scopes.jury_sessions(await info.context.caller()))
        rows = await info.context.pool.fetch(f"SELECT * FROM jury_sessions{c.where} ORDER BY held_on, id", *c.args)
        return [JurySession.from_row(r) for r in rows]

    @strawberry.field(permission_classes=[Authenticated],
                      description="Full awards whose holder is not declared to the Caisse des Dépôts two and a half "
                                  "months after the award (the law gives three): pending or rejected, oldest first")
    async def undeclared_awards(self, info: Info, branch: str | None = None,
                                awarded_before: date | None = None) -> list[Certificate]:
        """`awardedBefore`: another threshold than two and a half months ago."""
        c = Conditions()
        c.add("kind = 'CERTIFICATE' AND revoked_on IS NULL AND declaration_state IN ('PENDING', 'REJECTED')")
        if awarded_before:
            c.add("awarded_on < ?", awarded_before)
        else:
            c.add("awarded_on <= current_date - interval '2 months 15 days'")
        if branch:
            c.add("certification IN (SELECT code FROM certifications WHERE ? = ANY(owners))", branch)
        clause, values = scopes.candidacies(await info.context.caller(), "undeclaredAwards")
        c.add(f"candidacy_id IN (SELECT id FROM candidacies WHERE {clause})", *values)
        rows = await info.context.pool.fetch(f"SELECT * FROM certificates{c.where} ORDER BY awarded_on, number",
                                             *c.args)
        return [Certificate.from_row(r) for r in rows]

    @strawberry.field(description="Anyone may check a certificate by its number; it shows only what the certificate shows")
    async def verify_certificate(self, info: Info, number: str) -> CertificateVerification | None:
        row = await info.context.pool.fetchrow(
            "SELECT c.*, cert.title FROM certificates c LEFT JOIN certifications cert ON cert.code = c.certification"
            " WHERE c.number = $1", number.strip())
        if row is None:
            return None
        holder = (await info.context.people.holders([row["number"]])).get(row["number"], WITHHELD)
        return CertificateVerification(number=row["number"], kind=row["kind"], holder=holder,
                                       certification_code=row["certification"], certification_title=row["title"],
                                       version=row["version"], blocks=list(row["blocks"]), awarded_on=row["awarded_on"],
                                       valid=row["revoked_on"] is None, revoked_on=row["revoked_on"],
                                       revocation_reason=row["revocation_reason"])
