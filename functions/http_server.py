"""How `drgero serve` runs uvicorn: connections a slow or idle client cannot hold on to, a cap on
connections, and an access log that never records a credential sent in a URL."""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

import h11
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from shared.config import Settings

log = logging.getLogger("uvicorn.error")

# Dr.Gero's own tokens, wherever they appear in a request target.
_TOKEN = re.compile(r"(drgero_|hpd_)[A-Za-z0-9_\-]+")
# Query parameters whose values are credentials by their name (api_key, access_token, X-Amz-Signature, ...).
_SECRET_PARAMETER = re.compile(r"token|key|secret|passw|pwd|signature|credential|auth|^sig$", re.IGNORECASE)
REDACTED = "REDACTED"


class RequestDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request has not fully arrived in time.

    uvicorn closes idle keep-alive connections, but a request in progress has no deadline: a
    client sending half a request line, or a body a byte a minute, would hold its connection
    for ever, and enough of them hold the server. The clock starts when the connection opens
    (saying nothing is a request that never arrives) or when a new request's first byte comes,
    and stops once the whole request, headers and body, is in: the answer may take its time.
    """

    request_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_the_request()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow_the_request()  # a pipelined request may already be half in

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def _follow_the_request(self) -> None:
        if self._request_in_progress():
            self._start_clock()
        else:
            self._stop_clock()

    def _request_in_progress(self) -> bool:
        state = self.conn.their_state
        return state is h11.SEND_BODY or (state is h11.IDLE and bool(self.conn.trailing_data[0]))

    def _start_clock(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            client = "%s:%d" % self.client if self.client else "a client"
            log.info("closing the connection of %s: its request did not arrive within %g s", client,
                     self.request_timeout)
            self.transport.close()


def redacted_target(target: str) -> str:
    """A request target fit for a log: token-shaped values, and the values of query parameters
    named like credentials, are replaced."""
    path, question, query = target.partition("?")
    if question:
        query = "&".join(_redacted_parameter(pair) for pair in query.split("&"))
    return _TOKEN.sub(rf"\1{REDACTED}", path + question + query)


def _redacted_parameter(pair: str) -> str:
    name, equals, _ = pair.partition("=")
    return f"{name}={REDACTED}" if equals and _SECRET_PARAMETER.search(unquote_plus(name)) else pair


class RedactedAccessLog(logging.Filter):
    """Rewrites uvicorn's access-log records so the request target they carry is redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redacted_target(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def _log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_credentials": {"()": RedactedAccessLog}}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_credentials"]
    return config


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `drgero serve`, from the settings."""
    protocol = type("RequestDeadlineProtocol", (RequestDeadlineProtocol,),
                    {"request_timeout": settings.request_read_timeout_seconds})
    return {"http": protocol, "timeout_keep_alive": settings.keep_alive_seconds,
            "limit_concurrency": settings.max_connections, "log_config": _log_config()}
