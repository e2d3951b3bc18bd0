"""Per-request context: database pool, command client, the caller's verified identity. Over a WebSocket
(subscriptions) one context serves the whole connection, its token given in `connection_init`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
import jwt
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader

from shared.errors import Unauthenticated
from shared.identity import INDIVIDUAL, PLATFORM, Caller, TokenVerifier, bearer_token

from services.gateway import querycount
from services.gateway.commands import DATABASE_AWAY, CommandClient, ServiceUnavailable
from services.gateway.live import Changes
from services.gateway.schema.candidacy.loaders import candidacy_loaders
from services.gateway.schema.catalog.loaders import catalog_loaders
from services.gateway.schema.deadlines.loaders import deadlines_loaders
from services.gateway.schema.documents.loaders import documents_loaders
from services.gateway.schema.jury.loaders import jury_loaders
from shared.people import NOBODY, WITHHELD, PeopleClient, Person


@dataclass
class Loaders:
    """Every DataLoader of one request (catalog, jury, candidacy, then the people asked of the services):
    a field each, never a string key."""

    certification: DataLoader
    branch: DataLoader
    organisation: DataLoader
    versions: DataLoader
    accreditations: DataLoader
    evaluations: DataLoader
    decisions_of_candidacy: DataLoader
    decisions_of_session: DataLoader
    certificates_of_candidacy: DataLoader
    presentations: DataLoader
    rosters: DataLoader
    candidacies_of_candidate: DataLoader
    candidate: DataLoader
    certificates_of_candidate: DataLoader
    documents_of_candidacy: DataLoader  # candidacy id → the documents the caller may see (documents/loaders.py)
    documents_of_session: DataLoader  # session id → its papers the caller may see
    certificate_documents_of_candidate: DataLoader  # candidate id → their certificates' PDFs and credentials
    current_kinds: DataLoader  # candidacy id → rows (kind) of its current documents, for its requirements
    person: DataLoader  # candidate id → Person
    members: DataLoader  # session id → {member id: name}
    evaluation_texts: DataLoader  # candidacy id → {event id: {evaluator, evidence}}
    deadlines_of_candidacy: DataLoader  # candidacy id → its deadlines the caller may read (deadlines/loaders.py)
    deadlines_of_session: DataLoader
    notifications_of_candidacy: DataLoader  # candidacy id → the messages sent about it the caller may read
    notifications_of_session: DataLoader


@dataclass
class Context:
    request: HTTPConnection  # a Request, or the WebSocket of a subscription
    pool: asyncpg.Pool
    commands: CommandClient
    verifier: TokenVerifier
    correlation_id: str
    _caller: Caller | None = None
    people: PeopleClient | None = None  # names and contact, asked of the candidacy service (people.py)
    changes: Changes | None = None  # what wakes subscriptions (live.py)
    connection_params: Mapping | None = None  # a WebSocket's `connection_init` payload (strawberry sets it)
    loaders: Loaders = field(init=False)  # they live and die with the request (a subscription: with each push)

    def __post_init__(self):
        self.loaders = request_loaders(self)

    def token(self) -> str:
        if self.connection_params is not None:
            authorization = self.connection_params.get("authorization") or self.connection_params.get("Authorization")
            return bearer_token(authorization if isinstance(authorization, str) else "")
        return bearer_token(self.request.headers.get("authorization", ""))

    def token_expires_at(self) -> float:
        """When the (verified) token expires, in seconds since the epoch: a subscription ends then."""
        return float(jwt.decode(self.token(), options={"verify_signature": False})["exp"])

    async def caller(self) -> Caller:
        """The caller, from the bearer token (verified once per request); mutations need one."""
        if self._caller is None:
            caller = await self.verifier.verify(self.token())
            await self._check_known(caller)
            self._caller = caller
        return self._caller

    async def check_token(self) -> None:
        """The token verified again (its account still enabled and signed in): before each push of a
        subscription, whose caller was verified once, at `connection_init`."""
        await self.verifier.verify(self.token())

    async def _check_known(self, caller: Caller) -> None:
        """A token naming an organisation or branch that the catalog does not know acts for nobody."""
        try:
            known = await self._known(caller)
        except DATABASE_AWAY as error:
            # Before any command is sent: nothing happened, and the driver's text says nothing to the caller.
            raise ServiceUnavailable("the gateway's database is unavailable: nothing was done; try again shortly",
                                     reason=type(error).__name__) from None
        if not known["organisation"]:
            raise Unauthenticated("the token's organisation is not known to the catalog",
                                  organisation=caller.organisation_id)
        if known["branches"] != len(caller.branches):
            raise Unauthenticated("a branch of the token is not known to the catalog", branches=list(caller.branches))

    async def _known(self, caller: Caller):
        return await self.pool.fetchrow(
            """
            SELECT $1 = ANY($3::text[])
                   OR EXISTS (SELECT 1 FROM branches WHERE code = $1)
                   OR EXISTS (SELECT 1 FROM organisations WHERE id::text = $1) AS organisation,
                   (SELECT count(*) FROM branches WHERE code = ANY($2::text[])) AS branches
            """,
            caller.organisation_id, list(caller.branches), [PLATFORM, INDIVIDUAL],
        )

    async def people_of(self, ids) -> dict[str, Person]:
        """The people of these candidate ids, as the candidacy service shows them to the caller."""
        if not ids:
            return {}
        querycount.people_call()
        return await self.people.reveal([str(i) for i in ids], self.token())

    async def person(self, candidate_id) -> Person:
        """One person, batched with the others the same request asks for (one call per batch)."""
        return await self.loaders.person.load(str(candidate_id))

    async def member_name(self, session_id, member_id) -> str:
        """A jury member's name, the sessions of one request asked of the jury service in one call."""
        return (await self.loaders.members.load(str(session_id))).get(str(member_id), WITHHELD)

    async def evaluation_text(self, candidacy_id, event_id) -> dict[str, str]:
        """An evaluation's evaluator and evidence, the candidacies of one request asked of the jury service in
        one call (it answers only those the caller may read; the others read as withheld)."""
        texts = await self.loaders.evaluation_texts.load(str(candidacy_id))
        return texts.get(str(event_id)) or {"evaluator": WITHHELD, "evidence": WITHHELD}

    async def send(self, service: str, command: str, body: dict, idempotency_key: str) -> dict:
        await self.caller()
        return await self.commands.send(service, command, body, self.token(), idempotency_key, self.correlation_id)


def request_loaders(context: Context) -> Loaders:
    """Every DataLoader of one request, made when its context is (fresh ones for each push of a subscription)."""
    async def people(ids: list[str]) -> list[Person]:
        found = await context.people_of(ids)
        return [found.get(i, NOBODY) for i in ids]

    async def members(sessions: list[str]) -> list[dict[str, str]]:
        found = await context.people.members(sessions, context.token())
        return [found.get(s, {}) for s in sessions]

    async def evaluation_texts(candidacies: list[str]) -> list[dict[str, dict[str, str]]]:
        querycount.people_call()
        found = await context.people.evaluations(candidacies, context.token())
        return [found.get(c, {}) for c in candidacies]

    return Loaders(**catalog_loaders(context.pool), **jury_loaders(context.pool, context.people_of, context.caller),
                   **candidacy_loaders(context), **documents_loaders(context), person=DataLoader(people), members=DataLoader(members),
                   evaluation_texts=DataLoader(evaluation_texts), **deadlines_loaders(context))


def new_correlation_id(request: HTTPConnection) -> str:
    return request.headers.get("x-correlation-id", "")[:100] or str(uuid.uuid4())
