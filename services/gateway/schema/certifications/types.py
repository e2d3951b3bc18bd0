from __future__ import annotations

import enum
import json
from datetime import datetime

import strawberry


@strawberry.type
class Block:
    code: str
    title: str


@strawberry.enum
class CertificationKind(enum.Enum):
    CQP = "CQP"
    CQPM = "CQPM"
    CQPI = "CQPI"


@strawberry.type
class Certification:
    id: strawberry.ID
    code: str
    kind: CertificationKind
    title: str
    branch: str
    blocks: list[Block]
    created_at: datetime

    @classmethod
    def from_row(cls, row) -> Certification:
        return cls(
            id=strawberry.ID(str(row["id"])),
            code=row["code"],
            kind=CertificationKind(row["kind"]),
            title=row["title"],
            branch=row["branch"],
            blocks=[Block(**b) for b in json.loads(row["blocks"])],
            created_at=row["created_at"],
        )
