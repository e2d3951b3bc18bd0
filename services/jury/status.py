"""Revocation anyone can check: each branch's W3C Bitstring Status List credentials, one bit per credential.

On its own CertificateRevoked (a certificate revoked directly, or by a correction of its decision: domain.py
Certificate.revoke / revoke_on_correction), the jury service marks every credential of that number (the award's and
each block's, `credential_status`) revoked with the day and reason, once (a redelivery changes nothing), and signs
again the branch's list(s) holding them with the branch's current credential key. On its own CertificateIssued
(after certificates.py has given the credentials their entries) it signs the lists they fall in if they are not
signed yet: a list without any revocation is served too, all zeros. The signed credentials are kept in
`status_lists`, so serving one (`POST /queries/status`, relayed by the gateway) is a read, not a signing.

List n of a branch holds positions (n-1)*MIN_BITS .. n*MIN_BITS-1 (a position is global, so a branch's list has
gaps where other branches' credentials are: those bits stay 0); its URL is
`<public_url>/branches/<branch lower>/status/<n>`, as each credential's entry names it.
"""

from __future__ import annotations

import datetime as dt
import logging

import asyncpg

from shared.certificates import credentials as vc
from shared.contracts import jury
from shared.envelope import Envelope
from shared.service import Subscription
from shared.settings import Settings

from services.jury.application import JuryApplication
from services.jury.issuer import Issuer

logger = logging.getLogger("jury.status")


def list_of(position: int) -> tuple[int, int]:
    """(list number, index in it) of a credential's position."""
    return position // vc.MIN_BITS + 1, position % vc.MIN_BITS


def list_url(public_url: str, branch: str, number: int) -> str:
    return f"{public_url.rstrip('/')}/branches/{branch.lower()}/status/{number}"


def revocations(rows, number: int) -> tuple[vc.StatusList, dict[int, dict[str, str]]]:
    """The bits and the when-and-why of list `number` from its revoked rows (position, revoked_on, reason)."""
    bits, known = vc.StatusList(), {}
    for row in rows:
        at, index = list_of(row["position"])
        if at != number or row["revoked_on"] is None:
            continue
        bits.set(index)
        known[index] = {"revokedOn": row["revoked_on"].isoformat(), "reason": row["reason"] or ""}
    return bits, known


class StatusLists:
    def __init__(self, pool: asyncpg.Pool, issuing):
        """`issuing`: what holds the service's Issuer, made on first use (certificates.Issuing)."""
        self.pool, self.issuing = pool, issuing

    @property
    def issuer(self) -> Issuer:
        return self.issuing.issuer

    async def revoke(self, number: str, on: dt.date, reason: str) -> list[tuple[str, int]]:
        """Mark the number's credentials revoked (the first revocation's day and reason stay) and sign their
        lists again; returns the (branch, list) signed."""
        await self.pool.execute("UPDATE credential_status SET revoked_on = $2, reason = $3 WHERE number = $1"
                                " AND revoked_on IS NULL", number, on, reason)
        signed = []
        for branch, at in await self._lists(number):
            await self.sign(branch, at)
            signed.append((branch, at))
        return signed

    async def issued(self, number: str) -> None:
        for branch, at in await self._lists(number):
            await self.sign(branch, at, replace=False)

    async def _lists(self, number: str) -> list[tuple[str, int]]:
        rows = await self.pool.fetch("SELECT branch, position FROM credential_status WHERE number = $1", number)
        return sorted({(r["branch"], list_of(r["position"])[0]) for r in rows})

    async def sign(self, branch: str, number: int, replace: bool = True) -> str | None:
        """Sign list `number` of the branch as it stands (None: no credential of the branch falls in it).
        `replace=False`: only if it is not signed yet."""
        low, high = (number - 1) * vc.MIN_BITS, number * vc.MIN_BITS
        if not replace:
            token = await self.pool.fetchval("SELECT token FROM status_lists WHERE branch = $1 AND list = $2",
                                             branch, number)
            if token is not None:
                return token
        rows = await self.pool.fetch("SELECT position, revoked_on, reason FROM credential_status WHERE branch = $1"
                                     " AND position >= $2 AND position < $3", branch, low, high)
        if not rows:
            return None
        bits, known = revocations(rows, number)
        key = await self.issuer.credential_key(branch)
        name = await self.pool.fetchval("SELECT name FROM catalog_branches WHERE code = $1", branch) or branch
        document = vc.status_list_credential(list_url(self.issuer.public_url, branch, number), key.kid.split("#")[0],
                                             name, bits, dt.datetime.now(dt.timezone.utc), known)
        token = vc.sign(document, key)
        conflict = "DO UPDATE SET token = excluded.token, signed_at = now()" if replace else "DO NOTHING"
        await self.pool.execute(f"INSERT INTO status_lists (branch, list, token) VALUES ($1, $2, $3)"
                                f" ON CONFLICT (branch, list) {conflict}", branch, number, token)
        if not replace:  # another signing may have come first: serve what is kept
            return await self.pool.fetchval("SELECT token FROM status_lists WHERE branch = $1 AND list = $2",
                                            branch, number)
        logger.info("status list signed", extra={"branch": branch, "list": number, "revoked": len(known)})
        return token

    async def served(self, branch: str, number: int) -> str | None:
        """The signed list as kept; a list that credentials fall in but nothing signed yet is signed once."""
        token = await self.pool.fetchval("SELECT token FROM status_lists WHERE branch = $1 AND list = $2",
                                         branch, number)
        return token if token is not None else await self.sign(branch, number, replace=False)

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.type == "CertificateRevoked":
            fact = jury.REGISTRY.parse(envelope)
            await self.revoke(fact.number, fact.revoked_on, fact.reason)
        elif envelope.type == "CertificateIssued":
            await self.issued(jury.REGISTRY.parse(envelope).number)


def status_lists(app: JuryApplication, pool: asyncpg.Pool) -> StatusLists:
    from services.jury.certificates import Issuing

    return StatusLists(pool, Issuing(app, pool, Settings()))


def subscriptions(app: JuryApplication, pool: asyncpg.Pool) -> list[Subscription]:
    return [Subscription(jury.TOPIC, status_lists(app, pool).handle)]
