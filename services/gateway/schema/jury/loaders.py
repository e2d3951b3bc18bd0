"""Batched reads of the jury's read models, one set of DataLoaders per request: a page of candidacies
or sessions reads their evaluations, decisions, certificates, presentations and rosters in one statement
per kind, whatever the page size (instead of one per parent)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable

import asyncpg
from strawberry.dataloader import DataLoader

from services.gateway import scopes
from services.gateway.reports.roster import rosters
from services.gateway.schema.pagination import Conditions


def grouped(pool: asyncpg.Pool, sql: str, key: str, cast: str = "uuid") -> Callable[[list[str]], Awaitable[list]]:
    """A batch function: the rows of `sql` (filtered by `key` = ANY of the ids) grouped by `key`, in the
    order of `sql`, one list per id asked."""
    async def load(ids: list[str]) -> list[list]:
        rows = await pool.fetch(sql.format(where=f"{key} = ANY($1::{cast}[])"), ids)
        by_key = defaultdict(list)
        for row in rows:
            by_key[str(row[key])].append(row)
        return [by_key[str(i)] for i in ids]

    return load


def results(pool: asyncpg.Pool, sql: str, key: str, caller, name: str) -> Callable[[list[str]], Awaitable[list]]:
    """As `grouped`, of a session's results (decisions, certificates): those the caller (`caller()`, the request's)
    may see under `name` before or after their session's publication (scopes.published)."""
    async def load(ids: list[str]) -> list[list]:
        c = Conditions()
        c.add(f"{key} = ANY(?::uuid[])", ids)
        c.add_scope(scopes.published(await caller(), name))
        rows = await pool.fetch(sql.format(where=" AND ".join(c.clauses)), *c.args)
        by_key = defaultdict(list)
        for row in rows:
            by_key[str(row[key])].append(row)
        return [by_key[str(i)] for i in ids]

    return load


def jury_loaders(pool: asyncpg.Pool, people, caller=None) -> dict[str, DataLoader]:
    """`people`: the request's batched reveal of names (Context.people_of), for the rosters. `caller`: the request's
    (Context.caller), whose reach over a session's results before publication filters a candidacy's decisions
    and certificates (none: a session's own, read by its jury side only)."""
    def of_candidacy(sql: str):
        if caller is None:
            return grouped(pool, sql, "candidacy_id")
        return results(pool, sql, "candidacy_id", caller, "candidacy")

    async def session_rosters(ids: list[str]):
        found = await rosters(pool, ids, people)
        return [found[i] for i in ids]

    return {
        "evaluations": DataLoader(grouped(
            pool, "SELECT * FROM jury_evaluations WHERE {where} ORDER BY evaluated_on, recorded_at, event_id",
            "candidacy_id")),
        "decisions_of_candidacy": DataLoader(of_candidacy(
            "SELECT * FROM jury_decisions WHERE {where} ORDER BY decided_on, session_id")),
        "decisions_of_session": DataLoader(grouped(
            pool, "SELECT * FROM jury_decisions WHERE {where} ORDER BY decided_on, candidacy_id", "session_id")),
        "certificates_of_candidacy": DataLoader(of_candidacy(
            "SELECT * FROM certificates WHERE {where} ORDER BY awarded_on, number")),
        "presentations": DataLoader(grouped(
            pool, "SELECT * FROM jury_presentations WHERE {where} ORDER BY candidacy_id", "session_id")),
        "rosters": DataLoader(session_rosters),
    }
