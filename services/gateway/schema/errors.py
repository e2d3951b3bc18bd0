"""Typed errors of mutations: each result is a union of a success type and these."""

from __future__ import annotations

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


ERRORS = (InvalidInput, Unauthenticated, Forbidden, NotFound, Conflict, Refused, ServiceUnavailable, ReadModelTimeout,
          OutcomeUnknown)
_BY_STATUS = {401: Unauthenticated, 403: Forbidden, 404: NotFound, 409: Conflict, 422: Refused, 503: ServiceUnavailable,
              504: ReadModelTimeout}


def to_graphql(refusal: CommandRefused) -> Error:
    if refusal.status == 400:
        problems = [Problem(**p) for p in refusal.details.get("problems", [])]
        return InvalidInput(code=refusal.type, message=refusal.message, details=refusal.details, problems=problems)
    if refusal.type == "OutcomeUnknown":
        return OutcomeUnknown(code=refusal.type, message=refusal.message, details=refusal.details)
    return _BY_STATUS.get(refusal.status, Refused)(code=refusal.type, message=refusal.message, details=refusal.details)


def result_union(name: str, success: type):
    """The GraphQL union `name` of a mutation's success type and every typed error."""
    return Annotated[Union[(success, *ERRORS)], strawberry.union(name)]  # noqa: UP007
