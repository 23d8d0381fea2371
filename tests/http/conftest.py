"""The `world` fixture: one workspace with one of each resource, and requests made the way each route wants."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from shared.auth.secrets import task_signature
from shared.services.tasks import KINDS
from tests.factories import OPENROUTER_CATALOG, get_leaderboard, own_model, push_leaderboard
from tests.upstream import running_upstream


@dataclass
class World:
    client: object
    deps: object
    tenants: object
    upstream: object
    api: dict[str, str]
    owner: dict[str, str]
    ids: dict[str, str]
    boards: dict[str, str]

    def path(self, route, **overrides: str) -> str:
        values = {**self.ids, **overrides}
        return route.path.format(**{name: values[name] for name in route.path_params})

    async def call(self, route, headers=None, *, json_body=None, content=None, content_type=None, query="",
                   **ids: str):
        """The request with the route's own credential, unless `headers` says otherwise."""
        if headers is None:
            headers = await self.credential(route, content if content is not None else json.dumps(json_body).encode(),
                                            ids.get("kind", self.ids["kind"]))
            if route.auth == "task":  # signed over exactly these bytes
                content = content if content is not None else json.dumps(json_body).encode()
                json_body, content_type = None, content_type or "application/json"
        headers = dict(headers)
        if content_type:
            headers["Content-Type"] = content_type
        return await self.client.request(route.method, self.path(route, **ids) + query, headers=headers,
                                         json=json_body, content=content)

    async def credential(self, route, body: bytes, kind: str) -> dict[str, str]:
        if route.auth in ("session", "user"):
            return self.owner
        if route.auth == "cron":
            return {"Authorization": f"Bearer {self.deps.settings.effective_cron_secret}"}
        if route.auth == "task":
            return {"X-DrGero-Task-Signature": task_signature(self.deps.settings.encryption_key, kind, body)}
        return self.api


@pytest.fixture(scope="module")
def upstream():
    with running_upstream() as server:
        server.catalog.update(OPENROUTER_CATALOG)
        yield server


@pytest.fixture
async def world(client, deps, tenants, upstream):
    deps.settings.openrouter_base_url = upstream.model_url("echo")
    deps.settings.openrouter_api_key = "sk-or-deployment"
    api = await tenants.headers("acme")
    owner = await tenants.session("acme", "owner")
    push = (await client.post("/api/leaderboards", headers=api, json=push_leaderboard())).json()["leaderboard"]
    await client.post(f"/v1/leaderboard/{push['id']}/dataset/push", headers=api, json={"id": "row-a", "input": "a", "expected": "a"})
    await client.post(f"/v1/leaderboard/{push['id']}/dataset/consolidate", headers=api)
    get = (await client.post("/api/leaderboards", headers=api, json=get_leaderboard())).json()["leaderboard"]
    model = (await client.post("/api/models", headers=api, json=own_model())).json()
    cand = (await client.post(f"/api/leaderboards/{push['id']}/models", headers=api,
                              json={"name": "echo", "platform": "OpenRouter", "model_url": "vendor/echo"})).json()
    run = (await client.post(f"/api/leaderboards/{push['id']}/run", headers=api, json={})).json()
    token = (await client.post("/api/tokens", headers=owner, json={"name": "t"})).json()
    # Another workspace invites acme's owner: the invite waits for their answer.
    invite = (await client.post("/api/invite-user", headers=await tenants.session("beta", "owner"),
                                json={"email": "owner@acme.example"})).json()
    ids = {"leaderboard_id": push["id"], "model_id": model["id"], "leaderboard_model_id": cand["id"],
           "run_id": run["id"], "item_id": str(uuid.uuid4()), "dataset_item_id": "row-a", "token_id": token["id"],
           "provider": "openrouter", "kind": sorted(KINDS)[0], "invite_id": invite["id"],
           "workspace_id": tenants.ids["acme"]}
    yield World(client, deps, tenants, upstream, api, owner, ids, {"push": push["id"], "get": get["id"]})
