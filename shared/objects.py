"""The object store: bytes under keys in this process's own bucket, through the S3 API (aiobotocore).

Any S3 provider serves; development and tests run versitygw (deploy/s3/). The bucket is private: a reader
without this process's credentials gets a pre-signed link, valid for the seconds it was issued for, and
only for the one key and method it names. No sealing and no document rules here: callers store what
they have already sealed.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.settings import Settings


class ObjectStoreError(Exception):
    """What the store refused or could not do."""


class ObjectMissing(ObjectStoreError):
    def __init__(self, key: str):
        super().__init__(f"no object {key!r}")
        self.key = key


class AccessRefused(ObjectStoreError):
    """The store refused these credentials for that bucket or key (a misconfiguration, never data)."""


class StoreUnavailable(ObjectStoreError):
    """The store did not answer, or failed: the same call may succeed later."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str  # as the store says it (quotes removed); not a digest to rely on across providers


MISSING = {"NoSuchKey", "NotFound", "404"}
REFUSED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


class ObjectStore:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, region: str = "us-east-1",
                 prefix: str = ""):
        """`prefix`: put before every key (systems sharing a bucket, as the tests' do, keep apart)."""
        self.endpoint, self.bucket, self.region, self.prefix = endpoint, bucket, region, prefix
        self._credentials = (access_key, secret_key)
        self._stack: AsyncExitStack | None = None
        self._client = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ObjectStore:
        return cls(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, settings.s3_bucket,
                   settings.s3_region, settings.s3_prefix)

    async def start(self) -> None:
        config = Config(
            signature_version="s3v4",
            # Path-style addresses: the local server has no per-bucket host names.
            s3={"addressing_style": "path"},
            # Fail fast when the store is away (StoreUnavailable within a second or two): one retry, for a blip.
            connect_timeout=3, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"},
        )
        self._stack = AsyncExitStack()
        self._client = await self._stack.enter_async_context(get_session().create_client(
            "s3", endpoint_url=self.endpoint, region_name=self.region, aws_access_key_id=self._credentials[0],
            aws_secret_access_key=self._credentials[1], config=config))

    async def close(self) -> None:
        if self._stack:
            await self._stack.aclose()
            self._stack = self._client = None

    async def __aenter__(self) -> ObjectStore:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> ObjectInfo:
        answer = await self._call(key, self._client.put_object, Bucket=self.bucket, Key=self.prefix + key, Body=data,
                                  ContentType=content_type)
        return ObjectInfo(len(data), answer["ETag"].strip('"'))

    async def get(self, key: str) -> bytes:
        answer = await self._call(key, self._client.get_object, Bucket=self.bucket, Key=self.prefix + key)
        async with answer["Body"] as body:
            try:
                return await body.read()
            except (BotoCoreError, OSError) as error:
                raise StoreUnavailable(f"reading {key!r}: {error}") from error

    async def head(self, key: str) -> ObjectInfo:
        answer = await self._call(key, self._client.head_object, Bucket=self.bucket, Key=self.prefix + key)
        return ObjectInfo(answer["ContentLength"], answer["ETag"].strip('"'))

    async def delete(self, key: str) -> None:
        """Removes the object; deleting a missing one is no error (S3's own rule: a retry is harmless)."""
        await self._call(key, self._client.delete_object, Bucket=self.bucket, Key=self.prefix + key)

    async def keys(self, under: str = "") -> list[str]:
        """The keys of every object under `under` (after this store's prefix), as put."""
        found, token = [], None
        while True:
            page = await self._call(under, self._client.list_objects_v2, Bucket=self.bucket, Prefix=self.prefix + under,
                                    **({"ContinuationToken": token} if token else {}))
            found += [item["Key"][len(self.prefix):] for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return found
            token = page["NextContinuationToken"]

    async def presigned_get(self, key: str, seconds: int) -> str:
        """A link that reads this one object, by anyone who holds it, for `seconds`."""
        return await self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.prefix + key}, ExpiresIn=seconds)

    async def presigned_put(self, key: str, seconds: int, content_type: str | None = None) -> str:
        """A link that writes this one object for `seconds`; with a content type, the upload must send
        that very Content-Type (it is signed)."""
        params = {"Bucket": self.bucket, "Key": self.prefix + key} | ({"ContentType": content_type} if content_type else {})
        return await self._client.generate_presigned_url("put_object", Params=params, ExpiresIn=seconds)

    async def _call(self, key: str, method, **params) -> dict:
        if self._client is None:
            raise RuntimeError("ObjectStore.start() was not called")
        try:
            return await method(**params)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in MISSING or status == 404:
                raise ObjectMissing(key) from error
            if code in REFUSED or status == 403:
                raise AccessRefused(f"{self.bucket}/{key}: {code or status}") from error
            if status >= 500:
                raise StoreUnavailable(f"{self.bucket}/{key}: {code or status}") from error
            raise ObjectStoreError(f"{self.bucket}/{key}: {code or status}") from error
        except (BotoCoreError, OSError) as error:  # no connection, timeouts, a broken answer
            raise StoreUnavailable(f"{self.endpoint}: {error}") from error
