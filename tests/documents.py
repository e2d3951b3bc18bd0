"""Documents through the gateway, as a client sends them: a GraphQL multipart request (the multipart request
spec: `operations`, `map`, then the file) to attach, and `GET /documents/<id>` to read."""

from __future__ import annotations

import hashlib
import json

import httpx

from tests.harness import System, eventually

# A small, valid PDF (what a scanned Livret is, to the checks: its first bytes).
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >>"
       b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

# The result of an attachment: its success type's document, or the typed error.
SELECTION = ("__typename ... on {success} {{ document {{ id kind version sha256 size mediaType downloadUrl"
             " supersedes }} }} ... on Error {{ code message details }}")

# The mutation of each kind of paper, and the name of its input.
MUTATIONS = {"LIVRET_1": ("attachVaePaper", "AttachVaePaperInput"),
             "LIVRET_1_SUPPORT": ("attachVaePaper", "AttachVaePaperInput"),
             "LIVRET_2": ("attachVaePaper", "AttachVaePaperInput"),
             "IDENTITY_DOCUMENT": ("attachIdentityDocument", "AttachIdentityDocumentInput")}


def paper(text: str) -> bytes:
    """A PDF of its own (each test's papers differ, so their digests do)."""
    return PDF + f"% {text}\n".encode()


async def upload(system: System, mutation: str, input_type: str, data: dict, content: bytes, key: str,
                 token: str | None = "default", sha256: str | None = None, filename: str = "livret.pdf",
                 success: str = "DocumentAttached") -> dict:
    """The mutation's result, its file sent as the multipart request's part mapped to `input.content`."""
    token = await system.token() if token == "default" else token
    query = (f"mutation($input: {input_type}!, $key: String!) {{ {mutation}(input: $input, idempotencyKey: $key)"
             f" {{ {SELECTION.format(success=success)} }} }}")
    variables = {"input": {**data, "filename": filename, "sha256": sha256 or hashlib.sha256(content).hexdigest(),
                           "content": None}, "key": key}
    files = {"operations": (None, json.dumps({"query": query, "variables": variables})),
             "map": (None, json.dumps({"0": ["variables.input.content"]})),
             "0": (filename, content, "application/pdf")}
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=120) as http:
        answer = (await http.post(system.graphql_url, files=files, headers=headers)).json()
    assert "errors" not in answer, answer["errors"]
    return answer["data"][mutation]


async def attach_paper(system: System, candidacy_id: str, kind: str, key: str, content: bytes | None = None,
                       token: str | None = "default", **extra) -> dict:
    """A paper of the candidacy's file, attached; its document (id, kind, version, ...)."""
    mutation, input_type = MUTATIONS[kind]
    data = {"candidacyId": candidacy_id, **({"kind": kind} if mutation == "attachVaePaper" else {}), **extra}
    result = await upload(system, mutation, input_type, data, content or paper(key), key, token)
    assert result["__typename"] == "DocumentAttached", result
    return result["document"]


async def download(system: System, url: str, token: str | None = "default") -> httpx.Response:
    """A document's download link, followed with the caller's token."""
    token = await system.token() if token == "default" else token
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=120) as http:
        return await http.get(f"{system['gateway'].url}{url}", headers=headers)


async def attach_evidence(system: System, candidacy_id: str, block: str, key: str, token: str | None = "default",
                          content: bytes | None = None) -> str:
    """An evaluation's evidence for one block (an observation report), attached once the jury service knows the
    candidacy (it learns it through Kafka); the document's id, for the evaluation to name."""
    data = {"candidacyId": candidacy_id, "block": block}

    async def attempt():
        result = await upload(system, "attachEvaluationEvidence", "AttachEvaluationEvidenceInput", data,
                              content or paper(f"évaluation {key}"), key, token, filename="grille.pdf")
        return None if result.get("code") == "UnknownCandidacy" else result

    result = await eventually(attempt)
    assert result["__typename"] == "DocumentAttached", result
    return result["document"]["id"]
