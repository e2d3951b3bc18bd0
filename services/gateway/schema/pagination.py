"""Keyset pagination shared by every list, GraphQL and CSV alike.

Why keyset and not offsets: an offset counts rows, so a row inserted before it between two pages
repeats one, and a row leaving the filter (a status change) skips one. A keyset cursor names a place
in the order instead: the sort key values of the last row given and its unique id; the next page is
the rows strictly after that tuple. Rows that existed and matched throughout are then given exactly
once, whatever is inserted or changed meanwhile (a row whose own sort key changes moves, as it should).

A cursor is opaque to clients: base64url JSON (the list, the sort, the direction, the key values as
PostgreSQL prints them, the id) and an HMAC of it under the gateway's cursor key. A cursor of another
list or sort, or one not signed here, is refused with an `InvalidCursor` error, never reinterpreted.
The key values are compared in SQL with the column's own type (`?::text::timestamptz`), so no value is ever
parsed in Python.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError

from services.gateway.schema.vocabulary import SortDirection

# A text filter is a few words, not a document: beyond these it is refused, not searched.
MAX_FILTER_WORDS = 8
MAX_FILTER_LENGTH = 200
MAX_PAGE = 200


class InvalidCursor(GraphQLError):
    """A cursor this list cannot continue from: another list's, another sort's, or not ours."""

    def __init__(self, message: str, **details):
        super().__init__(message, extensions={"code": "InvalidCursor", **details})


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(description="A page came before this one (it was asked `after`)")
    start_cursor: str | None
    end_cursor: str | None


@dataclass(frozen=True)
class Key:
    """A sort key: an SQL expression over the list's rows, the type to compare a cursor's value as, and
    whether it may be NULL (NULLs always sort last, in either direction)."""

    sql: str
    cast: str
    nullable: bool = False


@dataclass(frozen=True)
class Listing:
    """A list as it is paginated: its rows (`table`, a table or a join with its alias), its unique id,
    and its sorts by name (the names of the GraphQL sort field enum, `sort_input`), the first by default."""

    name: str
    table: str
    id: Key
    sorts: dict[str, Key] = field(default_factory=dict)

    @property
    def default_sort(self) -> str:
        return next(iter(self.sorts))

    def order(self, sort: str, direction: SortDirection) -> list[tuple[Key, bool]]:
        """The keys of the ORDER BY, each with `descending`: the sort, then the id (unique: a total order)."""
        if sort not in self.sorts:
            raise InvalidCursor(f"{self.name} cannot be sorted by {sort}", sorts=sorted(self.sorts))
        key, desc = self.sorts[sort], direction == SortDirection.DESC
        keys = [(Key(f"({key.sql}) IS NULL", "boolean"), False)] if key.nullable else []
        return keys + [(key, desc), (self.id, desc)]

    def order_by(self, sort: str, direction: SortDirection) -> str:
        return ", ".join(f"{k.sql} {'DESC' if desc else 'ASC'}" for k, desc in self.order(sort, direction))


def sort_input(listing: Listing, name: str, description: str) -> type:
    """A list's GraphQL sort, made from its listing (its sorts are declared once, there): the enum
    <name>SortField of the listing's sorts, in their order, and the input <name>Sort of a field (the
    listing's default unless given) and a direction."""
    fields = strawberry.enum(enum.Enum(f"{name}SortField", {sort: sort for sort in listing.sorts}))
    sort = type(f"{name}Sort", (), {"__annotations__": {"field": fields, "direction": SortDirection},
                                    "field": fields[listing.default_sort], "direction": SortDirection.ASC})
    return strawberry.input(sort, description=description)


# ---------------------------------------------------------------------------------------- cursors

_cursor_key = [secrets.token_bytes(32)]


def configure(cursor_key: str) -> None:
    """The cursor key (CQP_CURSOR_KEY; several gateways behind one address share it). Unset, one drawn at
    start: cursors then end with the process, and a client starts its list over."""
    if cursor_key:
        _cursor_key[0] = cursor_key.encode()


def _key() -> bytes:
    return _cursor_key[0]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(list_name: str, sort: str, direction: SortDirection, values: list[str | None]) -> str:
    body = json.dumps({"l": list_name, "s": sort, "d": direction.value, "v": values}, separators=(",", ":")).encode()
    return f"{_b64(body)}.{_b64(hmac.new(_key(), body, hashlib.sha256).digest()[:16])}"


def decode_cursor(cursor: str, list_name: str, sort: str, direction: SortDirection, size: int) -> list[str | None]:
    """The key values of a cursor given by this list under this sort, or InvalidCursor."""
    try:
        body_text, signature = cursor.split(".")
        body = _unb64(body_text)
        valid = hmac.compare_digest(_unb64(signature), hmac.new(_key(), body, hashlib.sha256).digest()[:16])
        data = json.loads(body) if valid else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("v"), list) or len(data["v"]) != size:
        raise InvalidCursor("this cursor was not given by this API")
    given = {"list": data.get("l"), "sort": data.get("s"), "direction": data.get("d")}
    asked = {"list": list_name, "sort": sort, "direction": direction.value}
    if given != asked:
        raise InvalidCursor(f"this cursor continues {given['list']} sorted by {given['sort']} {given['direction']}, "
                            f"not {list_name} sorted by {sort} {direction.value}: start again without `after`",
                            given=given, asked=asked)
    if not all(v is None or isinstance(v, str) for v in data["v"]):
        raise InvalidCursor("this cursor was not given by this API")
    return data["v"]


# ---------------------------------------------------------------------------------------- conditions

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

    def add_after(self, order: list[tuple[Key, bool]], values: list[str | None]) -> None:
        """Rows strictly after the tuple `values` in `order`: the first key that differs decides.
        `IS NOT DISTINCT FROM` lets a NULL key value (last, by its IS NULL key) compare as equal."""
        alternatives = []
        for i, (key, desc) in enumerate(order):
            parts = [f"{k.sql} IS NOT DISTINCT FROM ?::text::{k.cast}" for k, _ in order[:i]]
            parts.append(f"{key.sql} {'<' if desc else '>'} ?::text::{key.cast}")
            alternatives.append((" AND ".join(parts), [*values[:i], values[i]]))
        self.add("(" + " OR ".join(f"({clause})" for clause, _ in alternatives) + ")",
                 *[v for _, vs in alternatives for v in vs])

    @property
    def where(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


# ---------------------------------------------------------------------------------------- pages

@dataclass
class Page:
    total: int
    rows: list
    cursors: list[str]
    page_info: PageInfo


T = TypeVar("T")


# One pair of types for every list: strawberry names each use after its node (`Connection[Branch]` is
# `BranchConnection` in the schema, its edges `BranchEdge`).
@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    total_count: int
    edges: list[Edge[T]]
    page_info: PageInfo

    @classmethod
    def of(cls, p: Page, node: Callable[[Any], T]) -> Connection[T]:
        """The page's rows, each made a node, with their cursors."""
        return cls(total_count=p.total, page_info=p.page_info,
                   edges=[Edge(cursor=c, node=node(r)) for c, r in zip(p.cursors, p.rows)])


def select(listing: Listing, conditions: Conditions, sort: str, direction: SortDirection,
           columns: str = "*") -> str:
    """The statement of the whole list in its order (the CSV exports stream it from a cursor)."""
    keys = ", ".join(f"({k.sql})::text AS __k{i}" for i, (k, _) in enumerate(listing.order(sort, direction)))
    return (f"SELECT {columns}, {keys} FROM {listing.table}{conditions.where}"
            f" ORDER BY {listing.order_by(sort, direction)}")


async def page(pool, listing: Listing, conditions: Conditions, sort: str, direction: SortDirection, first: int,
               after: str | None, list_name: str | None = None, columns: str = "*") -> Page:
    """One page of `listing` under the conditions, after the cursor: two statements (count and rows).
    `list_name` names the list in its cursors when it differs from the listing's (a nested list)."""
    list_name = list_name or listing.name
    if first < 0:
        raise GraphQLError("`first` is a number of rows, 0 or more", extensions={"code": "InvalidInput"})
    first = min(first, MAX_PAGE)
    order = listing.order(sort, direction)
    after_conditions = conditions
    if after:  # refused before anything is read
        values = decode_cursor(after, list_name, sort, direction, len(order))
        after_conditions = Conditions()
        after_conditions.clauses, after_conditions.args = list(conditions.clauses), list(conditions.args)
        after_conditions.add_after(order, values)
    total = await pool.fetchval(f"SELECT count(*) FROM {listing.table}{conditions.where}", *conditions.args)
    rows = await pool.fetch(f"{select(listing, after_conditions, sort, direction, columns)} LIMIT {first + 1}",
                            *after_conditions.args)
    more, rows = len(rows) > first, rows[:first]
    cursors = [cursor_of(row, list_name, sort, direction, len(order)) for row in rows]
    return Page(total, rows, cursors, PageInfo(has_next_page=more, has_previous_page=bool(after),
                                               start_cursor=cursors[0] if cursors else None,
                                               end_cursor=cursors[-1] if cursors else None))


def cursor_of(row, list_name: str, sort: str, direction: SortDirection, size: int) -> str:
    return encode_cursor(list_name, sort, direction, [row[f"__k{i}"] for i in range(size)])


def check_text_filter(text: str | None) -> None:
    """A text filter's bounds: at most MAX_FILTER_WORDS words and MAX_FILTER_LENGTH characters."""
    if text and (len(text) > MAX_FILTER_LENGTH or len(text.split()) > MAX_FILTER_WORDS):
        raise GraphQLError(
            f"a text filter has at most {MAX_FILTER_WORDS} words and {MAX_FILTER_LENGTH} characters",
            extensions={"code": "InvalidInput"})
