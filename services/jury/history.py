"""A jury session as it stood at a past instant, rebuilt here from its events (shared/asof.py), in the
shape of the gateway's read model (with its presentations and decisions) so that GraphQL shows it with
the same fields as today's.

`POST /queries/jury-session-as-of` (bearer token): to a caller who may read the session today (role
table, operation `jurySession`, on the session's branch).
"""

from __future__ import annotations

from datetime import datetime

import anyio

from shared.asof import aggregate_at, endpoint, jsonable
from shared.errors import Forbidden
from shared.identity import TokenVerifier
from shared.policy import Record, authorize

from services.jury.application import JuryApplication
from services.jury.domain import JurySession, UnknownSession


def session_state(app: JuryApplication, session_id: str, instant: datetime) -> dict | None:
    session = aggregate_at(app, session_id, instant, JurySession)
    if session is None:
        return None
    decisions: dict[str, dict] = {}
    for e in app.events.get(session.id, lte=session.version):
        if isinstance(e, JurySession.Decided):
            decisions[e.candidacy_id] = {
                "session_id": str(session.id), "candidacy_id": e.candidacy_id, "decision": e.decision,
                "blocks_acquired": e.blocks_acquired, "members_present": e.present, "votes": e.votes,
                "decided_on": e.decided_on, "corrections": []}
        elif isinstance(e, JurySession.DecisionCorrected):
            decided = decisions[e.candidacy_id]
            decided["corrections"].append({"previous": e.previous, "decision": e.decision, "reason": e.reason,
                                           "by": e.context["actor"], "at": e.timestamp.isoformat()})
            decided.update(decision=e.decision, blocks_acquired=getattr(e, "blocks_acquired", None) or [])
    return jsonable({
        "id": str(session.id), "branch": session.branch, "certifications": session.certifications,
        "held_on": session.on, "place": session.place, "remote": session.remote, "capacity": session.capacity,
        "members": {m: {"college": v["college"], "role": v["role"]} for m, v in session.members.items()},
        "status": "HELD" if decisions else "SCHEDULED",
        "presented": [{"candidacy_id": c, "blocks": p["blocks"]} for c, p in session.presented.items()],
        "decisions": list(decisions.values()),
    })


def queries(app: JuryApplication, verifier: TokenVerifier) -> dict:
    async def state(session_id: str, instant: datetime) -> dict | None:
        try:
            current = await anyio.to_thread.run_sync(app.session, session_id)
            authorize("jurySession", Record(branches=frozenset({current.branch})))
        except (UnknownSession, Forbidden):
            return None  # out of reach reads as not found, as in the gateway
        return await anyio.to_thread.run_sync(session_state, app, session_id, instant)

    return {"jury-session-as-of": endpoint(verifier, "jurySession", state)}
