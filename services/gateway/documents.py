"""Documents through the gateway: uploads as GraphQL multipart requests, downloads streamed from their service.

- Upload: a mutation attaching a document (attachVaePaper, …) takes its file as a part of a GraphQL multipart
  request (https://github.com/jaydenseric/graphql-multipart-request-spec); forward.py reads it and sends it base64
  to the owning service, which checks it, has it scanned and seals it with the person's key before it reaches
  the object store. Only such a request to /graphql may be larger than `max_request_bytes`: by the largest
  document any kind accepts (`UploadSizeLimit`).
- Download: `GET /documents/{id}` (bearer token): the document's service and owner read from the read model
  (`documents`, schema/documents/projection.py), then that service's `POST /queries/document` asked with the
  caller's own token, and its answer streamed back as it is (the bytes and their headers, or its typed error
  and status). The service alone decides who may read, and records each read (DocumentRead).
"""

from __future__ import annotations

import json

import httpx
from opentelemetry.trace import SpanKind
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from shared import tracing
from shared.documents import MAX_BYTES, UnknownDocument
from shared.errors import CommandRefused
from shared.limits import BodySizeLimit

from services.gateway.commands import DATABASE_AWAY, ServiceUnavailable
from services.gateway.schema.context import Context, new_correlation_id

GRAPHQL = "/graphql"
# Beside the file, a multipart request's other parts (the operations, the map, the part headers) are held within
# `max_request_bytes` as a JSON request is.
MULTIPART = b"multipart/form-data"


class UploadSizeLimit:
    """ASGI middleware: a multipart request to /graphql (an upload) read up to `max_request_bytes` + MAX_BYTES,
    every other request up to `max_request_bytes` (shared/limits.py BodySizeLimit both; its `larger` goes by path
    only, and JSON and uploads share /graphql)."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None):
        self.requests = BodySizeLimit(app, limit)
        self.uploads = BodySizeLimit(app, upload_limit if upload_limit is not None else limit + MAX_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == GRAPHQL and _content_type(scope).startswith(MULTIPART):
            return await self.uploads(scope, receive, send)
        return await self.requests(scope, receive, send)


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            return value.strip().lower()
    return b""


# What the gateway passes on of the service's answer: the bytes' own headers, and the typed error's.
PASSED_ON = ("content-type", "content-length", "content-disposition", "x-content-sha256", "cache-control",
             "x-content-type-options")
# Whatever the service said, the bytes are never cached nor sniffed into another type on the way back.
ALWAYS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


def owner_body(row) -> dict:
    """The body of the owning service's `POST /queries/document`: the document and its owner."""
    if row["candidacy_id"] is not None:
        return {"candidacy_id": str(row["candidacy_id"]), "document_id": row["id"]}
    return {"document_id": row["id"], "session_id": str(row["session_id"])}


def routes(state: dict, verifier) -> list[Route]:
    """`GET /documents/{document_id}`: the document's bytes as its service serves them to the caller."""

    async def download(request: Request) -> Response:
        cid = new_correlation_id(request)
        context = Context(request, state["read_pool"], state["commands"], verifier, cid, people=state["people"])
        try:
            await context.caller()  # a token that verifies: nobody else learns which documents exist
            try:
                row = await context.pool.fetchrow("SELECT id, service, candidacy_id, session_id FROM documents"
                                                  " WHERE id = $1", request.path_params["document_id"])
            except DATABASE_AWAY as error:
                raise ServiceUnavailable("the gateway's database is unavailable; try again shortly",
                                         reason=type(error).__name__) from None
            if row is None:
                raise UnknownDocument("no such document", document_id=request.path_params["document_id"])
            return await relay(state["commands"].http, state["commands"].service_urls[row["service"]],
                               row["service"], owner_body(row), context.token(), cid)
        except CommandRefused as refusal:
            return JSONResponse(refusal.as_json(), refusal.status, headers=ALWAYS)

    return [Route("/documents/{document_id}", download, methods=["GET"])]


async def relay(http: httpx.AsyncClient, url: str, service: str, body: dict, token: str, cid: str) -> Response:
    """The service's answer streamed back as it comes: its status, the headers PASSED_ON, its body."""
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}", "x-correlation-id": cid}
    try:
        with tracing.span("query document", SpanKind.CLIENT, service=service):
            headers.update(tracing.headers())
            answer = await http.send(http.build_request("POST", f"{url}/queries/document", content=json.dumps(body),
                                                        headers=headers), stream=True)
    except httpx.TransportError as error:  # a read changes nothing but its record: nothing to be unsure of
        raise ServiceUnavailable(f"the {service} service did not answer; try again shortly",
                                 reason=type(error).__name__) from None
    passed = {name: answer.headers[name] for name in PASSED_ON if name in answer.headers}
    if "content-encoding" in answer.headers:  # decoded on the way: its length is no longer the one sent
        passed.pop("content-length", None)
    return StreamingResponse(answer.aiter_bytes(), status_code=answer.status_code, headers={**passed, **ALWAYS},
                             background=BackgroundTask(answer.aclose))
