"""The gateway's side of documents: a multipart upload read and sent base64 with its command, the refusals of the
bytes as their own members, the upload's bound apart from JSON requests', downloads relayed from the service."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient
from strawberry.asgi import GraphQL

from services.gateway.commands import RemoteRefusal
from services.gateway.documents import UploadSizeLimit, routes
from services.gateway.schema import schema
from shared.documents import MAX_BYTES
from shared.identity import Caller

PDF = b"%PDF-1.7\n" + b"x" * 2000
SHA = hashlib.sha256(PDF).hexdigest()
CANDIDACY, DOCUMENT = str(uuid.uuid4()), str(uuid.uuid4())
# The e2e journey's operation (tests/e2e/test_documents.py), as clients send it.
ATTACH = ("mutation($input: AttachVaePaperInput!, $key: String!) { attachVaePaper(input: $input, idempotencyKey: $key)"
          " { __typename ... on DocumentAttached { document { id kind version sha256 downloadUrl } }"
          " ... on Error { code message details } } }")
ROW = {"id": DOCUMENT, "service": "candidacy", "kind": "LIVRET_1", "candidacy_id": uuid.UUID(CANDIDACY), "block": None,
       "session_id": None, "version": 1, "supersedes": None, "superseded_by": None, "size": len(PDF),
       "media_type": "application/pdf", "sha256": SHA, "attached_at": datetime(2026, 3, 2, tzinfo=UTC),
       "attached_by_user": "ana", "attached_by_organisation": "org", "attached_by_role": "candidate"}


class Pool:
    """The read models as the mutation's answer and the download read them."""

    def __init__(self, documents=(ROW,)):
        self.documents = {d["id"]: d for d in documents}

    async def fetchrow(self, sql, *args):
        if "FROM documents" in sql:
            return self.documents.get(args[0])
        if "AS organisation" in sql:  # the caller's organisation known to the catalog
            return {"organisation": True, "branches": 0}
        return None  # the candidacy: not needed here


class Signed:
    """A signed-in caller whose commands are recorded, answered as `answer` says (a dict, or a refusal raised)."""

    def __init__(self, answer):
        self.answer, self.sent, self.pool = answer, [], Pool()

    def token(self):
        return "token"

    async def verify(self, token):
        return token

    @property
    def verifier(self):
        return self

    request = None

    async def send(self, service, command, body, idempotency_key):
        self.sent.append((service, command, body))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class File:
    """What strawberry hands a resolver for a file part: starlette's UploadFile (read asynchronously)."""

    def __init__(self, data: bytes):
        self.data, self.filename = data, "livret1.pdf"

    async def read(self) -> bytes:
        return self.data


def variables(content) -> dict:
    return {"input": {"candidacyId": CANDIDACY, "kind": "LIVRET_1", "filename": "livret1.pdf", "sha256": SHA,
                      "content": content}, "key": "k1"}


async def test_an_uploaded_file_is_sent_base64_with_its_command_and_answers_the_document_attached():
    caller = Signed({"id": CANDIDACY, "document_id": DOCUMENT, "version": 1, "events": []})
    result = await schema.execute(ATTACH, variable_values=variables(File(PDF)), context_value=caller)
    assert result.errors is None, result.errors
    assert result.data["attachVaePaper"] == {"__typename": "DocumentAttached", "document": {
        "id": DOCUMENT, "kind": "LIVRET_1", "version": 1, "sha256": SHA, "downloadUrl": f"/documents/{DOCUMENT}"}}
    [(service, command, body)] = caller.sent
    assert (service, command) == ("candidacy", "attach-vae-paper")
    assert base64.b64decode(body["content"]) == PDF and body["kind"] == "LIVRET_1" and "supersedes" not in body


async def test_a_refusal_of_the_bytes_is_its_own_member_and_forbidden_stays_forbidden():
    for type_, status, member in [("DocumentTypeRefused", 400, "DocumentTypeRefused"),
                                  ("DocumentTooLarge", 413, "DocumentTooLarge"),
                                  ("DigestMismatch", 400, "DigestMismatch"), ("Forbidden", 403, "Forbidden"),
                                  ("DocumentInfected", 400, "InvalidInput"), ("ScannerUnavailable", 503,
                                                                              "ServiceUnavailable")]:
        caller = Signed(RemoteRefusal(type_, status, "refused", {"kind": "LIVRET_1"}))
        result = await schema.execute(ATTACH, variable_values=variables(File(PDF)), context_value=caller)
        assert result.errors is None, result.errors
        answer = result.data["attachVaePaper"]
        assert (answer["__typename"], answer["code"], answer["details"]) == (member, type_, {"kind": "LIVRET_1"})


async def test_other_mutations_keep_their_members_by_status():
    caller = Signed(RemoteRefusal("DigestMismatch", 400, "odd", {}))
    result = await schema.execute('mutation { withdrawCandidacy(input: {candidacyId: "c", reason: "r"},'
                                  ' idempotencyKey: "k") { __typename } }', context_value=caller)
    assert result.data["withdrawCandidacy"]["__typename"] == "InvalidInput"


async def test_bytes_given_as_text_instead_of_a_file_are_invalid_input_and_nothing_is_sent():
    caller = Signed(AssertionError("never sent"))
    result = await schema.execute(ATTACH, variable_values=variables(base64.b64encode(PDF).decode()),
                                  context_value=caller)
    assert result.errors is None, result.errors
    assert (result.data["attachVaePaper"]["__typename"], caller.sent) == ("InvalidInput", [])


async def test_a_control_character_in_an_uploads_text_fields_is_still_refused_with_its_path():
    caller = Signed(AssertionError("never sent"))
    bad = variables(File(PDF))
    bad["input"]["filename"] = "livret\x001.pdf"
    result = await schema.execute(ATTACH.replace("... on Error", "... on InvalidInput { problems { field } } ... on Error"),
                                  variable_values=bad, context_value=caller)
    assert result.data["attachVaePaper"]["problems"] == [{"field": "filename"}] and caller.sent == []


class Multipart(GraphQL):
    def __init__(self, caller):
        super().__init__(schema, multipart_uploads_enabled=True)
        self.caller = caller

    async def get_context(self, request, response=None):
        return self.caller


def multipart(client: TestClient, data: bytes, query: str = ATTACH):
    """The GraphQL multipart request spec: the operations (the file's variable null), the map, the file part."""
    operations = {"query": query, "variables": variables(None)}
    return client.post("/graphql", data={"operations": json.dumps(operations),
                                         "map": json.dumps({"0": ["variables.input.content"]})},
                       files={"0": ("livret1.pdf", data, "application/pdf")})


def test_a_multipart_request_carries_the_file_to_the_command_within_the_uploads_bound_only():
    caller = Signed({"id": CANDIDACY, "document_id": DOCUMENT, "version": 1, "events": []})
    app = Starlette(routes=[Route("/graphql", Multipart(caller), methods=["POST"])])
    app.add_middleware(UploadSizeLimit, limit=10_000)
    with TestClient(app) as client:
        answer = multipart(client, PDF)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["attachVaePaper"]["__typename"] == "DocumentAttached"
        assert base64.b64decode(caller.sent[0][2]["content"]) == PDF
        # A file larger than any kind accepts is refused before it is read whole; JSON keeps its own bound.
        assert multipart(client, b"%PDF-" + b"x" * (MAX_BYTES + 10_000)).status_code == 413
        assert client.post("/graphql", json={"query": "{ __typename }", "pad": "x" * 10_000}).status_code == 413
        assert client.post("/graphql", json={"query": "{ __typename }"}).status_code == 200


def test_the_guards_apply_to_a_multipart_operation():
    caller = Signed(AssertionError("never sent"))
    app = Starlette(routes=[Route("/graphql", Multipart(caller), methods=["POST"])])
    costly = ATTACH.replace("mutation(", "mutation Costly(") + " query Q { certifications(first: 1000) { edges { node" \
        " { code blocks { code } versions { number blocks { code title } } } } } }"
    with TestClient(app) as client:
        answer = client.post("/graphql", data={"operations": json.dumps(
            {"query": costly, "operationName": "Q", "variables": variables(None)}),
            "map": json.dumps({"0": ["variables.input.content"]})}, files={"0": ("a.pdf", PDF, "application/pdf")})
    assert answer.json()["errors"][0]["extensions"]["code"] == "QueryTooCostly"


# Downloads ------------------------------------------------------------------------------------------------------

class Verifier:
    async def verify(self, token):
        if token != "good":
            from shared.errors import Unauthenticated
            raise Unauthenticated("the token does not verify")
        return Caller(user_id="ana", organisation_id="org", roles=frozenset({"candidate"}))


def download_app(service):
    """The gateway's download route over the read model `Pool` and a candidacy service answering `service`."""
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append((str(request.url), request.headers["authorization"], json.loads(request.content)))
        return service(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    commands = type("Commands", (), {"http": http, "service_urls": {"candidacy": "http://candidacy"}})()
    state = {"read_pool": Pool(), "commands": commands, "people": None}
    return TestClient(Starlette(routes=routes(state, Verifier()))), asked


def test_a_download_streams_the_services_bytes_and_headers_asked_with_the_callers_own_token():
    client, asked = download_app(lambda r: httpx.Response(200, content=PDF, headers={
        "content-type": "application/pdf", "content-disposition": "attachment; filename*=UTF-8''livret1.pdf",
        "x-content-sha256": SHA, "cache-control": "no-store", "x-content-type-options": "nosniff",
        "x-internal": "not passed on"}))
    answer = client.get(f"/documents/{DOCUMENT}", headers={"authorization": "Bearer good"})
    assert (answer.status_code, answer.content) == (200, PDF)
    assert answer.headers["content-type"] == "application/pdf" and answer.headers["x-content-sha256"] == SHA
    assert answer.headers["cache-control"] == "no-store" and "x-internal" not in answer.headers
    assert asked == [("http://candidacy/queries/document", "Bearer good",
                      {"candidacy_id": CANDIDACY, "document_id": DOCUMENT})]


def test_the_services_refusal_is_passed_on_with_its_status_and_an_unknown_document_is_a_typed_404():
    refusal = {"error": {"type": "DocumentUnreadable", "message": "erased", "details": {}}}
    client, asked = download_app(lambda r: httpx.Response(410, json=refusal))
    answer = client.get(f"/documents/{DOCUMENT}", headers={"authorization": "Bearer good"})
    assert (answer.status_code, answer.json()) == (410, refusal)
    unknown = client.get(f"/documents/{uuid.uuid4()}", headers={"authorization": "Bearer good"})
    assert (unknown.status_code, unknown.json()["error"]["type"]) == (404, "UnknownDocument")
    anonymous = client.get(f"/documents/{DOCUMENT}")
    assert (anonymous.status_code, anonymous.json()["error"]["type"]) == (401, "Unauthenticated")
    assert len(asked) == 1  # neither the unknown document nor the anonymous caller reached the service


def test_a_service_away_is_service_unavailable():
    def away(request):
        raise httpx.ConnectError("refused")

    client, _ = download_app(away)
    answer = client.get(f"/documents/{DOCUMENT}", headers={"authorization": "Bearer good"})
    assert (answer.status_code, answer.json()["error"]["type"]) == (503, "ServiceUnavailable")
