"""The chat client against real local HTTP servers: one answering from a script, one counting
the calls that reach it at once."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from aiohttp import web
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.bootstrap import build
from shared.config import Settings
from shared.domain.platforms import auth_headers, openrouter_headers
from shared.ports import (
    Endpoint,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderBadResponse,
    ProviderConnectionError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)
from shared.providers.chat import ChatClient, RetryPolicy
from tests.upstream import serving

OK = {"id": "c1", "model": "m-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
      "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9, "cost": 0.00042}}


class Script:
    """Answers requests with the scripted (status, headers, body, delay) in order; records requests."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], bytes, float]] = []
        self.requests: list[tuple[dict[str, str], dict]] = []

    def then(self, status: int, body: object = OK, headers: dict[str, str] | None = None, delay: float = 0.0) -> "Script":
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, headers or {}, raw, delay))
        return self

    def app(self) -> Starlette:
        async def answer(request: Request) -> Response:
            self.requests.append((dict(request.headers), await request.json()))
            status, headers, body, delay = self.answers.pop(0)
            await asyncio.sleep(delay)
            return Response(body, status_code=status, headers=headers, media_type="application/json")

        return Starlette(routes=[Route("/v1/chat/completions", answer, methods=["POST"])])


@pytest.fixture
def script():
    script = Script()
    with serving(script.app()) as url:
        script.url = url
        yield script


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def client():
    sleeps = Sleeps()
    chat = ChatClient(retry=RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=20), sleep=sleeps)
    chat.sleeps = sleeps
    yield chat
    await chat.aclose()


def _endpoint(script, **kwargs) -> Endpoint:
    return Endpoint(f"{script.url}/v1", "m-1", **kwargs)


async def test_a_completion_carries_text_usage_cost_and_latency(script, client):
    script.then(200)
    done = await client.complete(_endpoint(script, headers={"Authorization": "Bearer k"}),
                                 [{"role": "user", "content": "hello"}], temperature=0, max_tokens=5)
    assert (done.text, done.model, done.attempts) == ("hi", "m-1", 1)
    assert (done.usage.total_tokens, done.usage.cost_usd) == (9, 0.00042) and done.latency_ms > 0
    headers, body = script.requests[0]
    assert body == {"model": "m-1", "messages": [{"role": "user", "content": "hello"}], "temperature": 0,
                    "max_tokens": 5}
    assert headers["authorization"] == "Bearer k"


async def test_content_parts_are_joined(script, client):
    script.then(200, {"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]})
    assert (await client.complete(_endpoint(script), [])).text == "ab"


@pytest.mark.parametrize(("auth_type", "name", "value"), [
    ("bearer", "authorization", "Bearer t0k"), ("x-api-key", "x-api-key", "t0k"),
    ("x-dr.gero-api-key", "x-dr.gero-api-key", "t0k"), ("authorization", "authorization", "t0k"),
    ("custom-header", "x-team-key", "t0k")])
async def test_each_auth_type_reaches_the_server(script, client, auth_type, name, value):
    script.then(200)
    await client.complete(_endpoint(script, headers=auth_headers(auth_type, "t0k", "X-Team-Key")), [])
    assert script.requests[0][0][name] == value


def test_openrouter_headers_add_attribution():
    assert openrouter_headers("k", "https://app.example") == {
        "Authorization": "Bearer k", "HTTP-Referer": "https://app.example", "X-Title": "Dr.Gero"}


async def test_429_waits_for_retry_after_then_succeeds(script, client):
    script.then(429, {"error": {"message": "slow down"}}, {"Retry-After": "7"}).then(200)
    done = await client.complete(_endpoint(script), [])
    assert done.attempts == 2 and client.sleeps.delays == [7.0]


async def test_5xx_is_retried_with_growing_jittered_delays(script, client):
    script.then(500).then(502).then(200)
    assert (await client.complete(_endpoint(script), [])).attempts == 3
    first, second = client.sleeps.delays
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0


async def test_retries_run_out_with_the_last_error(script, client):
    for _ in range(3):
        script.then(503, {"error": "Model is overloaded"})
    with pytest.raises(ProviderServerError) as raised:
        await client.complete(_endpoint(script), [])
    assert raised.value.attempts == 3 and raised.value.status == 503 and "overloaded" in raised.value.message


@pytest.mark.parametrize(("status", "error"), [(401, ProviderAuthError), (403, ProviderAuthError),
                                               (400, ProviderBadRequest), (404, ProviderBadRequest)])
async def test_client_errors_are_not_retried(script, client, status, error):
    script.then(status, {"error": {"message": "No auth credentials found", "code": status}})
    with pytest.raises(error) as raised:
        await client.complete(_endpoint(script), [])
    assert raised.value.attempts == 1 and "No auth credentials found" in raised.value.message
    assert raised.value.provider_body and client.sleeps.delays == []


async def test_a_body_that_is_not_a_completion_is_a_bad_response(script, client):
    script.then(200, b"<html>gateway</html>")
    with pytest.raises(ProviderBadResponse):
        await client.complete(_endpoint(script), [])


async def test_timeouts_are_retried_then_raised(script, client):
    for _ in range(3):
        script.then(200, delay=1.0)
    with pytest.raises(ProviderTimeout) as raised:
        await client.complete(_endpoint(script, timeout_seconds=0.2), [])
    assert raised.value.attempts == 3


async def test_a_closed_port_is_a_connection_error(client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderConnectionError):
        await client.complete(Endpoint(f"http://127.0.0.1:{port}/v1", None), [])
    assert len(client.sleeps.delays) == 2


def test_rate_limits_are_retryable_and_auth_errors_are_not():
    assert ProviderRateLimited.retryable and not ProviderAuthError.retryable


class Gate:
    """An upstream that holds each request until `release_at` are held, or until none has
    arrived for `quiet` seconds, then answers all held ones; it records the most held at once."""

    def __init__(self, release_at: int, quiet: float) -> None:
        self.release_at, self.quiet = release_at, quiet
        self.held: list[asyncio.Future] = []
        self.most = 0
        self._timer: asyncio.TimerHandle | None = None

    def _release(self) -> None:
        for waiter in self.held:
            if not waiter.done():
                waiter.set_result(None)
        self.held = []

    async def answer(self, request: web.Request) -> web.Response:
        await request.read()
        waiter = asyncio.get_running_loop().create_future()
        self.held.append(waiter)
        self.most = max(self.most, len(self.held))
        if self._timer:
            self._timer.cancel()
        if len(self.held) >= self.release_at:
            self._release()
        else:
            self._timer = asyncio.get_running_loop().call_later(self.quiet, self._release)
        await waiter
        return web.json_response(OK)


async def _most_in_flight(settings: Settings, calls: int, release_at: int, quiet: float) -> int:
    gate = Gate(release_at, quiet)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", gate.answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
    await site.start()
    port = runner.addresses[0][1]
    chat = build(settings).chat
    try:
        endpoint = Endpoint(f"http://127.0.0.1:{port}/v1", "m-1", timeout_seconds=10)
        done = await asyncio.wait_for(asyncio.gather(*(chat.complete(endpoint, []) for _ in range(calls))), 10)
        assert [completion.text for completion in done] == ["hi"] * calls
        return gate.most
    finally:
        await chat.aclose()
        await runner.cleanup()


async def test_the_connection_limits_are_settings_that_reach_the_connector(monkeypatch, tmp_path):
    monkeypatch.setenv("DRGERO_UPSTREAM_MAX_CONNECTIONS", "3000")
    monkeypatch.setenv("DRGERO_UPSTREAM_MAX_CONNECTIONS_PER_HOST", "700")
    chat = build(Settings(_env_file=None, data_dir=tmp_path)).chat
    try:
        connector = chat._client().connector
        assert (connector.limit, connector.limit_per_host) == (3000, 700)
    finally:
        await chat.aclose()


async def test_by_default_more_than_256_calls_to_one_host_are_in_flight_at_once(tmp_path):
    # 256 per host was the old fixed cap: 1,200 req/s against a 200 ms upstream then collapsed.
    assert await _most_in_flight(Settings(_env_file=None, data_dir=tmp_path), 300, release_at=300, quiet=2) == 300


async def test_the_per_host_cap_bounds_the_calls_in_flight(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, upstream_max_connections_per_host=50)
    # Held until a 51st arrives, which it must not while 50 are open: each 50 go after a quiet spell.
    assert await _most_in_flight(settings, 300, release_at=51, quiet=0.25) == 50
