"""`cqp catalog import PATH`: a France Compétences export into the catalog, through its command API.

Each fiche becomes one `import-fiche` command whose idempotency key derives from the fiche's content:
importing the same file twice writes nothing new, and a newer file writes only what changed.
The export is streamed, a few commands are in flight at once, and a bad fiche is reported, not fatal.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.commands.catalog import Fiche

from services.catalog.france_competences.fiche import Rejected
from services.catalog.france_competences.readers import read_export

BRANCH_CERTIFICATION = re.compile(r"\bCQP[MI]?\b|certificat de qualification (professionnelle|paritaire)", re.I)
IN_FLIGHT = 8
RETRIES = 5


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)
    rejected: list[tuple[str | None, str]] = field(default_factory=list)

    def reject(self, number: str | None, reason: str) -> None:
        self.counts["rejected"] += 1
        self.rejected.append((number, reason))

    def lines(self) -> list[str]:
        c = self.counts
        lines = [f"fiches read: {c['read']}, created: {c['created']}, updated: {c['updated']}, "
                 f"unchanged: {c['unchanged']}, rejected: {c['rejected']}, skipped (not a branch certification): "
                 f"{c['skipped']}"]
        lines += [f"  rejected {number or '(no number)'}: {reason}" for number, reason in self.rejected]
        return lines


def idempotency_key(body: dict) -> str:
    digest = hashlib.sha256(repr(sorted(body.items())).encode()).hexdigest()[:32]
    return f"import:{body['fiche']['number']}:{digest}"


def selected(fiche: Fiche, everything: bool, numbers: set[str]) -> bool:
    if numbers:
        return fiche.number in numbers
    return everything or bool(BRANCH_CERTIFICATION.search(fiche.title))


async def _read_in_a_thread(path: Path):
    """The readers are synchronous and stream: run one in a thread of its own, handing fiches over
    through a bounded queue, so reading waits whenever sending lags behind."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue = asyncio.Queue(maxsize=IN_FLIGHT * 2)
    done = object()

    def hand_over(item) -> None:
        asyncio.run_coroutine_threadsafe(items.put(item), loop).result()

    def read() -> None:
        try:
            for item in read_export(path):
                hand_over(item)
        except Exception as error:  # raised again on the event loop's side
            hand_over(error)
        hand_over(done)

    reader = loop.run_in_executor(None, read)
    while (item := await items.get()) is not done:
        if isinstance(item, Exception):
            raise item
        yield item
    await reader


async def import_export(
    path: Path, catalog_url: str, token: Callable[[], Awaitable[str]], owners: list[str], kind: str | None = None,
    everything: bool = False, numbers: set[str] = frozenset(),
) -> Summary:
    """`token` gives the operator's (or the importer account's) access token, fresh for each command."""
    summary = Summary()
    queue: asyncio.Queue = asyncio.Queue(maxsize=IN_FLIGHT * 2)  # bounded: the reader waits for the senders

    async def post(http: httpx.AsyncClient, body: dict) -> httpx.Response:
        # The same idempotency key makes a retry safe: a dropped connection is simply tried again.
        for attempt in range(RETRIES):
            try:
                headers = {"authorization": f"Bearer {await token()}", "idempotency-key": idempotency_key(body)}
                return await http.post(f"{catalog_url}/commands/import-fiche", json=body, headers=headers)
            except httpx.TransportError:
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)

    async def send(http: httpx.AsyncClient) -> None:
        while (fiche := await queue.get()) is not None:
            body = {"fiche": fiche.model_dump(mode="json"), "owners": owners, "kind": kind}
            answer = await post(http, body)
            if answer.status_code == 200:
                # A replayed key means this very fiche was imported before: nothing changed.
                summary.counts["unchanged" if answer.json()["replayed"] else answer.json()["status"]] += 1
            else:
                error = answer.json().get("error", {})
                summary.reject(fiche.number, f"{error.get('type', answer.status_code)}: {error.get('message', '')}")

    async with httpx.AsyncClient(timeout=120) as http:
        senders = [asyncio.create_task(send(http)) for _ in range(IN_FLIGHT)]
        try:
            async for item in _read_in_a_thread(path):
                summary.counts["read"] += 1
                if isinstance(item, Rejected):
                    summary.reject(item.number, item.reason)
                elif selected(item, everything, numbers):
                    await queue.put(item)
                else:
                    summary.counts["skipped"] += 1
        finally:
            for _ in senders:
                await queue.put(None)
            await asyncio.gather(*senders)
    return summary
