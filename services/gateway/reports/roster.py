"""A jury session's roster: each presented candidacy with the candidate's name, the route, every block
of the candidacy and its result, and the decision — in one SQL statement, whatever the session's size (or
the number of sessions), and the names in one call to the candidacy service, which alone holds them
(shared/people.py)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from shared.people import NOBODY, Person
from shared.vocabulary import BlockState

ROSTER = """
SELECT p.session_id, p.candidacy_id, c.candidate_id, c.route, c.blocks AS positioning, p.blocks AS presented,
       d.decision, d.blocks_acquired,
       (SELECT coalesce(jsonb_object_agg(e.block, jsonb_build_object('validated', e.validated,
                                                                     'on', e.evaluated_on)), '{}')
          FROM (SELECT DISTINCT ON (block) block, validated, evaluated_on FROM jury_evaluations
                 WHERE candidacy_id = p.candidacy_id ORDER BY block, evaluated_on DESC, recorded_at DESC) e) AS results
  FROM jury_presentations p
  JOIN candidacies c ON c.id = p.candidacy_id
  LEFT JOIN jury_decisions d ON d.session_id = p.session_id AND d.candidacy_id = p.candidacy_id
 WHERE p.session_id = ANY($1::uuid[])
 ORDER BY p.candidacy_id
"""


@dataclass(frozen=True)
class BlockLine:
    code: str
    presented: bool  # examined at this session
    result: str  # VALIDATED, NOT_VALIDATED, HELD, RECOGNISED or NONE
    evaluated_on: str | None


@dataclass(frozen=True)
class RosterLine:
    candidacy_id: str
    given_name: str
    family_name: str
    route: str
    blocks: list[BlockLine]
    decision: str | None
    blocks_acquired: list[str]


def _line(row, person: Person) -> RosterLine:
    positioning, results = json.loads(row["positioning"]), json.loads(row["results"])
    blocks = []
    for code, state in positioning.items():
        state = state["state"] if isinstance(state, dict) else state
        result = results.get(code)
        if state in (BlockState.HELD, BlockState.RECOGNISED):
            outcome, on = state, None
        elif result:
            outcome, on = ("VALIDATED" if result["validated"] else "NOT_VALIDATED"), result["on"]
        else:
            outcome, on = "NONE", None
        blocks.append(BlockLine(code, code in row["presented"], outcome, on))
    return RosterLine(str(row["candidacy_id"]), person.given_name, person.family_name, row["route"], blocks,
                      row["decision"], list(row["blocks_acquired"] or []))


People = Callable[[list[str]], Awaitable[dict[str, Person]]]


async def roster(conn: asyncpg.Pool | asyncpg.Connection, session_id: str, people: People) -> list[RosterLine]:
    """The lines in order of the candidates' names."""
    return (await rosters(conn, [session_id], people))[session_id]


async def rosters(conn: asyncpg.Pool | asyncpg.Connection, session_ids: list[str],
                  people: People) -> dict[str, list[RosterLine]]:
    """The rosters of several sessions: one statement and one call for the names, whatever their number."""
    rows = await conn.fetch(ROSTER, session_ids)
    found = await people([str(r["candidate_id"]) for r in rows])
    by_session: dict[str, list[RosterLine]] = {str(s): [] for s in session_ids}
    for row in rows:
        by_session[str(row["session_id"])].append(_line(row, found.get(str(row["candidate_id"]), NOBODY)))
    return {s: sorted(lines, key=lambda line: (line.family_name.casefold(), line.given_name.casefold(),
                                               line.candidacy_id))
            for s, lines in by_session.items()}
