"""Evaluators' names and evidence: free text typed about a candidate, sealed like the candidate's own data.

- `record-evaluation` seals the evaluator's name and the evidence with a key this service keeps for the
  candidate (`personal_keys`, under `CQP_CIPHER_KEY`; shared/personal.py): the stored event and
  `BlockValidated`/`BlockNotValidated` carry the ciphertext only, and the gateway keeps none of it.
- When the candidacy service publishes `CandidateErased`, the key is destroyed by the candidacy view
  (services/jury/views.py), in the same transaction that marks the candidate erased (no key is made for them again): every copy of those texts is noise from then on, and they read as `[erased]`.
- `POST /queries/evaluations` `{"candidacies": [...]}` (bearer token): for each candidacy the caller may read
  (role table, operation `candidacy`, with the facts this service knows of it: its certification's
  branches, its evaluator, trainer, employer and funders, its candidate's login, the sessions it was
  presented to), the evaluator and evidence of each of its evaluations, by event id.
"""

from __future__ import annotations

import functools
import json

import anyio
import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse

from shared.context import current_caller
from shared.envelope import event_id_for
from shared.errors import CommandRefused, InvalidInput
from shared.identity import TokenVerifier, bearer_token
from shared.personal import ERASED, Vault, new_key, seal, unseal, vault_of
from shared.policy import Record, allows, operation

from services.jury.application import JuryApplication
from services.jury.domain import Dossier, UnknownSession

MAX_CANDIDACIES = 500


class CandidateErased(CommandRefused):
    """The candidate was erased: nothing more is recorded about them."""


class Evaluations:
    def __init__(self, app: JuryApplication, pool: asyncpg.Pool):
        self.app = app
        self.pool = pool

    @functools.cached_property
    def vault(self) -> Vault:
        return vault_of(self.app, self.pool)

    async def key(self, candidate_id: str) -> bytes:
        """The candidate's key here, made on first use, unless they were erased (then never again)."""
        async with self.pool.acquire() as conn, conn.transaction():
            # Shared lock on the candidate: an erasure being applied (services/jury/views.py) is waited for.
            if await conn.fetchval("SELECT erased FROM candidacy_candidates WHERE id = $1 FOR SHARE", candidate_id):
                raise CandidateErased("the candidate was erased: nothing more is recorded about them")
            await conn.execute("INSERT INTO personal_keys (person_id, wrapped) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               candidate_id, self.vault.master.wrap(candidate_id, new_key()))
            wrapped = await conn.fetchval("SELECT wrapped FROM personal_keys WHERE person_id = $1", candidate_id)
        return self.vault.master.unwrap(candidate_id, wrapped)

    async def seal(self, candidate_id: str, evaluator: str, evidence: str) -> str:
        return seal(await self.key(candidate_id), candidate_id, {"evaluator": evaluator, "evidence": evidence})

    async def texts(self, candidacy_ids: list[str]) -> dict[str, dict[str, dict[str, str]]]:
        """Each candidacy the current caller may read → its evaluations' evaluator and evidence, by event id."""
        rows = await self.pool.fetch(
            "SELECT c.*, coalesce(k.owners, '{}') AS owners, p.account, coalesce(p.erased, false) AS erased"
            " FROM candidacy_candidacies c LEFT JOIN catalog_certifications k ON k.code = c.certification"
            " LEFT JOIN candidacy_candidates p ON p.id = c.candidate_id WHERE c.id = ANY($1::text[])",
            list(dict.fromkeys(candidacy_ids)))
        keys = await self.vault.keys({r["candidate_id"] for r in rows})
        caller = current_caller.get()
        answer = {}
        for row in rows:
            events = await anyio.to_thread.run_sync(self._events, row["id"])
            record = Record(branches=frozenset(row["owners"]), evaluator=row["evaluator_id"],
                            trainer=row["trainer_id"], employer=row["employer_id"], funders=frozenset(row["funders"]),
                            account=row["account"], presented_to_branches=await self._branches(events))
            if not allows("candidacy", record, caller):
                continue
            key = None if row["erased"] else keys.get(row["candidate_id"])
            answer[row["id"]] = {
                str(event_id_for(e.originator_id, e.originator_version)): _text(e, row["candidate_id"], key,
                                                                                 row["erased"])
                for e in events if isinstance(e, Dossier.BlockEvaluated)}
        return answer

    def _events(self, candidacy_id: str) -> list:
        return list(self.app.events.get(Dossier.create_id(candidacy_id)))

    async def _branches(self, events: list) -> frozenset[str]:
        """The branches of the sessions the candidacy was presented to."""
        branches = set()
        for session_id in {e.session_id for e in events if isinstance(e, Dossier.Presented)}:
            try:
                branches.add((await anyio.to_thread.run_sync(self.app.session, session_id)).branch)
            except UnknownSession:
                pass
        return frozenset(branches)


def _text(event, candidate_id: str, key: bytes | None, erased: bool) -> dict[str, str]:
    if erased or (key is None and getattr(event, "personal", None)):
        return {"evaluator": ERASED, "evidence": ERASED}
    if not getattr(event, "personal", None):
        # Recorded before these texts were sealed (in clear in this service's store only): shown until the
        # candidate is erased.
        return {"evaluator": getattr(event, "evaluator", "") or "", "evidence": getattr(event, "evidence", "") or ""}
    return unseal(key, candidate_id, event.personal)


def queries(evaluations: Evaluations, verifier: TokenVerifier) -> dict:
    async def texts(request: Request) -> JSONResponse:
        try:
            caller = await verifier.verify(bearer_token(request.headers.get("authorization", "")))
            caller.acting_as(operation("candidacy").roles, "candidacy")
            current_caller.set(caller)
            try:
                candidacies = json.loads(await request.body())["candidacies"]
            except (ValueError, KeyError, TypeError):
                raise InvalidInput('the body is {"candidacies": [...]}') from None
            if not isinstance(candidacies, list) or len(candidacies) > MAX_CANDIDACIES or \
                    not all(isinstance(c, str) for c in candidacies):
                raise InvalidInput(f"candidacies: at most {MAX_CANDIDACIES} ids")
            return JSONResponse({"candidacies": await evaluations.texts(candidacies)})
        except CommandRefused as refusal:
            return JSONResponse(refusal.as_json(), refusal.status)

    return {"evaluations": texts}
