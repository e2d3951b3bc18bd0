"""The installation's issuing keys, kept by the jury service in its own table (`issuer_keys`): the installation's
CA (made on first use, shared/certificates/pki.py), and per branch its seal (a certificate of that CA: PAdES on the
certificates' PDFs) and its credential key (Ed25519: the Open Badges credentials). Each private key is wrapped with
the service's master key (CQP_CIPHER_KEY, shared/personal.py MasterKey, person id "issuer:<branch>:<purpose>:<key
id>"), like the people's keys; no deploy script is involved.

Made on first use, concurrency-safe: a key is inserted with ON CONFLICT DO NOTHING on the one current key of its
branch and purpose (a partial unique index), then read back: two processes racing keep the same key. A retired key
(`retired_at`) stays published so what it signed still verifies.

`POST /queries/issuer` (public, no token): the CA certificate (PEM), and each branch's seal certificate, did:web
identifier and JWKS, as anyone checks a certificate's PDF or credential offline.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from urllib.parse import urlsplit

import asyncpg
from joserfc.jwk import OKPKey
from starlette.requests import Request
from starlette.responses import JSONResponse

from shared.certificates import credentials as vc
from shared.certificates import pki
from shared.migrations import numbered
from shared.personal import MasterKey

CA = ""  # the branch column of the installation's CA

MIGRATIONS = numbered(
    "issuer_keys",
    """
    CREATE TABLE IF NOT EXISTS issuer_keys (
        branch text NOT NULL,
        purpose text NOT NULL CHECK (purpose IN ('ca', 'seal', 'credential')),
        key_id text NOT NULL,
        wrapped bytea NOT NULL,
        public text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        PRIMARY KEY (branch, purpose, key_id)
    );
    CREATE UNIQUE INDEX IF NOT EXISTS issuer_keys_current ON issuer_keys (branch, purpose) WHERE retired_at IS NULL;
    -- Each credential's entry in its branch's status list: one index per certificate number.
    CREATE TABLE IF NOT EXISTS credential_status (
        number text PRIMARY KEY,
        branch text NOT NULL,
        position bigserial NOT NULL
    );
    """,
    # One entry per credential: the award's (block '') and each validated block's; a revocation marks them all,
    # with its day and reason (what the branch's status list credential publishes).
    """
    ALTER TABLE credential_status ADD COLUMN block text NOT NULL DEFAULT '',
        ADD COLUMN revoked_on date, ADD COLUMN reason text;
    ALTER TABLE credential_status DROP CONSTRAINT credential_status_pkey, ADD PRIMARY KEY (number, block);
    CREATE UNIQUE INDEX credential_status_position ON credential_status (position);
    CREATE INDEX credential_status_branch ON credential_status (branch, position);
    """,
)


def person(branch: str, purpose: str, key_id: str) -> str:
    return f"issuer:{branch or 'installation'}:{purpose}:{key_id}"


def did(public_url: str, branch: str) -> str:
    return vc.did_web(urlsplit(public_url).netloc, "branches", branch.lower())


class Issuer:
    def __init__(self, pool: asyncpg.Pool, master: MasterKey, public_url: str):
        self.pool, self.master, self.public_url = pool, master, public_url.rstrip("/")
        # The current keys, once read: they change only by a rotation, which nothing does yet (it will clear this).
        self._known: dict[tuple[str, str], tuple[str, bytes, str]] = {}

    async def _current(self, branch: str, purpose: str, make) -> tuple[str, bytes, str]:
        """(key id, private bytes, public text) of the branch's current key, made on first use."""
        if (branch, purpose) not in self._known:
            self._known[branch, purpose] = await self._made(branch, purpose, make)
        return self._known[branch, purpose]

    async def _made(self, branch: str, purpose: str, make) -> tuple[str, bytes, str]:
        row = await self._read(branch, purpose)
        if row is None:
            key_id = f"{purpose}-{dt.date.today():%Y%m%d}-{secrets.token_hex(3)}"
            private, public = await make(key_id)
            await self.pool.execute(
                "INSERT INTO issuer_keys (branch, purpose, key_id, wrapped, public) VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (branch, purpose) WHERE retired_at IS NULL DO NOTHING",
                branch, purpose, key_id, self.master.wrap(person(branch, purpose, key_id), private), public)
            row = await self._read(branch, purpose)
        return row["key_id"], self.master.unwrap(person(branch, purpose, row["key_id"]), row["wrapped"]), row["public"]

    async def _read(self, branch: str, purpose: str):
        return await self.pool.fetchrow("SELECT key_id, wrapped, public FROM issuer_keys WHERE branch = $1 AND"
                                        " purpose = $2 AND retired_at IS NULL", branch, purpose)

    async def ca(self) -> pki.Issued:
        async def make(_key_id: str):
            root = pki.make_root("CQP installation CA", organisation="CQP platform")
            return root.key_pem, root.cert_pem.decode()

        _, key_pem, cert_pem = await self._current(CA, "ca", make)
        return pki.Issued(cert_pem.encode(), key_pem)

    async def seal(self, branch: str, branch_name: str) -> tuple[pki.Issued, pki.Issued]:
        """The branch's seal and the CA above it."""
        root = await self.ca()

        async def make(_key_id: str):
            made = pki.make_seal(root, branch, branch_name)
            return made.key_pem, made.cert_pem.decode()

        _, key_pem, cert_pem = await self._current(branch, "seal", make)
        return pki.Issued(cert_pem.encode(), key_pem), root

    async def credential_key(self, branch: str) -> OKPKey:
        issuer = did(self.public_url, branch)

        async def make(key_id: str):
            key = vc.generate_key(issuer, key_id)
            return json.dumps(vc.private_jwk(key)).encode(), json.dumps(vc.public_jwk(key))

        _, private, _ = await self._current(branch, "credential", make)
        return OKPKey.import_key(json.loads(private))

    async def status_index(self, number: str, branch: str, block: str = "") -> int:
        """The credential's entry in its branch's status list: the award's (block "") or one block's."""
        await self.pool.execute("INSERT INTO credential_status (number, branch, block) VALUES ($1, $2, $3)"
                                " ON CONFLICT DO NOTHING", number, branch, block)
        return await self.pool.fetchval("SELECT position FROM credential_status WHERE number = $1 AND block = $2",
                                        number, block)

    async def published(self) -> dict:
        """What anyone checks a certificate with: the CA, and each branch's seals and public keys (retired too)."""
        rows = await self.pool.fetch("SELECT branch, purpose, key_id, public, created_at, retired_at FROM issuer_keys"
                                     " ORDER BY branch, purpose, created_at")
        answer: dict = {"ca": next((r["public"] for r in rows if r["purpose"] == "ca" and r["retired_at"] is None),
                                   None), "branches": {}}
        for row in rows:
            if row["purpose"] == "ca":
                continue
            branch = answer["branches"].setdefault(row["branch"], {"did": did(self.public_url, row["branch"]),
                                                                  "seals": [], "jwks": {"keys": []}})
            if row["purpose"] == "seal":
                branch["seals"].append(row["public"])
            else:
                branch["jwks"]["keys"].append(json.loads(row["public"]))
        return answer


def queries(issuing) -> dict:
    """`issuing`: what holds the service's Issuer (services/jury/certificates.py), made on first use."""

    async def published(_: Request) -> JSONResponse:
        return JSONResponse(await issuing.issuer.published())

    return {"issuer": published}
