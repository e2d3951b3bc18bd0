"""The branches' status lists and key rotation on real PostgreSQL (services/jury/status.py, issuer.py): events in
(CertificateRevoked, CertificateIssued as the subscription receives them), rows and signed lists out."""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import uuid

import asyncpg
import pytest_asyncio

from shared.certificates import credentials as vc
from shared.envelope import Envelope
from shared.migrations import migrate
from shared.personal import MasterKey

from services.jury import issuer as issuing_module
from services.jury import views
from services.jury.issuer import Issuer, rotate
from services.jury.status import StatusLists
from tests.harness import fresh_database

PUBLIC = "https://cqp.example.fr"
TODAY = dt.date(2026, 7, 1)


class Holder:
    def __init__(self, issuer):
        self.issuer = issuer


@pytest_asyncio.fixture
async def pool():
    dsn = await fresh_database(os.environ["CQP_TEST_POSTGRES_DSN"])
    made = await asyncpg.create_pool(dsn, min_size=1, max_size=4, server_settings={"search_path": "jury"})
    async with made.acquire() as conn:
        await conn.execute("SET search_path TO jury")
    await migrate(made, [*views.MIGRATIONS, *issuing_module.MIGRATIONS])
    await made.execute("INSERT INTO catalog_branches (code, name) VALUES ('UIMM', 'Métallurgie')")
    yield made
    await made.close()


def issuer_of(pool) -> Issuer:
    return Issuer(pool, MasterKey(base64.b64encode(secrets.token_bytes(32)).decode()), PUBLIC)


def envelope(event_type: str, payload: dict) -> Envelope:
    return Envelope(event_id=uuid.uuid4(), type=event_type, version=1, producer="jury", position=1,
                    aggregate_id=uuid.uuid4(), aggregate_version=2, occurred_at="2026-07-01T10:00:00Z",
                    actor={"user_id": "u", "organisation_id": "o", "role": "certifier"}, correlation_id="c",
                    causation_id="k", payload=payload)


async def test_a_revoked_certificate_sets_its_bit_with_day_and_reason_once_and_the_list_is_signed_again(pool):
    issuer = issuer_of(pool)
    lists = StatusLists(pool, Holder(issuer))
    first = await issuer.status_index("N-1", "UIMM")
    second = await issuer.status_index("N-2", "UIMM")
    await issuer.status_index("N-2", "UIMM", "BC01")
    await lists.issued("N-2")
    unrevoked = await lists.served("UIMM", 1)
    keys = vc.jwks([await issuer.credential_key("UIMM")])
    _, body = vc.unverified(unrevoked)
    assert body["id"] == f"{PUBLIC}/branches/uimm/status/1" and "revocations" not in body["credentialSubject"]
    assert not vc.StatusList.decode(body["credentialSubject"]["encodedList"]).get(second)

    assert await lists.revoke("N-2", TODAY, "decision corrected: error") == [("UIMM", 1)]
    await lists.revoke("N-2", TODAY + dt.timedelta(days=3), "again")  # a redelivery: the first day and reason stay
    token = await lists.served("UIMM", 1)
    _, body = vc.unverified(token)
    bits = vc.StatusList.decode(body["credentialSubject"]["encodedList"])
    blocks = await pool.fetchval("SELECT position FROM credential_status WHERE number = 'N-2' AND block = 'BC01'")
    assert bits.get(second) and bits.get(blocks) and not bits.get(first)
    assert body["credentialSubject"]["revocations"][str(second)] == {"revokedOn": "2026-07-01",
                                                                     "reason": "decision corrected: error"}
    entry = vc.StatusEntry(f"{PUBLIC}/branches/uimm/status/1", second)
    award = vc.Award("urn:uuid:1", issuing_module.did(PUBLIC, "UIMM"), "Métallurgie", f"{PUBLIC}/c", "c", "c", "c", "Certificate", (),
                     "Élodie", "Martin", "p", dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc), None, entry,
                     certificate_number="N-2")
    credential = vc.sign_award(award, await issuer.credential_key("UIMM"))
    verified = vc.verify(credential, keys, {entry.list_url: token}, TODAY)
    assert (verified.verdict, verified.revoked_on, verified.revocation_reason) == \
        ("revoked", "2026-07-01", "decision corrected: error")


async def test_a_list_nothing_falls_in_or_of_an_unknown_branch_is_not_served(pool):
    lists = StatusLists(pool, Holder(issuer_of(pool)))
    await lists.issuer.status_index("N-1", "UIMM")
    assert await lists.served("UIMM", 2) is None
    assert await lists.served("AGRI", 1) is None
    assert await lists.revoke("N-unknown", TODAY, "x") == []


async def test_a_rotation_retires_the_current_keys_and_a_running_issuer_takes_new_ones_within_the_recheck(pool):
    issuer = issuer_of(pool)
    old = await issuer.credential_key("UIMM")
    await issuer.seal("UIMM", "Métallurgie")
    assert sorted(k.split("-")[0] for k in await rotate(pool, "UIMM")) == ["credential", "seal"]
    assert await rotate(pool, "UIMM") == []  # nothing current any more: nothing to retire
    issuer._checked = {k: v - issuing_module.KEY_RECHECK_SECONDS for k, v in issuer._checked.items()}
    new = await issuer.credential_key("UIMM")
    assert new.kid != old.kid and new.kid.startswith(issuing_module.did(PUBLIC, "UIMM") + "#")
    published = await issuer.branch_keys("UIMM")
    assert [k["kid"] for k in published] == [old.kid, new.kid]  # the retired one stays published
    document = vc.did_document(issuing_module.did(PUBLIC, "UIMM"), published)
    assert [m["id"] for m in document["verificationMethod"]] == [old.kid, new.kid]


async def test_the_subscription_revokes_on_the_jurys_own_certificate_revoked(pool):
    issuer = issuer_of(pool)
    lists = StatusLists(pool, Holder(issuer))
    position = await issuer.status_index("N-3", "UIMM")
    await lists.handle(None, envelope("CertificateRevoked", {"number": "N-3", "revoked_on": "2026-07-01",
                                                             "reason": "revoked by the branch"}))
    row = await pool.fetchrow("SELECT revoked_on, reason FROM credential_status WHERE number = 'N-3'")
    assert (row["revoked_on"], row["reason"]) == (TODAY, "revoked by the branch")
    _, body = vc.unverified(await pool.fetchval("SELECT token FROM status_lists WHERE branch = 'UIMM' AND list = 1"))
    assert vc.StatusList.decode(body["credentialSubject"]["encodedList"]).get(position)
