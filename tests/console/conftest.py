"""A signed-in console: a browser-like client holding the session cookie, posting forms with the CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from shared.services.console_sessions import create_sign_in_link

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
SIGNIN_CSRF = re.compile(r'name="signin_csrf" value="([^"]+)"')


@dataclass
class Console:
    client: httpx.AsyncClient
    workspace_id: str
    api: dict
    csrf: str = ""

    async def get(self, path: str, **kwargs) -> httpx.Response:
        answer = await self.client.get(path, **kwargs)
        tokens = set(CSRF.findall(answer.text))
        assert len(tokens) <= 1 and "" not in tokens, f"every form of {path} carries the session's CSRF token"
        if tokens:
            self.csrf = tokens.pop()
        return answer

    async def post(self, path: str, data: dict | None = None, *, csrf: str | None = None) -> httpx.Response:
        fields = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        return await self.client.post(path, data=fields)


async def sign_in_by_link(client: httpx.AsyncClient, deps, workspace_id: str) -> httpx.Response:
    return await spend_link(client, await create_sign_in_link(deps, workspace_id))


async def spend_link(client: httpx.AsyncClient, secret: str) -> httpx.Response:
    page = await client.get(f"/sign-in/link/{secret}")
    token = SIGNIN_CSRF.search(page.text).group(1)
    return await client.post(f"/sign-in/link/{secret}", data={"signin_csrf": token})


async def signed_in(deps, app_client_factory, tenants, name: str) -> Console:
    api = await tenants.headers(name)  # the workspace, and an API token of it for arranging things
    client = app_client_factory()
    answer = await sign_in_by_link(client, deps, tenants.ids[name])
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    console = Console(client, tenants.ids[name], api)
    await console.get("/")
    assert console.csrf
    return console


@pytest.fixture
async def clients(deps):
    """Makes independent browser-like clients (own cookie jars) on one app."""
    from functions.server import create_app  # noqa: PLC0415

    app, made = create_app(deps), []

    def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://drgero.test")
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def console(deps, clients, tenants) -> Console:
    return await signed_in(deps, clients, tenants, "acme")


@pytest.fixture
async def other(deps, clients, tenants) -> Console:
    return await signed_in(deps, clients, tenants, "beta")
