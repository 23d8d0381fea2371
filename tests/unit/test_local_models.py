"""The Local platform's model servers, with the real llama.cpp server (xllamacpp) and the bundled SmolLM2."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from shared.domain.local_models import parse_local_model, request_settings
from shared.ports import Endpoint
from shared.providers.chat import ChatClient
from shared.providers.local_models import LlamaServers
from tests.conftest import make_settings


def _answers(base_url: str) -> bool:
    reply = httpx.post(f"{base_url}/chat/completions", timeout=120, json={
        "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4})
    return reply.status_code == 200 and isinstance(reply.json()["choices"][0]["message"]["content"], str)


def _gone(pid: int, servers: LlamaServers, within: float = 10.0) -> bool:
    """Whether the process exited (the manager reaps its children, so a dead one is no zombie)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if pid not in servers.pids().values():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
        time.sleep(0.05)
    return False


async def test_a_model_server_starts_once_is_reused_restarts_after_a_crash_and_stops_when_idle_or_asked(tmp_path: Path):
    servers = LlamaServers(make_settings(tmp_path))
    try:
        urls = await asyncio.gather(*(servers.base_url("smollm2-135m") for _ in range(5)))
        assert len(set(urls)) == 1 and servers.starts == 1  # five first calls, one start
        [pid] = servers.pids().values()
        assert urls[0].startswith("http://127.0.0.1:") and _answers(urls[0])

        assert await servers.base_url("smollm2-135m") == urls[0] and servers.starts == 1

        os.kill(pid, signal.SIGKILL)  # a crash
        assert _gone(pid, servers)
        again = await servers.base_url("smollm2-135m")
        [new_pid] = servers.pids().values()
        assert servers.starts == 2 and new_pid != pid and _answers(again)
        assert again == urls[0]  # its old port was free, so calls retrying after the crash reach it

        assert await servers.stop_idle(3600) == 0 and servers.pids()  # just used: kept
        assert await servers.stop_idle(0) == 1 and servers.pids() == {} and _gone(new_pid, servers)
        last = await servers.base_url("smollm2-135m")
        assert servers.starts == 3 and _answers(last)  # the next call started it again
    finally:
        await servers.stop_all()
    assert servers.pids() == {}
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{last}/models", timeout=2)


async def test_calls_through_the_chat_client_carry_the_models_sampling_and_cost_nothing(tmp_path: Path):
    servers, chat = LlamaServers(make_settings(tmp_path)), ChatClient()
    spec = parse_local_model("smollm2-135m?temperature=0&max_tokens=3")
    try:
        endpoint = Endpoint(await servers.base_url(spec.model), spec.model, sampling=spec.sampling, free=True)
        completion = await chat.complete(endpoint, [{"role": "user", "content": "Count to twenty."}], max_tokens=50)
    finally:
        await chat.aclose()
        await servers.stop_all()
    assert completion.usage.completion_tokens == 3  # the model's cap beat the caller's 50
    assert completion.usage.cost_usd == 0.0 and completion.latency_ms > 0


def test_only_the_bundled_model_and_gguf_files_under_allowed_paths_are_served(tmp_path: Path):
    allowed = tmp_path / "models"
    allowed.mkdir()
    (allowed / "tiny.gguf").write_bytes(b"GGUF" + bytes(16))
    (allowed / "fake.gguf").write_bytes(b"not a model")
    (tmp_path / "outside.gguf").write_bytes(b"GGUF" + bytes(16))
    servers = LlamaServers(make_settings(tmp_path, local_model_paths=str(allowed)))
    assert servers.refusal("smollm2-135m") is None
    assert servers.refusal(str(allowed / "tiny.gguf")) is None
    assert "not a GGUF file" in servers.refusal(str(allowed / "fake.gguf"))
    assert "does not exist" in servers.refusal(str(allowed / "missing.gguf"))
    for refused in (str(tmp_path / "outside.gguf"), f"{allowed}/../outside.gguf", "llama-3-70b", "tiny.gguf",
                    "/etc/passwd", "~nobody-here/tiny.gguf", f"{allowed}/{'x' * 300}.gguf"):
        assert "is not a model this server offers" in servers.refusal(refused), refused
    (allowed / "link.gguf").symlink_to(tmp_path / "outside.gguf")
    assert "is not a model this server offers" in servers.refusal(str(allowed / "link.gguf"))


def test_the_platform_is_off_on_gcp_unless_the_operator_turns_it_on(tmp_path: Path):
    gcp = {"backend": "gcp", "gcp_project": "p", "gcs_bucket": "b"}
    assert "is off on this deployment" in LlamaServers(make_settings(tmp_path, **gcp)).refusal("smollm2-135m")
    enabled = LlamaServers(make_settings(tmp_path, local_models_enabled=True, **gcp))
    assert enabled.refusal("smollm2-135m") is None


def test_model_names_carry_sampling_settings_and_the_callers_values_win_but_max_tokens_is_capped():
    spec = parse_local_model(" smollm2-135m?top_p=0.9&temperature=1.5 ")
    assert spec.model == "smollm2-135m" and spec.canonical == "smollm2-135m?temperature=1.5&top_p=0.9"
    assert parse_local_model(None).canonical == "smollm2-135m"
    for bad, why in (("http://127.0.0.1:8080/v1", "not a URL"), ("smollm2-135m?temperature=9", "between"),
                     ("smollm2-135m?mirostat=2", "unknown setting"), ("smollm2-135m?top_k=x", "integer"),
                     ("small model", "spaces")):
        with pytest.raises(ValueError, match=why):
            parse_local_model(bad)
    sampling = {"temperature": 1.5, "max_tokens": 16}
    assert request_settings(sampling, {"temperature": 0, "max_tokens": 400}) == {"temperature": 0, "max_tokens": 16}
    assert request_settings(sampling, {"temperature": None}) == sampling
