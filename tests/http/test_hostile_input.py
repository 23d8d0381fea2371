"""Values the JSON parser accepts but no store could keep are refused at the door, in every field.

A lone surrogate, nesting hundreds of levels deep, or a 5,000-digit integer used to pass
validation and then fail on the way to storage: after the model was called and paid for,
with no trace and no spend written, or as a 500. Now each is a 422 naming the field.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_settings
from tests.factories import own_model, push_leaderboard
from tests.upstream import running_upstream

SURROGATE = "\ud800"


def deep(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


HOSTILE = {"surrogate": {"note": SURROGATE}, "deep": deep(300)}


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True)


@pytest.fixture
def upstream():
    with running_upstream() as server:
        yield server


def raw(body) -> bytes:
    return json.dumps(body).encode()  # ensure_ascii writes the surrogate as the escape \ud800


async def send(client, method, url, headers, body):
    return await client.request(method, url, content=raw(body), headers={**headers, "Content-Type": "application/json"})


def refused(answer, field_prefix: str) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"][0]["field"].startswith(field_prefix), answer.json()


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("path, body", [
    ("inference", {"input": "hi"}),
    ("chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    ("chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": True}),
])
async def test_inference_metadata_no_store_can_keep_is_refused_before_the_model_is_called(
        client, auth, upstream, kind, path, body):
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(
        constraints={"monthly_budget_usd": 1}))).json()["leaderboard"]["id"]
    chosen = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "echo", "platform": "Custom", "model_url": upstream.model_url("echo")})).json()["id"]
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": chosen})
    answer = await send(client, "POST", f"/v1/leaderboard/{board}/{path}", auth, {**body, "metadata": HOSTILE[kind]})
    refused(answer, "metadata")
    assert upstream.calls["echo"] == 0
    assert (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()["count"] == 0


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("field", ["constraints", "eval_metadata", "dataset_metadata"])
async def test_free_form_leaderboard_fields_refuse_what_cannot_be_stored(client, auth, kind, field):
    refused(await send(client, "POST", "/api/leaderboards", auth, push_leaderboard(**{field: HOSTILE[kind]})), field)
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard())).json()["leaderboard"]["id"]
    refused(await send(client, "PATCH", f"/api/leaderboards/{board}", auth, {field: HOSTILE[kind]}), field)


@pytest.mark.parametrize("kind", HOSTILE)
async def test_own_model_metadata_refuses_what_cannot_be_stored(client, auth, kind):
    refused(await send(client, "POST", "/api/models", auth, own_model(metadata=HOSTILE[kind])), "metadata")
    model = (await client.post("/api/models", headers=auth, json=own_model())).json()["id"]
    refused(await send(client, "PATCH", f"/api/models/{model}", auth, {"metadata": HOSTILE[kind]}), "metadata")


async def test_a_deduped_push_without_a_key_refuses_a_surrogate_instead_of_failing_on_its_batch_id(client, auth):
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(dedupe=True))).json()
    answer = await send(client, "POST", f"/v1/leaderboard/{board['leaderboard']['id']}/dataset/push", auth,
                        {"rows": [{"input": f"x{SURROGATE}"}]})
    refused(answer, "rows.0.input")


async def test_an_integer_of_thousands_of_digits_is_a_422_naming_its_field(client, auth):
    headers = {**auth, "Content-Type": "application/json"}
    answer = await client.post("/api/leaderboards", headers=headers,
                               content=b'{"name": "n", "max_samples_to_gather": ' + b"9" * 5000 + b"}")
    assert answer.status_code == 422
    assert answer.json()["details"] == [{"field": "max_samples_to_gather", "message": "integer out of range"}]
    answer = await client.post("/api/leaderboards", headers=headers,
                               content=b'{"name": "n", "constraints": {"budget": [1, -' + b"9" * 20 + b"]}}")
    assert answer.json()["details"] == [{"field": "constraints.budget.1", "message": "integer out of range"}]


async def test_a_trailing_newline_after_an_id_is_not_the_id(client, auth):
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard())).json()["leaderboard"]["id"]
    assert (await client.get(f"/api/leaderboards/{board}/models", headers=auth)).status_code == 200
    for path in (f"/api/leaderboards/{board}/models%0a", f"/api/leaderboards/{board}%0A"):
        assert (await client.get(path, headers=auth)).status_code == 404
