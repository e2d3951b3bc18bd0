"""Typed errors. Pure Python: domain modules may raise them.

Each error travels as JSON {"error": {"type": <class name>, "message": ..., "details": ...}}
with the HTTP status set on its class.
"""

from __future__ import annotations


class CommandRefused(Exception):
    """A command that changes nothing, and says why."""

    status = 422

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def type(self) -> str:
        return type(self).__name__

    def as_json(self) -> dict:
        return {"error": {"type": self.type, "message": self.message, "details": self.details}}


class InvalidInput(CommandRefused):
    status = 400


class NotFound(CommandRefused):
    status = 404


class Conflict(CommandRefused):
    status = 409


class Unauthenticated(CommandRefused):
    status = 401


class Forbidden(CommandRefused):
    status = 403


class PayloadTooLarge(InvalidInput):
    status = 413


class OutcomeUnknown(CommandRefused):
    """Whether the command happened is not known (a store or a service failed under it): sending it again with
    the same idempotency key is safe, and answers what happened."""

    status = 503


class MissingIdempotencyKey(InvalidInput):
    pass


class IdempotencyKeyReused(Conflict):
    """The same key came back with a different command."""
