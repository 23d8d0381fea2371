"""The official openai SDK talks to a leaderboard as if it were OpenAI, streaming included."""

from __future__ import annotations

import time

import openai
import pytest

from tests.e2e.conftest import LiveServer
from tests.upstream import running_upstream


@pytest.fixture(scope="module")
def upstream():
    with running_upstream() as server:
        yield server


def _board_choosing(server: LiveServer, url: str, name: str) -> str:
    """A leaderboard whose chosen model is the given endpoint."""
    with server.client() as http:
        board = http.post("/api/leaderboards", json={"name": name, "system_prompt": "{input}",
                                                     "dataset_type": "PUSH"}).raise_for_status().json()["leaderboard"]
        candidate = http.post(f"/api/leaderboards/{board['id']}/models", json={
            "name": name, "platform": "Custom", "model_url": url}).raise_for_status().json()
        http.patch(f"/api/leaderboards/{board['id']}", json={"chosen_leaderboard_model_id": candidate["id"]})
    return board["id"]


@pytest.fixture(scope="module")
def board(local_live_server: LiveServer, upstream) -> str:
    return _board_choosing(local_live_server, upstream.model_url("upper"), "upper")


def _client(server: LiveServer, board: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1/leaderboard/{board}", api_key=server.token, max_retries=0)


def test_the_sdk_gets_a_chat_completion(local_live_server: LiveServer, board: str):
    completion = _client(local_live_server, board).chat.completions.create(
        model="anything", messages=[{"role": "user", "content": "hello sdk"}])
    assert completion.choices[0].message.content == "HELLO SDK"
    assert completion.model == "upper" and completion.usage.total_tokens == 15


def test_the_sdk_streams_and_the_trace_records_it(local_live_server: LiveServer, board: str):
    stream = _client(local_live_server, board).chat.completions.create(
        model="anything", messages=[{"role": "user", "content": "streamed words"}], stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "STREAMED WORDS"
    with local_live_server.client() as http:
        traces = http.get(f"/v1/leaderboard/{board}/traces?limit=1").json()["data"]
    assert traces[0]["output"] == "STREAMED WORDS" and traces[0]["status"] == "ok"


def test_the_sdk_sees_api_errors_as_errors(local_live_server: LiveServer, board: str):
    bad = openai.OpenAI(base_url=f"{local_live_server.base_url}/v1/leaderboard/{board}", api_key="drgero_wrong",
                        max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])


def test_a_client_leaving_mid_stream_is_traced_as_disconnected(local_live_server: LiveServer, upstream):
    board = _board_choosing(local_live_server, upstream.model_url("trickle"), "trickle")
    with local_live_server.client() as http:
        body = {"model": "x", "messages": [{"role": "user", "content": "go"}], "stream": True}
        with http.stream("POST", f"/v1/leaderboard/{board}/chat/completions", json=body) as response:
            first = next(response.iter_lines())
            assert first.startswith("data: ")
        for _ in range(50):  # the server notices the closed connection at its next write
            traces = http.get(f"/v1/leaderboard/{board}/traces").json()["data"]
            if traces:
                break
            time.sleep(0.1)
    [trace] = traces
    assert trace["status"] == "client_disconnected"
    assert 0 < len(trace["output"]) < len("a slow stream of words " * 10)
