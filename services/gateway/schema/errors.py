"""Typed errors of mutations: each result is a union of a success type and these."""

from __future__ import annotations

import typing
from typing import Annotated, Union

import strawberry
from strawberry.scalars import JSON

from shared.errors import CommandRefused


@strawberry.interface(description="Why a mutation changed nothing")
class Error:
    code: str = strawberry.field(description="The precise error, e.g. UnknownCertification")
    message: str
    details: JSON = strawberry.field(description="The facts behind it, e.g. every failed eligibility rule")


@strawberry.type
class Problem:
    field: str
    problem: str


@strawberry.type
class InvalidInput(Error):
    problems: list[Problem]


@strawberry.type
class Unauthenticated(Error):
    pass


@strawberry.type
class Forbidden(Error):
    pass


@strawberry.type
class NotFound(Error):
    pass


@strawberry.type
class Conflict(Error):
    pass


@strawberry.type
class Refused(Error):
    pass


@strawberry.type
class ServiceUnavailable(Error):
    pass


@strawberry.type(description="The command was accepted; the read models did not show it in time")
class ReadModelTimeout(Error):
    pass


@strawberry.type(description="The command may or may not have happened (a service or its database failed under "
                             "it): send it again with the same idempotency key, which answers what happened")
class OutcomeUnknown(Error):
    pass


# The refusals of a document's bytes (shared/documents.py), members of the unions of the mutations attaching one
# only: each is the member of its type's name, where the others go by status.


@strawberry.type(description="The bytes are not of a type the document's kind accepts (found from the bytes "
                             "themselves, never the file's name): details say what was found and what is accepted")
class DocumentTypeRefused(Error):
    pass


@strawberry.type(description="The document is larger than its kind accepts: details say its size and the most")
class DocumentTooLarge(Error):
    pass


@strawberry.type(description="The bytes received do not have the SHA-256 sent with them: altered or cut in transit; "
                             "send the file again")
class DigestMismatch(Error):
    pass


ERRORS = (InvalidInput, Unauthenticated, Forbidden, NotFound, Conflict, Refused, ServiceUnavailable, ReadModelTimeout,
          OutcomeUnknown)
DOCUMENT_ERRORS = (DocumentTypeRefused, DocumentTooLarge, DigestMismatch)
_BY_STATUS = {401: Unauthenticated, 403: Forbidden, 404: NotFound, 409: Conflict, 422: Refused, 503: ServiceUnavailable,
              504: ReadModelTimeout}


def to_graphql(refusal: CommandRefused, typed: tuple[type[Error], ...] = ()) -> Error:
    """The member of a refusal: of its type's name among `typed` (the union's own members, DOCUMENT_ERRORS), else by
    its status."""
    member = next((t for t in typed if t.__name__ == refusal.type), None)
    if member is not None:
        return member(code=refusal.type, message=refusal.message, details=refusal.details)
    if refusal.status == 400:
        problems = [Problem(**p) for p in refusal.details.get("problems", [])]
        return InvalidInput(code=refusal.type, message=refusal.message, details=refusal.details, problems=problems)
    if refusal.type == "OutcomeUnknown":
        return OutcomeUnknown(code=refusal.type, message=refusal.message, details=refusal.details)
    return _BY_STATUS.get(refusal.status, Refused)(code=refusal.type, message=refusal.message, details=refusal.details)


def result_union(name: str, success: type, typed: tuple[type[Error], ...] = ()):
    """The GraphQL union `name` of a mutation's success type and every typed error, and the members `typed` (a
    refusal of one of their names is that member, `to_graphql`)."""
    return Annotated[Union[(success, *typed, *ERRORS)], strawberry.union(name)]  # noqa: UP007


def typed_members(result) -> tuple[type[Error], ...]:
    """The members of a result union (result_union) that a refusal of their name becomes."""
    union = typing.get_args(result)[0] if typing.get_origin(result) is Annotated else result
    return tuple(m for m in typing.get_args(union) if m in DOCUMENT_ERRORS)
