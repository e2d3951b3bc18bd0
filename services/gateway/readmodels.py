"""Read models of the gateway, in its own schema, built only from the event topics.

No personal data is kept here: a candidate is their id, status, employer and account. Their names,
contact, birth date and civil registry data travel sealed with their own key (shared/personal.py), which
only the candidacy service holds; the gateway asks it for the fields it shows, with the caller's token
(shared/people.py). Erasing a person therefore leaves nothing here to forget, and a rebuild
from the topics brings nothing back.
"""

from __future__ import annotations

import json

import asyncpg

from shared.contracts import candidacy, catalog, jury
from shared.envelope import Envelope

SCHEMA = "gateway"

MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS branches (
        code text PRIMARY KEY,
        name text NOT NULL,
        idcc text[] NOT NULL,
        cpne text NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS organisations (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        siret text,
        kinds text[] NOT NULL,
        registered_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS accreditations (
        id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        branch text NOT NULL,
        certifications text[] NOT NULL,
        scope text NOT NULL,
        valid_from date NOT NULL,
        valid_until date,
        withdrawn_on date,
        withdrawal_reason text
    );
    CREATE INDEX IF NOT EXISTS accreditations_certifications ON accreditations USING gin (certifications);
    CREATE TABLE IF NOT EXISTS certifications (
        code text PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        kind text NOT NULL,
        title text NOT NULL,
        owners text[] NOT NULL,
        current_version int,
        block_titles text NOT NULL DEFAULT '',
        registration jsonb,
        registry text,
        level text,
        end_date date,
        routes text[] NOT NULL DEFAULT '{}',
        certifiers jsonb NOT NULL DEFAULT '[]',
        predecessors text[] NOT NULL DEFAULT '{}',
        successors text[] NOT NULL DEFAULT '{}',
        equivalences jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS certifications_owners ON certifications USING gin (owners);
    CREATE TABLE IF NOT EXISTS certification_versions (
        code text NOT NULL,
        version int NOT NULL,
        effective_from date NOT NULL,
        blocks jsonb NOT NULL,
        settings jsonb NOT NULL,
        published_at timestamptz NOT NULL,
        PRIMARY KEY (code, version)
    );
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
    -- Every event applied, as published: the audit history, replayable.
    CREATE TABLE IF NOT EXISTS audit_log (
        event_id uuid NOT NULL,
        producer text NOT NULL,
        type text NOT NULL,
        version int NOT NULL,
        aggregate_id uuid NOT NULL,
        aggregate_version int NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor jsonb NOT NULL,
        correlation_id text NOT NULL,
        causation_id text NOT NULL,
        payload jsonb NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_log_aggregate ON audit_log (aggregate_id, aggregate_version);
    """,
    # 2: the audit (services/gateway/audit.py): trails by period, organisation or user, in keyset order
    # (occurred_at, event_id); the jury's events about a candidacy, found by the candidacy they name.
    """
    CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log (occurred_at, event_id);
    CREATE INDEX IF NOT EXISTS audit_log_organisation
        ON audit_log ((actor ->> 'organisation_id'), occurred_at, event_id);
    CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log ((actor ->> 'user_id'), occurred_at, event_id);
    CREATE INDEX IF NOT EXISTS audit_log_candidacy ON audit_log ((payload ->> 'candidacy_id'));
    """,
]


async def record_audit(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO audit_log (event_id, producer, type, version, aggregate_id, aggregate_version,"
        " occurred_at, actor, correlation_id, causation_id, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        envelope.event_id, envelope.producer, envelope.type, envelope.version, envelope.aggregate_id,
        envelope.aggregate_version, envelope.occurred_at, envelope.actor.model_dump_json(),
        envelope.correlation_id, envelope.causation_id, json.dumps(envelope.payload),
    )


def _json(values) -> str:
    return json.dumps([v.model_dump(mode="json") for v in values])


async def project_catalog(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)
    fact, at = catalog.REGISTRY.parse(envelope), envelope.occurred_at

    async def update(code: str, assignments: str, *values) -> None:
        await conn.execute(f"UPDATE certifications SET {assignments}, updated_at = $2 WHERE code = $1",
                           code, at, *values)

    match fact:
        case catalog.BranchCreated():
            await conn.execute("INSERT INTO branches (code, name, idcc, cpne, created_at) VALUES ($1, $2, $3, $4, $5)",
                               fact.code, fact.name, fact.idcc, fact.cpne, at)
        case catalog.OrganisationRegistered():
            await conn.execute("INSERT INTO organisations (id, name, siret, kinds, registered_at)"
                               " VALUES ($1::uuid, $2, $3, $4, $5)",
                               fact.organisation_id, fact.name, fact.siret, fact.kinds, at)
        case catalog.OrganisationAccredited():
            await conn.execute(
                "INSERT INTO accreditations (id, organisation_id, branch, certifications, scope, valid_from,"
                " valid_until) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7)",
                fact.accreditation_id, fact.organisation_id, fact.branch, fact.certifications, fact.scope,
                fact.valid_from, fact.valid_until)
        case catalog.AccreditationWithdrawn():
            await conn.execute("UPDATE accreditations SET withdrawn_on = $2, withdrawal_reason = $3 WHERE id = $1::uuid",
                               fact.accreditation_id, fact.on, fact.reason)
        case catalog.CertificationCreated():
            await conn.execute(
                "INSERT INTO certifications (code, id, kind, title, owners, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $6)",
                fact.code, envelope.aggregate_id, fact.kind, fact.title, fact.owners, at)
        case catalog.CertificationRetitled():
            await update(fact.code, "title = $3", fact.title)
        case catalog.CertificationOwnersChanged():
            await update(fact.code, "owners = $3", fact.owners)
        case catalog.ReferentialVersionPublished():
            await conn.execute(
                "INSERT INTO certification_versions (code, version, effective_from, blocks, settings, published_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                fact.code, fact.version, fact.effective_from, _json(fact.blocks),
                fact.settings.model_dump_json(), at)
            await update(fact.code, "current_version = $3, block_titles = $4", fact.version,
                         " ".join(b.title for b in fact.blocks))
        case catalog.RegistrationRecorded():
            r = fact.registration
            await update(fact.code, "registration = $3, registry = $4, level = $5, end_date = $6, routes = $7",
                         r.model_dump_json(), r.registry, r.level, r.end_date, r.routes)
        case catalog.CertifiersRecorded():
            await update(fact.code, "certifiers = $3", _json(fact.certifiers))
        case catalog.SuccessionRecorded():
            await update(fact.code, "predecessors = $3, successors = $4", fact.predecessors, fact.successors)
        case catalog.BlockEquivalencesRecorded():
            await update(fact.code, "equivalences = $3", _json(fact.equivalences))


async def project_candidacy(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)
    fact, at = candidacy.REGISTRY.parse(envelope), envelope.occurred_at
    if fact is None:
        return
    if isinstance(fact, candidacy.CandidateRegistered):
        await conn.execute(
            "INSERT INTO candidates (id, status, employer_id, registered_at, account, registered_by)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            envelope.aggregate_id, fact.status, fact.employer_id, at, fact.account, envelope.actor.organisation_id)
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
            " VALUES ($1, $2::uuid, $3, $4, $5, 'OPEN', $6, $7, $8, $9, $10, $11, $11)",
            envelope.aggregate_id, fact.candidate_id, fact.certification, fact.version, fact.route,
            fact.evaluator_id, fact.trainer_id, fact.employer_id,
            json.dumps({code: "PENDING" for code in fact.blocks}), fact.experience_months, at)
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
            await update("blocks = $3, status = CASE WHEN status = 'OPEN' THEN 'POSITIONED' ELSE status END",
                         json.dumps(fact.blocks))
        case candidacy.PathSet():
            await update("path = $3", _json(fact.blocks))
        case candidacy.FundingRequested():
            funding = {"funder": fact.funder, "funder_id": fact.funder_id, "amount": fact.amount,
                       "status": "REQUESTED", "granted_amount": None, "reason": None}
            await update("fundings = fundings || jsonb_build_object($3::text, $4::jsonb)", fact.funding_id,
                         json.dumps(funding))
        case candidacy.FundingDecided():
            decided = {"status": "GRANTED" if fact.granted else "REFUSED", "granted_amount": fact.granted_amount,
                       "reason": fact.reason}
            await update("fundings = jsonb_set(fundings, ARRAY[$3::text], fundings -> $3::text || $4::jsonb)",
                         fact.funding_id, json.dumps(decided))
        case candidacy.AdmissibilityFiled():
            await update("admissibility = $3, status = 'ADMISSIBILITY_FILED'",
                         json.dumps({"status": "FILED", "reason": None}))
        case candidacy.AdmissibilityDecided():
            status = "ADMISSIBLE" if fact.admissible else "INADMISSIBLE"
            await update("admissibility = $3, status = $4", json.dumps({"status": status, "reason": fact.reason}),
                         status)
        case candidacy.ValidationFileSubmitted():
            await update("status = 'VALIDATION_FILE_SUBMITTED'")
        case candidacy.CandidacyTransferred():
            await update("evaluator_id = $3", fact.to_evaluator_id)
        case candidacy.CandidacyWithdrawn():
            await update("status = 'WITHDRAWN'")
        case candidacy.CandidacyClosed():
            await update("status = 'CLOSED'")


async def project_jury(conn: asyncpg.Connection, envelope: Envelope) -> None:
    await record_audit(conn, envelope)
    fact, at = jury.REGISTRY.parse(envelope), envelope.occurred_at
    match fact:
        case jury.BlockValidated() | jury.BlockNotValidated():
            validated = isinstance(fact, jury.BlockValidated)
            await conn.execute(
                "INSERT INTO jury_evaluations (event_id, candidacy_id, block, validated, competences, modality,"
                " evaluator, organisation_id, evaluated_on, valid_until, evidence, recorded_at)"
                " VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                envelope.event_id, fact.candidacy_id, fact.block, validated, _json(fact.competences), fact.modality,
                fact.evaluator, fact.organisation_id, fact.validated_on if validated else fact.evaluated_on,
                fact.valid_until if validated else None, fact.evidence, at)
        case jury.JurySessionScheduled():
            await conn.execute(
                "INSERT INTO jury_sessions (id, branch, certifications, held_on, place, remote, capacity)"
                " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7)",
                fact.session_id, fact.branch, fact.certifications, fact.on, fact.place, fact.remote, fact.capacity)
        case jury.JuryMemberAppointed():
            member = {"college": fact.college, "role": fact.role}  # the name: asked of the jury service
            await conn.execute("UPDATE jury_sessions SET members = members || jsonb_build_object($2::text, $3::jsonb)"
                               " WHERE id = $1::uuid", fact.session_id, fact.member_id, json.dumps(member))
        case jury.CandidacyPresented():
            await conn.execute("INSERT INTO jury_presentations (session_id, candidacy_id, blocks)"
                               " VALUES ($1::uuid, $2::uuid, $3)", fact.session_id, fact.candidacy_id, fact.blocks)
        case jury.JuryDecided():
            await conn.execute(
                "INSERT INTO jury_decisions (session_id, candidacy_id, candidate_id, certification, decision,"
                " blocks_acquired, members_present, votes, decided_on)"
                " VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9)",
                fact.session_id, fact.candidacy_id, fact.candidate_id, fact.certification, fact.decision,
                fact.blocks_acquired, fact.members_present, json.dumps(fact.votes), fact.decided_on)
            await conn.execute("UPDATE jury_sessions SET status = 'HELD' WHERE id = $1::uuid", fact.session_id)
        case jury.DecisionCorrected():
            correction = {"previous": fact.previous, "decision": fact.decision, "reason": fact.reason,
                          "by": envelope.actor.model_dump(), "at": at.isoformat()}
            await conn.execute(
                "UPDATE jury_decisions SET decision = $3, blocks_acquired = $5, corrections = corrections || $4::jsonb"
                " WHERE session_id = $1::uuid AND candidacy_id = $2::uuid",
                fact.session_id, fact.candidacy_id, fact.decision, json.dumps([correction]), fact.blocks_acquired)
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
                " blocks, awarded_on, session_id) VALUES ($1, $2, $3::uuid, $4::uuid, $5, $6, $7, $8, $9::uuid)",
                fact.number, fact.kind, fact.candidate_id, fact.candidacy_id, fact.certification,
                fact.version, fact.blocks, fact.awarded_on, fact.session_id)


PROJECTIONS = {
    catalog.TOPIC: project_catalog,
    candidacy.TOPIC: project_candidacy,
    jury.TOPIC: project_jury,
}
