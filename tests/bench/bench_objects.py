"""Benchmark (issue 21): raw PUT and GET of 10 MB objects through shared/objects.py on the S3 server
scripts/test starts (versitygw, deploy/s3/).

Not part of the suite (the file name does not start with test_); run it by name:

    scripts/test tests/bench/bench_objects.py -s -q

It stores CQP_BENCH_OBJECTS objects (20 by default) of 10 MB of random bytes one after the other as the
candidacy service, reads each back, and prints MB/s and the 50th/95th percentile time of a PUT and of a
GET, beside the raw baseline of the same run: the same bytes written to a local file (fsync'd) and read
back, which is what the server does underneath. Why: documents will go through this path (sealed first);
this is the floor they add to. It asserts only that every object comes back as it went, never a speed.
"""

from __future__ import annotations

import os
import tempfile
import statistics
import time
import uuid

from shared.objects import ObjectStore
from tests.harness import s3_settings

SIZE = 10 * 1024 * 1024
COUNT = int(os.environ.get("CQP_BENCH_OBJECTS", "20"))


def summary(what: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"{what}: {COUNT * SIZE / 1e6 / sum(seconds):7.1f} MB/s, p50 {statistics.median(seconds) * 1000:6.1f} ms, "
            f"p95 {p95 * 1000:6.1f} ms")


async def test_raw_put_and_get_of_ten_megabytes():
    data = os.urandom(SIZE)
    keys = [f"bench/{uuid.uuid4()}" for _ in range(COUNT)]
    async with ObjectStore.from_settings(s3_settings("candidacy")) as store:
        await store.put("bench/warm-up", data)
        await store.get("bench/warm-up")
        puts, gets = [], []
        for key in keys:
            started = time.perf_counter()
            await store.put(key, data)
            puts.append(time.perf_counter() - started)
        for key in keys:
            started = time.perf_counter()
            assert await store.get(key) == data
            gets.append(time.perf_counter() - started)
        for key in [*keys, "bench/warm-up"]:
            await store.delete(key)
    writes, reads = raw_file_times(data)
    print(f"\n{COUNT} objects of 10 MB through shared/objects.py on {store.endpoint}")
    print(summary("PUT", puts))
    print(summary("GET", gets))
    print("raw baseline, the same bytes to and from a local file:")
    print(summary("write+fsync", writes))
    print(summary("read", reads))


def raw_file_times(data: bytes) -> tuple[list[float], list[float]]:
    writes, reads = [], []
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, str(n)) for n in range(COUNT)]
        for path in paths:
            started = time.perf_counter()
            with open(path, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            writes.append(time.perf_counter() - started)
        for path in paths:
            started = time.perf_counter()
            with open(path, "rb") as file:
                assert file.read() == data
            reads.append(time.perf_counter() - started)
    return writes, reads
