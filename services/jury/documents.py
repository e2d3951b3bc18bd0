"""The documents of the jury's file: the evidence of each block's evaluation (on the candidacy's dossier) and a
session's attendance sheet and minutes (on the session). Their bytes are stored sealed in this service's bucket,
their facts recorded on the aggregate (`DocumentAttached`).

- Evidence is sealed with the key this service keeps for the candidate (services/jury/evaluations.py), destroyed
  when the candidate is erased: their evidence is unreadable from then on (410), for good.
- A session's papers name many people (the members, the candidates presented): they are sealed with a key of the
  session (`personal_keys`, person id `session:<id>`), which no candidate's erasure destroys (the minutes are the
  certifier's legal record).
- Attaching (`attach-evaluation-evidence`, `attach-jury-paper`): the facts reader checks the caller's right
  first (no key is made, nothing stored, for whoever may not attach), then the bytes against the kind's rules
  (shared/documents.py), has them scanned, seals and stores them under a new object key; the decision then
  records `DocumentAttached`. A refused or replayed command's object is deleted after (`after_attaching`).
- `POST /queries/document` `{"document_id", "candidacy_id"}` or `{"document_id", "session_id"}` (bearer token):
  the bytes, for a caller whose role reaches the record under the kind's `read` row of the role table (evidence:
  the candidacy, with the sessions it was presented to; papers: the session's branch); each read is first
  recorded (`DocumentRead`) through a decision of its own.
"""

from __future__ import annotations

import uuid
from datetime import date

import anyio
import asyncpg

from shared.commands import Command
from shared.commands.jury import AttachEvaluationEvidence, AttachJuryPaper, PurgeJuryDocument, ReadJuryDocument
from shared.document_reads import document_query, opened
from shared.documents import KINDS
from shared.eventstore import CommandOutcome
from shared.http import Endpoint
from shared.identity import TokenVerifier
from shared.personal import KeyDestroyed, new_key, seal
from shared.policy import Record, authorize, operation
from shared.vocabulary import DocumentKind

from services.jury import views
from services.jury.application import (
    JuryApplication, candidacy_record, session_person, session_record, unknown_candidacy,
)
from services.jury.domain import AttachingFacts, PurgingFacts, ReadingFacts
from services.jury.evaluations import Evaluations

JURY_KINDS = (DocumentKind.EVALUATION_EVIDENCE, DocumentKind.ATTENDANCE_SHEET, DocumentKind.JURY_MINUTES,
              DocumentKind.CERTIFICATE_PDF)


class Papers:
    def __init__(self, app: JuryApplication, pool: asyncpg.Pool, evaluations: Evaluations):
        self.app, self.pool, self.evaluations = app, pool, evaluations

    async def session_key(self, person_id: str) -> bytes:
        """A session's key, made on its first paper; never destroyed by an erasure."""
        vault = self.evaluations.vault
        await self.pool.execute("INSERT INTO personal_keys (person_id, wrapped) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                person_id, vault.master.wrap(person_id, new_key()))
        return await vault.key(person_id)

    async def attaching(self, command: AttachEvaluationEvidence | AttachJuryPaper) -> AttachingFacts:
        if isinstance(command, AttachEvaluationEvidence):
            candidacy = await views.candidacy_facts(self.pool, command.candidacy_id)
            if candidacy is None:
                raise unknown_candidacy()
            # The caller's right first: no key is made, nothing stored, on behalf of whoever may not attach.
            authorize(KINDS[command.kind].attach, candidacy_record(candidacy))
            person_id, prefix = candidacy.candidate_id, f"dossiers/{command.candidacy_id}"
            key = await self.evaluations.key(person_id)  # CandidateErased once erased: nothing more recorded
        else:
            candidacy = None
            session = await anyio.to_thread.run_sync(self.app.session, command.session_id)
            authorize(KINDS[command.kind].attach, session_record(session))
            person_id, prefix = session_person(str(session.id)), f"sessions/{session.id}"
            key = await self.session_key(person_id)
        stored = await self.app.documents.store(command.kind, command.content, command.sha256, person_id, key, prefix)
        return AttachingFacts(document_id=str(uuid.uuid4()), stored=stored, candidacy=candidacy,
                              personal=seal(key, person_id, {"filename": command.filename}))

    async def after_attaching(self, command: Command, facts: AttachingFacts, outcome: CommandOutcome | None) -> None:
        if outcome is None or outcome.result.get("document_id") != facts.document_id:
            await self.app.documents.discard(facts.stored.object_key)  # refused, or a replay: not recorded

    async def reading(self, command: ReadJuryDocument) -> ReadingFacts:
        if command.candidacy_id is None:
            return ReadingFacts()
        row = await self.pool.fetchrow(
            "SELECT c.*, coalesce(k.owners, '{}') AS owners, p.account FROM candidacy_candidacies c"
            " LEFT JOIN catalog_certifications k ON k.code = c.certification"
            " LEFT JOIN candidacy_candidates p ON p.id = c.candidate_id WHERE c.id = $1", command.candidacy_id)
        if row is None:
            return ReadingFacts()
        events = await anyio.to_thread.run_sync(self.evaluations._events, row["id"])
        record = Record(branches=frozenset(row["owners"]), evaluator=row["evaluator_id"], trainer=row["trainer_id"],
                        employer=row["employer_id"], funders=frozenset(row["funders"]), account=row["account"],
                        presented_to_branches=await self.evaluations._branches(events))
        return ReadingFacts(record=record, candidate_id=row["candidate_id"])

    async def purging(self, command: PurgeJuryDocument) -> PurgingFacts:
        """A purge's facts: the day, and the day the document was attached (its stored event's)."""
        attached_on = await anyio.to_thread.run_sync(self.app.attached_on, command.aggregate_id, command.document_id)
        return PurgingFacts(today=date.today(), attached_on=attached_on)

    async def after_purging(self, command: PurgeJuryDocument, facts: PurgingFacts,
                            outcome: CommandOutcome | None) -> None:
        """A recorded purge deletes the object; a replay deletes it again (harmless), finishing a failed deletion."""
        if outcome is not None:
            await self.app.documents.discard(outcome.result["object_key"])

    async def content(self, result: dict) -> tuple[bytes, str]:
        """The bytes of the document a read was recorded for, and its file's name."""
        person_id = result["person_id"]

        async def key() -> bytes:
            if await self.pool.fetchval("SELECT erased FROM candidacy_candidates WHERE id = $1", person_id):
                raise KeyDestroyed(person_id)
            return await self.evaluations.vault.key(person_id)

        return await opened(self.app.documents, key, person_id, result)


# Who may read some document of the jury's file: the kind's own row decides on the record.
READERS = frozenset().union(*(operation(KINDS[kind].read).roles for kind in JURY_KINDS))


def queries(app: JuryApplication, pool: asyncpg.Pool, verifier: TokenVerifier) -> dict:
    papers = Papers(app, pool, Evaluations(app, pool))
    read = Endpoint(ReadJuryDocument, papers.reading, app.read_document)
    return {"document": document_query(ReadJuryDocument, read, READERS, verifier, papers.content,
                                       '{"document_id": ..., "candidacy_id": ...} or {"document_id": ..., '
                                       '"session_id": ...}')}
