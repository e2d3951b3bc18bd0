"""Each rule on dates of shared/rules.py decides the same in Python (the domains, the gateway's fields) and in
SQL (the gateway's filters), against the real PostgreSQL: on the day itself, the days either side and with
null dates, both the rule and its negation (a NULL in SQL would drop a row from both a filter and its NOT)."""

from datetime import date, timedelta

import asyncpg

from services.gateway.schema.pagination import Conditions
from shared import rules
from tests.harness import infrastructure

DAY = date(2026, 6, 30)
BEFORE, AFTER = DAY - timedelta(days=1), DAY + timedelta(days=1)


async def decided_in_sql(table: str, columns: str, rows: list[tuple], clause: rules.Clause) -> list[tuple[bool, bool]]:
    """For each row, the twin and its NOT, evaluated by PostgreSQL over a temporary table of the cases."""
    sql, values = clause
    yes, no = Conditions(), Conditions()
    yes.add(sql, *values)
    no.add(f"NOT {sql}", *values)
    conn = await asyncpg.connect(infrastructure()[1])
    try:
        await conn.execute(f"CREATE TEMPORARY TABLE {table} (n int, {columns})")
        await conn.executemany(f"INSERT INTO {table} VALUES ($1, {', '.join(f'${i + 2}' for i in range(len(rows[0])))})",
                               [(n, *row) for n, row in enumerate(rows)])
        found = [{r["n"] for r in await conn.fetch(f"SELECT n FROM {table} WHERE {c.clauses[0]}", *c.args)}
                 for c in (yes, no)]
    finally:
        await conn.close()
    return [(n in found[0], n in found[1]) for n in range(len(rows))]


async def test_expired_is_the_same_rule_in_python_and_in_sql():
    cases = [(None, DAY), (BEFORE, DAY), (DAY, DAY), (AFTER, DAY)]
    assert [rules.expired(*c) for c in cases] == [False, True, False, False]
    sql = await decided_in_sql("expired_cases", "end_date date, on_day date", cases,
                               rules.expired_sql("end_date", "on_day"))
    assert sql == [(rules.expired(*c), not rules.expired(*c)) for c in cases]


async def test_vae_open_is_the_same_rule_in_python_and_in_sql():
    cases = [("RNCP", ["FC", "VAE"], None, DAY), ("RNCP", ["VAE"], DAY, DAY), ("RNCP", ["VAE"], BEFORE, DAY),
             ("RNCP", ["VAE"], AFTER, DAY), ("RNCP", ["FC"], None, DAY), ("RNCP", [], None, DAY),
             ("RS", ["VAE"], None, DAY), (None, None, None, DAY), ("RNCP", None, None, DAY)]
    assert [rules.vae_open(*c) for c in cases] == [True, True, False, True, False, False, False, False, False]
    sql = await decided_in_sql("vae_cases", "registry text, routes text[], end_date date, on_day date", cases,
                               rules.vae_open_sql("registry", "routes", "end_date", "on_day"))
    assert sql == [(rules.vae_open(*c), not rules.vae_open(*c)) for c in cases]


async def test_an_accreditation_in_force_is_the_same_rule_in_python_and_in_sql():
    cases = [(DAY, None, None, DAY), (AFTER, None, None, DAY), (BEFORE, DAY, None, DAY), (BEFORE, BEFORE, None, DAY),
             (BEFORE, None, DAY, DAY), (BEFORE, None, AFTER, DAY), (BEFORE, AFTER, BEFORE, DAY),
             (BEFORE, AFTER, AFTER, DAY)]
    assert [rules.accreditation_in_force(*c) for c in cases] == [True, False, True, False, False, True, False, True]
    sql = await decided_in_sql("accreditation_cases", "valid_from date, valid_until date, withdrawn_on date,"
                               " on_day date", cases,
                               rules.accreditation_in_force_sql("valid_from", "valid_until", "withdrawn_on", "on_day"))
    assert sql == [(rules.accreditation_in_force(*c), not rules.accreditation_in_force(*c)) for c in cases]
