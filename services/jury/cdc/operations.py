"""`cqp cdc export` and `cqp cdc report`: the awards read from the gateway's read models, the holders' civil
data asked of the candidacy service (which alone holds it, sealed per person: shared/personal.py) with the
operator's token, the file written only when valid, the declaration state recorded through the jury
service's commands."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from shared.people import NOBODY, PeopleClient
from shared.vocabulary import CertificateKind, DeclarationState, Registry
from services.jury.cdc import Award, build, new_flux_id, parse_report, schema_errors

AWARDS = """
SELECT c.number, cert.registry, c.certification, c.awarded_on, cy.route, c.candidate_id
  FROM certificates c
  JOIN certifications cert ON cert.code = c.certification
  JOIN candidacies cy ON cy.id = c.candidacy_id
 WHERE c.kind = $2 AND c.revoked_on IS NULL AND c.declaration_state = ANY($3::text[])
   AND $1 = ANY(cert.owners) AND cert.registry = ANY($4::text[])
 ORDER BY c.certification, c.awarded_on, c.number
"""
# AWARDS' $2 to $4: a certificate in force, its holder not declared yet or to be sent again, registered.
AWARDS_ARGS = (CertificateKind.CERTIFICATE, [DeclarationState.PENDING, DeclarationState.REJECTED], list(Registry))


class DeclarationRefused(ValueError):
    """An operator's mistake or a file that would not be valid: nothing is written."""


Token = Callable[[], Awaitable[str]]


async def _command(http: httpx.AsyncClient, jury_url: str, token: Token, name: str, body: dict, key: str) -> dict:
    answer = await http.post(f"{jury_url}/commands/{name}", json=body,
                             headers={"authorization": f"Bearer {await token()}", "idempotency-key": key})
    payload = answer.json()
    if answer.status_code != 200:
        raise DeclarationRefused(f"{payload['error']['type']}: {payload['error']['message']}")
    return payload


async def export(dsn: str, branch: str, client_id: str, contract_id: str, to: Path, jury_url: str,
                 token: Token, candidacy_url: str) -> list[str]:
    """The report lines; the file is written only if it validates, and only then recorded as sent."""
    if to.exists():
        raise DeclarationRefused(f"{to} exists: a declaration file is never overwritten")
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "gateway"})
    try:
        if not await conn.fetchval("SELECT count(*) FROM branches WHERE code = $1", branch):
            raise DeclarationRefused(f"no such branch in the catalog: {branch}")
        rows = await conn.fetch(AWARDS, branch, *AWARDS_ARGS)
    finally:
        await conn.close()
    async with httpx.AsyncClient(timeout=60) as http:
        people = await PeopleClient(http, candidacy_url).reveal([str(r["candidate_id"]) for r in rows], await token())
    awards = []
    for r in rows:
        person = people.get(str(r["candidate_id"]), NOBODY)
        awards.append(Award(r["number"], r["registry"], r["certification"], r["awarded_on"], r["route"],
                            None if person.erased else person.holder, person.birth_date, person.name))
    lines = [f"holder of {a.number} ({a.name}) lacks: {', '.join(a.lacking())}" for a in awards if a.lacking()]
    complete = [a for a in awards if not a.lacking()]
    if not complete:
        return [*lines, f"nothing to declare for {branch}: no file written"]
    flux_id = new_flux_id()
    document = build(complete, client_id, contract_id, flux_id, datetime.now().astimezone())
    if errors := schema_errors(document):
        raise DeclarationRefused("the file would not validate against the schema, so it is not written: "
                                 + "; ".join(errors[:5]))
    partial = to.with_name(to.name + ".partial")
    partial.write_bytes(document)
    os.replace(partial, to)  # whole or not at all
    async with httpx.AsyncClient(timeout=60) as http:
        await _command(http, jury_url, token, "declare-holders", {"file": flux_id, "numbers": [a.number for a in complete]},
                       f"cdc-sent-{flux_id}")
    return [*lines, f"{len(complete)} holders declared in {to} (idFlux {flux_id}); {len(lines)} left out"]


async def report(path: Path, jury_url: str, token: Token, file: str | None = None) -> list[str]:
    flux_id, outcomes = parse_report(path)
    flux_id = file or flux_id
    if not flux_id:
        raise DeclarationRefused(f"{path}: the report names no idFlux: give it with --file")
    lines = []
    async with httpx.AsyncClient(timeout=60) as http:
        for outcome in outcomes:
            try:
                await _command(http, jury_url, token, "record-declaration-outcome",
                               {"file": flux_id, "number": outcome.number, "accepted": outcome.accepted,
                                "messages": outcome.messages[:50]}, f"cdc-outcome-{flux_id}-{outcome.number}")
                lines.append(f"{outcome.number}: {'accepted' if outcome.accepted else 'rejected'}")
            except DeclarationRefused as refusal:
                lines.append(f"{outcome.number}: not recorded: {refusal}")
    return lines

