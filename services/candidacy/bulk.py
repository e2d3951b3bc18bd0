"""`cqp candidacy import FILE.csv`: candidates registered, and their candidacies opened, through the
candidacy service's command API, one line at a time, like any client.

Each line's commands carry idempotency keys derived from the line's content: importing the same file
again registers nothing new, and a line retried after a dropped connection has one effect. The file is
streamed; a bad line is reported with its reason and the others go on.

Columns (a header line names them; only the first five are required):
given_name, family_name, email, status, birth_date, phone, employer_id, account,
certification, route, evaluator_id, trainer_id   (the last four open a candidacy)
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import ValidationError

from shared.commands.candidacy import OpenCandidacy, RegisterCandidate

IN_FLIGHT = 8
CANDIDACY_COLUMNS = ("certification", "route", "evaluator_id", "trainer_id")


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    accepted: int = 0
    refused: int = 0

    def summary(self) -> list[str]:
        return [*sorted(self.lines, key=lambda line: int(line.split()[1].rstrip(":"))),
                f"{self.accepted} lines accepted, {self.refused} refused"]


class BadFile(ValueError):
    pass


def _key(kind: str, row: dict) -> str:
    return f"bulk-{kind}-" + hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:40]


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False))


async def import_candidates(path: Path, candidacy_url: str, token: Callable[[], Awaitable[str]]) -> Report:
    report = Report()
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        missing = {"given_name", "family_name", "email", "status"} - set(reader.fieldnames or ())
        if missing:
            raise BadFile(f"{path}: the header lacks {', '.join(sorted(missing))} (see `cqp candidacy import --help`)")
        slots = asyncio.Semaphore(IN_FLIGHT)
        async with httpx.AsyncClient(base_url=candidacy_url, timeout=60) as http:
            async def send(name: str, body: dict, key: str) -> dict:
                headers = {"authorization": f"Bearer {await token()}", "idempotency-key": key}
                for attempt in range(5):
                    try:
                        answer = await http.post(f"/commands/{name}", json=body, headers=headers)
                        break
                    except httpx.TransportError:
                        if attempt == 4:
                            raise
                        await asyncio.sleep(0.5 * 2**attempt)
                payload = answer.json()
                if answer.status_code != 200:
                    error = payload["error"]
                    problems = error.get("details", {}).get("problems")
                    reason = "; ".join(f"{p['field']}: {p['problem']}" for p in problems) if problems else error["message"]
                    raise Refused(f"{error['type']}: {reason}")
                return payload

            async def line(number: int, row: dict) -> None:
                row = {k: v.strip() for k, v in row.items() if k and v and v.strip()}
                try:
                    person = RegisterCandidate.model_validate({k: v for k, v in row.items()
                                                                if k not in CANDIDACY_COLUMNS})
                    async with slots:
                        candidate = (await send("register-candidate", person.model_dump(mode="json", exclude_none=True),
                                                _key("candidate", row)))["id"]
                        said = f"candidate {candidate}"
                        if row.get("certification"):
                            opening = OpenCandidacy.model_validate(
                                {"candidate_id": candidate, **{k: row[k] for k in CANDIDACY_COLUMNS if k in row}})
                            candidacy = await send("open-candidacy", opening.model_dump(mode="json", exclude_none=True),
                                                   _key("candidacy", row))
                            said += f", candidacy {candidacy['id']}"
                    report.accepted += 1
                    report.lines.append(f"line {number}: accepted ({said})")
                except ValidationError as error:
                    report.refused += 1
                    report.lines.append(f"line {number}: refused: {_problems(error)}")
                except Refused as refusal:
                    report.refused += 1
                    report.lines.append(f"line {number}: refused: {refusal}")

            pending: set[asyncio.Task] = set()
            for number, row in enumerate(reader, start=2):  # line 1 is the header
                pending.add(asyncio.create_task(line(number, row)))
                if len(pending) >= IN_FLIGHT * 4:  # streamed: only a few lines in memory at once
                    _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if pending:
                await asyncio.gather(*pending)
    return report


class Refused(Exception):
    pass
