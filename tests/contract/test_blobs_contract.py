"""The Blobs port contract, the same for local files and GCS."""

from __future__ import annotations

import hashlib
import os

import pytest

from shared.ports import NotFound, PreconditionFailed


async def test_put_then_get_round_trips_bytes_and_generation(blobs):
    info = await blobs.put("datasets/a/v1.jsonl", b'{"input": "x"}\n', content_type="application/x-ndjson")
    data, got = await blobs.get("datasets/a/v1.jsonl")
    assert data == b'{"input": "x"}\n'
    assert (got.size, got.generation) == (len(data), info.generation)
    assert (await blobs.stat("datasets/a/v1.jsonl")).generation == info.generation


async def test_generation_zero_means_create_only(blobs):
    await blobs.put("k", b"first", if_generation=0)
    with pytest.raises(PreconditionFailed):
        await blobs.put("k", b"second", if_generation=0)
    assert (await blobs.get("k"))[0] == b"first"


async def test_writes_can_require_the_current_generation(blobs):
    first = await blobs.put("k", b"one")
    second = await blobs.put("k", b"two", if_generation=first.generation)
    assert second.generation != first.generation
    with pytest.raises(PreconditionFailed):
        await blobs.put("k", b"three", if_generation=first.generation)
    assert (await blobs.get("k"))[0] == b"two"


async def test_missing_blobs_are_not_found(blobs):
    with pytest.raises(NotFound):
        await blobs.get("nope")
    assert await blobs.stat("nope") is None
    with pytest.raises(NotFound):
        async for _ in blobs.read_stream("nope"):
            pass


async def test_streaming_write_and_read_round_trip_a_large_blob(blobs):
    chunk = os.urandom(256 * 1024)

    async def chunks():
        for _ in range(20):
            yield chunk

    info = await blobs.write_stream("big.bin", chunks(), if_generation=0)
    assert info.size == 20 * len(chunk)
    digest, size = hashlib.sha256(), 0
    async for part in blobs.read_stream("big.bin", chunk_size=100_000):
        assert len(part) <= 100_000
        digest.update(part)
        size += len(part)
    assert size == info.size
    assert digest.hexdigest() == hashlib.sha256(chunk * 20).hexdigest()


async def test_streaming_write_honours_create_only(blobs):
    await blobs.put("k", b"there")

    async def chunks():
        yield b"late"

    with pytest.raises(PreconditionFailed):
        await blobs.write_stream("k", chunks(), if_generation=0)
    assert (await blobs.get("k"))[0] == b"there"


async def test_list_by_prefix_and_delete(blobs):
    for key in ("ds/1/v1.jsonl", "ds/1/v2.jsonl", "ds/2/v1.jsonl", "other.txt"):
        await blobs.put(key, key.encode())
    assert [b.key for b in await blobs.list("ds/1/")] == ["ds/1/v1.jsonl", "ds/1/v2.jsonl"]
    assert await blobs.delete("ds/1/v1.jsonl") is True
    assert await blobs.delete("ds/1/v1.jsonl") is False
    assert [b.key for b in await blobs.list("ds/")] == ["ds/1/v2.jsonl", "ds/2/v1.jsonl"]


async def test_ping_succeeds_on_a_live_store(blobs):
    await blobs.ping()
