"""Jury members' names (and the address their convocation goes to, when given), owned here: sealed with each
member's own key (shared/personal.py), kept in this
service's `personal_keys`, revealed only to callers who may read the session.

- `appoint-member` makes the member's key, seals their name with it, then records the appointment: the
  stored event and `JuryMemberAppointed` carry the ciphertext only, and the gateway keeps no name.
- `POST /queries/members` `{"sessions": [...]}` (bearer token): for each session the caller may read
  (role table, operation `jurySession`, on the session's branch), its members' names; a member whose key
  was destroyed reads as `[erased]`.
"""

from __future__ import annotations

import functools
import json
import uuid

import anyio
import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse

from shared.commands.jury import AppointMember
from shared.context import current_caller
from shared.errors import CommandRefused, Forbidden, InvalidInput
from shared.eventstore import CommandOutcome
from shared.identity import TokenVerifier, bearer_token
from shared.personal import ERASED, Vault, seal, unseal, vault_of
from shared.policy import Record, authorize, operation

from services.jury.application import JuryApplication
from services.jury.domain import AppointmentFacts, UnknownSession

MAX_SESSIONS = 100


class Members:
    def __init__(self, app: JuryApplication, pool: asyncpg.Pool):
        self.app = app
        self.pool = pool

    @functools.cached_property
    def vault(self) -> Vault:
        return vault_of(self.app, self.pool)

    # --- the facts of an appointment, and what follows its decision (shared/http.py Endpoint) ---

    async def appointment(self, command: AppointMember) -> AppointmentFacts:
        """The member's key made, and their name sealed with it, before the appointment is decided."""
        member_id = str(uuid.uuid4())
        personal = {"name": command.name, **({"email": command.email} if command.email else {})}
        return AppointmentFacts(member_id, seal(await self.vault.create(member_id), member_id, personal))

    async def after_appointment(self, command: AppointMember, facts: AppointmentFacts,
                                outcome: CommandOutcome | None) -> None:
        if outcome is None or outcome.result.get("member_id") != facts.member_id:
            await self.vault.destroy(facts.member_id)  # refused, or a replay: no one holds this key

    async def names(self, session_ids: list[str]) -> dict[str, dict[str, str]]:
        """Each session the current caller may read → its members' names."""
        answer: dict[str, dict[str, str]] = {}
        for session_id in dict.fromkeys(session_ids):
            try:
                session = await anyio.to_thread.run_sync(self.app.session, session_id)
                authorize("jurySession", Record(branches=frozenset({session.branch})))
            except (UnknownSession, Forbidden):
                continue
            keys = await self.vault.keys(session.members)
            names = {}
            for member_id, member in session.members.items():
                if member.get("personal") is None:
                    names[member_id] = member.get("name") or ERASED
                elif member_id in keys:
                    names[member_id] = unseal(keys[member_id], member_id, member["personal"])["name"]
                else:
                    names[member_id] = ERASED
            answer[str(session.id)] = names
        return answer


def queries(members: Members, verifier: TokenVerifier) -> dict:
    async def names(request: Request) -> JSONResponse:
        try:
            caller = await verifier.verify(bearer_token(request.headers.get("authorization", "")))
            caller.acting_as(operation("jurySession").roles, "jurySession")
            current_caller.set(caller)
            try:
                sessions = json.loads(await request.body())["sessions"]
            except (ValueError, KeyError, TypeError):
                raise InvalidInput('the body is {"sessions": [...]}') from None
            if not isinstance(sessions, list) or len(sessions) > MAX_SESSIONS or \
                    not all(isinstance(s, str) for s in sessions):
                raise InvalidInput(f"sessions: at most {MAX_SESSIONS} ids")
            return JSONResponse({"sessions": await members.names(sessions)})
        except CommandRefused as refusal:
            return JSONResponse(refusal.as_json(), refusal.status)

    return {"members": names}
