"""GET datasets from a Hugging Face-style file server, and the dataset URL check."""

from __future__ import annotations

import json

import httpx
import pytest

from functions.server import create_app
from shared.bootstrap import build
from shared.services.tasks import runner
from tests.conftest import Workspaces, make_settings
from tests.upstream import running_upstream

PATH = "/datasets/acme/capitals/resolve/main/eval.jsonl"


@pytest.fixture
def upstream():
    with running_upstream() as server:
        server.files[PATH] = b"".join(json.dumps(row).encode() + b"\n" for row in [
            {"question": "Country: France\nParis", "answer": "Paris"},
            {"question": "Country: Italy\nRome", "answer": "Rome"},
            {"prompt": "Country: Peru\nLima", "completion": "Lima", "id": "peru"},
        ]) + b"not json\n"
        yield server


@pytest.fixture
def settings(tmp_path, upstream):
    return make_settings(tmp_path, allow_private_urls=True, huggingface_base_url=upstream.url)


async def test_the_check_reports_fields_rows_and_problems(client, auth, upstream):
    good = (await client.post("/api/datasets/huggingface/check", headers=auth,
                              json={"url": f"{upstream.url}/datasets/acme/capitals/blob/main/eval.jsonl"})).json()
    assert good["valid"] and good["url"] == upstream.url + PATH
    assert (good["rows_sampled"], good["rows_usable"], good["input_field"], good["expected_field"]) == \
        (4, 3, "question", "answer")
    assert good["problems"] == ["Line 4 is not JSON."]
    missing = (await client.post("/api/datasets/huggingface/check", headers=auth,
                                 json={"url": f"{upstream.url}/datasets/acme/none/resolve/main/x.jsonl"})).json()
    assert (missing["valid"], missing["reachable"], missing["http_status"]) == (False, False, 404)
    shape = (await client.post("/api/datasets/huggingface/check", headers=auth,
                               json={"url": "https://example.com/data.csv"})).json()
    assert shape["valid"] is False and "Hugging Face" in shape["problems"][0]


async def test_the_check_refuses_internal_addresses_by_default(tmp_path, upstream):

    deps = build(make_settings(tmp_path, huggingface_base_url=upstream.url))
    headers = await Workspaces(deps).headers()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(deps)), base_url="http://t") as http:
        report = (await http.post("/api/datasets/huggingface/check", headers=headers,
                                  json={"url": upstream.url + PATH})).json()
    assert report["valid"] is False and report["problems"] == ["The URL is not allowed or cannot be reached."]
    assert upstream.calls["file"] == 0


async def test_get_leaderboards_run_on_the_fetched_file_and_reuse_it_by_etag(client, auth, upstream, deps):
    body = {"name": "Capitals", "system_prompt": "{input}", "dataset_type": "GET", "eval_type": "exact",
            "dataset_url": upstream.url + PATH}
    board = (await client.post("/api/leaderboards", json=body, headers=auth)).json()["leaderboard"]["id"]
    await client.post(f"/api/leaderboards/{board}/models", headers=auth,
                      json={"name": "echo", "platform": "Custom", "model_url": upstream.model_url("echo")})
    deps.queue.start(runner(deps))
    try:
        first = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
        await deps.queue.drain(timeout=60)
        second = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
        await deps.queue.drain(timeout=60)
    finally:
        await deps.queue.stop()
    for started in (first, second):
        run = (await client.get(f"/api/leaderboards/{board}/runs/{started['id']}", headers=auth)).json()
        assert run["status"] == "completed" and run["rows"] == 3
        assert run["dataset"] == {"type": "GET", "url": upstream.url + PATH, "auto_labels": 0, "dropped_rows": 0}
        assert run["ranking"][0]["mean_score"] == 1.0
    assert (upstream.calls["file"], upstream.calls["file_not_modified"]) == (2, 1)  # revalidated by ETag
