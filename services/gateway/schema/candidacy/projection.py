"""The candidacy read models: candidates (their id, status, employer and account: no personal data, which
the candidacy service alone holds, sealed per person) and candidacies, kept from cqp.candidacy.events."""

from __future__ import annotations

import json

import asyncpg

from shared.contracts import candidacy
from shared.envelope import Envelope
from shared.migrations import numbered
from shared.vocabulary import AdmissibilityStatus, BlockState, FundingStatus

from services.gateway.projection import jsonb

MIGRATIONS = numbered(
    "candidacy",
    """
    CREATE TABLE IF NOT EXISTS candidates (
        id uuid PRIMARY KEY,
        status text NOT NULL,
        employer_id text,
        registered_at timestamptz NOT NULL
    );
    -- Who may read a candidate: their own account, and the organisation that registered them.
    ALTER TABLE candidates ADD COLUMN IF NOT EXISTS account text;
    ALTER TABLE candidates ADD COLUMN IF NOT EXISTS registered_by text;
    -- Personal data once kept here in clear: now with the candidacy service only, sealed per person.
    ALTER TABLE candidates DROP COLUMN IF EXISTS given_name, DROP COLUMN IF EXISTS family_name,
        DROP COLUMN IF EXISTS email, DROP COLUMN IF EXISTS birth_date, DROP COLUMN IF EXISTS search,
        DROP COLUMN IF EXISTS holder;
    ALTER TABLE candidates ADD COLUMN IF NOT EXISTS erased_at timestamptz;
    CREATE TABLE IF NOT EXISTS candidacies (
        id uuid PRIMARY KEY,
        candidate_id uuid NOT NULL,
        certification text NOT NULL,
        version int NOT NULL,
        route text NOT NULL,
        status text NOT NULL,
        evaluator_id text NOT NULL,
        trainer_id text,
        employer_id text,
        blocks jsonb NOT NULL,
        path jsonb NOT NULL DEFAULT '[]',
        fundings jsonb NOT NULL DEFAULT '{}',
        admissibility jsonb,
        eligibility_confirmed_on date,
        experience_months int,
        opened_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS candidacies_candidate ON candidacies (candidate_id);
    """,
    """
    -- The person rule: the login named waits for the person's confirmation; organisations entrusted with them.
    ALTER TABLE candidates ADD COLUMN IF NOT EXISTS invited_account text;
    ALTER TABLE candidates ADD COLUMN IF NOT EXISTS entrusted text[] NOT NULL DEFAULT '{}';
    """,
)


async def project(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact, at = candidacy.REGISTRY.parse(envelope), envelope.occurred_at
    if fact is None:
        return
    if isinstance(fact, candidacy.CandidateRegistered):
        await conn.execute(
            "INSERT INTO candidates (id, status, employer_id, registered_at, account, registered_by, invited_account)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)", envelope.aggregate_id, fact.status, fact.employer_id, at,
            fact.account, envelope.actor.organisation_id, fact.invited_account)
        return
    if isinstance(fact, candidacy.CandidateAccountConfirmed):
        await conn.execute("UPDATE candidates SET account = $2, invited_account = NULL WHERE id = $1",
                           envelope.aggregate_id, fact.account)
        return
    if isinstance(fact, candidacy.CandidateEntrusted):
        await conn.execute("UPDATE candidates SET entrusted = array_append(entrusted, $2) WHERE id = $1"
                           " AND NOT $2 = ANY(entrusted)", envelope.aggregate_id, fact.organisation_id)
        return
    if isinstance(fact, candidacy.CandidateErased):
        await conn.execute("UPDATE candidates SET erased_at = $2 WHERE id = $1", envelope.aggregate_id, at)
        return
    if isinstance(fact, candidacy.CandidateCorrected):
        return  # the sealed data is the candidacy service's: the audit log keeps the event, fields named
    if isinstance(fact, candidacy.CandidacyOpened):
        await conn.execute(
            "INSERT INTO candidacies (id, candidate_id, certification, version, route, status, evaluator_id,"
            " trainer_id, employer_id, blocks, experience_months, opened_at, updated_at)"
            " VALUES ($1, $2::uuid, $3, $4, $5, $12, $6, $7, $8, $9, $10, $11, $11)",
            envelope.aggregate_id, fact.candidate_id, fact.certification, fact.version, fact.route,
            fact.evaluator_id, fact.trainer_id, fact.employer_id,
            json.dumps({code: BlockState.PENDING for code in fact.blocks}), fact.experience_months, at, fact.status)
        return

    async def update(assignments: str, *values) -> None:
        await conn.execute(f"UPDATE candidacies SET {assignments}, updated_at = $2 WHERE id = $1",
                           envelope.aggregate_id, at, *values)

    match fact:
        case candidacy.EligibilityConfirmed():
            await update("eligibility_confirmed_on = $3", fact.on)
        case candidacy.ExperienceDeclared():
            await update("experience_months = $3", fact.months)
        case candidacy.CandidacyPositioned():
            await update("blocks = $3, status = $4", json.dumps(fact.blocks), fact.status)
        case candidacy.PathSet():
            await update("path = $3", jsonb(fact.blocks))
        case candidacy.FundingRequested():
            funding = {"funder": fact.funder, "funder_id": fact.funder_id, "amount": fact.amount,
                       "status": FundingStatus.REQUESTED, "granted_amount": None, "reason": None}
            await update("fundings = fundings || jsonb_build_object($3::text, $4::jsonb)", fact.funding_id,
                         json.dumps(funding))
        case candidacy.FundingDecided():
            decided = {"status": FundingStatus.GRANTED if fact.granted else FundingStatus.REFUSED,
                       "granted_amount": fact.granted_amount, "reason": fact.reason}
            await update("fundings = jsonb_set(fundings, ARRAY[$3::text], fundings -> $3::text || $4::jsonb)",
                         fact.funding_id, json.dumps(decided))
        case candidacy.AdmissibilityFiled():
            await update("admissibility = $3, status = $4", json.dumps({"status": AdmissibilityStatus.FILED, "reason": None}),
                         fact.status)
        case candidacy.AdmissibilityDecided():
            await update("admissibility = $3, status = $4",
                         json.dumps({"status": fact.status, "reason": fact.reason}), fact.status)
        case candidacy.CandidacyTransferred():
            await update("evaluator_id = $3", fact.to_evaluator_id)
        case candidacy.ValidationFileSubmitted() | candidacy.CandidacyWithdrawn() | candidacy.CandidacyClosed():
            await update("status = $3", fact.status)


HANDLERS = {candidacy.TOPIC: project}
