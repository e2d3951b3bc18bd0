"""Serving a document's bytes from the service that holds them (`POST /queries/document`), the same way in every
service: the caller's token verified, the read recorded first through a decision of its own (`DocumentRead`:
who, for which organisation, when), then the bytes opened with their person's key and served."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared.commands import Command
from shared.context import CommandContext, correlation_id, current_caller, current_command
from shared.documents import Documents, DocumentUnreadable
from shared.errors import CommandRefused, Conflict, InvalidInput
from shared.http import Endpoint, input_problems
from shared.identity import TokenVerifier, bearer_token
from shared.objects import ObjectMissing
from shared.personal import KeyDestroyed, unseal


async def opened(documents: Documents, key: Callable[[], Awaitable[bytes]], person_id: str,
                 result: dict) -> tuple[bytes, str]:
    """The bytes of the document a read was recorded for (`result`: its decision's answer) and its file's name,
    opened with the person's key (`key()` raises KeyDestroyed once they are erased)."""
    try:
        secret = await key()
        data = await documents.fetch(result["object_key"], person_id, secret)
    except KeyDestroyed:
        raise DocumentUnreadable("the candidate was erased: their documents can never be read again") from None
    except ObjectMissing:
        raise DocumentUnreadable("the document's object is missing from the store (`cqp verify` reports it)",
                                 document_id=result["document_id"]) from None
    except ValueError:
        raise DocumentUnreadable("the document's object was altered in the store (`cqp verify` reports it)",
                                 document_id=result["document_id"]) from None
    return data, unseal(secret, person_id, result["personal"])["filename"]


def document_query(command: type[Command], read: Endpoint, readers: frozenset[str], verifier: TokenVerifier,
                   content: Callable[[dict], Awaitable[tuple[bytes, str]]], shape: str):
    """The handler of `POST /queries/document`: `command` read from the body (`shape` says what it holds), `read`
    records the reading (authorizing on the kind's read row), `content` opens what it answered. `readers`: the
    roles some kind's read row names (anyone else is refused before anything is read)."""

    async def document(request: Request) -> Response:
        try:
            caller = await verifier.verify(bearer_token(request.headers.get("authorization", "")))
            actor = caller.acting_as(readers, "read a document")
            current_caller.set(caller)
            try:
                wanted = command.model_validate(json.loads(await request.body()))
            except ValueError as error:
                problems = input_problems(error) if isinstance(error, ValidationError) else []
                raise InvalidInput(f"the body is {shape}", problems=problems) from None
            # Each read is its own fact: a key of its own, never a replay of another's.
            context = CommandContext.new(actor, f"read.{uuid.uuid4().hex}", request.headers.get("x-correlation-id"))
            correlation_id.set(context.correlation_id)
            current_command.set(context)
            try:
                outcome = await read.run(wanted)
            except IntegrityError:
                raise Conflict("a concurrent change won; read again") from None
            data, filename = await content(outcome.result)
        except CommandRefused as refusal:
            return JSONResponse(refusal.as_json(), refusal.status)
        return Response(data, media_type=outcome.result["media_type"], headers={
            "content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "x-content-sha256": outcome.result["sha256"],
            "cache-control": "no-store", "x-content-type-options": "nosniff"})

    return document
