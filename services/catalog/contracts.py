"""Stored catalog events → public contracts (a pure function)."""

from __future__ import annotations

from shared.contracts import catalog as public

from services.catalog.domain import Certification


def to_contract(domain_event) -> public.Contract | None:
    if isinstance(domain_event, Certification.Created):
        return public.CertificationCreated(
            code=domain_event.code,
            kind=domain_event.kind,
            title=domain_event.title,
            branch=domain_event.branch,
            blocks=[public.Block(code=b["code"], title=b["title"]) for b in domain_event.blocks],
        )
    return None
