"""What a GraphQL request costs the databases and the people service, counted for the tests only
(CQP_COUNT_QUERIES): the bound on a page's statements is a property worth a test, and counting on the
gateway's own connections (asyncpg's query loggers) sees every statement the gateway sends, batched or not,
without a PostgreSQL extension or log parsing (asyncpg's own housekeeping is left out). Off, nothing is
registered and nothing is counted."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

import asyncpg


@dataclass
class Counts:
    statements: int = 0
    people_calls: int = 0


# The request's counts: set when its context is made; DataLoader batches run in tasks that copy the
# request's context, so they add to the same object.
_current: contextvars.ContextVar[Counts | None] = contextvars.ContextVar("query_counts", default=None)


def start() -> Counts:
    counts = Counts()
    _current.set(counts)
    return counts


# asyncpg's own housekeeping, logged like any statement: the reset of a connection given back to the pool,
# and the introspection of types a statement uses for the first time on a connection (with JIT off meanwhile).
HOUSEKEEPING = ("RESET ALL;", "typeinfo_tree", "'jit'")


def _statement(record) -> None:
    counts = _current.get()
    if counts is not None and not any(marker in record.query for marker in HOUSEKEEPING):
        counts.statements += 1


def people_call() -> None:
    counts = _current.get()
    if counts is not None:
        counts.people_calls += 1


async def count_statements(conn: asyncpg.Connection) -> None:
    """asyncpg's pool `init`: every statement of this connection is counted for the request running it."""
    conn.add_query_logger(_statement)
