"""Turning a cloud client's "not answering right now" errors into the ports' Unavailable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.ports import Unavailable


@contextmanager
def outages_as_unavailable(outages: tuple[type[BaseException], ...], service: str, what: str) -> Iterator[None]:
    """Re-raise any of `outages` as Unavailable("{service}: {what}: ..."), which answers 503."""
    try:
        yield
    except outages as exc:
        raise Unavailable(f"{service}: {what}: {exc}") from exc
