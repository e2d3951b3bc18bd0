"""The issuer's identity and the certificates' public checks, served by the gateway without any token:

- `GET /branches/{branch}/did.json`: the branch's did:web document (every credential key it published, retired
  ones too), `GET /branches/{branch}/jwks.json` the same keys as a JWKS;
- `GET /branches/{branch}/status/{n}`: the branch's signed BitstringStatusListCredential n (application/vc+jwt);
- `GET /issuer/ca.pem`: the installation's CA certificate (the certificates' PDF seals chain to it);
- `GET /verify/{number}`: the page a certificate's QR code opens: what `verifyCertificate(number)` answers, as
  HTML, or JSON when the client asks `Accept: application/json`.

The first four relay the jury service's public queries (services/jury/issuer.py); an unknown branch or list is 404.
"""

from __future__ import annotations

import dataclasses
import enum
import html
import json

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.gateway import verification
from services.gateway.commands import DATABASE_AWAY

PUBLIC = {"cache-control": "public, max-age=60", "x-content-type-options": "nosniff"}


def _refused(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "details": {}}}, status,
                        headers={"x-content-type-options": "nosniff"})


def routes(state: dict) -> list[Route]:
    async def ask(query: str, body: dict) -> httpx.Response | JSONResponse:
        commands = state["commands"]
        try:
            return await commands.http.post(f"{commands.service_urls['jury']}/queries/{query}", json=body)
        except httpx.TransportError as error:
            return _refused(503, "ServiceUnavailable", f"the jury service did not answer ({type(error).__name__})")

    def relayed(answer, media: str, pick=None) -> Response:
        if isinstance(answer, Response):
            return answer
        if answer.status_code != 200:
            return Response(answer.content, answer.status_code, media_type="application/json",
                            headers={"x-content-type-options": "nosniff"})
        body = answer.json()
        content = pick(body) if pick else json.dumps(body, ensure_ascii=False)
        return Response(content, 200, media_type=media, headers=PUBLIC)

    def branch_of(request: Request) -> str | None:
        branch = request.path_params["branch"]
        return branch.upper() if branch.isascii() and branch.replace("-", "").replace("_", "").isalnum() \
            and len(branch) <= 40 else None

    async def did_document(request: Request) -> Response:
        branch = branch_of(request)
        if branch is None:
            return _refused(404, "NotFound", "no such branch")
        return relayed(await ask("did", {"branch": branch}), "application/did+json")

    async def jwks(request: Request) -> Response:
        branch = branch_of(request)
        if branch is None:
            return _refused(404, "NotFound", "no such branch")
        return relayed(await ask("jwks", {"branch": branch}), "application/jwk-set+json")

    async def status(request: Request) -> Response:
        branch, number = branch_of(request), request.path_params["n"]
        if branch is None or not number.isdigit() or not 1 <= int(number) <= 2**31 - 1:
            return _refused(404, "NotFound", "no such status list")
        return relayed(await ask("status", {"branch": branch, "list": int(number)}), "application/vc+jwt",
                       lambda body: body["credential"])

    async def ca(_: Request) -> Response:
        return relayed(await ask("ca", {}), "application/x-pem-file", lambda body: body["ca"])

    async def verify(request: Request) -> Response:
        number = request.path_params["number"]
        try:
            found = await verification.by_number(state["read_pool"], state["people"], number) \
                if len(number) <= 100 else None
        except DATABASE_AWAY:
            return _refused(503, "ServiceUnavailable", "the gateway's database is unavailable; try again shortly")
        wants_json = "application/json" in request.headers.get("accept", "")
        if found is None:
            return _refused(404, "NotFound", "no such certificate") if wants_json else \
                Response(page(number, None), 404, media_type="text/html; charset=utf-8", headers=PUBLIC)
        if wants_json:
            return JSONResponse(as_json(found), headers=PUBLIC)
        return Response(page(number, found), 200, media_type="text/html; charset=utf-8", headers=PUBLIC)

    return [Route("/branches/{branch}/did.json", did_document, methods=["GET"]),
            Route("/branches/{branch}/jwks.json", jwks, methods=["GET"]),
            Route("/branches/{branch}/status/{n}", status, methods=["GET"]),
            Route("/issuer/ca.pem", ca, methods=["GET"]),
            Route("/verify/{number}", verify, methods=["GET"])]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def as_json(found) -> dict:
    """The verification as `verifyCertificate` names its fields."""
    out = {}
    for item in dataclasses.fields(found):
        value = getattr(found, item.name)
        if isinstance(value, enum.Enum):
            value = value.name
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[_camel(item.name)] = value
    return out


VERDICTS = {"VALID": ("Certificat valide", "Valid certificate"), "REVOKED": ("Certificat révoqué", "Revoked"),
            "PENDING": ("Vérification en cours, réessayez dans un instant", "Being checked, try again shortly")}


def page(number: str, found) -> str:
    """A small French-first page; everything shown escaped."""
    e = html.escape
    if found is None:
        body = f"<h1>Aucun certificat n° {e(number)}</h1><p lang=en>No certificate of that number.</p>"
    else:
        fr, en = VERDICTS.get(found.verdict.name, (found.verdict.name, found.verdict.name))
        rows = [("Numéro / Number", found.number), ("Titulaire / Holder", found.holder),
                ("Certification", f"{found.certification_code} {found.certification_title or ''}"),
                ("Blocs / Blocks", ", ".join(found.blocks or [])), ("Délivré le / Awarded on", found.awarded_on)]
        if found.revoked_on:
            rows += [("Révoqué le / Revoked on", found.revoked_on), ("Motif / Reason", found.revocation_reason)]
        table = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v or ''))}</td></tr>" for k, v in rows)
        body = f"<h1 class={e(found.verdict.name.lower())}>{e(fr)}</h1><p lang=en>{e(en)}</p><table>{table}</table>"
    return ("<!doctype html><html lang=fr><head><meta charset=utf-8><meta name=viewport"
            " content='width=device-width'><title>Vérification de certificat</title></head>"
            f"<body>{body}</body></html>")
