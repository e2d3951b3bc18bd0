"""A candidacy as it stood at a past instant, rebuilt here from its events (shared/asof.py), in the shape
of the gateway's read model so that GraphQL shows it with the same fields as today's.

`POST /queries/candidacy-as-of` (bearer token): to a caller who may read the candidacy today (role table,
operation `candidacy`, checked on the candidacy's record as `candidacy(id)` is).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import anyio
import asyncpg

from shared.asof import aggregate_at, endpoint, jsonable
from shared.errors import Forbidden
from shared.identity import TokenVerifier
from shared.policy import authorize

from services.candidacy import catalog_view
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import Candidacy, UnknownCandidacy, experience_months


def candidacy_state(app: CandidacyApplication, candidacy_id: str, instant: datetime) -> dict | None:
    candidacy = aggregate_at(app, candidacy_id, instant, Candidacy)
    if candidacy is None:
        return None
    confirmed = [e.on for e in app.events.get(candidacy.id, lte=candidacy.version)
                 if isinstance(e, Candidacy.EligibilityConfirmed)]
    return jsonable({
        "id": str(candidacy.id), "candidate_id": candidacy.candidate_id, "certification": candidacy.certification,
        "version": candidacy.referential_version, "route": candidacy.route, "status": candidacy.status,
        "evaluator_id": candidacy.evaluator_id, "trainer_id": candidacy.trainer_id,
        "employer_id": candidacy.employer_id,
        "blocks": {code: block["state"] for code, block in candidacy.blocks.items()},
        "path": candidacy.path,
        "fundings": candidacy.fundings, "admissibility": candidacy.admissibility,
        "eligibility_confirmed_on": confirmed[-1] if confirmed else None,
        "experience_months": experience_months(candidacy.experience),
        "opened_at": candidacy.created_on, "updated_at": candidacy.modified_on,
    })


def queries(app: CandidacyApplication, pool: asyncpg.Pool, verifier: TokenVerifier) -> dict:
    async def state(candidacy_id: str, instant: datetime) -> dict | None:
        try:
            current = await anyio.to_thread.run_sync(app.candidacy, candidacy_id)
        except UnknownCandidacy:
            return None
        owners = await catalog_view.owners(pool, current.certification)
        presented = await catalog_view.presented_to(pool, [str(current.id)])
        record = await anyio.to_thread.run_sync(app.record, current, owners)
        try:
            authorize("candidacy", dataclasses.replace(
                record, presented_to_branches=presented.get(str(current.id), frozenset())))
        except (Forbidden, UnknownCandidacy):
            return None  # out of reach reads as not found, as in the gateway
        return await anyio.to_thread.run_sync(candidacy_state, app, candidacy_id, instant)

    return {"candidacy-as-of": endpoint(verifier, "candidacy", state)}
