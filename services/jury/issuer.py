"""The installation's issuing keys, kept by the jury service in its own table (`issuer_keys`): the installation's
CA (made on first use, shared/certificates/pki.py), and per branch its seal (a certificate of that CA: PAdES on the
certificates' PDFs) and its credential key (Ed25519: the Open Badges credentials). Each private key is wrapped with
the service's master key (CQP_CIPHER_KEY, shared/personal.py MasterKey, person id "issuer:<branch>:<purpose>:<key
id>"), like the people's keys; no deploy script is involved.

Made on first use, concurrency-safe: a key is inserted with ON CONFLICT DO NOTHING on the one current key of its
branch and purpose (a partial unique index), then read back: two processes racing keep the same key. A retired key
(`retired_at`, `cqp keys rotate BRANCH`: tools/credentials.py) stays published so what it signed still verifies; a
process keeps its current keys unwrapped but checks, at most every KEY_RECHECK_SECONDS, that each is still current
(one indexed read of its id), so a rotation takes effect in running processes within that.

Public queries (no token), as anyone checks a certificate's PDF or credential offline (the gateway serves them:
services/gateway/issuer_routes.py): `POST /queries/issuer` the CA certificate (PEM), and each branch's seal
certificates, did:web identifier and JWKS; `/queries/did` and `/queries/jwks` {"branch"} the branch's did:web
document and JWKS (retired keys too); `/queries/ca` the CA; `/queries/status` {"branch", "list"} the signed status
list credential (services/jury/status.py).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from urllib.parse import urlsplit

import asyncpg
from joserfc.jwk import OKPKey
from starlette.requests import Request
from starlette.responses import JSONResponse

from shared.certificates import credentials as vc
from shared.certificates import pki
from shared.errors import CommandRefused, InvalidInput, NotFound
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
MIGRATIONS += numbered(
    "status_lists",
    # Each branch's signed BitstringStatusListCredential, list n holding positions (n-1)*MIN_BITS .. n*MIN_BITS - 1
    # (services/jury/status.py): signed when it changes, served as it is.
    """
    CREATE TABLE IF NOT EXISTS status_lists (
        branch text NOT NULL,
        list integer NOT NULL,
        token text NOT NULL,
        signed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (branch, list)
    );
    """,
)
KEY_RECHECK_SECONDS = 2.0  # a running process notices a rotation (`cqp keys rotate`) within this


def person(branch: str, purpose: str, key_id: str) -> str:
    return f"issuer:{branch or 'installation'}:{purpose}:{key_id}"


def did(public_url: str, branch: str) -> str:
    return vc.did_web(urlsplit(public_url).netloc, "branches", branch.lower())


class Issuer:
    def __init__(self, pool: asyncpg.Pool, master: MasterKey, public_url: str):
        self.pool, self.master, self.public_url = pool, master, public_url.rstrip("/")
        # The current keys, once read and unwrapped, with when they were last known current: a rotation (another
        # process, `cqp keys rotate`) retires them, noticed within KEY_RECHECK_SECONDS.
        self._known: dict[tuple[str, str], tuple[str, bytes, str]] = {}
        self._checked: dict[tuple[str, str], float] = {}

    async def _current(self, branch: str, purpose: str, make) -> tuple[str, bytes, str]:
        """(key id, private bytes, public text) of the branch's current key, made on first use."""
        known = self._known.get((branch, purpose))
        if known is not None and time.monotonic() - self._checked[branch, purpose] >= KEY_RECHECK_SECONDS:
            current = await self.pool.fetchval("SELECT key_id FROM issuer_keys WHERE branch = $1 AND purpose = $2"
                                               " AND retired_at IS NULL", branch, purpose)
            if current != known[0]:
                known = None
            self._checked[branch, purpose] = time.monotonic()
        if known is None:
            self._known[branch, purpose] = known = await self._made(branch, purpose, make)
            self._checked[branch, purpose] = time.monotonic()
        return known

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


    async def branch_keys(self, branch: str) -> list[dict] | None:
        """The branch's credential keys, current and retired (None: the branch has issued nothing)."""
        rows = await self.pool.fetch("SELECT public FROM issuer_keys WHERE branch = $1 AND purpose = 'credential'"
                                     " ORDER BY created_at", branch)
        return [json.loads(r["public"]) for r in rows] or None


async def rotate(pool_or_conn, branch: str) -> list[str]:
    """Retire the branch's current seal and credential keys (they stay published); the next issuance makes new
    ones. Returns the retired key ids."""
    rows = await pool_or_conn.fetch("UPDATE issuer_keys SET retired_at = now() WHERE branch = $1 AND purpose IN"
                                    " ('seal', 'credential') AND retired_at IS NULL RETURNING key_id", branch)
    return sorted(r["key_id"] for r in rows)


def _unknown(what: str, **details) -> JSONResponse:
    return JSONResponse(NotFound(f"no such {what}", **details).as_json(), NotFound.status)


async def _body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidInput("the body is a JSON object")
    return body


def _branch(body: dict) -> str:
    branch = body.get("branch")
    if not isinstance(branch, str) or not branch.strip() or len(branch) > 40:
        raise InvalidInput("branch: a branch code")
    return branch.strip().upper()


def queries(issuing, lists=None) -> dict:
    """`issuing`: what holds the service's Issuer (services/jury/certificates.py), made on first use; `lists`: the
    branches' status lists (services/jury/status.py)."""

    def answering(read):
        async def handler(request: Request) -> JSONResponse:
            try:
                return await read(await _body(request))
            except CommandRefused as refusal:
                return JSONResponse(refusal.as_json(), refusal.status)
        return handler

    async def published(_: Request) -> JSONResponse:
        return JSONResponse(await issuing.issuer.published())

    async def ca(_body: dict) -> JSONResponse:
        answer = await issuing.issuer.published()
        return JSONResponse({"ca": answer["ca"]}) if answer["ca"] else _unknown("CA")

    async def did_document(body: dict) -> JSONResponse:
        branch = _branch(body)
        keys = await issuing.issuer.branch_keys(branch)
        if keys is None:
            return _unknown("branch", branch=branch)
        return JSONResponse(vc.did_document(did(issuing.issuer.public_url, branch), keys))

    async def branch_jwks(body: dict) -> JSONResponse:
        branch = _branch(body)
        keys = await issuing.issuer.branch_keys(branch)
        return _unknown("branch", branch=branch) if keys is None else JSONResponse(vc.jwks(keys))

    async def status(body: dict) -> JSONResponse:
        branch, number = _branch(body), body.get("list")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 2**31 - 1:
            raise InvalidInput("list: a status list's number, from 1")
        token = await lists.served(branch, number) if lists is not None else None
        return _unknown("status list", branch=branch, list=number) if token is None else \
            JSONResponse({"credential": token})

    return {"issuer": published, "ca": answering(ca), "did": answering(did_document), "jwks": answering(branch_jwks),
            "status": answering(status)}
