"""The jury's read models: evaluations block by block (no evaluator's name nor evidence: the jury service
holds them, sealed), sessions with their members (no names: the jury service holds them), presentations, decisions with their corrections, certificates and their declaration
to the Caisse des Dépôts, kept from cqp.jury.events."""

from __future__ import annotations

import json

import asyncpg

from shared.contracts import jury
from shared.envelope import Envelope
from shared.migrations import numbered
from shared.vocabulary import DeclarationState, JurySessionStatus

from services.gateway.projection import jsonb

MIGRATIONS = numbered(
    "jury",
    """
    CREATE TABLE IF NOT EXISTS jury_evaluations (
        event_id uuid PRIMARY KEY,
        candidacy_id uuid NOT NULL,
        block text NOT NULL,
        validated boolean NOT NULL,
        competences jsonb NOT NULL,
        modality text NOT NULL,
        evaluator text NOT NULL,
        organisation_id text NOT NULL,
        evaluated_on date NOT NULL,
        valid_until date,
        evidence text NOT NULL,
        recorded_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS jury_evaluations_candidacy ON jury_evaluations (candidacy_id);
    CREATE TABLE IF NOT EXISTS jury_sessions (
        id uuid PRIMARY KEY,
        branch text NOT NULL,
        certifications text[] NOT NULL,
        held_on date NOT NULL,
        place text NOT NULL,
        remote boolean NOT NULL,
        capacity int NOT NULL,
        members jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'SCHEDULED'
    );
    CREATE TABLE IF NOT EXISTS jury_presentations (
        session_id uuid NOT NULL,
        candidacy_id uuid NOT NULL,
        blocks text[] NOT NULL,
        PRIMARY KEY (session_id, candidacy_id)
    );
    CREATE TABLE IF NOT EXISTS jury_decisions (
        session_id uuid NOT NULL,
        candidacy_id uuid NOT NULL,
        candidate_id uuid NOT NULL,
        certification text NOT NULL,
        decision text NOT NULL,
        blocks_acquired text[] NOT NULL,
        members_present text[] NOT NULL,
        votes jsonb NOT NULL,
        decided_on date NOT NULL,
        corrections jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (session_id, candidacy_id)
    );
    CREATE TABLE IF NOT EXISTS certificates (
        number text PRIMARY KEY,
        kind text NOT NULL,
        candidate_id uuid NOT NULL,
        candidacy_id uuid NOT NULL,
        certification text NOT NULL,
        version int NOT NULL,
        blocks text[] NOT NULL,
        awarded_on date NOT NULL,
        session_id uuid NOT NULL
    );
    CREATE INDEX IF NOT EXISTS certificates_candidate ON certificates (candidate_id);
    -- Jury members' names once kept here in clear: now with the jury service only, sealed per person.
    UPDATE jury_sessions SET members = (SELECT coalesce(jsonb_object_agg(m.key, m.value - 'name'), '{}')
                                          FROM jsonb_each(members) m)
     WHERE EXISTS (SELECT 1 FROM jsonb_each(members) m WHERE m.value ? 'name');
    ALTER TABLE certificates DROP COLUMN IF EXISTS holder;  -- the holder's name: asked of the candidacy service
    -- A certificate whose decision was corrected away verifies as revoked, with the date and reason.
    ALTER TABLE certificates ADD COLUMN IF NOT EXISTS revoked_on date;
    ALTER TABLE certificates ADD COLUMN IF NOT EXISTS revocation_reason text;
    -- The declaration of the holder to the Caisse des Dépôts: PENDING, SENT (in a file), ACCEPTED, REJECTED.
    ALTER TABLE certificates ADD COLUMN IF NOT EXISTS declaration_state text NOT NULL DEFAULT 'PENDING';
    ALTER TABLE certificates ADD COLUMN IF NOT EXISTS declaration_file text;
    ALTER TABLE certificates ADD COLUMN IF NOT EXISTS declaration_messages jsonb NOT NULL DEFAULT '[]';
    """,
    # 2: what the dashboards join on (services/gateway/reports/dashboard.py): a candidacy's presentations,
    # decisions and certificates.
    """
    CREATE INDEX IF NOT EXISTS jury_presentations_candidacy ON jury_presentations (candidacy_id);
    CREATE INDEX IF NOT EXISTS jury_decisions_candidacy ON jury_decisions (candidacy_id);
    CREATE INDEX IF NOT EXISTS certificates_candidacy ON certificates (candidacy_id);
    """,
    # 3: evaluators' names and evidence (free text about the candidate) are no longer kept here: sealed with a
    # key the jury service keeps for the candidate, they are asked of it (services/jury/evaluations.py).
    """
    ALTER TABLE jury_evaluations DROP COLUMN IF EXISTS evaluator, DROP COLUMN IF EXISTS evidence;
    """,
    # 4: the papers a presentation lists (what the jury reads: the evidence, the Livret 2), as {document_id, kind}.
    "ALTER TABLE jury_presentations ADD COLUMN IF NOT EXISTS papers jsonb NOT NULL DEFAULT '[]'",
    # 5: the evidence documents an evaluation names (their facts: the documents read model).
    "ALTER TABLE jury_evaluations ADD COLUMN IF NOT EXISTS evidence_documents text[] NOT NULL DEFAULT '{}'",
    # 6: a session's close (its minutes) and the publication of its results to the candidates and their
    # organisations (scopes.published), with its unpublications and their reasons.
    """
    ALTER TABLE jury_sessions ADD COLUMN IF NOT EXISTS closed_on date;
    ALTER TABLE jury_sessions ADD COLUMN IF NOT EXISTS minutes text;
    ALTER TABLE jury_sessions ADD COLUMN IF NOT EXISTS published_at timestamptz;
    ALTER TABLE jury_sessions ADD COLUMN IF NOT EXISTS unpublications jsonb NOT NULL DEFAULT '[]';
    """,
)


async def project(conn: asyncpg.Connection, envelope: Envelope) -> None:
    fact, at = jury.REGISTRY.parse(envelope), envelope.occurred_at
    match fact:
        case jury.BlockValidated() | jury.BlockNotValidated():
            validated = isinstance(fact, jury.BlockValidated)
            await conn.execute(
                "INSERT INTO jury_evaluations (event_id, candidacy_id, block, validated, competences, modality,"
                " organisation_id, evaluated_on, valid_until, recorded_at, evidence_documents)"
                " VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                envelope.event_id, fact.candidacy_id, fact.block, validated, jsonb(fact.competences), fact.modality,
                fact.organisation_id, fact.validated_on if validated else fact.evaluated_on,
                fact.valid_until if validated else None, at, list(fact.evidence_documents))
        case jury.JurySessionScheduled():
            await conn.execute(
                "INSERT INTO jury_sessions (id, branch, certifications, held_on, place, remote, capacity, status)"
                " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)", fact.session_id, fact.branch, fact.certifications,
                fact.on, fact.place, fact.remote, fact.capacity, JurySessionStatus.SCHEDULED)
        case jury.JuryMemberAppointed():
            member = {"college": fact.college, "role": fact.role}  # the name: asked of the jury service
            await conn.execute("UPDATE jury_sessions SET members = members || jsonb_build_object($2::text, $3::jsonb)"
                               " WHERE id = $1::uuid", fact.session_id, fact.member_id, json.dumps(member))
        case jury.CandidacyPresented():
            await conn.execute("INSERT INTO jury_presentations (session_id, candidacy_id, blocks, papers)"
                               " VALUES ($1::uuid, $2::uuid, $3, $4::jsonb)", fact.session_id, fact.candidacy_id,
                               fact.blocks, jsonb(fact.papers))
        case jury.JuryDecided():
            await conn.execute(
                "INSERT INTO jury_decisions (session_id, candidacy_id, candidate_id, certification, decision,"
                " blocks_acquired, members_present, votes, decided_on)"
                " VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9)",
                fact.session_id, fact.candidacy_id, fact.candidate_id, fact.certification, fact.decision,
                fact.blocks_acquired, fact.members_present, json.dumps(fact.votes), fact.decided_on)
            await conn.execute("UPDATE jury_sessions SET status = $2 WHERE id = $1::uuid", fact.session_id,
                               JurySessionStatus.HELD)
        case jury.DecisionCorrected():
            correction = {"previous": fact.previous, "decision": fact.decision, "reason": fact.reason,
                          "by": envelope.actor.model_dump(), "at": at.isoformat()}
            await conn.execute(
                "UPDATE jury_decisions SET decision = $3, blocks_acquired = $5, corrections = corrections || $4::jsonb"
                " WHERE session_id = $1::uuid AND candidacy_id = $2::uuid",
                fact.session_id, fact.candidacy_id, fact.decision, json.dumps([correction]), fact.blocks_acquired)
        case jury.SessionClosed():
            await conn.execute("UPDATE jury_sessions SET closed_on = $2, minutes = $3 WHERE id = $1::uuid",
                               fact.session_id, fact.closed_on, fact.minutes)
        case jury.SessionResultsPublished():
            await conn.execute("UPDATE jury_sessions SET published_at = $2 WHERE id = $1::uuid", fact.session_id, at)
        case jury.SessionResultsUnpublished():
            unpublication = {"reason": fact.reason, "by": envelope.actor.model_dump(), "at": at.isoformat()}
            await conn.execute("UPDATE jury_sessions SET published_at = NULL, unpublications = unpublications"
                               " || $2::jsonb WHERE id = $1::uuid", fact.session_id, json.dumps([unpublication]))
        case jury.HolderDeclarationChanged():
            await conn.execute("UPDATE certificates SET declaration_state = $2, declaration_file = $3,"
                               " declaration_messages = $4 WHERE number = $1", fact.number, fact.state, fact.file,
                               json.dumps(fact.messages))
        case jury.CertificateRevoked():
            await conn.execute("UPDATE certificates SET revoked_on = $2, revocation_reason = $3 WHERE number = $1",
                               fact.number, fact.revoked_on, fact.reason)
        case jury.CertificateIssued():
            await conn.execute(
                "INSERT INTO certificates (number, kind, candidate_id, candidacy_id, certification, version,"
                " blocks, awarded_on, session_id, declaration_state)"
                " VALUES ($1, $2, $3::uuid, $4::uuid, $5, $6, $7, $8, $9::uuid, $10)",
                fact.number, fact.kind, fact.candidate_id, fact.candidacy_id, fact.certification,
                fact.version, fact.blocks, fact.awarded_on, fact.session_id, DeclarationState.PENDING)


HANDLERS = {jury.TOPIC: project}
