"""A certification as it stood at a past instant, rebuilt here from its events (shared/asof.py), in the
shape of the gateway's read model so that GraphQL shows it with the same fields as today's.

Public, as the catalog is: `POST /queries/certification-as-of` needs no token.
"""

from __future__ import annotations

from datetime import datetime

import anyio

from shared.asof import aggregate_at, endpoint, jsonable
from shared.contracts import catalog as public

from services.catalog.application import CatalogApplication
from services.catalog.domain import Certification


def certification_state(app: CatalogApplication, certification_id: str, instant: datetime) -> dict | None:
    certification = aggregate_at(app, certification_id, instant, Certification)
    if certification is None:
        return None
    published = {e.number: e.timestamp for e in app.events.get(certification.id, lte=certification.version)
                 if isinstance(e, Certification.VersionPublished)}
    registration = certification.registration
    return jsonable({
        "id": str(certification.id), "code": certification.code, "kind": certification.kind,
        "title": certification.title, "owners": certification.owners,
        "registration": public.Registration.model_validate(registration).model_dump(mode="json")
        if registration else None,
        "certifiers": [public.Certifier.model_validate(c).model_dump(mode="json") for c in certification.certifiers],
        "equivalences": [public.Equivalence.model_validate(e).model_dump(mode="json")
                         for e in certification.equivalences],
        "predecessors": certification.predecessors, "successors": certification.successors,
        "created_at": certification.created_on, "updated_at": certification.modified_on,
        "versions": [{"version": v["number"], "effective_from": v["effective_from"],
                      "published_at": published[v["number"]],
                      "blocks": [public.Block.model_validate(b).model_dump(mode="json") for b in v["blocks"]],
                      "settings": public.VersionSettings.model_validate(v["settings"]).model_dump(mode="json")}
                     for v in certification.versions],
    })


def queries(app: CatalogApplication) -> dict:
    async def state(certification_id: str, instant: datetime) -> dict | None:
        return await anyio.to_thread.run_sync(certification_state, app, certification_id, instant)

    return {"certification-as-of": endpoint(None, None, state)}
