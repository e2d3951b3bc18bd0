"""Keyset cursors without a database: what a cursor carries, what it refuses, and the condition it
becomes (services/gateway/schema/pagination.py)."""

import pytest

from services.gateway.exports import safe_cell
from services.gateway.schema.pagination import (
    Conditions, InvalidCursor, Key, Listing, decode_cursor, encode_cursor,
)
from services.gateway.schema.vocabulary import SortDirection

LISTING = Listing("things", "things", Key("id", "uuid"), {
    "AT": Key("at", "timestamptz"), "END": Key("end_date", "date", nullable=True)})
ASC, DESC = SortDirection.ASC, SortDirection.DESC


def test_a_cursor_gives_back_the_key_values_it_was_made_of():
    cursor = encode_cursor("things", "AT", ASC, ["2026-01-01 10:00:00+00", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
    assert decode_cursor(cursor, "things", "AT", ASC, 2) == ["2026-01-01 10:00:00+00",
                                                              "1b4e28ba-2fa1-11d2-883f-0016d3cca427"]


@pytest.mark.parametrize("list_name, sort, direction", [("others", "AT", ASC), ("things", "END", ASC),
                                                        ("things", "AT", DESC)])
def test_a_cursor_of_another_list_sort_or_direction_is_refused(list_name, sort, direction):
    cursor = encode_cursor("things", "AT", ASC, ["x", "y"])
    with pytest.raises(InvalidCursor) as refused:
        decode_cursor(cursor, list_name, sort, direction, 2)
    assert refused.value.extensions["code"] == "InvalidCursor"
    assert refused.value.extensions["given"] == {"list": "things", "sort": "AT", "direction": "ASC"}


@pytest.mark.parametrize("cursor", ["", "b2Zmc2V0OjQ=", "abc.def", "e30.AAAA"])
def test_a_cursor_not_made_here_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "things", "AT", ASC, 2)


def test_a_cursor_whose_values_were_changed_is_refused():
    body, signature = encode_cursor("things", "AT", ASC, ["a", "b"]).split(".")
    forged = encode_cursor("things", "AT", ASC, ["z", "b"]).split(".")[0]
    with pytest.raises(InvalidCursor):
        decode_cursor(f"{forged}.{signature}", "things", "AT", ASC, 2)


def test_the_rows_after_a_cursor_are_those_whose_first_differing_key_is_greater():
    c = Conditions()
    c.add_after(LISTING.order("AT", ASC), ["t", "i"])
    assert c.clauses == ["((at > $1::text::timestamptz) OR "
                         "(at IS NOT DISTINCT FROM $2::text::timestamptz AND id > $3::text::uuid))"]
    assert c.args == ["t", "t", "i"]


def test_a_nullable_sort_key_puts_nulls_last_in_both_directions():
    assert LISTING.order_by("END", ASC) == "(end_date) IS NULL ASC, end_date ASC, id ASC"
    assert LISTING.order_by("END", DESC) == "(end_date) IS NULL ASC, end_date DESC, id DESC"


def test_an_unknown_sort_is_refused():
    with pytest.raises(InvalidCursor):
        LISTING.order("NAME", ASC)


@pytest.mark.parametrize("cell, written", [("=1+1", "'=1+1"), ("+33 6", "'+33 6"), ("-2", "'-2"),
                                           ("@SUM(A1)", "'@SUM(A1)"),
                                           ("Dupont", "Dupont"), (-2, -2)])
def test_a_csv_cell_a_spreadsheet_would_run_is_quoted(cell, written):
    assert safe_cell(cell) == written
