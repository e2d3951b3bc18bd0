"""The papers of a candidacy's file (Livret 1 and its supporting documents, Livret 2, the holder's identity
document): their bytes stored sealed with the candidate's key, their facts recorded on the candidacy.

- Attaching (`attach-vae-paper`, `attach-identity-document`): the facts reader checks the bytes against the
  kind's rules (shared/documents.py), has them scanned, seals them with the candidate's key and stores them
  under a new object key; the decision then authorizes on the candidacy and records `DocumentAttached`. A
  refused or replayed command's object is deleted after (`after_attaching`); one a crash leaves behind is
  an orphan that `cqp verify` reports.
- `POST /queries/document` `{"candidacy_id", "document_id"}` (bearer token): the document's bytes, for a caller
  whose role reaches the candidacy under the kind's `read` row of the role table; each read is first recorded
  (`DocumentRead`, who and when: the candidacy's history and the audit trail). An erased candidate's document
  is unreadable (410), for good.
"""

from __future__ import annotations

import uuid
from datetime import date

import anyio
import asyncpg

from shared.commands import Command
from shared.commands.candidacy import AttachIdentityDocument, AttachVaePaper, PurgeDocument, ReadDocument
from shared.document_reads import document_query, opened
from shared.documents import KINDS
from shared.eventstore import CommandOutcome
from shared.http import Endpoint
from shared.identity import TokenVerifier
from shared.personal import KeyDestroyed, seal
from shared.policy import operation
from shared.vocabulary import DocumentKind

from services.candidacy import catalog_view
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import AttachingFacts, CandidateErased, PurgingFacts, ReadingFacts
from services.candidacy.people import People

CANDIDACY_KINDS = (DocumentKind.LIVRET_1, DocumentKind.LIVRET_1_SUPPORT, DocumentKind.LIVRET_2,
                   DocumentKind.IDENTITY_DOCUMENT)


class Papers:
    def __init__(self, app: CandidacyApplication, pool: asyncpg.Pool, people: People):
        self.app, self.pool, self.people = app, pool, people

    async def attaching(self, command: AttachVaePaper | AttachIdentityDocument) -> AttachingFacts:
        reference = await anyio.to_thread.run_sync(self.app.reference, command.candidacy_id)
        owners = await catalog_view.owners(self.pool, reference.certification)
        try:
            key = await self.people.vault.key(reference.candidate_id)
        except KeyDestroyed:
            raise CandidateErased("the candidate was erased: nothing more is recorded about them") from None
        stored = await self.app.documents.store(command.kind, command.content, command.sha256,
                                                reference.candidate_id, key, f"candidacies/{command.candidacy_id}")
        return AttachingFacts(owners=owners, today=date.today(), document_id=str(uuid.uuid4()), stored=stored,
                              personal=seal(key, reference.candidate_id, {"filename": command.filename}))

    async def after_attaching(self, command: Command, facts: AttachingFacts, outcome: CommandOutcome | None) -> None:
        if outcome is None or outcome.result.get("document_id") != facts.document_id:
            await self.app.documents.discard(facts.stored.object_key)  # refused, or a replay: not recorded

    async def reading(self, command: ReadDocument) -> ReadingFacts:
        code = (await anyio.to_thread.run_sync(self.app.reference, command.candidacy_id)).certification
        presented = await catalog_view.presented_to(self.pool, [command.candidacy_id])
        return ReadingFacts(owners=await catalog_view.owners(self.pool, code), today=date.today(),
                            presented=presented.get(command.candidacy_id, frozenset()))

    async def purging(self, command: PurgeDocument) -> PurgingFacts:
        """A purge's facts: the step's, and the day the document was attached (its stored event's)."""
        code = (await anyio.to_thread.run_sync(self.app.reference, command.candidacy_id)).certification
        attached_on = await anyio.to_thread.run_sync(self.app.attached_on, command.candidacy_id, command.document_id)
        return PurgingFacts(owners=await catalog_view.owners(self.pool, code), today=date.today(),
                            attached_on=attached_on)

    async def after_purging(self, command: PurgeDocument, facts: PurgingFacts, outcome: CommandOutcome | None) -> None:
        """A recorded purge deletes the object; a replay deletes it again (S3 deletes a missing key without error),
        so sending the same purge again finishes one whose deletion failed."""
        if outcome is not None:
            await self.app.documents.discard(outcome.result["object_key"])

    async def content(self, result: dict) -> tuple[bytes, str]:
        """The bytes of the document a read was recorded for, and its file's name."""
        candidate_id = result["candidate_id"]
        return await opened(self.app.documents, lambda: self.people.vault.key(candidate_id), candidate_id, result)


# Who may read some document of a candidacy: the kind's own row decides on the record.
READERS = frozenset().union(*(operation(KINDS[kind].read).roles for kind in CANDIDACY_KINDS))


def queries(app: CandidacyApplication, pool: asyncpg.Pool, verifier: TokenVerifier) -> dict:
    papers = Papers(app, pool, People(app, pool))
    read = Endpoint(ReadDocument, papers.reading, app.read_document)
    return {"document": document_query(ReadDocument, read, READERS, verifier, papers.content,
                                       '{"candidacy_id": ..., "document_id": ...}')}
