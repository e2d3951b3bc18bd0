"""Stored candidacy events → public contracts (a pure function)."""

from __future__ import annotations

from shared.contracts import candidacy as public

from services.candidacy.domain import Candidate


def to_contract(domain_event) -> public.Contract | None:
    if isinstance(domain_event, Candidate.Registered):
        return public.CandidateRegistered(
            candidate_id=str(domain_event.originator_id),
            given_name=domain_event.given_name,
            family_name=domain_event.family_name,
            email=domain_event.email,
            certification_code=domain_event.certification_code,
        )
    return None
