"""The audit: an aggregate's history and an actor's trail, read from `audit_log` (every event of every
topic, as published), each entry with a one-line summary an auditor can read.

A candidacy's history is more than its own events: the jury records evaluations, presentations,
decisions and certificates about it on its own aggregates (a dossier, a session, a certificate), each
naming the candidacy in its payload; they belong to the candidacy's story and are read with it.

Summaries are built from the payload alone and never show personal data: sealed fields (`personal`)
are never opened here, and free text typed by people (reasons, evidence, evaluators' names) is left
out; the entry's payload still carries it for whoever may read the aggregate.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg

from shared.identity import Caller
from shared.vocabulary import AggregateKind

from services.gateway import scopes

# The first event of each aggregate the audit knows, and what it makes the aggregate.
FIRST_EVENTS = {
    "CertificationCreated": AggregateKind.CERTIFICATION,
    "OrganisationRegistered": AggregateKind.ORGANISATION,
    "CandidateRegistered": AggregateKind.CANDIDATE,
    "CandidacyOpened": AggregateKind.CANDIDACY,
    "JurySessionScheduled": AggregateKind.JURY_SESSION,
}

# Who may read each kind's history (role table) and its read-model table for the scope check.
_READ = {
    AggregateKind.CANDIDACY: ("candidacyHistory", "candidacies", scopes.candidacies),
    AggregateKind.CANDIDATE: ("candidateHistory", "candidates", scopes.candidates),
    AggregateKind.JURY_SESSION: ("jurySessionHistory", "jury_sessions", scopes.jury_sessions),
    AggregateKind.CERTIFICATION: ("certificationHistory", "certifications", scopes.certifications),
    AggregateKind.ORGANISATION: ("organisationHistory", "organisations", scopes.organisations),
}

# The rows of an aggregate's history ($1: its id). A candidacy's takes the jury's events naming it (not its
# deadlines': they are the engine's, about it, read as `Candidacy.deadlines`), and every event of the
# certificates issued on it (a revocation names only the number).
_OWN = "a.aggregate_id = $1::uuid"
_CANDIDACY = (
    "(a.aggregate_id = $1::uuid"
    " OR (a.producer = 'jury' AND a.payload ->> 'candidacy_id' = $1::text AND a.type NOT LIKE 'Deadline%')"
    " OR a.aggregate_id IN (SELECT i.aggregate_id FROM audit_log i WHERE i.type = 'CertificateIssued'"
    " AND i.payload ->> 'candidacy_id' = $1::text))"
)


@dataclass(frozen=True)
class Entry:
    event_id: str
    producer: str
    type: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    actor: dict
    correlation_id: str
    causation_id: str
    payload: dict

    @property
    def summary(self) -> str:
        return summary(self.type, self.payload)

    @classmethod
    def from_row(cls, r) -> Entry:
        return cls(event_id=str(r["event_id"]), producer=r["producer"], type=r["type"],
                   aggregate_id=str(r["aggregate_id"]), aggregate_version=r["aggregate_version"],
                   occurred_at=r["occurred_at"], actor=json.loads(r["actor"]), correlation_id=r["correlation_id"],
                   causation_id=r["causation_id"], payload=without_sealed(json.loads(r["payload"])))


def without_sealed(payload: dict) -> dict:
    """A sealed field is noise to a reader (and only its owning service opens it): its place is shown."""
    return {k: ("[sealed]" if k == "personal" else v) for k, v in payload.items()}


def _uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


async def kind_of(pool: asyncpg.Pool, aggregate_id: str) -> AggregateKind | None:
    """What the aggregate is, from its first event (None: unknown, or not an aggregate the audit shows)."""
    first = await pool.fetchval("SELECT type FROM audit_log WHERE aggregate_id = $1::uuid"
                                " ORDER BY aggregate_version LIMIT 1", aggregate_id)
    return FIRST_EVENTS.get(first)


async def may_read(pool: asyncpg.Pool, caller: Caller, kind: AggregateKind, aggregate_id: str) -> bool:
    """The caller's role reaches the aggregate (the SQL scopes of its kind's history row)."""
    operation, table, scope = _READ[kind]
    clause, values = scope(caller, operation)
    placeholders = clause
    for n in range(len(values)):
        placeholders = placeholders.replace("?", f"${n + 2}", 1)
    return bool(await pool.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1::uuid AND {placeholders})", aggregate_id, *values))


def events_of(kind: AggregateKind) -> str:
    """The condition on `audit_log a` naming the events of the aggregate $1's history (a candidacy's: the
    jury's about it too); the past states replay the same events."""
    return _CANDIDACY if kind == AggregateKind.CANDIDACY else _OWN


async def entries(pool: asyncpg.Pool, kind: AggregateKind, aggregate_id: str,
                  as_of: datetime | None = None, caller: Caller | None = None) -> list[Entry]:
    """Its history, oldest first (up to `as_of` when given); no scope check of the aggregate: `may_read`
    first. With a caller, an organisation's events are filtered one by one: a branch reads only its part."""
    where = events_of(kind)
    args: list = [aggregate_id, as_of]
    if caller is not None and kind == AggregateKind.ORGANISATION:
        clause, values = scopes.organisation_events(caller)
        for value in values:
            args.append(value)
            clause = clause.replace("?", f"${len(args)}", 1)
        where = f"{where} AND {clause}"
    rows = await pool.fetch(
        f"SELECT a.* FROM audit_log a WHERE {where} AND ($2::timestamptz IS NULL OR a.occurred_at <= $2)"
        " ORDER BY a.occurred_at, a.aggregate_version, a.event_id", *args)
    return [Entry.from_row(r) for r in rows]


async def history(pool: asyncpg.Pool, caller: Caller, aggregate_id: str) -> tuple[AggregateKind, list[Entry]] | None:
    """The aggregate's kind and history, or None when it is unknown or out of the caller's reach (the same
    answer: no one learns that a record they may not read exists)."""
    if (aggregate_id := _uuid(aggregate_id)) is None or (kind := await kind_of(pool, aggregate_id)) is None:
        return None
    if not await may_read(pool, caller, kind, aggregate_id):
        return None
    return kind, await entries(pool, kind, aggregate_id, caller=caller)


# --- the trail of an organisation or a user, keyset-paginated -----------------------------------------


class BadCursor(ValueError):
    pass


def instant(value: datetime) -> datetime | None:
    """The instant in UTC, or None when it has no offset or its UTC time falls outside years 1 to 9999
    (0001-01-01T00:00+14:00 is in year 0): PostgreSQL would refuse it with an untyped error."""
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        return None


def cursor(entry: Entry) -> str:
    """Where a page ends: (occurred_at, event_id), the order's unique key, so pages stay put when events
    are recorded between them."""
    return base64.urlsafe_b64encode(json.dumps([entry.occurred_at.isoformat(), entry.event_id]).encode()).decode()


def parse_cursor(text: str) -> tuple[datetime, str]:
    try:
        at, event_id = json.loads(base64.urlsafe_b64decode(text.encode()))
        at, event_id = instant(datetime.fromisoformat(at)), str(uuid.UUID(event_id))
    except (ValueError, TypeError, AttributeError, RecursionError):  # RecursionError: JSON nested deep
        at = None
    if at is None:  # ours always carry an instant PostgreSQL stored, with its offset
        raise BadCursor("this cursor was not given by this API")
    return at, event_id


async def trail(pool: asyncpg.Pool, caller: Caller, start: datetime, end: datetime, organisation: str | None,
                user: str | None, newest_first: bool, first: int, after: str | None) -> tuple[list[Entry], bool]:
    """One page of the events recorded in [start, end] by that organisation or user (both: by that user
    for that organisation), within the caller's scope; and whether more follow."""
    args: list = [start, end]
    clauses = ["a.occurred_at >= $1", "a.occurred_at <= $2"]

    def add(clause: str, *values) -> None:
        for value in values:
            args.append(value)
            clause = clause.replace("?", f"${len(args)}", 1)
        clauses.append(clause)

    if organisation:
        add("a.actor ->> 'organisation_id' = ?", organisation)
    if user:
        add("a.actor ->> 'user_id' = ?", user)
    if after:
        at, event_id = parse_cursor(after)
        add(f"(a.occurred_at, a.event_id) {'<' if newest_first else '>'} (?, ?::uuid)", at, event_id)
    clause, values = scopes.audit_events(caller)
    add(clause, *values)
    direction = "DESC" if newest_first else "ASC"
    rows = await pool.fetch(
        f"SELECT a.* FROM audit_log a WHERE {' AND '.join(clauses)}"
        f" ORDER BY a.occurred_at {direction}, a.event_id {direction} LIMIT {first + 1}", *args)
    found = [Entry.from_row(r) for r in rows]
    return found[:first], len(found) > first


# --- summaries ----------------------------------------------------------------------------------------


def _list(values) -> str:
    return ", ".join(str(v) for v in values) if values else "none"


def _lower(word) -> str:
    return str(word).lower().replace("_", " ")


def _blocks(blocks) -> str:
    """Blocks as a list of codes, or a mapping of codes to states."""
    if isinstance(blocks, dict):
        return ", ".join(f"{code} {_lower(state)}" for code, state in blocks.items()) or "none"
    return _list(b["block"] if isinstance(b, dict) else b for b in blocks or [])


_SUMMARIES = {
    # catalog
    "BranchCreated": lambda p: f"Branch {p['code']} created ({p['name']})",
    "OrganisationRegistered": lambda p: f"Organisation {p['name']} registered ({_list(_lower(k) for k in p['kinds'])})",
    "OrganisationAccredited": lambda p: (f"Accredited by {p['branch']} for {_lower(p['scope'])} of "
                                         f"{_list(p['certifications'])} from {p['valid_from']}"
                                         + (f" until {p['valid_until']}" if p.get("valid_until") else "")),
    "AccreditationWithdrawn": lambda p: f"Accreditation {p['accreditation_id']} withdrawn on {p['on']}",
    "CertificationCreated": lambda p: f"{p['kind']} {p['code']} created, owned by {_list(p['owners'])}",
    "CertificationRetitled": lambda p: f"{p['code']} retitled",
    "CertificationOwnersChanged": lambda p: f"{p['code']} now owned by {_list(p['owners'])}",
    "ReferentialVersionPublished": lambda p: (f"{p['code']} version {p['version']} published, "
                                              f"{len(p['blocks'])} blocks, effective {p['effective_from']}"),
    "RegistrationRecorded": lambda p: (f"{p['code']} registered in the {p['registration']['registry']} as "
                                       f"{p['registration']['number']}"
                                       + (f" until {p['registration']['end_date']}"
                                          if p["registration"].get("end_date") else "")),
    "CertifiersRecorded": lambda p: f"{p['code']}: {len(p['certifiers'])} certifiers recorded",
    "SuccessionRecorded": lambda p: (f"{p['code']}: predecessors {_list(p['predecessors'])}, "
                                     f"successors {_list(p['successors'])}"),
    "BlockEquivalencesRecorded": lambda p: f"{p['code']}: {len(p['equivalences'])} block equivalences recorded",
    # candidacy
    "CandidateRegistered": lambda p: f"Candidate registered ({_lower(p['status'])})",
    "CandidateAccountConfirmed": lambda p: "Login confirmed by the person, signed in as it",
    "CandidateEntrusted": lambda p: ("Record entrusted to another organisation by the person" if p["by"] == "person"
                                     else "Record handed on with the transfer of the candidacy"),
    "CandidateCorrected": lambda p: f"Candidate's data corrected: {_list(_lower(f) for f in p['fields'])}",
    "CandidateErased": lambda p: "Candidate erased on their request",
    "CandidacyOpened": lambda p: (f"Candidacy opened for {p['certification']} version {p['version']} by "
                                  f"{_lower(p['route']).replace('vae', 'VAE')}, {len(p['blocks'])} blocks"),
    "EligibilityConfirmed": lambda p: f"Eligibility confirmed on {p['on']}",
    "ExperienceDeclared": lambda p: f"Experience declared: {p['months']} months over {p['periods']} periods",
    "CandidacyPositioned": lambda p: f"Positioned: {_blocks(p['blocks'])}",
    "PathSet": lambda p: f"Path set for {_blocks(p['blocks'])}",
    "FundingRequested": lambda p: f"Funding of {p['amount']} requested from {_lower(p['funder'])}",
    "FundingDecided": lambda p: (f"Funding granted: {p['granted_amount']}" if p["granted"] else "Funding refused"),
    "AdmissibilityFiled": lambda p: "Admissibility file (Livret 1) filed",
    "AdmissibilityDecided": lambda p: "Declared admissible" if p["admissible"] else "Declared inadmissible",
    "ValidationFileSubmitted": lambda p: "Validation file (Livret 2) submitted",
    "CandidacyTransferred": lambda p: f"Transferred to evaluator {p['to_evaluator_id']}",
    "CandidacyWithdrawn": lambda p: "Candidacy withdrawn",
    "CandidacyClosed": lambda p: "Candidacy closed",
    # jury
    "BlockValidated": lambda p: (f"Block {p['block']} validated on {p['validated_on']} ({_lower(p['modality'])})"
                                 + (f", valid until {p['valid_until']}" if p.get("valid_until") else "")),
    "BlockNotValidated": lambda p: f"Block {p['block']} not validated on {p['evaluated_on']} ({_lower(p['modality'])})",
    "JurySessionScheduled": lambda p: (f"Jury session of {p['branch']} scheduled on {p['on']} for "
                                       f"{_list(p['certifications'])}, capacity {p['capacity']}"),
    "JuryMemberAppointed": lambda p: f"Jury member appointed: {_lower(p['role'])}, {_lower(p['college'])} college",
    "CandidacyPresented": lambda p: f"Presented to jury session {p['session_id']}: {_blocks(p['blocks'])}",
    "JuryDecided": lambda p: (f"Jury decided {_lower(p['decision'])} on {p['decided_on']}, blocks acquired: "
                              f"{_list(p['blocks_acquired'])} ({len(p['members_present'])} members present)"),
    "DecisionCorrected": lambda p: f"Decision corrected from {_lower(p['previous'])} to {_lower(p['decision'])}",
    "CertificateIssued": lambda p: f"{_lower(p['kind']).capitalize()} {p['number']} issued for {p['certification']}",
    "CertificateRevoked": lambda p: f"Certificate {p['number']} revoked on {p['revoked_on']}",
    "HolderDeclarationChanged": lambda p: f"Holder declaration of {p['number']} {_lower(p['state'])}",
    # documents, in both services (the file's name stays sealed with its person's key)
    "DocumentAttached": lambda p: (f"{_document(p)} attached, version {p['version']} ({p['media_type']}, {p['size']}"
                                   " bytes)" + (f", superseding {p['supersedes']}" if p.get("supersedes") else "")),
    "DocumentRead": lambda p: f"Document {p['document_id']} read",
    "DocumentPurged": lambda p: f"Document {p['document_id']} purged, its keeping period ended by {p['kept_until']}",
}


def _document(payload: dict) -> str:
    kind = _lower(payload["kind"]).replace("livret 1 support", "Livret 1 supporting document").replace("livret", "Livret")
    return kind[0].upper() + kind[1:] + (f" for block {payload['block']}" if payload.get("block") else "")


def summary(type_: str, payload: dict) -> str:
    """One line in English saying what happened, from the payload, with no personal data."""
    build = _SUMMARIES.get(type_)
    if build is None:
        return type_
    try:
        return build(payload)
    except (KeyError, TypeError, AttributeError):
        return type_  # an older or newer payload than this code knows: its type still says what happened
