"""The Local platform over HTTP: which model names a candidate, judge or labeler may give, and where it is refused.

Nothing here starts a model: names are checked when they are given (runs with real local
models are in tests/e2e/test_demo.py and tests/unit/test_local_models.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import push_leaderboard


@pytest.fixture
async def board(client, auth) -> str:
    response = await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)
    return response.json()["leaderboard"]["id"]


async def add(client, auth, board, model_url=None, name="local"):
    body = {"name": name, "platform": "local", **({"model_url": model_url} if model_url is not None else {})}
    return await client.post(f"/api/leaderboards/{board}/models", json=body, headers=auth)


def refused_on(response, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error" and body["details"][0]["field"] == field
    return body["details"][0]["message"]


@pytest.fixture
def model_dir(tmp_path: Path, deps) -> Path:
    """A directory the operator allows, with a (header-only) GGUF file in it."""
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "tiny.gguf").write_bytes(b"GGUF" + bytes(28))
    deps.settings.local_model_paths = str(folder)
    return folder


async def test_the_bundled_model_is_the_default_and_sampling_settings_make_another_candidate(client, auth, board):
    plain = await add(client, auth, board)
    assert plain.status_code == 201, plain.text
    assert plain.json()["platform"] == "Local" and plain.json()["model_url"] == "smollm2-135m"
    hot = await add(client, auth, board, "smollm2-135m?top_p=0.9&temperature=1.5", name="hot")
    assert hot.status_code == 201 and hot.json()["model_url"] == "smollm2-135m?temperature=1.5&top_p=0.9"
    same = await add(client, auth, board, "smollm2-135m?temperature=1.5&top_p=0.9", name="again")
    assert same.status_code == 409 and same.json()["error"] == "duplicate_candidate"


@pytest.mark.parametrize(("model_url", "says"), [
    ("llama-3-70b", "is not a model this server offers"),
    ("/etc/passwd", "is not a model this server offers"),
    ("http://127.0.0.1:8080/v1", "not a URL"),
    ("smollm2-135m?temperature=hot", "temperature must be a number"),
    ("smollm2-135m?api_key=x", "unknown setting"),
])
async def test_names_the_server_cannot_serve_are_refused_with_the_reason(client, auth, board, model_url, says):
    assert says in refused_on(await add(client, auth, board, model_url), "model_url")


async def test_only_gguf_files_under_the_allowed_paths_can_be_named(client, auth, board, model_dir, tmp_path):
    allowed = await add(client, auth, board, str(model_dir / "tiny.gguf"))
    assert allowed.status_code == 201 and allowed.json()["model_url"] == str(model_dir / "tiny.gguf")
    (tmp_path / "elsewhere.gguf").write_bytes(b"GGUF" + bytes(28))
    for path in (tmp_path / "elsewhere.gguf", model_dir / ".." / "elsewhere.gguf"):
        assert "is not a model this server offers" in refused_on(await add(client, auth, board, str(path)), "model_url")
    assert "does not exist" in refused_on(await add(client, auth, board, str(model_dir / "gone.gguf")), "model_url")


async def test_changing_a_local_candidates_model_is_checked_too(client, auth, board):
    added = (await add(client, auth, board)).json()
    path = f"/api/leaderboards/{board}/models/{added['id']}"
    assert "not a model" in refused_on(await client.patch(path, json={"model_url": "gpt-5"}, headers=auth),
                                       "model_url")
    changed = await client.patch(path, json={"model_url": "smollm2-135m?temperature=0"}, headers=auth)
    assert changed.status_code == 200 and changed.json()["model_url"] == "smollm2-135m?temperature=0"


async def test_a_local_judge_and_labeler_are_checked_like_candidates(client, auth):
    judged = await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(
        eval_type="judge", judge_provider="Local", judge_model="smollm2-135m?max_tokens=64"))
    assert judged.status_code == 201, judged.text
    assert judged.json()["leaderboard"]["eval_metadata"]["judge_provider"] == "Local"
    unknown = await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(
        eval_type="judge", judge_provider="local", judge_model="gpt-5"))
    assert "not a model" in refused_on(unknown, "judge_model")
    board_id = judged.json()["leaderboard"]["id"]
    labeler = await client.patch(f"/api/leaderboards/{board_id}", headers=auth, json={
        "eval_metadata": {"judge_provider": "Local", "labeler_provider": "Local", "labeler_model": "/tmp/x.gguf"}})
    assert "not a model" in refused_on(labeler, "labeler_model")


async def test_on_the_gcp_backend_the_platform_is_refused_unless_the_operator_enables_it(client, auth, board, deps):
    deps.settings.backend = "gcp"
    assert "off on this deployment" in refused_on(await add(client, auth, board), "model_url")
    judge = await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(
        eval_type="judge", judge_provider="Local", judge_model="smollm2-135m"))
    assert "DRGERO_LOCAL_MODELS_ENABLED" in refused_on(judge, "judge_model")
    deps.settings.local_models_enabled = True
    assert (await add(client, auth, board)).status_code == 201


async def test_the_local_servers_loopback_address_stays_refused_to_custom_candidates(client, auth, board):
    # Local models are reached at an address the server picks; a typed URL to loopback is still refused.
    custom = await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "sneaky", "platform": "Custom", "model_url": "http://127.0.0.1:8081/v1"})
    refused_on(custom, "model_url")
