"""The role table (shared/roles.toml), loaded once, and the check of a caller's rights over a record.

A command is checked in the service that owns the aggregate, in the step that decides it: the service
describes the record (`Record`: its branches, its evaluator, trainer, funders, employer, account) and
`authorize` says whether one of the caller's roles reaches it through its scope; a refusal is Forbidden only
when the caller may read the record, and otherwise what an id naming nothing answers. The gateway turns the
same scopes into SQL (services/gateway/scopes.py). Deny by default.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from shared.context import current_caller
from shared.domain import record_role
from shared.errors import Forbidden, NotFound
from shared.identity import Caller, Role

TABLE = Path(__file__).with_name("roles.toml")
ANYONE = "anyone"  # the pseudo-role of public operations


class Scope(enum.StrEnum):
    ALL = "all"
    PUBLIC = "public"
    OWN_BRANCHES = "own-branches"
    EVALUATED = "evaluated"
    TRAINED = "trained"
    FUNDED = "funded"
    EMPLOYED = "employed"
    REGISTERED = "registered"
    INVITED = "invited"
    SESSIONS = "sessions"
    OWN_RECORD = "own-record"
    OWN_ORGANISATION = "own-organisation"


@dataclass(frozen=True)
class Operation:
    name: str
    service: str
    scopes: dict[str, tuple[Scope, ...]]  # role -> its scopes

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.scopes) - {ANYONE}


@cache
def operations() -> dict[str, Operation]:
    table = tomllib.loads(TABLE.read_text())
    known_scopes = set(table["scopes"])
    assert known_scopes == {s.value for s in Scope}, "roles.toml: the scopes are those of policy.Scope"
    result = {}
    for name, entry in table["operations"].items():
        scopes = {}
        for role, scope in entry.items():
            if role == "service":
                continue
            assert role == ANYONE or role in Role._value2member_map_, f"roles.toml: {name}: unknown role {role}"
            scopes[role] = tuple(Scope(s) for s in ([scope] if isinstance(scope, str) else scope))
        result[name] = Operation(name, entry["service"], scopes)
    return result


def operation(name: str) -> Operation:
    return operations()[name]


@dataclass(frozen=True)
class Record:
    """What a record is to the organisations around it: what a scope is checked against."""

    branches: frozenset[str] = frozenset()  # the branches it belongs to (a certification's owners, …)
    evaluator: str | None = None
    trainer: str | None = None
    employer: str | None = None
    funders: frozenset[str] = frozenset()
    account: str | None = None  # the candidate's own login
    registered_by: str | None = None
    entrusted: frozenset[str] = frozenset()  # organisations the person (or a transfer) entrusted them to
    invited_account: str | None = None  # the login named at registration, until the person confirms it
    presented_to_branches: frozenset[str] = field(default_factory=frozenset)
    organisation: str | None = None  # the organisation acting (an audit trail's events)
    # The role table's query that reads the record, and what the service answers for an id naming nothing:
    # a caller who may not even read the record is refused with that answer, so a refusal never tells
    # whether an id exists (see `authorize`). None: a record anyone may read (the catalog, a certificate).
    read: str | None = None
    unknown: NotFound | None = field(default=None, compare=False)


def reaches(caller: Caller, scope: Scope, record: Record) -> bool:
    organisation = caller.organisation_id
    match scope:
        case Scope.ALL | Scope.PUBLIC:
            return True
        case Scope.OWN_BRANCHES:
            return bool(record.branches & set(caller.branches))
        case Scope.EVALUATED:
            return record.evaluator == organisation
        case Scope.TRAINED:
            return record.trainer == organisation
        case Scope.FUNDED:
            return organisation in record.funders
        case Scope.EMPLOYED:
            return record.employer == organisation
        case Scope.REGISTERED:
            return organisation is not None and (record.registered_by == organisation or organisation in record.entrusted)
        case Scope.INVITED:
            return record.invited_account is not None and record.invited_account == caller.user_id
        case Scope.SESSIONS:
            return bool(record.presented_to_branches & set(caller.branches))
        case Scope.OWN_RECORD:
            return record.account is not None and record.account == caller.user_id
        case Scope.OWN_ORGANISATION:
            return record.organisation is not None and record.organisation == organisation
    return False


def allowing_role(name: str, record: Record, caller: Caller) -> str | None:
    """The first of the caller's roles (in alphabetical order) reaching the record under operation `name`."""
    allowed = operation(name).scopes
    return next((role for role in sorted(caller.roles & set(allowed))
                 if any(reaches(caller, scope, record) for scope in allowed[role])), None)


def allows(name: str, record: Record, caller: Caller) -> bool:
    """Whether one of the caller's roles reaches the record under operation `name`."""
    return allowing_role(name, record, caller) is not None


def authorize(name: str, record: Record, caller: Caller | None = None) -> None:
    """Nothing unless one of the caller's roles reaches the record; else refused (see `authorize_any`)."""
    authorize_any(name, [record], caller)


def authorize_any(name: str, records: list[Record], caller: Caller | None = None,
                  seen: list[Record] | None = None) -> None:
    """Nothing when one of the caller's roles reaches one of the records (a person is reached through any of
    theirs). Else, when the caller may not even read the record (`seen`, by default the records, under their
    `read` query), the answer to an id naming nothing: a refusal names only what the caller may read.
    Else Forbidden, naming the rights that fall short."""
    caller = caller or current_caller.get()
    if caller is None:
        raise Forbidden(f"{name}: no caller")  # a command always runs with one; never allow by default
    for record in records:
        if (role := allowing_role(name, record, caller)) is not None:
            record_role(role)  # what the command records is done in the role that reached the record
            return
    hiding = [r for r in (records if seen is None else seen) if r.read and r.unknown]
    if hiding and not any(allows(r.read, r, caller) for r in hiding):
        raise hiding[0].unknown
    allowed = operation(name).scopes
    rights = sorted(f"{role}: {scope.value}" for role in sorted(caller.roles & set(allowed)) for scope in allowed[role])
    raise Forbidden(f"you may {name} only on records within your scope, and this one is not",
                    operation=name, missing=rights or sorted(f"{r}: {s.value}" for r in allowed for s in allowed[r]))


BEGIN, END = "<!-- role table: generated from shared/roles.toml by `cqp contracts write` -->", "<!-- end of role table -->"


def render(service: str) -> str:
    """The service's part of the role table, as Markdown."""
    scopes = tomllib.loads(TABLE.read_text())["scopes"]
    lines = ["| operation | who may do it, and over which records |", "| --- | --- |"]
    for op in operations().values():
        if op.service == service:
            who = "; ".join(f"{role}: {', '.join(s.value for s in op.scopes[role])}" for role in op.scopes)
            lines.append(f"| `{op.name}` | {who} |")
    used = sorted({s for op in operations().values() if op.service == service for ss in op.scopes.values() for s in ss})
    lines += ["", "Scopes: " + "; ".join(f"**{s.value}**: {scopes[s.value]}" for s in used) + "."]
    return "\n".join(lines)


def with_table(readme: str, service: str) -> str:
    """The README with its role table section rendered anew (added at the end when missing)."""
    section = f"{BEGIN}\n{render(service)}\n{END}"
    if BEGIN in readme and END in readme:
        before, rest = readme.split(BEGIN, 1)
        return before + section + rest.split(END, 1)[1]
    return readme.rstrip("\n") + f"\n\n## Who may do what\n\n{section}\n"
