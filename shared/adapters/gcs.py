"""Blobs on Google Cloud Storage, with generation preconditions checked by GCS itself.

The storage client is synchronous, so every call runs in a worker thread. Streams stay
in constant memory: writes spool to a temporary file (on disk past a small threshold)
and upload from it in bounded chunks; reads download bounded byte ranges of one pinned
generation.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar

import requests
from google.api_core import exceptions as gexc
from google.cloud import storage

from shared.ports import BlobInfo, NotFound, PreconditionFailed, Unavailable

T = TypeVar("T")

DEFAULT_CONTENT_TYPE = "application/octet-stream"
SPOOL_IN_MEMORY = 1024 * 1024  # a streamed write stays in memory up to this, then goes to disk
UPLOAD_CHUNK = 8 * 1024 * 1024  # resumable upload chunk; must be a multiple of 256 KiB
READ_WINDOW = 4 * 1024 * 1024  # bytes fetched per ranged download while streaming
PING_TIMEOUT_SECONDS = 2.0

_OUTAGES: tuple[type[BaseException], ...] = (
    gexc.ServiceUnavailable, gexc.InternalServerError, gexc.GatewayTimeout, gexc.BadGateway,
    gexc.TooManyRequests, gexc.DeadlineExceeded, gexc.RetryError,
    requests.exceptions.ConnectionError, requests.exceptions.Timeout,
)


@contextmanager
def _translated(key: str) -> Iterator[None]:
    try:
        yield
    except gexc.PreconditionFailed as exc:
        raise PreconditionFailed(f"{key}: generation precondition failed") from exc
    except gexc.NotFound as exc:
        raise NotFound(key) from exc
    except _OUTAGES as exc:
        raise Unavailable(f"gcs: {key}: {exc}") from exc


class GcsBlobs:
    """Blobs port on one GCS bucket; `prefix` goes in front of every object name."""

    def __init__(self, bucket: str, project: str, prefix: str = "", *,
                 client: storage.Client | None = None) -> None:
        # With STORAGE_EMULATOR_HOST set, the default client talks to the emulator anonymously.
        self._client = client or storage.Client(project=project)
        self._bucket = self._client.bucket(bucket)
        self._prefix = prefix

    def _blob(self, key: str, generation: int | None = None) -> storage.Blob:
        if not key:
            raise ValueError("blob keys must not be empty")
        return self._bucket.blob(self._prefix + key, generation=generation)

    def _info(self, blob: storage.Blob, size: int | None = None) -> BlobInfo:
        return BlobInfo(
            key=blob.name[len(self._prefix):],
            size=int(blob.size if size is None else size),
            generation=int(blob.generation),
            content_type=blob.content_type or DEFAULT_CONTENT_TYPE,
        )

    async def _run(self, key: str, call: Callable[[], T]) -> T:
        def translated() -> T:
            with _translated(key):
                return call()

        return await asyncio.to_thread(translated)

    async def put(
        self, key: str, data: bytes, *, if_generation: int | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> BlobInfo:
        """Upload `data`; `if_generation=0` means create-only."""
        blob = self._blob(key)

        def upload() -> BlobInfo:
            blob.upload_from_string(data, content_type=content_type, if_generation_match=if_generation)
            return self._info(blob)

        return await self._run(key, upload)

    async def write_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, if_generation: int | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> BlobInfo:
        """Upload the chunks as one object, in constant memory."""
        blob = self._blob(key)
        if if_generation is not None:
            # Fail before consuming and uploading a whole stream that would be refused. GCS
            # still checks again when the upload completes (fake-gcs-server does not check
            # resumable uploads at all, so there this early check is the only one).
            await self._check_generation(key, if_generation)
        # Bounded request bodies: above 8 MiB the client switches to a resumable upload
        # sent in chunks of this size instead of reading the whole file at once.
        blob.chunk_size = UPLOAD_CHUNK
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            size = await _spool(chunks, spool)

            def upload() -> BlobInfo:
                blob.upload_from_file(spool, rewind=True, size=size, content_type=content_type,
                                      if_generation_match=if_generation)
                return self._info(blob, size)

            return await self._run(key, upload)

    async def _check_generation(self, key: str, expected: int) -> None:
        info = await self.stat(key)
        current = info.generation if info else 0
        if current != expected:
            raise PreconditionFailed(f"{key}: generation is {current}, not {expected}")

    async def get(self, key: str) -> tuple[bytes, BlobInfo]:
        """The whole blob and its info; NotFound if absent."""
        blob = self._blob(key)

        def download() -> tuple[bytes, BlobInfo]:
            # One request: the generation comes from the same response as the bytes.
            data = blob.download_as_bytes()
            if blob.generation is None:
                blob.reload()
            return data, self._info(blob, len(data))

        return await self._run(key, download)

    async def stat(self, key: str) -> BlobInfo | None:
        """Size, generation and content type, or None when absent."""
        blob = await self._run(key, lambda: self._bucket.get_blob(self._prefix + key))
        return self._info(blob) if blob is not None else None

    async def read_stream(self, key: str, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The blob in chunks of at most `chunk_size`, in constant memory; NotFound if absent."""
        info = await self.stat(key)
        if info is None:
            raise NotFound(key)
        # Pin the generation so a concurrent overwrite cannot splice two versions together;
        # if it is replaced mid-read, the next range fails with NotFound instead.
        pinned = self._blob(key, generation=info.generation)
        window = max(chunk_size, READ_WINDOW)
        for start in range(0, info.size, window):
            end = min(start + window, info.size) - 1
            data = await self._run(key, lambda s=start, e=end: _download_range(pinned, s, e))
            for offset in range(0, len(data), chunk_size):
                yield data[offset:offset + chunk_size]

    async def list(self, prefix: str) -> list[BlobInfo]:
        """Blobs whose key starts with `prefix`, sorted by key."""

        def listed() -> list[BlobInfo]:
            blobs = self._client.list_blobs(self._bucket, prefix=self._prefix + prefix)
            return sorted((self._info(blob) for blob in blobs), key=lambda info: info.key)

        return await self._run(f"list {prefix!r}", listed)

    async def delete(self, key: str) -> bool:
        """Delete the blob; False when it was not there."""
        blob = self._blob(key)
        try:
            await self._run(key, blob.delete)
        except NotFound:
            return False
        return True

    async def ping(self) -> None:
        """Raise Unavailable unless the bucket answers a one-item listing quickly."""

        def probe() -> None:
            # Listing needs only object-level permissions, unlike reading bucket metadata;
            # no retries, because a readiness probe wants a fast answer.
            blobs = self._client.list_blobs(self._bucket, prefix=self._prefix, max_results=1,
                                            retry=None, timeout=PING_TIMEOUT_SECONDS)
            next(iter(blobs), None)

        try:
            await asyncio.wait_for(asyncio.to_thread(probe), PING_TIMEOUT_SECONDS + 1)
        except (gexc.GoogleAPIError, requests.exceptions.RequestException, asyncio.TimeoutError,
                OSError) as exc:
            raise Unavailable(f"gcs: ping {self._bucket.name}: {exc}") from exc


async def _spool(chunks: AsyncIterable[bytes], spool: IO[bytes]) -> int:
    """Copy the chunks into the spool file and return how many bytes there were."""
    size = 0
    async for chunk in chunks:
        # Plain file writes: they land in the page cache and are cheaper than a thread hop.
        spool.write(chunk)
        size += len(chunk)
    return size


def _download_range(blob: storage.Blob, start: int, end: int) -> bytes:
    # Checksums cover whole objects only, so a ranged download cannot verify one.
    return blob.download_as_bytes(start=start, end=end, checksum=None)

