"""Benchmark: upload and download throughput of 10 MB documents through the clients' path, beside a raw S3 PUT
and GET of the same bytes on the same server, in the same run.

Not part of the suite (the file name does not start with test_); run it by name:

    scripts/test tests/bench/bench_documents.py -s -q

A system's four processes on the real stack; one VAE candidacy. CQP_BENCH_DOCUMENTS (10 by default) Livrets 1
of 10 MB (a PDF header, then random bytes: nothing compresses) are attached one after the other through the
gateway's GraphQL multipart upload (`attachVaePaper`: the gateway reads the file, sends it base64 to the
candidacy service, which checks it, seals it with the candidate's key and PUTs it, then records the event and
the gateway waits for its read model), then each is read back through `GET /documents/<id>` (the gateway relays
it to the candidacy service, which records the read, GETs, unseals and serves it). Then the same bytes are PUT
and GET raw through shared/objects.py with the candidacy service's key. Printed: MB/s and p50/p95 per request.
It asserts only that every document comes back as it went, never a speed.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
import uuid

from shared.objects import ObjectStore
from tests.documents import PDF, download, upload
from tests.harness import System, s3_settings
from tests.integration.test_documents_operators import candidacy

SIZE = 10 * 1024 * 1024
COUNT = int(os.environ.get("CQP_BENCH_DOCUMENTS", "10"))


def summary(what: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"{what}: {len(seconds) * SIZE / 1e6 / sum(seconds):7.1f} MB/s, p50 {statistics.median(seconds) * 1000:7.1f}"
            f" ms, p95 {p95 * 1000:7.1f} ms")


async def test_ten_megabyte_documents_through_the_gateway_beside_raw_s3():
    system = await System.create()
    try:
        await system.start()
        candidacy_id = await candidacy(system)
        contents = [PDF + os.urandom(SIZE - len(PDF)) for _ in range(COUNT)]
        ups, downs, documents = [], [], []
        for n, content in enumerate(contents):
            started = time.perf_counter()
            result = await upload(system, "attachVaePaper", "AttachVaePaperInput",
                                  {"candidacyId": candidacy_id, "kind": "LIVRET_1"}, content, f"bench-{n}")
            ups.append(time.perf_counter() - started)
            assert result["__typename"] == "DocumentAttached", result
            documents.append(result["document"])
        for content, document in zip(contents, documents):
            started = time.perf_counter()
            answer = await download(system, document["downloadUrl"])
            downs.append(time.perf_counter() - started)
            assert answer.status_code == 200 and answer.content == content, answer.status_code
            assert document["sha256"] == hashlib.sha256(content).hexdigest()

        puts, gets = [], []
        async with ObjectStore.from_settings(s3_settings("candidacy")) as store:
            keys = [f"bench/{uuid.uuid4()}" for _ in contents]
            for key, content in zip(keys, contents):
                started = time.perf_counter()
                await store.put(key, content)
                puts.append(time.perf_counter() - started)
            for key, content in zip(keys, contents):
                started = time.perf_counter()
                assert await store.get(key) == content
                gets.append(time.perf_counter() - started)
            for key in keys:
                await store.delete(key)
    finally:
        system.stop()
    print(f"\n{COUNT} documents of 10 MB, one after the other, on {store.endpoint}")
    print(summary("upload, GraphQL multipart attachVaePaper", ups))
    print(summary("download, GET /documents/<id>        ", downs))
    print("raw baseline, the same bytes through shared/objects.py:")
    print(summary("PUT                                  ", puts))
    print(summary("GET                                  ", gets))
