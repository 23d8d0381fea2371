"""The Fetcher port on httpx: GETs to dataset hosts, model catalogs, key checks and signing keys.

One pooled client per process (per event loop). Tests hand in an httpx transport
(`HttpFetcher(transport=httpx.MockTransport(...))`) rather than patching anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx

from shared.ports import Fetched, FetchFailed, FetchStream


class HttpFetcher:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        # A client's connections belong to the loop that opened them (tests run one loop each).
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = httpx.AsyncClient(transport=self._transport), loop
        return self._client

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float,
                  max_bytes: int | None = None, follow_redirects: bool = False) -> Fetched:
        async with self.stream(url, headers=headers, timeout=timeout, follow_redirects=follow_redirects) as answer:
            body = b""
            async for chunk in answer.chunks:
                body += chunk
                if max_bytes is not None and len(body) >= max_bytes:
                    body = body[:max_bytes]
                    break
        return Fetched(answer.status, answer.headers, body)

    @asynccontextmanager
    async def stream(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float,
                     follow_redirects: bool = False) -> AsyncIterator[FetchStream]:
        try:
            async with self._http().stream("GET", url, headers=dict(headers or {}), timeout=timeout,
                                           follow_redirects=follow_redirects) as response:
                yield FetchStream(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                                  _chunks(response))
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes(256 * 1024):
            yield chunk
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc
