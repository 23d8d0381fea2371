"""Fetching what users point us at: refuse URLs inside the network, with one message for every
URL refused or unreachable (the precise reason goes to the log)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from shared.domain.urls import REFUSED_URL, ip_is_internal, unsafe_url_reason
from shared.errors import InvalidInput

log = logging.getLogger(__name__)


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

    A name that does not resolve and one that resolves inside the network get the same
    message (REFUSED_URL), so answers cannot be used to discover internal names; the log
    keeps the precise reason. The name is resolved again when the request is made, so a
    name that changes its answer in between (DNS rebinding) is not caught here; egress
    rules are the backstop.
    """
    reason = unsafe_url_reason(url, allow_private)
    host = urlsplit(url).hostname or ""
    if reason == REFUSED_URL:
        log.info("refused outbound URL on %s: the host itself is inside the network", host)
    elif reason is None and not allow_private:
        try:
            addresses = await resolve(host)
        except OSError as exc:
            log.info("refused outbound URL on %s: cannot resolve it (%s)", host, exc)
            raise DatasetUnavailable(REFUSED_URL) from exc
        internal = [address for address in addresses if ip_is_internal(address)]
        if internal:
            log.info("refused outbound URL on %s: it resolves inside the network (%s)", host, ", ".join(internal))
            reason = REFUSED_URL
    if reason:
        raise _refused(reason)


def _refused(reason: str) -> InvalidInput:
    """The refusal of a URL: its message is the reason alone, the same text a failed fetch gives."""
    return InvalidInput(reason, details=[{"field": "url", "message": reason}])


def unreachable(url: str, why: object) -> str:
    """REFUSED_URL for a user-supplied URL that did not answer; the log keeps why."""
    log.info("outbound URL on %s cannot be reached: %s", urlsplit(url).hostname, why)
    return REFUSED_URL
