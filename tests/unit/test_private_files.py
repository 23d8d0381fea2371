"""The embedded backend's data is readable by the server's user alone: directories 0700,
files 0600 (databases and their WAL files, blobs, generated secrets), whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.bootstrap import build
from tests.conftest import make_settings


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The widest umask, so only the server's own chmods can make anything private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def modes_under(root: Path) -> dict[str, str]:
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


async def test_everything_the_embedded_backend_writes_is_private(tmp_path, permissive_umask):
    settings = make_settings(tmp_path / "nested")  # the data directory and its parent are both created
    deps = build(settings)
    await deps.documents.set("workspaces", "w1", {"name": "acme"})
    await deps.blobs.put("datasets/board-1/labels/v1.jsonl", b'{"row_id": "1"}\n')
    await deps.queue.enqueue("noop", {}, name="noop-1")
    assert settings.encryption_key and settings.session_secret  # generated into the data directory

    modes = modes_under(settings.data_dir)
    for name in ("documents.sqlite3-wal", "documents.sqlite3-shm", "queue.sqlite3-wal",
                 "blobs/objects/datasets/board-1/labels/v1.jsonl", "blobs/meta/datasets/board-1/labels/v1.jsonl.json",
                 "secret.key", "session.secret"):
        assert name in modes
    readable_by_others = {name: mode for name, mode in modes.items()
                          if mode != ("0o700" if (settings.data_dir / name).is_dir() else "0o600")}
    assert readable_by_others == {}
    assert oct(stat.S_IMODE(settings.data_dir.parent.stat().st_mode)) == "0o700"


async def test_a_database_an_earlier_version_left_readable_is_tightened_when_opened(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    database = data / "documents.sqlite3"
    for path in (database, data / "documents.sqlite3-wal"):
        path.touch()
        path.chmod(0o644)
    build(make_settings(tmp_path))
    assert oct(stat.S_IMODE(database.stat().st_mode)) == "0o600"
    assert oct(stat.S_IMODE((data / "documents.sqlite3-wal").stat().st_mode)) == "0o600"
