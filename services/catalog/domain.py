"""Catalog aggregates and their domain events."""

from __future__ import annotations

import re
import uuid

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, InvalidInput, NotFound

KINDS = ("CQP", "CQPM", "CQPI")
_CERTIFICATIONS = uuid.UUID("2b8f0c7e-43a4-4f0e-8d47-5b7c6a1f9e10")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{1,63}$")


class CertificationAlreadyExists(Conflict):
    pass


class UnknownCertification(NotFound):
    pass


class Certification(Aggregate):
    """A CQP, CQPM or CQPI, known by its code (one aggregate per code)."""

    @staticmethod
    def create_id(code: str, **_) -> uuid.UUID:
        return uuid.uuid5(_CERTIFICATIONS, code)

    @event("Created")
    def __init__(self, code: str, kind: str, title: str, branch: str, blocks: list[dict], context: dict):
        self.code = code
        self.kind = kind
        self.title = title
        self.branch = branch
        self.blocks = blocks
        self.context = context

    @classmethod
    def create(cls, code: str, kind: str, title: str, branch: str, blocks: list[dict], context: dict) -> Certification:
        cls.check_code(code)
        cls.check_kind(kind)
        cls.check_blocks(blocks)
        return cls(code=code, kind=kind, title=title.strip(), branch=branch.strip(), blocks=blocks, context=context)

    @staticmethod
    def check_code(code: str) -> None:
        if not CODE.match(code):
            raise InvalidInput("a certification code is 2 to 64 capitals, digits, '.', '_' or '-'", code=code)

    @staticmethod
    def check_kind(kind: str) -> None:
        if kind not in KINDS:
            raise InvalidInput(f"a certification is one of {', '.join(KINDS)}", kind=kind)

    @staticmethod
    def check_blocks(blocks: list[dict]) -> None:
        codes = [block["code"] for block in blocks]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise InvalidInput("each block code appears once in a certification", duplicates=duplicates)
