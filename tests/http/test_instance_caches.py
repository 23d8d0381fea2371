"""What one instance changes, another sees within DRGERO_CACHE_SECONDS; the instance that changed it, at once.

Two apps over one data directory stand for two instances of the runtime function: each
has its own read cache, as each Cloud Run instance does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from functions.server import create_app
from shared.bootstrap import build
from shared.services.api_tokens import create_api_token, revoke_api_token
from shared.services.workspaces import create_workspace
from tests.conftest import make_settings
from tests.upstream import running_upstream

CACHE_SECONDS = 0.3


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True, cache_seconds=CACHE_SECONDS)


@pytest.fixture
def upstream():
    with running_upstream() as server:
        yield server


@pytest.fixture
async def elsewhere(settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second instance over the same store, with a cache of its own."""
    other = build(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(other)),
                                 base_url="http://other.test") as http:
        yield http
    await other.chat.aclose()


async def _after_the_bound() -> None:
    await asyncio.sleep(CACHE_SECONDS + 0.05)


async def test_a_revoked_token_is_refused_here_at_once_and_elsewhere_within_the_bound(client, elsewhere, deps):
    workspace = (await create_workspace(deps, "acme")).id
    token, record = await create_api_token(deps, workspace, "ci", ["leaderboards:read"])
    auth = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/leaderboards", headers=auth)).status_code == 200
    assert (await elsewhere.get("/api/leaderboards", headers=auth)).status_code == 200  # cached there now
    await revoke_api_token(deps, workspace, record.id)  # what POST /api/tokens/{id}/revoke does, here
    assert (await client.get("/api/leaderboards", headers=auth)).status_code == 401
    await _after_the_bound()
    assert (await elsewhere.get("/api/leaderboards", headers=auth)).status_code == 401


async def test_a_new_chosen_model_serves_here_at_once_and_elsewhere_within_the_bound(client, elsewhere, auth,
                                                                                    upstream):
    board = (await client.post("/api/leaderboards", headers=auth, json={
        "name": "Support", "system_prompt": "{input}", "dataset_type": "PUSH"})).json()["leaderboard"]["id"]
    echo, upper = [(await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": name, "platform": "Custom", "model_url": upstream.model_url(name)})).json()["id"]
        for name in ("echo", "upper")]

    async def answer(http: httpx.AsyncClient) -> str:
        done = await http.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hello"})
        assert done.status_code == 200, done.text
        return done.json()["output"]

    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": echo})
    await _after_the_bound()
    assert (await answer(client), await answer(elsewhere)) == ("hello", "hello")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": upper})
    assert await answer(client) == "HELLO"
    await _after_the_bound()
    assert await answer(elsewhere) == "HELLO"
