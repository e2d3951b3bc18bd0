"""The documents' GraphQL types: a document's facts (never its bytes: `downloadUrl`, through the gateway to the
service holding them, which decides who may read and records each read), and the papers a step needs."""

from __future__ import annotations

import json
from datetime import date, datetime

import strawberry

from services.gateway.schema.audit.types import Actor
from services.gateway.schema.vocabulary import DocumentKind

# The gateway's route serving a document's bytes (services/gateway/documents.py).
DOWNLOAD_PATH = "/documents/"


@strawberry.type(description="A document of a file: its facts as attached; its bytes at `downloadUrl`, read with the "
                             "caller's bearer token (each read is recorded), never in the read models")
class Document:
    id: strawberry.ID
    kind: DocumentKind
    version: int = strawberry.field(description="Its place in the line of its kind (1, then each new one superseding)")
    size: int = strawberry.field(description="In bytes")
    media_type: str = strawberry.field(description="Found from the bytes themselves, never the file's name")
    sha256: str = strawberry.field(description="The SHA-256 of its bytes, hex")
    block: str | None = strawberry.field(description="The block it is evidence for (EVALUATION_EVIDENCE) or certifies "
                                                     "(a block's CREDENTIAL)")
    certificate: str | None = strawberry.field(description="The certificate a CERTIFICATE_PDF or CREDENTIAL is of")
    attached_at: datetime
    attached_by: Actor
    supersedes: strawberry.ID | None = strawberry.field(description="The document this one replaced")
    superseded_by: strawberry.ID | None = strawberry.field(description="The document that replaced this one")
    purged_at: datetime | None = strawberry.field(description="When its keeping period ended and its bytes were "
                                                              "deleted (its facts stay)")

    @strawberry.field(description="The gateway's path of its bytes: GET with the caller's bearer token; none once "
                                  "purged")
    def download_url(self) -> str | None:
        return None if self.purged_at else f"{DOWNLOAD_PATH}{self.id}"

    @classmethod
    def from_row(cls, row) -> Document:
        return cls(id=strawberry.ID(row["id"]), kind=DocumentKind(row["kind"]), version=row["version"],
                   size=row["size"], media_type=row["media_type"], sha256=row["sha256"], block=row["block"],
                   attached_at=row["attached_at"],
                   attached_by=Actor(user_id=row["attached_by_user"], organisation_id=row["attached_by_organisation"],
                                     role=row["attached_by_role"]),
                   supersedes=strawberry.ID(row["supersedes"]) if row["supersedes"] else None,
                   superseded_by=strawberry.ID(row["superseded_by"]) if row["superseded_by"] else None,
                   purged_at=row.get("purged_at"), certificate=row.get("certificate"))


@strawberry.type(description="A verifiable credential of a certificate (an Open Badges 3.0 JWT-VC signed by its branch): "
                             "the award's, or one block's validated by evaluation; the same file as the PDF's "
                             "attachment, its bytes at `downloadUrl` (read like the certificate's PDF)")
class Credential:
    id: strawberry.ID = strawberry.field(description="Its document's id")
    credential_id: str = strawberry.field(description="The credential's own id (urn:uuid), stable for its certificate "
                                                      "and block")
    number: str = strawberry.field(description="The certificate or attestation it is of")
    block: str | None = strawberry.field(description="The block it certifies; none for the certification's award")
    achievement: str = strawberry.field(description="What it certifies: the certification's or the block's code and "
                                                    "title")
    valid_from: date
    valid_until: date | None = strawberry.field(description="The end of the block's validity; none when it has none")
    sha256: str = strawberry.field(description="The SHA-256 of its bytes (the compact JWT), hex")
    issued_at: datetime
    purged_at: datetime | None

    @strawberry.field(description="The gateway's path of its bytes (application/vc+jwt): GET with the caller's bearer "
                                  "token; none once purged")
    def download_url(self) -> str | None:
        return None if self.purged_at else f"{DOWNLOAD_PATH}{self.id}"

    @classmethod
    def from_row(cls, row) -> Credential:
        said = row["credential"]
        said = json.loads(said) if isinstance(said, str) else said
        return cls(id=strawberry.ID(row["id"]), credential_id=said["id"], number=row["certificate"],
                   block=said["block"] or None, achievement=said["achievement"],
                   valid_from=date.fromisoformat(said["valid_from"]),
                   valid_until=date.fromisoformat(said["valid_until"]) if said["valid_until"] else None,
                   sha256=row["sha256"], issued_at=row["attached_at"], purged_at=row.get("purged_at"))


def credentials(rows) -> list[Credential]:
    """The credentials among a file's documents (current ones: a credential is never superseded, only revoked)."""
    return [Credential.from_row(r) for r in rows if r["kind"] == "CREDENTIAL" and r.get("credential")]


@strawberry.type(description="A paper a step of the candidacy needs (the step is refused without it, DocumentMissing)")
class DocumentRequirement:
    step: str = strawberry.field(description="The step's operation, e.g. file-admissibility")
    kind: DocumentKind
    satisfied: bool = strawberry.field(description="The file holds a current document of the kind")
