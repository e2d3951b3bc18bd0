"""Cursor pagination shared by the list queries: opaque cursors over a stable order."""

from __future__ import annotations

import base64

import strawberry
from graphql import GraphQLError

# A text filter is a few words, not a document: beyond these it is refused, not searched.
MAX_FILTER_WORDS = 8
MAX_FILTER_LENGTH = 200


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def start_after(after: str | None) -> int:
    """The offset of the first row after the given cursor."""
    if not after:
        return 0
    try:
        return int(base64.urlsafe_b64decode(after.encode()).decode().removeprefix("offset:")) + 1
    except ValueError:
        raise ValueError("this cursor was not given by this API") from None


class Conditions:
    """SQL conditions with numbered parameters, built from a filter."""

    def __init__(self):
        self.clauses: list[str] = []
        self.args: list = []

    def add(self, clause: str, *values) -> None:
        for value in values:
            self.args.append(value)
            clause = clause.replace("?", f"${len(self.args)}", 1)
        self.clauses.append(clause)

    def add_scope(self, scope: tuple[str, list]) -> None:
        """A read scope of services/gateway/scopes.py: a condition and its values."""
        clause, values = scope
        self.add(clause, *values)

    def add_words(self, clause: str, text: str | None) -> None:
        """One `clause` (an ILIKE ?) per word of `text`: each word must appear."""
        check_text_filter(text)
        for word in (text or "").split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            self.add(clause, f"%{escaped}%")

    @property
    def where(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


async def page(pool, table_sql: str, conditions: Conditions, order: str, first: int, after: str | None):
    """(total, rows, offset) of one page of `table_sql` under the conditions."""
    first = max(0, min(first, 200))
    offset = start_after(after)
    total = await pool.fetchval(f"SELECT count(*) FROM {table_sql}{conditions.where}", *conditions.args)
    rows = await pool.fetch(
        f"SELECT * FROM {table_sql}{conditions.where} ORDER BY {order} LIMIT {first} OFFSET {offset}",
        *conditions.args)
    return total, rows, offset


def edges_and_page_info(total: int, rows, offset: int, edge_type, to_node):
    """The edges of one page and its PageInfo."""
    edges = [edge_type(cursor=cursor(offset + i), node=to_node(row)) for i, row in enumerate(rows)]
    return edges, PageInfo(has_next_page=offset + len(rows) < total, end_cursor=edges[-1].cursor if edges else None)


def check_text_filter(text: str | None) -> None:
    """A text filter's bounds: at most MAX_FILTER_WORDS words and MAX_FILTER_LENGTH characters."""
    if text and (len(text) > MAX_FILTER_LENGTH or len(text.split()) > MAX_FILTER_WORDS):
        raise GraphQLError(
            f"a text filter has at most {MAX_FILTER_WORDS} words and {MAX_FILTER_LENGTH} characters",
            extensions={"code": "InvalidInput"})
