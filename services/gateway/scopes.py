"""The role table's scopes as SQL: every read of people's data is filtered in the database by what the
caller may see (never after fetching), so counts agree with pages and a record out of scope reads as
not found. The services check commands against the same table (shared/policy.py).

Each function returns a condition with `?` placeholders and its values, for `Conditions.add`.
"""

from __future__ import annotations

from shared.identity import Caller
from shared.policy import Scope, operation

Clause = tuple[str, list]


def _scopes(caller: Caller, name: str) -> set[Scope]:
    allowed = operation(name).scopes
    return {scope for role in caller.roles & set(allowed) for scope in allowed[role]}


def _any(clauses: list[Clause]) -> Clause:
    if not clauses:
        return "FALSE", []
    return "(" + " OR ".join(c for c, _ in clauses) + ")", [v for _, values in clauses for v in values]


def candidacies(caller: Caller, name: str = "candidacies") -> Clause:
    """The candidacies (table `candidacies`) the caller may read."""
    org, branches = caller.organisation_id, list(caller.branches)
    by_scope: dict[Scope, Clause] = {
        Scope.ALL: ("TRUE", []),
        Scope.OWN_BRANCHES: ("certification IN (SELECT code FROM certifications WHERE owners && ?::text[])",
                             [branches]),
        Scope.EVALUATED: ("evaluator_id = ?", [org]),
        Scope.TRAINED: ("trainer_id = ?", [org]),
        Scope.EMPLOYED: ("employer_id = ?", [org]),
        Scope.FUNDED: ("EXISTS (SELECT 1 FROM jsonb_each(fundings) f WHERE f.value ->> 'funder_id' = ?)", [org]),
        Scope.SESSIONS: ("id IN (SELECT p.candidacy_id FROM jury_presentations p JOIN jury_sessions s"
                         " ON s.id = p.session_id WHERE s.branch = ANY(?::text[]))", [branches]),
        Scope.OWN_RECORD: ("candidate_id IN (SELECT id FROM candidates WHERE account = ?)", [caller.user_id]),
    }
    return _any([by_scope[s] for s in sorted(_scopes(caller, name)) if s in by_scope])


def candidates(caller: Caller, name: str = "candidate") -> Clause:
    """The candidates (table `candidates`) the caller may read through the operation `name`: through a
    candidacy it may read, as the organisation that registered them, or their own record."""
    scopes = _scopes(caller, name)
    clauses: list[Clause] = []
    if Scope.ALL in scopes:
        clauses.append(("TRUE", []))
    if Scope.REGISTERED in scopes:
        clauses.append(("(registered_by = ? OR ? = ANY(entrusted))", [caller.organisation_id] * 2))
    if Scope.INVITED in scopes:
        clauses.append(("invited_account = ?", [caller.user_id]))
    if Scope.OWN_RECORD in scopes:
        clauses.append(("account = ?", [caller.user_id]))
    through, values = candidacies(caller, name)
    if through != "FALSE":
        clauses.append((f"id IN (SELECT candidate_id FROM candidacies WHERE {through})", values))
    return _any(clauses)


def jury_sessions(caller: Caller, name: str = "jurySessions") -> Clause:
    """The jury sessions (table `jury_sessions`) the caller may read through the operation `name`."""
    scopes = _scopes(caller, name)
    clauses: list[Clause] = []
    if Scope.ALL in scopes:
        clauses.append(("TRUE", []))
    if Scope.OWN_BRANCHES in scopes:
        clauses.append(("branch = ANY(?::text[])", [list(caller.branches)]))
    return _any(clauses)


def published(caller: Caller, name: str, column: str = "session_id") -> Clause:
    """The rows of a session's results (its decisions, certificates and their PDFs: by their session, `column`) the
    caller may see under the operation `name`: a published session's; before publication, only to its branch's jury
    side, the roles reaching the record through the branch (own-branches, sessions), never to the candidate nor to
    their organisations. A past state reads today's publication (its replay copies it, candidacy/queries.py)."""
    scopes = _scopes(caller, name)
    if Scope.ALL in scopes:
        return "TRUE", []
    if scopes & {Scope.OWN_BRANCHES, Scope.SESSIONS}:
        return (f"{column} IN (SELECT id FROM jury_sessions WHERE published_at IS NOT NULL"
                " OR branch = ANY(?::text[]))", [list(caller.branches)])
    return f"{column} IN (SELECT id FROM jury_sessions WHERE published_at IS NOT NULL)", []


def certifications(caller: Caller, name: str) -> Clause:
    """The certifications (table `certifications`) the caller may read through `name` (their history: the
    catalog itself is public)."""
    scopes = _scopes(caller, name)
    clauses: list[Clause] = []
    if Scope.ALL in scopes:
        clauses.append(("TRUE", []))
    if Scope.OWN_BRANCHES in scopes:
        clauses.append(("owners && ?::text[]", [list(caller.branches)]))
    return _any(clauses)


def organisations(caller: Caller, name: str) -> Clause:
    """The organisations (table `organisations`) the caller may read through `name`: accredited by one of its
    branches, or its own."""
    scopes = _scopes(caller, name)
    clauses: list[Clause] = []
    if Scope.ALL in scopes:
        clauses.append(("TRUE", []))
    if Scope.OWN_BRANCHES in scopes:
        clauses.append(("id IN (SELECT organisation_id FROM accreditations WHERE branch = ANY(?::text[]))",
                        [list(caller.branches)]))
    if Scope.OWN_ORGANISATION in scopes:
        clauses.append(("id::text = ?", [caller.organisation_id]))
    return _any(clauses)


def audit_events(caller: Caller, name: str = "auditTrail") -> Clause:
    """The events (table `audit_log`, as `a`) the caller may read in an audit trail: every one, those about
    the aggregates of its branches (the branches owning the certification concerned, accrediting the
    organisation, holding the session), or those its own organisation recorded."""
    scopes = _scopes(caller, name)
    clauses: list[Clause] = []
    if Scope.ALL in scopes:
        clauses.append(("TRUE", []))
    if Scope.OWN_BRANCHES in scopes:
        b = list(caller.branches)
        owned = "SELECT code FROM certifications WHERE owners && ?::text[]"
        clauses.append((
            "(a.aggregate_id IN (SELECT id FROM certifications WHERE owners && ?::text[])"
            " OR (a.type = 'BranchCreated' AND a.payload ->> 'code' = ANY(?::text[]))"
            f" OR {_BRANCH_ORGANISATION_EVENTS}"
            " OR a.aggregate_id IN (SELECT id FROM jury_sessions WHERE branch = ANY(?::text[]))"
            f" OR a.aggregate_id IN (SELECT id FROM candidacies WHERE certification IN ({owned}))"
            f" OR a.aggregate_id IN (SELECT candidate_id FROM candidacies WHERE certification IN ({owned}))"
            f" OR a.payload ->> 'certification' IN ({owned})"
            f" OR a.payload ->> 'number' IN (SELECT number FROM certificates WHERE certification IN ({owned})))",
            [b, b, b, b, b, b, b, b, b, b]))
    if Scope.OWN_ORGANISATION in scopes:
        clauses.append(("a.actor ->> 'organisation_id' = ?", [caller.organisation_id]))
    return _any(clauses)


# The events of an organisation its accrediting branches (3 × `?`: their codes) may read: its registration
# and their own accreditations of it, granted or withdrawn; never another branch's (nor its actors).
_BRANCH_ORGANISATION_EVENTS = (
    "(a.aggregate_id IN (SELECT organisation_id FROM accreditations WHERE branch = ANY(?::text[]))"
    " AND (a.type = 'OrganisationRegistered'"
    " OR (a.type = 'OrganisationAccredited' AND a.payload ->> 'branch' = ANY(?::text[]))"
    " OR (a.type = 'AccreditationWithdrawn' AND a.payload ->> 'accreditation_id' IN"
    " (SELECT id::text FROM accreditations WHERE branch = ANY(?::text[])))))")


def organisation_events(caller: Caller, name: str = "organisationHistory") -> Clause:
    """The events (table `audit_log`, as `a`) of an organisation's history the caller may read, event by
    event: all of them to the platform and to the organisation itself, to a branch only its part."""
    scopes = _scopes(caller, name)
    clauses: list[Clause] = []
    if Scope.ALL in scopes:
        clauses.append(("TRUE", []))
    if Scope.OWN_BRANCHES in scopes:
        clauses.append((_BRANCH_ORGANISATION_EVENTS, [list(caller.branches)] * 3))
    if Scope.OWN_ORGANISATION in scopes:
        clauses.append(("a.aggregate_id::text = ?", [caller.organisation_id]))
    return _any(clauses)


def notifications(caller: Caller) -> Clause:
    """The messages sent (table `notifications`) the caller may read: as the record each is about (`deadlines`)."""
    return deadlines(caller, "deadlines", award_published=False)


def deadlines(caller: Caller, name: str = "deadlines", award_published: bool = True) -> Clause:
    """The deadlines (table `deadlines`) the caller may read under the row `name`, each as the record it is about:
    one about a candidacy where the row reaches the candidacy (an award's declaration only once its session's
    results are published, as its certificate: it would tell the outcome); one about a session alone where it
    reaches the session; one about neither (a registration's or an accreditation's end) by its branch."""
    through, cv = candidacies(caller, name)
    session, sv = jury_sessions(caller, name)
    clauses: list[Clause] = []
    if through != "FALSE":
        clause = f"candidacy_id IN (SELECT id FROM candidacies WHERE {through})"
        if award_published:
            shown, pv = published(caller, name, "coalesce(session_id, (SELECT c.session_id FROM certificates c"
                                               " WHERE c.number = subject))")
            clause, cv = f"({clause} AND (kind <> 'HOLDER_DECLARATION' OR {shown}))", [*cv, *pv]
        clauses.append((clause, cv))
    if session != "FALSE":
        clauses.append((f"(candidacy_id IS NULL AND session_id IN (SELECT id FROM jury_sessions WHERE {session}))", sv))
    scopes = _scopes(caller, name)
    if Scope.ALL in scopes:
        clauses.append(("(candidacy_id IS NULL AND session_id IS NULL)", []))
    elif Scope.OWN_BRANCHES in scopes:
        clauses.append(("(candidacy_id IS NULL AND session_id IS NULL AND branch = ANY(?::text[]))",
                        [list(caller.branches)]))
    return _any(clauses)
