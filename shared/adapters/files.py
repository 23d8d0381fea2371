"""Blobs as files under a directory: the embedded default's stand-in for GCS.

Each blob is `root/objects/<key>` with a sidecar `root/meta/<key>.json` holding its
generation. Data is written to a temporary file first; the precondition check and the
rename happen under one exclusive file lock, so concurrent writers (even from other
processes) see GCS-like create-only and generation-match behaviour.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.ports import BlobInfo, NotFound, PreconditionFailed, Unavailable
from shared.private_files import FILE_MODE, private_directory, private_file, write_private_text


class FileBlobs:
    """Blobs port on the local filesystem."""

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root)
        self._objects = self._root / "objects"
        self._meta = self._root / "meta"
        for folder in (self._objects, self._meta, self._root / "tmp"):
            private_directory(folder)
        self._lock_path = private_file(self._root / ".lock")

    def _paths(self, key: str) -> tuple[Path, Path]:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"bad blob key {key!r}")
        return self._objects / key, self._meta / f"{key}.json"

    @contextmanager
    def _locked(self, shared: bool = False) -> Iterator[None]:
        with open(self._lock_path, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield

    def _info(self, key: str) -> BlobInfo | None:
        _, meta = self._paths(key)
        try:
            return BlobInfo(key=key, **json.loads(meta.read_text()))
        except FileNotFoundError:
            return None

    def _commit(self, key: str, tmp: Path, size: int, if_generation: int | None, content_type: str) -> BlobInfo:
        data_path, meta_path = self._paths(key)
        with self._locked():
            current = self._info(key)
            current_generation = current.generation if current else 0
            if if_generation is not None and if_generation != current_generation:
                tmp.unlink(missing_ok=True)
                raise PreconditionFailed(f"{key}: generation is {current_generation}, not {if_generation}")
            # Nanosecond clock, but strictly above the previous generation.
            generation = max(time.time_ns() // 1000, current_generation + 1)
            private_directory(data_path.parent)
            private_directory(meta_path.parent)
            os.replace(tmp, data_path)
            info = BlobInfo(key, size, generation, content_type)
            meta_tmp = meta_path.with_suffix(".json.tmp")
            write_private_text(meta_tmp, json.dumps({"size": size, "generation": generation,
                                                     "content_type": content_type}))
            os.replace(meta_tmp, meta_path)
            return info

    def _tmp(self) -> tuple[int, Path]:
        fd, name = tempfile.mkstemp(dir=self._root / "tmp")
        os.fchmod(fd, FILE_MODE)  # mkstemp asks for 0600 but the umask has the last word; the blob keeps this mode
        return fd, Path(name)

    async def put(
        self, key: str, data: bytes, *, if_generation: int | None = None,
        content_type: str = "application/octet-stream",
    ) -> BlobInfo:
        self._paths(key)
        fd, tmp = self._tmp()
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return self._commit(key, tmp, len(data), if_generation, content_type)

    async def write_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, if_generation: int | None = None,
        content_type: str = "application/octet-stream",
    ) -> BlobInfo:
        self._paths(key)
        fd, tmp = self._tmp()
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                async for chunk in chunks:
                    handle.write(chunk)
                    size += len(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._commit(key, tmp, size, if_generation, content_type)

    async def get(self, key: str) -> tuple[bytes, BlobInfo]:
        data_path, _ = self._paths(key)
        with self._locked(shared=True):
            info = self._info(key)
            if info is None:
                raise NotFound(key)
            return data_path.read_bytes(), info

    async def stat(self, key: str) -> BlobInfo | None:
        return self._info(key)

    async def read_stream(self, key: str, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        data_path, _ = self._paths(key)
        with self._locked(shared=True):
            if self._info(key) is None:
                raise NotFound(key)
            # The open handle keeps reading this generation even if a writer replaces it.
            handle = open(data_path, "rb")
        with handle:
            while chunk := handle.read(chunk_size):
                yield chunk
                await asyncio.sleep(0)

    async def list(self, prefix: str) -> list[BlobInfo]:
        found = []
        for meta in sorted(self._meta.rglob("*.json")):
            key = str(meta.relative_to(self._meta))[: -len(".json")]
            if key.startswith(prefix) and (info := self._info(key)):
                found.append(info)
        return sorted(found, key=lambda info: info.key)

    async def delete(self, key: str) -> bool:
        data_path, meta_path = self._paths(key)
        with self._locked():
            existed = meta_path.exists()
            meta_path.unlink(missing_ok=True)
            data_path.unlink(missing_ok=True)
            return existed

    async def ping(self) -> None:
        if not os.access(self._root, os.W_OK):
            raise Unavailable(f"{self._root} is not writable")
