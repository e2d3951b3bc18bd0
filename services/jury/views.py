"""The jury service's views, kept from the event topics: the catalog (shared/catalog_view.py), and the
candidacies and candidates as the candidacy service publishes them (a candidate's id only: their personal
data stays with the candidacy service, sealed with their own key)."""

from __future__ import annotations

import json

import asyncpg

from shared import catalog_view
from shared.contracts import candidacy
from shared.envelope import Envelope
from shared.migrations import numbered
from shared.vocabulary import BlockState, DocumentKind

from services.jury.domain import CandidacyFacts

MIGRATIONS = [
    *catalog_view.MIGRATIONS,
    *numbered(
        "candidacy_view",
        """
    CREATE TABLE IF NOT EXISTS candidacy_candidates (
        id text PRIMARY KEY
    );
    -- Names are no longer kept here: they stay with the candidacy service, sealed per person.
    ALTER TABLE candidacy_candidates DROP COLUMN IF EXISTS given_name, DROP COLUMN IF EXISTS family_name;
    CREATE TABLE IF NOT EXISTS candidacy_candidacies (
        id text PRIMARY KEY,
        candidate_id text NOT NULL,
        certification text NOT NULL,
        version int NOT NULL,
        blocks jsonb NOT NULL,
        status text NOT NULL
    );
    -- Who evaluates it: the only organisation that may record its results.
    ALTER TABLE candidacy_candidacies ADD COLUMN IF NOT EXISTS evaluator_id text;
    -- Its route and opening day: what its presentation and its evaluations' dates are checked on.
    ALTER TABLE candidacy_candidacies ADD COLUMN IF NOT EXISTS route text;
    ALTER TABLE candidacy_candidacies ADD COLUMN IF NOT EXISTS opened_on date;
        """,
        # 2: who may read a candidacy's evaluations here, as the gateway's scopes say (services/jury/evaluations.py):
        # its trainer, employer and funders, its candidate's own login; and the candidates erased.
        """
    ALTER TABLE candidacy_candidacies ADD COLUMN IF NOT EXISTS trainer_id text;
    ALTER TABLE candidacy_candidacies ADD COLUMN IF NOT EXISTS employer_id text;
    ALTER TABLE candidacy_candidacies ADD COLUMN IF NOT EXISTS funders text[] NOT NULL DEFAULT '{}';
    ALTER TABLE candidacy_candidates ADD COLUMN IF NOT EXISTS account text;
    ALTER TABLE candidacy_candidates ADD COLUMN IF NOT EXISTS erased boolean NOT NULL DEFAULT false;
        """,
        # 3: the candidacy's papers the jury reads when it is presented (its current Livret 2): ids and kinds only,
        # their bytes stay with the candidacy service (read there: its POST /queries/document).
        """
    CREATE TABLE IF NOT EXISTS candidacy_documents (
        id text PRIMARY KEY,
        candidacy_id text NOT NULL,
        kind text NOT NULL,
        superseded boolean NOT NULL DEFAULT false
    );
    CREATE INDEX IF NOT EXISTS candidacy_documents_by_candidacy ON candidacy_documents (candidacy_id);
        """,
    ),
]

apply_catalog = catalog_view.apply_catalog

# The candidacy's papers a jury reads of it (listed when it is presented).
JURY_READS = (DocumentKind.LIVRET_2,)


async def apply_candidacy(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact = candidacy.REGISTRY.parse(envelope)
    match fact:
        case candidacy.CandidateRegistered():
            await conn.execute("INSERT INTO candidacy_candidates (id, account) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               fact.candidate_id, fact.account)
        case candidacy.CandidateAccountConfirmed():
            await conn.execute("UPDATE candidacy_candidates SET account = $2 WHERE id = $1", fact.candidate_id,
                               fact.account)
        case candidacy.CandidateErased():
            # The key the jury sealed the candidate's evaluations with (evaluators' names, evidence) goes with
            # the person's own; an evaluation recorded later gets no new key (services/jury/evaluations.py).
            await conn.execute("INSERT INTO candidacy_candidates (id, erased) VALUES ($1, true)"
                               " ON CONFLICT (id) DO UPDATE SET erased = true", fact.candidate_id)
            await conn.execute("DELETE FROM personal_keys WHERE person_id = $1", fact.candidate_id)
        case candidacy.CandidacyOpened():
            await conn.execute(
                "INSERT INTO candidacy_candidacies (id, candidate_id, certification, version, blocks, status,"
                " evaluator_id, route, opened_on, trainer_id, employer_id)"
                " VALUES ($1, $2, $3, $4, $5, $9, $6, $7, $8, $10, $11)", fact.candidacy_id,
                fact.candidate_id, fact.certification, fact.version, json.dumps({b: BlockState.PENDING for b in fact.blocks}),
                fact.evaluator_id, fact.route, envelope.occurred_at.date(), fact.status, fact.trainer_id,
                fact.employer_id)
        case candidacy.FundingRequested() if fact.funder_id:
            await conn.execute("UPDATE candidacy_candidacies SET funders = array_append(funders, $2) WHERE id = $1"
                               " AND NOT $2 = ANY(funders)", fact.candidacy_id, fact.funder_id)
        case candidacy.CandidacyTransferred():
            await conn.execute("UPDATE candidacy_candidacies SET evaluator_id = $2 WHERE id = $1", fact.candidacy_id,
                               fact.to_evaluator_id)
        case candidacy.CandidacyPositioned():
            await conn.execute("UPDATE candidacy_candidacies SET blocks = $2, status = $3 WHERE id = $1",
                               fact.candidacy_id, json.dumps(fact.blocks), fact.status)
        case candidacy.DocumentAttached():
            await conn.execute("INSERT INTO candidacy_documents (id, candidacy_id, kind) VALUES ($1, $2, $3)"
                               " ON CONFLICT DO NOTHING", fact.document_id, fact.candidacy_id, fact.kind)
            if fact.supersedes:
                await conn.execute("UPDATE candidacy_documents SET superseded = true WHERE id = $1", fact.supersedes)
        case candidacy.CandidacyStep():  # the others: the status the step led to
            await conn.execute("UPDATE candidacy_candidacies SET status = $2 WHERE id = $1", fact.candidacy_id,
                               fact.status)


async def candidacy_facts(pool: asyncpg.Pool, candidacy_id: str) -> CandidacyFacts | None:
    row = await pool.fetchrow(
        "SELECT c.*, coalesce(k.owners, '{}') AS owners, coalesce((SELECT jsonb_agg(jsonb_build_object('document_id', d.id, 'kind', d.kind) ORDER BY d.id)"
        " FROM candidacy_documents d WHERE d.candidacy_id = c.id AND d.kind = ANY($2::text[]) AND NOT d.superseded),"
        " '[]') AS papers FROM candidacy_candidacies c"
        " LEFT JOIN catalog_certifications k ON k.code = c.certification WHERE c.id = $1", candidacy_id,
        list(JURY_READS))
    if row is None:
        return None
    return CandidacyFacts(candidacy_id=row["id"], candidate_id=row["candidate_id"], certification=row["certification"],
                          version=row["version"], blocks=json.loads(row["blocks"]), status=row["status"],
                          evaluator_id=row["evaluator_id"], branches=frozenset(row["owners"]), route=row["route"],
                          opened_on=row["opened_on"],
                          papers=tuple(json.loads(row["papers"])))

