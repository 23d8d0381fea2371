"""Files only the server's own user may read: the embedded backend's data and generated secrets.

Modes are set after creating, because `mkdir` and `open` apply the process umask, which
depends on how the server was started; a directory or file made here is 0700 or 0600
whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_directory(path: Path) -> Path:
    """`path`, with it and any missing parents created 0700; directories that exist keep their mode."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:
            continue  # another writer made it a moment ago
        directory.chmod(DIRECTORY_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path`, created empty if missing, and readable by this user alone even if it existed before."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def write_private_text(path: Path, text: str) -> None:
    """Write `text` to a 0600 file; the mode is set before any content is written."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def private_sqlite_database(path: Path) -> Path:
    """Prepare a SQLite database file as 0600 before SQLite opens it.

    SQLite gives its -wal and -shm files the database file's mode, so creating the database
    private makes them private too; files an earlier version left readable are tightened.
    """
    private_directory(path.parent)
    private_file(path)  # an empty file is a valid, empty database
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.chmod(FILE_MODE)
    return path
