"""Hugging Face downloads follow redirects one hop at a time: each hop is checked like the
first, and the deployment's Hugging Face token is only ever sent to the Hub's own host."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shared.domain.urls import REFUSED_URL
from shared.errors import InvalidInput
from shared.providers.fetch import HttpFetcher
from shared.services.huggingface import fetch_huggingface
from tests.conftest import make_settings
from tests.upstream import serving

PATH = "/datasets/acme/capitals/resolve/main/eval.jsonl"
ROWS = b'{"input": "Capital of France?", "expected": "Paris"}\n'
TOKEN = "hf_deployment_token_0123456789"
PUBLIC_HUB = "93.184.215.14"  # a public address, so the first hop passes production's checks


class FileHost:
    """A file server that answers a path with a file or a redirect, and remembers each request's Authorization."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.authorization: list[str] = []
        self.url = ""

    def app(self) -> Starlette:
        async def answer(request: Request) -> Response:
            self.authorization.append(request.headers.get("authorization", ""))
            path = request.url.path
            if path in self.redirects:
                return RedirectResponse(self.redirects[path], status_code=302)
            if path in self.files:
                return Response(self.files[path], media_type="application/octet-stream")
            return Response(status_code=404)

        return Starlette(routes=[Route("/{path:path}", answer)])


class Resolve(httpx.AsyncBaseTransport):
    """Like curl's --resolve: requests for `host` go to a local server instead, over real HTTP."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = {host: httpx.URL(url) for host, url in hosts.items()}
        self.network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in self.hosts:
            local = self.hosts[request.url.host]
            request.url = request.url.copy_with(host=local.host, port=local.port)
        return await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


def _served(host: FileHost) -> Iterator[FileHost]:
    with serving(host.app()) as url:
        host.url = url
        yield host


@pytest.fixture
def hub() -> Iterator[FileHost]:
    yield from _served(FileHost())


@pytest.fixture
def elsewhere() -> Iterator[FileHost]:
    yield from _served(FileHost())


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=False, huggingface_token=TOKEN,
                         huggingface_base_url=f"http://{PUBLIC_HUB}")


@pytest.fixture
async def hub_at_a_public_address(deps, hub):
    deps.fetch = HttpFetcher(transport=Resolve({PUBLIC_HUB: hub.url}))
    yield
    await deps.fetch.aclose()


async def check(client, auth, url: str) -> dict:
    return (await client.post("/api/datasets/huggingface/check", headers=auth, json={"url": url})).json()


async def test_a_redirect_into_the_network_is_refused_and_never_followed(
        client, auth, deps, hub, elsewhere, hub_at_a_public_address):
    elsewhere.files["/eval.jsonl"] = ROWS
    hub.redirects[PATH] = f"{elsewhere.url}/eval.jsonl"  # 127.0.0.1: inside the network

    report = await check(client, auth, f"http://{PUBLIC_HUB}{PATH}")
    assert (report["valid"], report["reachable"], report["problems"]) == (False, False, [REFUSED_URL])
    with pytest.raises(InvalidInput) as refused:  # what a run's download meets
        await fetch_huggingface(deps, f"http://{PUBLIC_HUB}{PATH}")
    assert refused.value.message == REFUSED_URL
    assert len(hub.authorization) == 2 and elsewhere.authorization == []


async def test_the_token_goes_to_the_hub_but_not_to_the_host_it_redirects_to(client, auth, deps, hub, elsewhere):
    deps.settings.allow_private_urls = True  # both hosts are local here; this test is about the header
    deps.settings.huggingface_base_url = hub.url
    elsewhere.files["/eval.jsonl"] = ROWS
    hub.redirects[PATH] = f"http://localhost:{httpx.URL(elsewhere.url).port}/eval.jsonl"

    report = await check(client, auth, hub.url + PATH)
    assert report["valid"] and report["rows_usable"] == 1
    key = await fetch_huggingface(deps, hub.url + PATH)
    assert (await deps.blobs.get(key))[0] == ROWS
    assert hub.authorization == [f"Bearer {TOKEN}"] * 2
    assert elsewhere.authorization == ["", ""]


async def test_a_redirect_loop_ends_after_five_hops(client, auth, deps, hub):
    deps.settings.allow_private_urls = True
    deps.settings.huggingface_base_url = hub.url
    hub.redirects[PATH] = PATH  # a relative redirect to itself

    report = await check(client, auth, hub.url + PATH)
    assert report["valid"] is False and "redirects more than 5 times" in report["problems"][0]
    assert len(hub.authorization) == 6
