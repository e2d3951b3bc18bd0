"""The candidates' personal data, owned here: sealed with each person's key before it is recorded,
revealed only here, to callers whose role reaches the person, and destroyed on erasure (shared/personal.py).

- Registration makes the person's key, seals their fields with it, then records the candidate; a
  correction seals the whole data anew; an erasure records `Erased` then destroys the key and the
  person's words in the blind index (again on a replay of the command: destroying is idempotent).
- `POST /queries/reveal` `{"ids": [...]}` (bearer token): the fields of the people the caller may read
  (role table, operation `candidate`, checked here on the person's records: their own account, the
  organisation that registered them, each of their candidacies); an erased person reads as `[erased]`;
  a person out of reach or unknown is left out.
- `POST /queries/search` `{"text": "..."}` (bearer token of a role that may list candidates): the ids of
  the people having every word, from the blind index, that the caller may list (role table, `candidates`).
- `POST /queries/holders` `{"numbers": [...]}` (public, as `verifyCertificate` is): the name of the holder
  of each certificate number, the only field a certificate shows (`holders`; `names`: given and family names apart).
"""

from __future__ import annotations

import functools
import json
import uuid

import anyio
import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse

from shared.commands.candidacy import CorrectCandidate, EraseCandidate, RegisterCandidate
from shared.context import current_caller
from shared.errors import CommandRefused, Forbidden, InvalidInput
from shared.eventstore import CommandOutcome
from shared.identity import TokenVerifier, bearer_token
from shared.personal import ERASED, Vault, seal, unseal, vault_of
from shared.policy import authorize_any, operation

from services.candidacy import catalog_view
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import Candidate, CorrectionFacts, ErasureFacts, RegistrationFacts, UnknownCandidate

PERSONAL_FIELDS = ("given_name", "family_name", "birth_date", "email", "phone", "holder")
MAX_IDS = 1000


def personal_of(command: RegisterCandidate) -> dict:
    return command.model_dump(mode="json", include=set(PERSONAL_FIELDS))


class People:
    def __init__(self, app: CandidacyApplication, pool: asyncpg.Pool):
        self.app = app
        self.pool = pool

    @functools.cached_property
    def vault(self) -> Vault:
        return vault_of(self.app, self.pool)

    # --- the facts of the commands on a person, and what follows their decision (shared/http.py Endpoint) ---

    async def registration(self, command: RegisterCandidate) -> RegistrationFacts:
        """The person's key made, and their fields sealed with it, before the registration is decided."""
        candidate_id, personal = uuid.uuid4(), personal_of(command)
        key = await self.vault.create(str(candidate_id), self.words(personal))  # one round trip, before the save
        return RegistrationFacts(candidate_id, seal(key, str(candidate_id), personal))

    async def after_registration(self, command: RegisterCandidate, facts: RegistrationFacts,
                         outcome: CommandOutcome | None) -> None:
        if outcome is None or outcome.result["id"] != str(facts.candidate_id):
            await self.vault.destroy(str(facts.candidate_id))  # refused, or a replay: no one holds this key

    async def correction(self, command: CorrectCandidate) -> CorrectionFacts:
        candidate = await self._candidate(command.candidate_id)
        personal, fields = "", ()
        if not candidate.erased:  # an erased person: the domain refuses, with its reason
            key = await self.vault.key(str(candidate.id))
            current = unseal(key, str(candidate.id), candidate.personal)
            changes = command.changes()
            fields = tuple(name for name, value in changes.items() if current.get(name) != value)
            personal = seal(key, str(candidate.id), {**current, **changes})
        return CorrectionFacts(personal, fields, seen=tuple(await self.records(candidate)), candidate=candidate)

    async def after_correction(self, command: CorrectCandidate, facts: CorrectionFacts, outcome: CommandOutcome | None) -> None:
        if outcome is not None:
            await self.reindex(command.candidate_id)

    async def erasure(self, command: EraseCandidate) -> ErasureFacts:
        """The erasure is begun in the vault before it is decided (a crash in between is finished at start)."""
        candidate = await self._candidate(command.candidate_id)
        awarded = await anyio.to_thread.run_sync(
            lambda: [c for c in candidate.candidacies if self.app.candidacy(c).awarded])
        held = await catalog_view.certificates_in_force(self.pool, str(candidate.id), awarded)
        seen = tuple(await self.records(candidate))  # whom the caller may read: a refusal says no more
        await self.vault.begin_erasure(str(candidate.id))
        return ErasureFacts(tuple(held), seen, candidate)

    async def after_erasure(self, command: EraseCandidate, facts: ErasureFacts, outcome: CommandOutcome | None) -> None:
        if outcome is None:
            await self.finish_erasure(command.candidate_id)  # refused: nothing recorded, unless erased before
        else:
            await self.vault.destroy(command.candidate_id)

    async def finish_erasure(self, candidate_id: str) -> None:
        """The key destroyed if the person is erased in the store; the erasure forgotten otherwise."""
        try:
            erased = (await self._candidate(candidate_id)).erased
        except UnknownCandidate:
            erased = False
        if erased:
            await self.vault.destroy(candidate_id)
        else:
            await self.vault.abandon_erasure(candidate_id)

    async def finish_erasures(self) -> None:
        """At start: the erasures a crash interrupted between recording them and destroying the key."""
        for candidate_id in await self.vault.erasures_begun():
            await self.finish_erasure(candidate_id)

    async def _candidate(self, candidate_id: str) -> Candidate:
        return await anyio.to_thread.run_sync(self.app.candidate, candidate_id)

    async def records(self, candidate: Candidate):
        codes = await anyio.to_thread.run_sync(
            lambda: {self.app.candidacy(c).certification for c in candidate.candidacies})
        owners = await catalog_view.owners_by_certification(self.pool, sorted(codes))
        presented = await catalog_view.presented_to(self.pool, candidate.candidacies)
        return await anyio.to_thread.run_sync(self.app.candidate_records, candidate, owners, presented)

    async def reindex(self, candidate_id: str) -> None:
        """The person's words in the blind index, from their data as it stands (none once erased)."""
        candidate = await self._candidate(candidate_id)
        if candidate.erased:
            await self.vault.destroy(candidate_id)
            return
        fields = unseal(await self.vault.key(candidate_id), candidate_id, candidate.personal)
        await self.vault.index(candidate_id, self.words(fields))

    def words(self, fields: dict) -> set[str]:
        """What the blind index keeps of a person: their names as words and prefixes, email and birth date."""
        holder = fields.get("holder") or {}
        names = [fields["given_name"], fields["family_name"], holder.get("birth_name") or "",
                 holder.get("usage_name") or "", *(holder.get("first_names") or [])]
        exact = [fields.get("email") or "", fields.get("birth_date") or ""]
        return self.vault.master.index_tokens(names, exact)

    # --- queries ---

    async def reveal(self, ids: list[str]) -> dict[str, dict]:
        """The fields of the people the current caller may read (see the module's docstring)."""
        people: dict[str, dict] = {}
        wanted = await self.readable(ids, "candidate")
        keys = await self.vault.keys(wanted)
        for candidate_id, candidate in wanted.items():
            if candidate.erased or candidate_id not in keys:
                people[candidate_id] = erased()
            else:
                people[candidate_id] = {**dict.fromkeys(PERSONAL_FIELDS),
                                        **unseal(keys[candidate_id], candidate_id, candidate.personal),
                                        "erased": False}
        return people

    async def readable(self, ids: list[str], name: str) -> dict[str, Candidate]:
        """The people among `ids` whom the current caller may read under operation `name` (role table)."""
        found: dict[str, Candidate] = {}
        for candidate_id in dict.fromkeys(ids):
            try:
                candidate = await self._candidate(candidate_id)
                authorize_any(name, await self.records(candidate))
            except (UnknownCandidate, Forbidden):
                continue
            found[str(candidate.id)] = candidate
        return found

    async def holders(self, numbers: list[str]) -> dict[str, str]:
        return {number: f"{n['given_name']} {n['family_name']}" if n else ERASED
                for number, n in (await self.holder_names(numbers)).items()}

    async def holder_names(self, numbers: list[str]) -> dict[str, dict | None]:
        """Each known number's holder's given and family names (as printed on the certificate); None once erased."""
        rows = await self.pool.fetch("SELECT number, candidate_id FROM certificates_held WHERE number = ANY($1::text[])",
                                     numbers)
        revealed = {}
        keys = await self.vault.keys(r["candidate_id"] for r in rows)
        for row in rows:
            candidate = await self._candidate(row["candidate_id"])
            key = keys.get(row["candidate_id"])
            if candidate.erased or key is None:
                revealed[row["number"]] = None
            else:
                fields = unseal(key, row["candidate_id"], candidate.personal)
                revealed[row["number"]] = {"given_name": fields["given_name"], "family_name": fields["family_name"]}
        return revealed


def erased() -> dict:
    return {**dict.fromkeys(PERSONAL_FIELDS), "given_name": ERASED, "family_name": ERASED, "erased": True}


def queries(people: People, verifier: TokenVerifier) -> dict:
    """The service's read endpoints of personal data (POST /queries/<name>)."""

    async def body(request: Request, name: str) -> list[str]:
        try:
            values = json.loads(await request.body())[name]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(f"the body is {{\"{name}\": [...]}}") from None
        if not isinstance(values, list) or len(values) > MAX_IDS or not all(isinstance(v, str) for v in values):
            raise InvalidInput(f"{name}: at most {MAX_IDS} texts")
        return values

    async def caller(request: Request, name: str):
        found = await verifier.verify(bearer_token(request.headers.get("authorization", "")))
        found.acting_as(operation(name).roles, name)  # Forbidden unless a role may read people at all
        current_caller.set(found)
        return found

    async def reveal(request: Request) -> JSONResponse:
        await caller(request, "candidate")
        return JSONResponse({"people": await people.reveal(await body(request, "ids"))})

    async def search(request: Request) -> JSONResponse:
        await caller(request, "candidates")
        try:
            text = json.loads(await request.body())["text"]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput('the body is {"text": "..."}') from None
        if not isinstance(text, str) or len(text) > 200:
            raise InvalidInput("text: at most 200 characters")
        # In the caller's scope here too: a service's port gives no more than the gateway does.
        return JSONResponse({"ids": list(await people.readable(await people.vault.search(text), "candidates"))})

    async def holders(request: Request) -> JSONResponse:
        names = await people.holder_names(await body(request, "numbers"))
        # `names`: the same holders' names in parts (what the jury prints on the certificate's PDF).
        return JSONResponse({"holders": {n: f"{v['given_name']} {v['family_name']}" if v else ERASED
                                         for n, v in names.items()}, "names": names})

    def handled(handler):
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return await handler(request)
            except CommandRefused as refusal:
                return JSONResponse(refusal.as_json(), refusal.status)

        return endpoint

    return {"reveal": handled(reveal), "search": handled(search), "holders": handled(holders)}
