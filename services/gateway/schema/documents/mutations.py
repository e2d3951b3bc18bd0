"""Attaching documents: each mutation takes its file as a part of a GraphQL multipart request (its input's `content`,
the `Upload` scalar), sent base64 to the owning service with the command (forward.py), which checks, scans and seals
it. A refusal of the bytes is its own member: DocumentTypeRefused, DocumentTooLarge, DigestMismatch."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.commands.candidacy import AttachIdentityDocument, AttachVaePaper
from shared.commands.jury import AttachEvaluationEvidence, AttachJuryPaper

from services.gateway.schema.candidacy.types import Candidacy
from services.gateway.schema.context import Context
from services.gateway.schema.documents.types import Document
from services.gateway.schema.errors import DOCUMENT_ERRORS, result_union
from services.gateway.schema.jury.types import JurySession
from services.gateway.schema.mutations import CommandMutation


@strawberry.type(description="The document attached, and the candidacy whose file holds it")
class DocumentAttached:
    document: Document
    candidacy: Candidacy | None


@strawberry.type(description="The paper attached, and the jury session that holds it")
class JuryPaperAttached:
    document: Document
    session: JurySession | None


DocumentAttachedResult = result_union("DocumentAttachedResult", DocumentAttached, DOCUMENT_ERRORS)
JuryPaperAttachedResult = result_union("JuryPaperAttachedResult", JuryPaperAttached, DOCUMENT_ERRORS)


async def attached(info: Info[Context, None], answer: dict) -> DocumentAttached:
    """The service's answer: {"id": the candidacy, "document_id", "version", "events", …}, shown once applied."""
    pool = info.context.pool
    document = await pool.fetchrow("SELECT * FROM documents WHERE id = $1", answer["document_id"])
    candidacy = await pool.fetchrow("SELECT * FROM candidacies WHERE id = $1::uuid", answer["id"])
    return DocumentAttached(document=Document.from_row(document),
                            candidacy=Candidacy.from_row(candidacy) if candidacy else None)


async def paper_attached(info: Info[Context, None], answer: dict) -> JuryPaperAttached:
    """The jury service's answer: {"id": the session, "document_id", "version", "events"}."""
    pool = info.context.pool
    document = await pool.fetchrow("SELECT * FROM documents WHERE id = $1", answer["document_id"])
    session = await pool.fetchrow("SELECT * FROM jury_sessions WHERE id = $1::uuid", answer["id"])
    return JuryPaperAttached(document=Document.from_row(document),
                             session=JurySession.from_row(session) if session else None)


# This feature's rows of the mutation table (schema/__init__.py).
MUTATIONS = {
    AttachVaePaper: CommandMutation(
        "attach_vae_paper", DocumentAttachedResult, attached,
        "VAE: attach a paper of the file (Livret 1, one of its supporting documents, Livret 2), its file a part of a "
        "GraphQL multipart request; a new one of a kind held once supersedes the current one"),
    AttachIdentityDocument: CommandMutation(
        "attach_identity_document", DocumentAttachedResult, attached,
        "Attach a copy of the holder's identity document (a part of a GraphQL multipart request), for the "
        "certifier's check of their civil data"),
    AttachEvaluationEvidence: CommandMutation(
        "attach_evaluation_evidence", DocumentAttachedResult, attached,
        "Attach evidence of one block's evaluation (a grid, an observation report, a photo of work) to the "
        "candidacy's dossier, its file a part of a GraphQL multipart request; an evaluation names it"),
    AttachJuryPaper: CommandMutation(
        "attach_jury_paper", JuryPaperAttachedResult, paper_attached,
        "Attach a jury session's attendance sheet or minutes (a part of a GraphQL multipart request); a new one "
        "supersedes the current one"),
}
