"""`drgero serve` against clients that never finish, clients that never leave, too many clients,
and credentials in URLs: raw sockets against the real server process."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import LiveServer, serve_live

READ_TIMEOUT, KEEP_ALIVE, MAX_CONNECTIONS = 1.0, 2.0, 4
SLACK = 1.5  # scheduling on a busy machine


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("connections")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[LiveServer]:
    yield from serve_live(home, {"DRGERO_REQUEST_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
                                 "DRGERO_KEEP_ALIVE_SECONDS": str(KEEP_ALIVE),
                                 "DRGERO_MAX_CONNECTIONS": str(MAX_CONNECTIONS)})


def connect(server: LiveServer) -> socket.socket:
    url = httpx.URL(server.base_url)
    return socket.create_connection((url.host, url.port), timeout=10)


def seconds_until_closed(sock: socket.socket) -> float:
    """How long until the server closes the connection (what it sends meanwhile is read and dropped)."""
    started = time.monotonic()
    while sock.recv(4096):
        pass
    return time.monotonic() - started


def exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request and read its whole answer (headers and a Content-Length body)."""
    sock.sendall(request)
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(4096)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


HEALTH = b"GET /healthz HTTP/1.1\r\nHost: drgero\r\n\r\n"


def test_a_connection_that_sends_half_a_request_line_is_closed_within_the_read_timeout(server):
    with connect(server) as sock:
        sock.sendall(b"GET /heal")
        assert seconds_until_closed(sock) < READ_TIMEOUT + SLACK


def test_a_connection_that_sends_nothing_is_closed_within_the_read_timeout(server):
    with connect(server) as sock:
        assert seconds_until_closed(sock) < READ_TIMEOUT + SLACK


def test_a_body_that_stops_arriving_closes_the_connection_within_the_read_timeout(server, home):
    with connect(server) as sock:
        sock.sendall(b"POST /api/leaderboards HTTP/1.1\r\nHost: drgero\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + server.token.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"na")
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        assert time.monotonic() - started < READ_TIMEOUT + SLACK
        assert b" 201 " not in answer  # nothing was created from half a body
    time.sleep(0.2)  # the handler logs after the connection is cut
    assert "unhandled error" not in (home / "serve.log").read_text()  # a client's fault, not the server's


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(server):
    with connect(server) as sock:
        assert exchange(sock, HEALTH).startswith(b"HTTP/1.1 200")
        waited = seconds_until_closed(sock)
        assert KEEP_ALIVE - 0.5 < waited < KEEP_ALIVE + SLACK


def test_the_read_timeout_is_per_request_so_a_kept_alive_connection_serves_many(server):
    with connect(server) as sock:
        started = time.monotonic()
        for _ in range(4):
            assert exchange(sock, HEALTH).startswith(b"HTTP/1.1 200")
            time.sleep(READ_TIMEOUT / 2)
        assert time.monotonic() - started > 2 * READ_TIMEOUT  # longer than one request may take to arrive


def test_beyond_max_connections_requests_answer_503(server):
    silent = [connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        with connect(server) as sock:
            assert exchange(sock, HEALTH).startswith(b"HTTP/1.1 503")
    finally:
        for sock in silent:
            sock.close()
    time.sleep(0.2)  # the server notices the closed connections
    with connect(server) as sock:
        assert exchange(sock, HEALTH).startswith(b"HTTP/1.1 200")


def test_the_access_log_redacts_credentials_in_urls(server, home):
    hpd = "hpd_" + "x" * 43
    with connect(server) as sock:
        exchange(sock, b"GET /healthz?api_key=sk-or-v1-abcdef&access_token=opaque-1&name=kept&by=" +
                 server.token.encode() + b"&X-Amz-Signature=f00d HTTP/1.1\r\nHost: drgero\r\n\r\n")
        exchange(sock, f"GET /v1/leaderboard/{hpd}/dataset HTTP/1.1\r\nHost: drgero\r\n\r\n".encode())
    time.sleep(0.2)
    log = (home / "serve.log").read_text()
    for secret in ("sk-or-v1-abcdef", "opaque-1", server.token, "f00d", hpd):
        assert secret not in log
    assert ("/healthz?api_key=REDACTED&access_token=REDACTED&name=kept&by=drgero_REDACTED&X-Amz-Signature=REDACTED"
            in log)
    assert "/v1/leaderboard/hpd_REDACTED/dataset" in log
