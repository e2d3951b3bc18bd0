"""Batched reads of the documents, within the caller's scope kind by kind: a document of kind K shows where the
caller may read its owner (the candidacy, the session) under K's `read` row of the role table
(shared.documents.KINDS[K].read, shared/roles.toml), in SQL (services/gateway/scopes.py) like every read of people's
data. Reading the bytes is the owning service's decision again (services/gateway/documents.py)."""

from __future__ import annotations

from collections import defaultdict

from strawberry.dataloader import DataLoader

from shared.documents import KINDS
from shared.identity import Caller
from shared.vocabulary import DocumentKind

from services.gateway import scopes
from services.gateway.schema.jury.loaders import grouped
from services.gateway.schema.pagination import Conditions

# The kinds a session holds (no candidacy): the jury's papers. Every other kind belongs to a candidacy.
SESSION_KINDS = (DocumentKind.ATTENDANCE_SHEET, DocumentKind.JURY_MINUTES)
CANDIDACY_KINDS = tuple(k for k in DocumentKind if k not in SESSION_KINDS)
# What a person holds of a certificate: its PDF and its credentials.
CERTIFICATE_KINDS = (DocumentKind.CERTIFICATE_PDF, DocumentKind.CREDENTIAL)


def _by_read_row(kinds) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = defaultdict(list)
    for kind in kinds:
        rows[KINDS[kind].read].append(kind.value)
    return rows


def readable(caller: Caller, kinds, owner_scope, owners: str, owner_column: str) -> tuple[str, list]:
    """The condition on `documents` of the kinds the caller may read on their owners: per read row, the kinds it
    reads and the owners (table `owners`, by `owner_column`) in that row's scope (`owner_scope`, scopes.py)."""
    clauses, values = [], []
    for row, row_kinds in _by_read_row(kinds).items():
        clause, args = owner_scope(caller, row)
        if clause == "FALSE":
            continue
        clauses.append(f"(kind = ANY(?::text[]) AND {owner_column} IN (SELECT id FROM {owners} WHERE {clause}))")
        values += [row_kinds, *args]
    return ("(" + " OR ".join(clauses) + ")", values) if clauses else ("FALSE", [])


def certificates_published(caller: Caller) -> tuple[str, list]:
    """A certificate's PDF and credentials show once its session's results are published, or before to the
    session's jury side (scopes.published); those made before publication existed name no session and show as they
    did."""
    clause, values = scopes.published(caller, KINDS[DocumentKind.CERTIFICATE_PDF].read)
    return (f"(kind <> ALL(?::text[]) OR session_id IS NULL OR {clause})",
            [[kind.value for kind in CERTIFICATE_KINDS], *values])


def documents_loaders(context, db=None) -> dict[str, DataLoader]:
    """`db`: where to read (a past state's replay connection, asof.py); the request's pool by default."""
    db = db if db is not None else context.pool
    order = " ORDER BY kind, version, attached_at, id"

    async def of_candidacies(ids: list[str]) -> list[list]:
        c = Conditions()
        c.add("candidacy_id = ANY(?::uuid[])", ids)
        caller = await context.caller()
        c.add_scope(readable(caller, CANDIDACY_KINDS, scopes.candidacies, "candidacies", "candidacy_id"))
        c.add_scope(certificates_published(caller))
        return _per(ids, await db.fetch(f"SELECT * FROM documents{c.where}{order}", *c.args), "candidacy_id")

    async def of_sessions(ids: list[str]) -> list[list]:
        c = Conditions()
        c.add("session_id = ANY(?::uuid[])", ids)
        c.add("candidacy_id IS NULL")
        c.add_scope(readable(await context.caller(), SESSION_KINDS, scopes.jury_sessions, "jury_sessions",
                             "session_id"))
        return _per(ids, await db.fetch(f"SELECT * FROM documents{c.where}{order}", *c.args), "session_id")

    async def certificate_documents_of_candidates(ids: list[str]) -> list[list]:
        """A person's certificates' PDFs and credentials across their candidacies: those of the candidacies the caller
        may read under the kinds' read row, as `documents` shows them on each candidacy."""
        c = Conditions()
        c.add("candidacy_id IN (SELECT id FROM candidacies WHERE candidate_id = ANY(?::uuid[]))", ids)
        c.add_scope(readable(await context.caller(), CERTIFICATE_KINDS, scopes.candidacies, "candidacies",
                             "candidacy_id"))
        rows = await db.fetch("SELECT d.*, (SELECT candidate_id FROM candidacies WHERE id = d.candidacy_id)"
                              f" AS candidate_id FROM documents d{c.where} ORDER BY attached_at, kind, block"
                              " NULLS FIRST, id", *c.args)
        return _per(ids, rows, "candidate_id")

    # What a step needs is the candidacy's rule: whether the file holds a current paper of the kind, whoever may
    # read it (its kind and version only; the candidacy is in the caller's scope already).
    current = grouped(db, "SELECT candidacy_id, kind FROM documents WHERE {where} AND superseded_by IS NULL"
                          " AND purged_at IS NULL", "candidacy_id")

    return {"documents_of_candidacy": DataLoader(of_candidacies), "documents_of_session": DataLoader(of_sessions),
            "certificate_documents_of_candidate": DataLoader(certificate_documents_of_candidates),
            "current_kinds": DataLoader(current)}


def _per(ids: list[str], rows, key: str) -> list[list]:
    found = defaultdict(list)
    for row in rows:
        found[str(row[key])].append(row)
    return [found[str(i)] for i in ids]
