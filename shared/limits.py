"""Bounds on what a caller may send, checked at the boundary before anything else reads it.

- A request body larger than the limit is refused (413) before it is read whole.
- Text with control characters (NUL and the other C0/C1 codes, but tab and line breaks; bidirectional
  overrides and zero-width characters) is refused
  with the path of each offending field: PostgreSQL cannot store a NUL, and such text has no place
  in a name or a title anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PayloadTooLarge

# C0 and C1 codes but tab and line breaks; and the invisible format characters that make a name read
# otherwise than it is stored: bidirectional overrides, embeddings and isolates, direction marks,
# zero-width space, word joiner and invisible operators, byte order mark. (The zero-width joiner and
# non-joiner stay: some scripts need them.)
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def control_character_paths(value, path: str = "") -> Iterator[str]:
    """The paths (`blocks.0.title`) of the texts in a JSON-like value that hold a control character."""
    if isinstance(value, str):
        if CONTROL_CHARACTERS.search(value):
            yield path or "(value)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from control_character_paths(key, path)
            yield from control_character_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from control_character_paths(item, f"{path}.{index}" if path else str(index))


class BodySizeLimit:
    """ASGI middleware: reads the body up to `limit` bytes, then hands it to the app; beyond, 413.

    Buffering is cheap at these sizes and lets the app read the body as usual."""

    def __init__(self, app: ASGIApp, limit: int, larger: dict[str, int] | None = None):
        """`larger`: the paths that take more (the uploads of documents), each with its own limit."""
        self.app = app
        self.limit = limit
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.larger.get(scope.get("path", ""), self.limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._refuse(send, limit)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await self._refuse(send, limit)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        refusal = PayloadTooLarge(f"the request body is larger than {limit} bytes", limit=limit)
        body = json.dumps(refusal.as_json()).encode()
        await send({"type": "http.response.start", "status": refusal.status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
