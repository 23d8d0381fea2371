"""User-supplied URLs through the API: IPv6 spellings of internal hosts are refused, and a URL
that does not resolve, points inside the network or does not answer gets one and the same message."""

from __future__ import annotations

import pytest

from shared.domain.urls import REFUSED_URL
from shared.providers.chat import ChatClient, RetryPolicy
from tests.conftest import make_settings
from tests.emulators import free_port
from tests.factories import push_leaderboard
from tests.upstream import running_upstream

INTERNAL_IPV6_LITERALS = ["::ffff:7f00:1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:a00:1::1", "2002:7f00:1::",
                          "::a00:1", "::127.0.0.1", "fec0::1"]
DATASET_PATH = "/datasets/acme/capitals/resolve/main/eval.jsonl"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=False)  # as in production


@pytest.fixture
def upstream():
    with running_upstream() as server:
        server.files[DATASET_PATH] = b'{"input": "q", "expected": "a"}\n'
        yield server


@pytest.fixture
async def board(client, auth) -> str:
    created = await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)
    return created.json()["leaderboard"]["id"]


@pytest.fixture
async def chat_without_retries(deps):
    """Connection errors are retried with backoff; one attempt says the same, sooner."""
    deps.chat = ChatClient(retry=RetryPolicy(max_attempts=1))
    yield
    await deps.chat.aclose()


@pytest.mark.parametrize("literal", INTERNAL_IPV6_LITERALS)
async def test_a_candidate_url_with_an_ipv6_spelling_of_an_internal_host_is_refused(client, auth, board, literal):
    answer = await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "sneaky", "platform": "Custom", "model_url": f"http://[{literal}]:8080/v1"})
    assert answer.status_code == 422
    assert answer.json()["details"] == [{"field": "model_url", "message": REFUSED_URL}]


@pytest.mark.parametrize("literal", INTERNAL_IPV6_LITERALS)
async def test_a_dataset_url_with_an_ipv6_spelling_of_an_internal_host_is_refused(client, auth, deps, literal):
    deps.settings.huggingface_base_url = f"http://[{literal}]:8080"
    report = (await client.post("/api/datasets/huggingface/check", headers=auth,
                                json={"url": f"http://[{literal}]:8080{DATASET_PATH}"})).json()
    assert (report["valid"], report["reachable"], report["problems"]) == (False, False, [REFUSED_URL])


async def test_an_unknown_an_internal_and_a_silent_model_url_get_the_same_inference_error(
        client, auth, board, deps, upstream, chat_without_retries):
    deps.settings.allow_private_urls = True  # the candidates are added as on a developer's machine
    urls = {"unknown": "http://nowhere.invalid/v1", "internal": upstream.model_url("echo"),
            "silent": f"http://127.0.0.1:{free_port()}/v1"}
    ids = {}
    for name, url in urls.items():
        added = await client.post(f"/api/leaderboards/{board}/models", headers=auth,
                                  json={"name": name, "platform": "Custom", "model_url": url})
        ids[name] = added.json()["id"]
    errors = {}
    for name in urls:
        # Production refuses names and addresses inside the network; the silent endpoint is
        # let through (as a public one would be) so that its connection fails.
        deps.settings.allow_private_urls = name == "silent"
        await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": ids[name]})
        answer = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hi"})
        assert answer.status_code == 502
        errors[name] = answer.json()["message"].replace(name, "NAME")
    assert len(set(errors.values())) == 1, errors
    assert "nowhere.invalid" not in errors["unknown"] and "127.0.0.1" not in errors["silent"]
    assert upstream.calls["echo"] == 0


async def test_an_unknown_an_internal_and_a_silent_dataset_host_get_the_same_check_problem(
        client, auth, deps, upstream):
    hosts = {"unknown": ("http://nowhere.invalid", False), "internal": (upstream.url, False),
             "silent": (f"http://127.0.0.1:{free_port()}", True)}
    problems = {}
    for name, (base_url, allow_private) in hosts.items():
        deps.settings.huggingface_base_url, deps.settings.allow_private_urls = base_url, allow_private
        report = (await client.post("/api/datasets/huggingface/check", headers=auth,
                                    json={"url": base_url + DATASET_PATH})).json()
        problems[name] = (report["valid"], report["reachable"], report["problems"])
    assert problems == dict.fromkeys(hosts, (False, False, [REFUSED_URL]))
    assert upstream.calls["file"] == 0
