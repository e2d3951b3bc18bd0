"""Candidacy aggregates and their domain events."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from shared.errors import NotFound


class UnknownCertification(NotFound):
    pass


class Candidate(Aggregate):
    """A person seeking a certification."""

    @event("Registered")
    def __init__(self, given_name: str, family_name: str, email: str, certification_code: str, context: dict):
        self.given_name = given_name
        self.family_name = family_name
        self.email = email
        self.certification_code = certification_code
        self.context = context
