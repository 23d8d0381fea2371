"""Ports for the rest of the outside world: plain HTTP fetches, sealing secrets, session signing keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol


class FetchFailed(Exception):
    """The host could not be reached, or did not answer within the timeout."""


@dataclass(frozen=True)
class Fetched:
    """An answer: its status, headers (names in lower case) and body (up to the cap asked for)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class FetchStream:
    """An answer whose body is read as it arrives."""

    status: int
    headers: Mapping[str, str]
    chunks: AsyncIterator[bytes]


class Fetcher(Protocol):
    """HTTP GETs to hosts outside: dataset files, model catalogs, provider key checks, signing keys.

    Both methods raise FetchFailed when no answer comes; any HTTP status is an answer.
    """

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float,
                  max_bytes: int | None = None, follow_redirects: bool = False) -> Fetched:
        """The whole answer, its body cut at `max_bytes` when given."""
        ...

    def stream(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float,
               follow_redirects: bool = False) -> AbstractAsyncContextManager[FetchStream]:
        """The answer with its body as a stream of chunks, inside the context."""
        ...


class Sealer(Protocol):
    """Encrypts secrets kept at rest (provider keys and tokens) and opens them again."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, sealed: str) -> str:
        """The plaintext; ValueError when it was sealed with another key."""
        ...


class SessionKeys(Protocol):
    """The signing keys of the identity provider's sessions (a Supabase project's JWKS), by key id."""

    async def key(self, kid: str | None) -> Any:
        """The verification key (a PyJWK); Unauthenticated for an unknown id."""
        ...
