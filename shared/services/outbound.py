"""Fetching what users point us at: refuse URLs inside the network, and say why a fetch failed."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from shared.domain.urls import ip_is_internal, unsafe_url_reason
from shared.errors import InvalidInput


class DatasetUnavailable(Exception):
    """The dataset could not be read; the message says why, for the run's error."""


_RESOLVED: dict[str, tuple[float, list[str]]] = {}
RESOLVE_TTL_SECONDS = 30.0  # inference checks every call; one lookup per host per half minute


async def _resolve(host: str) -> list[str]:
    cached = _RESOLVED.get(host)
    if cached and time.monotonic() - cached[0] < RESOLVE_TTL_SECONDS:
        return cached[1]
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    _RESOLVED[host] = (time.monotonic(), addresses)
    return addresses


async def check_outbound_url(url: str, allow_private: bool,
                             resolve: Callable[[str], Awaitable[list[str]]] = _resolve) -> None:
    """Refuse URLs that point inside the network, judging the resolved addresses too.

    The name is resolved again when the request is made, so a name that changes its
    answer in between (DNS rebinding) is not caught here; egress rules are the backstop.
    """
    reason = unsafe_url_reason(url, allow_private)
    if reason is None and not allow_private:
        host = urlsplit(url).hostname or ""
        try:
            addresses = await resolve(host)
        except OSError as exc:
            raise DatasetUnavailable(f"cannot resolve {host}: {exc}") from exc
        if any(ip_is_internal(address) for address in addresses):
            reason = "URLs that point inside the network are not allowed"
    if reason:
        raise InvalidInput.field("url", reason)
