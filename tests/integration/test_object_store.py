"""The object store (shared/objects.py) on the real S3 server scripts/test starts (versitygw, deploy/s3/).

Each process has its own key and its own private bucket: what one stores, another's credentials can
neither read nor overwrite, and its pre-signed links do not open it; anonymous requests are refused; a
pre-signed link opens one key for one method until it expires, and a tampered one opens nothing. Each
refusal is checked beside what the same credentials may do, so a test fails when the protection goes.
"""

import asyncio
import os
import socket
import uuid

import httpx
import pytest
import pytest_asyncio

from shared.objects import AccessRefused, ObjectMissing, ObjectStore, StoreUnavailable
from tests.harness import s3_settings

MB = 1024 * 1024


@pytest_asyncio.fixture
async def candidacy():
    async with ObjectStore.from_settings(s3_settings("candidacy")) as store:
        yield store


@pytest_asyncio.fixture
async def jury():
    async with ObjectStore.from_settings(s3_settings("jury")) as store:
        yield store


def fresh_key() -> str:
    return f"tests/{uuid.uuid4()}"  # the buckets live as long as the run: keys never meet


async def test_ten_megabytes_come_back_as_they_went_with_their_size_and_etag(candidacy):
    data, key = os.urandom(10 * MB), fresh_key()
    stored = await candidacy.put(key, data, "application/pdf")
    assert stored.size == 10 * MB
    assert await candidacy.get(key) == data
    assert await candidacy.head(key) == stored


async def test_a_deleted_object_is_missing_and_deleting_it_again_is_harmless(candidacy):
    key = fresh_key()
    await candidacy.put(key, b"livret")
    await candidacy.delete(key)
    with pytest.raises(ObjectMissing) as missing:
        await candidacy.get(key)
    assert missing.value.key == key
    with pytest.raises(ObjectMissing):
        await candidacy.head(key)
    await candidacy.delete(key)


async def test_anonymous_requests_are_refused(candidacy):
    key = fresh_key()
    await candidacy.put(key, b"private")
    url = f"{candidacy.endpoint}/{candidacy.bucket}/{key}"
    async with httpx.AsyncClient() as anyone:
        assert (await anyone.get(url)).status_code == 403
        assert (await anyone.get(f"{candidacy.endpoint}/{candidacy.bucket}")).status_code == 403  # no listing
        assert (await anyone.put(f"{url}-new", content=b"x")).status_code == 403
    assert await candidacy.get(key) == b"private"
    with pytest.raises(ObjectMissing):
        await candidacy.head(f"{key}-new")


async def test_a_presigned_get_opens_its_one_object_until_it_expires_and_a_tampered_one_nothing(candidacy):
    key, other = fresh_key(), fresh_key()
    await candidacy.put(key, b"livret 2")
    await candidacy.put(other, b"someone else's")
    url = await candidacy.presigned_get(key, seconds=2)
    async with httpx.AsyncClient() as holder:
        answer = await holder.get(url)
        assert answer.status_code == 200 and answer.content == b"livret 2"
        assert (await holder.get(url.replace(key, other))).status_code == 403
        signature = url.rsplit("X-Amz-Signature=", 1)[1][:64]
        forged = "0" * 64 if signature != "0" * 64 else "1" * 64
        assert (await holder.get(url.replace(signature, forged))).status_code == 403
        assert (await holder.put(url, content=b"overwritten")).status_code == 403  # signed for GET only
        await asyncio.sleep(3)
        assert (await holder.get(url)).status_code == 403
    assert await candidacy.get(key) == b"livret 2"


async def test_a_presigned_put_writes_its_object_with_the_signed_content_type_only(candidacy):
    key = fresh_key()
    url = await candidacy.presigned_put(key, seconds=60, content_type="application/pdf")
    async with httpx.AsyncClient() as uploader:
        refused = await uploader.put(url, content=b"MZ", headers={"Content-Type": "application/x-msdownload"})
        assert refused.status_code == 403
        with pytest.raises(ObjectMissing):
            await candidacy.head(key)
        accepted = await uploader.put(url, content=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})
        assert accepted.status_code == 200
    assert await candidacy.get(key) == b"%PDF-1.7"


async def test_one_process_cannot_read_or_overwrite_another_process_objects(candidacy, jury):
    key = fresh_key()
    await jury.put(key, b"minutes of the jury")
    stranger = ObjectStore.from_settings(s3_settings("candidacy"))
    stranger.bucket = jury.bucket  # the candidacy service's key, aimed at the jury's bucket
    async with stranger:
        with pytest.raises(AccessRefused):
            await stranger.get(key)
        with pytest.raises(AccessRefused):
            await stranger.put(key, b"forged")
        with pytest.raises(AccessRefused):
            await stranger.delete(key)
        link = await stranger.presigned_get(key, seconds=60)  # signed with the wrong key: opens nothing
    async with httpx.AsyncClient() as holder:
        assert (await holder.get(link)).status_code == 403
        assert (await holder.get(await jury.presigned_get(key, seconds=60))).content == b"minutes of the jury"
    assert await jury.get(key) == b"minutes of the jury"


async def test_a_wrong_secret_is_refused():
    settings = s3_settings("candidacy")
    settings.s3_secret_key = "not-the-secret"
    async with ObjectStore.from_settings(settings) as impostor:
        with pytest.raises(AccessRefused):
            await impostor.put(fresh_key(), b"x")


async def test_a_store_that_does_not_answer_is_unavailable():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = s3_settings("candidacy")
    settings.s3_endpoint = f"http://127.0.0.1:{port}"
    async with ObjectStore.from_settings(settings) as away:
        with pytest.raises(StoreUnavailable):
            await away.get(fresh_key())
