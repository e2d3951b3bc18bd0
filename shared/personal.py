"""Personal data, encrypted per person: erasing a person destroys their key ("crypto-shredding").

Why: events are kept forever (the event store, the Kafka topics, the consumers' copies, replays), so a
person's data cannot be deleted from them; it can only be made unreadable. Each person gets their own
data key, made by the service that owns the person (the candidacy service owns the candidates), kept in
that service's own table `personal_keys`, wrapped (AES-GCM) under the service's master key
(`CQP_CIPHER_KEY`). Every personal field (names, email, phone, birth date, civil registry data) is
sealed with the person's key before it is recorded: the owner's events and the public events carry the
ciphertext and the person's id, never the clear text. Erasure deletes the key row: every copy of the
ciphertext, wherever it went, is noise from then on, while every history stays replayable (the person
reads as `[erased]`).

Who reads a name: only the owner decrypts. Consumers keep the person's id, and ask the owner for the
fields of the people they show, with the caller's token (`POST /personal/reveal`, checked by the owner
against the role table): nothing outside the owner holds a name, so nothing outside needs forgetting.

Searching people by name: the owner keeps a keyed blind index (`personal_search`): HMAC-SHA256, under a
key derived from the master key, of each normalised word (lower case, no accents) of the person's
names, email and birth date, and of each name's prefixes of three letters or more. A search sends its
words to the owner, which answers the ids of the people having them all. Erasure deletes these rows
with the key.

Pure functions (seal, unseal, wrap, tokens) and a small asyncpg store (`Vault`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import unicodedata
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.migrations import numbered

ERASED = "[erased]"
_SEALED = "pd1."  # the format of a sealed value: version 1, AES-256-GCM, nonce then ciphertext, base64url
_NONCE = 12
MIN_PREFIX = 3

MIGRATIONS = numbered(
    "personal",
    """
    -- One data key per person, wrapped under the service's master key (shared/personal.py). Erasure deletes the row.
    CREATE TABLE IF NOT EXISTS personal_keys (
        person_id text PRIMARY KEY,
        wrapped bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    -- The blind index of people's words (HMAC under a key derived from the master key), for searching by name.
    CREATE TABLE IF NOT EXISTS personal_search (
        person_id text NOT NULL,
        token text NOT NULL,
        PRIMARY KEY (person_id, token)
    );
    CREATE INDEX IF NOT EXISTS personal_search_token ON personal_search (token);
    -- Erasures begun: the key is destroyed once the erasure is recorded, even after a crash in between.
    CREATE TABLE IF NOT EXISTS personal_erasures (
        person_id text PRIMARY KEY,
        begun_at timestamptz NOT NULL DEFAULT now()
    );
    """,
)


class KeyDestroyed(LookupError):
    """The person's key is gone (erased): their sealed data can never be read again."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, person_id: str, fields: dict) -> str:
    """The fields (JSON values, as a command's `model_dump(mode="json")` gives them) as one opaque text,
    bound to the person (their id is the associated data)."""
    nonce = os.urandom(_NONCE)
    data = AESGCM(key).encrypt(nonce, json.dumps(fields).encode(), person_id.encode())
    return _SEALED + base64.urlsafe_b64encode(nonce + data).decode()


def unseal(key: bytes, person_id: str, sealed: str) -> dict:
    if not sealed.startswith(_SEALED):
        raise ValueError("not a sealed value")
    raw = base64.urlsafe_b64decode(sealed[len(_SEALED):])
    try:
        return json.loads(AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], person_id.encode()))
    except InvalidTag:
        raise ValueError("the sealed value is not this person's, or was altered") from None


def normalise(text: str) -> str:
    """Lower case, without accents (Zoé and ZOE are both zoe)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return [w for w in normalise(text).split() if w]


class MasterKey:
    """The service's master key (CQP_CIPHER_KEY, base64): wraps the people's keys, and keys the blind index.
    Two keys are derived from it (HKDF), one per use."""

    def __init__(self, encoded: str):
        raw = base64.b64decode(encoded)
        if len(raw) not in (16, 24, 32):
            raise ValueError("the master key is 16, 24 or 32 bytes, base64-encoded (`cqp cipher-key`)")
        self._wrapping = self._derive(raw, b"cqp personal data: key wrapping")
        self._index = self._derive(raw, b"cqp personal data: search index")

    @staticmethod
    def _derive(raw: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)

    def wrap(self, person_id: str, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self._wrapping).encrypt(nonce, key, person_id.encode())

    def unwrap(self, person_id: str, wrapped: bytes) -> bytes:
        return AESGCM(self._wrapping).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], person_id.encode())

    def token(self, word: str) -> str:
        return hmac.new(self._index, word.encode(), hashlib.sha256).hexdigest()

    def index_tokens(self, names: Iterable[str], exact: Iterable[str]) -> set[str]:
        """The blind index of a person: each word of their names and its prefixes (3 letters or more), and
        each exact value (email, birth date) as one word."""
        found: set[str] = set()
        for name in names:
            for part in words(name.replace("-", " ").replace("'", " ")) + words(name):
                found.update(part[:n] for n in range(min(MIN_PREFIX, len(part)), len(part) + 1))
        for value in exact:
            found.update(words(value))
        return {self.token(w) for w in found}

    def query_tokens(self, text: str) -> list[str]:
        return sorted({self.token(w) for w in words(text)})


class Vault:
    """The people's keys and blind index of one service, in its own schema (asyncpg pool on its search path)."""

    def __init__(self, pool, master: MasterKey):
        self.pool = pool
        self.master = master

    async def create(self, person_id: str, tokens: set[str] = frozenset()) -> bytes:
        """A new key for a new person, and their words in the blind index: one statement."""
        key = new_key()
        await self.pool.execute(
            "WITH made AS (INSERT INTO personal_keys (person_id, wrapped) VALUES ($1, $2) RETURNING person_id)"
            " INSERT INTO personal_search (person_id, token) SELECT made.person_id, token"
            " FROM made, unnest($3::text[]) AS token",
            person_id, self.master.wrap(person_id, key), sorted(tokens))
        return key

    async def key(self, person_id: str) -> bytes:
        keys = await self.keys([person_id])
        if person_id not in keys:
            raise KeyDestroyed(person_id)
        return keys[person_id]

    async def keys(self, person_ids: Iterable[str]) -> dict[str, bytes]:
        rows = await self.pool.fetch("SELECT person_id, wrapped FROM personal_keys WHERE person_id = ANY($1::text[])",
                                     list(person_ids))
        return {r["person_id"]: self.master.unwrap(r["person_id"], r["wrapped"]) for r in rows}

    async def destroy(self, person_id: str) -> None:
        """Erasure: the key and the person's words in the index, gone for good."""
        async with self.pool.acquire() as conn, conn.transaction():
            # After any reindexing of the person under way (`index`).
            await conn.execute("SELECT 1 FROM personal_keys WHERE person_id = $1 FOR UPDATE", person_id)
            await conn.execute("DELETE FROM personal_search WHERE person_id = $1", person_id)
            await conn.execute("DELETE FROM personal_keys WHERE person_id = $1", person_id)
            await conn.execute("DELETE FROM personal_erasures WHERE person_id = $1", person_id)

    async def begin_erasure(self, person_id: str) -> None:
        """Noted before the erasure is recorded: `finish_erasures` destroys the key if the process dies
        between recording the erasure and destroying the key."""
        await self.pool.execute("INSERT INTO personal_erasures (person_id) VALUES ($1) ON CONFLICT DO NOTHING",
                                person_id)

    async def abandon_erasure(self, person_id: str) -> None:
        await self.pool.execute("DELETE FROM personal_erasures WHERE person_id = $1", person_id)

    async def erasures_begun(self) -> list[str]:
        return [r["person_id"] for r in await self.pool.fetch("SELECT person_id FROM personal_erasures")]

    async def index(self, person_id: str, tokens: set[str]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # One reindex of a person at a time (twins of a command answer at once): the later one waits,
            # then replaces the earlier one's words instead of colliding with them.
            await conn.execute("SELECT 1 FROM personal_keys WHERE person_id = $1 FOR UPDATE", person_id)
            await conn.execute("DELETE FROM personal_search WHERE person_id = $1", person_id)
            await conn.executemany("INSERT INTO personal_search (person_id, token) VALUES ($1, $2)",
                                   [(person_id, t) for t in sorted(tokens)])

    async def search(self, text: str, limit: int = 10_000) -> list[str]:
        """The people having every word of the text (none when it has no word)."""
        tokens = self.master.query_tokens(text)
        if not tokens:
            return []
        rows = await self.pool.fetch(
            "SELECT person_id FROM personal_search WHERE token = ANY($1::text[]) GROUP BY person_id"
            " HAVING count(*) = $2 LIMIT $3", tokens, len(tokens), limit)
        return [r["person_id"] for r in rows]


def vault_of(app, pool) -> Vault:
    """The vault of a service's people, under its master key (the application's PERSONAL_DATA_KEY, from
    CQP_CIPHER_KEY): made on first use, so a service's parts are listed without the key (tests/unit)."""
    return Vault(pool, MasterKey(app.env.get("PERSONAL_DATA_KEY") or ""))
