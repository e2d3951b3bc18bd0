"""Dashboards of a branch, an organisation or a certification over a period, in plain SQL over the read
models, shared by GraphQL (`dashboard`) and the CSV export of its pass rates.

Every figure is about one cohort: the candidacies of the target (a branch's certifications; the
candidacies an organisation evaluates, trains, employs or funds; one certification) that the caller may
read (the role table's row `dashboard`, as SQL by services/gateway/scopes.py) and that were opened in the
period (dates of the gateway database's time zone, as the lists' date filters). A cohort, rather than
each figure dated by its own event, keeps the funnel's stages nested and every table about the same
candidacies. All statements run in one read-only snapshot, so the figures agree with each other.

Definitions: a jury *outcome* is a decision FULL_AWARD, PARTIAL_VALIDATION or REFUSAL (a deferral or an
absence decides nothing), as corrected; pass rates count outcomes (a candidacy partially validated then
awarded at a later session counts at both). The time to decision runs from the day the candidacy was
opened (its registration for the certification) to its first outcome, in days. A failed block is an
evaluation of the block not validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from shared.errors import InvalidInput, NotFound
from shared.identity import Caller
from shared.policy import Record, authorize
from shared.vocabulary import BlockState, CertificateKind, Decision

from services.gateway import scopes
from services.gateway.schema.pagination import Conditions

OPERATION = "dashboard"
KINDS = ("BRANCH", "ORGANISATION", "CERTIFICATION")
MAX_TOP = 50
# The decisions that are outcomes (a deferral or an absence decides nothing), bound as parameters.
OUTCOMES = "({full}, {partial}, {refusal})"


@dataclass(frozen=True)
class Target:
    kind: str  # one of KINDS
    key: str  # a branch code, an organisation id, a certification code


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None  # inclusive


@dataclass(frozen=True)
class PassRate:
    grouping: str  # CERTIFICATION, EVALUATOR or SESSION
    key: str
    label: str
    decided: int
    full_awards: int
    partial_validations: int
    refusals: int

    @property
    def full_rate(self) -> float | None:
        return rate(self.full_awards, self.decided)

    @property
    def partial_rate(self) -> float | None:
        return rate(self.partial_validations, self.decided)

    @property
    def refusal_rate(self) -> float | None:
        return rate(self.refusals, self.decided)


@dataclass(frozen=True)
class Figures:
    by_status: dict[str, int]
    by_route: dict[str, int]
    funnel: dict[str, int]  # candidates, opened, positioned, evaluated, presented, decided, awarded
    pass_rates: list[PassRate]
    decided: int  # candidacies with an outcome: those the times are measured on
    median_days: float | None
    p90_days: float | None
    failed_blocks: list[tuple[str, str, int]]  # (block, certification, failures), most failed first


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four decimals; none of nothing."""
    return round(part / whole, 4) if whole else None


def check(target: Target, period: Period, top: int = 10) -> None:
    """InvalidInput unless the target names one thing, the period runs forward and `top` is sensible."""
    if target.kind not in KINDS or not target.key.strip():
        raise InvalidInput("a dashboard's scope is exactly one branch, organisation or certification",
                           problems=[{"field": "scope", "problem": "give exactly one of branch, organisation, "
                                                                   "certification"}])
    if period.start and period.end and period.end < period.start:
        raise InvalidInput("the period ends before it starts",
                           problems=[{"field": "to", "problem": "on or after from"}])
    if not 1 <= top <= MAX_TOP:
        raise InvalidInput(f"top is 1 to {MAX_TOP}", problems=[{"field": "top", "problem": f"1 to {MAX_TOP}"}])


async def record_of(conn, target: Target) -> Record:
    """The target as the role table sees it (its branches, its organisation), or NotFound."""
    if target.kind == "BRANCH":
        if not await conn.fetchval("SELECT count(*) FROM branches WHERE code = $1", target.key):
            raise NotFound("no such branch", branch=target.key)
        return Record(branches=frozenset({target.key}))
    if target.kind == "CERTIFICATION":
        owners = await conn.fetchval("SELECT owners FROM certifications WHERE code = $1", target.key)
        if owners is None:
            raise NotFound("no such certification", certification=target.key)
        return Record(branches=frozenset(owners))
    branches = await conn.fetchval(
        "SELECT array(SELECT branch FROM accreditations WHERE organisation_id = o.id) FROM organisations o"
        " WHERE o.id::text = $1", target.key)
    if branches is None:
        raise NotFound("no such organisation", organisation=target.key)
    org = target.key  # the organisation's own users reach it whatever their part in its candidacies
    return Record(branches=frozenset(branches), evaluator=org, trainer=org, employer=org, funders=frozenset({org}))


def cohort(caller: Caller, target: Target, period: Period, operation: str = OPERATION) -> Conditions:
    """The candidacies (table `candidacies`) the figures count."""
    c = Conditions()
    if target.kind == "BRANCH":
        c.add("certification IN (SELECT code FROM certifications WHERE owners @> ARRAY[?]::text[])", target.key)
    elif target.kind == "CERTIFICATION":
        c.add("certification = ?", target.key)
    else:
        c.add("(evaluator_id = ? OR trainer_id = ? OR employer_id = ?"
              " OR EXISTS (SELECT 1 FROM jsonb_each(fundings) f WHERE f.value ->> 'funder_id' = ?))",
              *[target.key] * 4)
    if period.start:
        c.add("opened_at >= ?", period.start)
    if period.end:
        c.add("opened_at < (?::date + 1)", period.end)
    c.add_scope(scopes.candidacies(caller, operation))
    return c


COUNTS = """
SELECT 'status' AS dimension, status AS value, count(*) AS n FROM cohort GROUP BY status
UNION ALL
SELECT 'route', route, count(*) FROM cohort GROUP BY route
"""

FUNNEL = f"""
SELECT count(DISTINCT candidate_id) AS candidates,
       count(*) AS opened,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM jsonb_each(c.blocks) b
                                           WHERE b.value = to_jsonb({{pending}}::text)
                                              OR b.value ->> 'state' = {{pending}}))
           AS positioned,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jury_evaluations e WHERE e.candidacy_id = c.id)) AS evaluated,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jury_presentations p WHERE p.candidacy_id = c.id)) AS presented,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jury_decisions d
                                       WHERE d.candidacy_id = c.id AND d.decision IN {OUTCOMES})) AS decided,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM certificates x WHERE x.candidacy_id = c.id
                                         AND x.kind = {{certificate}} AND x.revoked_on IS NULL)) AS awarded
  FROM cohort c
"""

PASS_RATES = f"""
SELECT g.*, coalesce(CASE g.grouping WHEN 'CERTIFICATION' THEN cert.title
                                     WHEN 'EVALUATOR' THEN o.name
                                     ELSE s.held_on::text || ' ' || s.place END, '') AS label
  FROM (SELECT CASE WHEN GROUPING(c.certification) = 0 THEN 'CERTIFICATION'
                    WHEN GROUPING(c.evaluator_id) = 0 THEN 'EVALUATOR' ELSE 'SESSION' END AS grouping,
               coalesce(c.certification, c.evaluator_id, d.session_id::text) AS key,
               count(*) AS decided,
               count(*) FILTER (WHERE d.decision = {{full}}) AS full_awards,
               count(*) FILTER (WHERE d.decision = {{partial}}) AS partial_validations,
               count(*) FILTER (WHERE d.decision = {{refusal}}) AS refusals
          FROM cohort c JOIN jury_decisions d ON d.candidacy_id = c.id
         WHERE d.decision IN {OUTCOMES}
         GROUP BY GROUPING SETS ((c.certification), (c.evaluator_id), (d.session_id))) g
  LEFT JOIN certifications cert ON g.grouping = 'CERTIFICATION' AND cert.code = g.key
  LEFT JOIN organisations o ON g.grouping = 'EVALUATOR' AND o.id::text = g.key
  LEFT JOIN jury_sessions s ON g.grouping = 'SESSION' AND s.id::text = g.key
 ORDER BY g.grouping, s.held_on, g.key
"""

TIMES = f"""
SELECT count(*) AS decided,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY days) AS p90
  FROM (SELECT min(d.decided_on) - c.opened_at::date AS days
          FROM cohort c JOIN jury_decisions d ON d.candidacy_id = c.id
         WHERE d.decision IN {OUTCOMES}
         GROUP BY c.id, c.opened_at) first_outcomes
"""

FAILED_BLOCKS = """
SELECT e.block, c.certification, count(*) AS failures
  FROM cohort c JOIN jury_evaluations e ON e.candidacy_id = c.id
 WHERE NOT e.validated
 GROUP BY e.block, c.certification
 ORDER BY failures DESC, e.block, c.certification
 LIMIT {limit}
"""


async def figures(pool: asyncpg.Pool, caller: Caller, target: Target, period: Period = Period(),
                  top: int = 10, operation: str = OPERATION) -> Figures:
    """Every figure of the dashboard, or InvalidInput, NotFound (an unknown target) or Forbidden (a
    target out of the caller's reach)."""
    check(target, period, top)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        authorize(operation, await record_of(conn, target), caller)
        c = cohort(caller, target, period, operation)
        head = f"WITH cohort AS (SELECT * FROM candidacies{c.where})"

        async def fetch(statement: str, **values):
            """The statement's `{name}`s bound as parameters, after the cohort's."""
            numbers = {name: f"${len(c.args) + i}" for i, name in enumerate(values, 1)}
            return await conn.fetch(f"{head} {statement.format(**numbers)}", *c.args, *values.values())

        outcomes = {"full": Decision.FULL_AWARD, "partial": Decision.PARTIAL_VALIDATION, "refusal": Decision.REFUSAL}
        counts = await fetch(COUNTS)
        funnel = dict((await fetch(FUNNEL, pending=BlockState.PENDING, certificate=CertificateKind.CERTIFICATE,
                                   **outcomes))[0])
        rates = [PassRate(**dict(r)) for r in await fetch(PASS_RATES, **outcomes)]
        times = (await fetch(TIMES, **outcomes))[0]
        failed = await fetch(FAILED_BLOCKS, limit=top)
    return Figures(
        by_status={r["value"]: r["n"] for r in counts if r["dimension"] == "status"},
        by_route={r["value"]: r["n"] for r in counts if r["dimension"] == "route"},
        funnel=funnel, pass_rates=rates, decided=times["decided"], median_days=times["median"],
        p90_days=times["p90"], failed_blocks=[(r["block"], r["certification"], r["failures"]) for r in failed])
