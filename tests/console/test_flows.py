"""The console's screens over a real run: candidates on a local upstream, a run, the matrix, human
evaluation, the push dataset, traces and settings; every page of one workspace is a 404 for another,
and no secret ever appears in a page."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from functions.console_api import ROUTES
from tests.conftest import make_settings
from tests.http.test_runs_api import _capital_rows, _push_board
from tests.upstream import running_upstream

CANDIDATE_TOKEN = "sk-candidate-secret-0123456789"
PROVIDER_KEY = "sk-or-provider-secret-abcdef0123"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True, run_chunk_rows=4, candidate_concurrency=2)


@pytest.fixture(scope="module")
def upstream():
    with running_upstream() as server:
        yield server


async def _add_candidates(console, board, upstream):
    for name, behaviour, token in (("always right", "echo", CANDIDATE_TOKEN), ("always Paris", "const-Paris", "")):
        answer = await console.post(f"/leaderboards/{board}/candidates", {
            "name": name, "platform": "Custom", "model_url": upstream.model_url(behaviour), "token": token})
        assert answer.status_code == 303, answer.text


async def _run(console, board, worker) -> str:
    await console.get(f"/leaderboards/{board}")
    started = await console.post(f"/leaderboards/{board}/runs")
    assert started.status_code == 303
    run_id = started.headers["location"].rsplit("#run-", 1)[1]
    await worker.drain(timeout=60)
    return run_id


@pytest.fixture
async def ran(console, upstream, worker):
    """A PUSH leaderboard of ten capitals, two candidates added in the console, and a finished run."""
    board = await _push_board(console.client, console.api, _capital_rows())
    await _add_candidates(console, board, upstream)
    run_id = await _run(console, board, worker)
    return board, run_id


async def test_candidates_run_and_rank_from_the_console(console, ran):
    board, run_id = ran
    progress = (await console.client.get(f"/leaderboards/{board}/runs.json")).json()
    assert progress["runs"][0] == {"id": run_id, "status": "completed", "finished": True, "percent": 100.0}
    page = (await console.get(f"/leaderboards/{board}")).text
    assert 'id="ranking-chart"' in page and page.count('class="entry') == 2
    assert "1. always right" in page and "whisker" in page
    assert "Quality against cost" in page and "Quality against latency" in page
    assert 'class="point front-point"' in page  # the winner is on the Pareto front


async def test_the_matrix_filters_failures_differences_and_searches(console, ran):
    board, run_id = ran
    base = f"/leaderboards/{board}/runs/{run_id}"
    everything = (await console.get(base)).text
    assert "10 of 10 rows" in everything and everything.count("<tr data-row=") == 10
    failures = (await console.get(f"{base}?filter=failures")).text
    assert "9 of 10 rows" in failures and "Country: France" not in failures  # Paris is right about France
    assert "9 of 10 rows" in (await console.get(f"{base}?filter=different")).text
    assert "1 of 10 rows" in (await console.get(f"{base}?filter=passes")).text
    found = (await console.get(f"{base}?filter=all&q=kenya")).text
    assert "1 of 10 rows" in found and "Nairobi" in found


async def test_a_rows_detail_and_the_download(console, ran):
    board, run_id = ran
    detail = (await console.get(f"/leaderboards/{board}/runs/{run_id}/rows/0")).text
    assert "Name the capital" in detail and "always Paris" in detail and "Latency" in detail
    assert (await console.client.get(f"/leaderboards/{board}/runs/{run_id}/rows/10")).status_code == 404
    download = await console.client.get(f"/leaderboards/{board}/runs/{run_id}/results.jsonl")
    lines = [json.loads(line) for line in download.text.splitlines()]
    assert download.headers["content-disposition"].startswith("attachment") and len(lines) == 20


async def test_choosing_another_model_and_removing_a_candidate(console, ran):
    board, _ = ran
    page = (await console.get(f"/leaderboards/{board}")).text
    paris = re.search(r'data-candidate="([0-9a-f-]+)"><th scope="row">always Paris', page).group(1)
    assert (await console.post(f"/leaderboards/{board}/choose", {"chosen": paris})).status_code == 303
    detail = (await console.client.get(f"/api/leaderboards/{board}", headers=console.api)).json()["leaderboard"]
    assert (detail["chosen_leaderboard_model_id"], detail["chosen_model_strategy"]) == (paris, "manual")
    refused = await console.post(f"/leaderboards/{board}/candidates", {"name": "", "platform": "Custom"})
    assert refused.status_code == 422 and "String should have at least 1 character" in refused.text
    assert (await console.post(f"/leaderboards/{board}/candidates/{paris}/remove")).status_code == 303
    assert f'data-candidate="{paris}"><th' not in (await console.get(f"/leaderboards/{board}")).text


async def test_the_schedule_editor_shows_the_next_due_times(console, ran):
    board, _ = ran
    await console.get(f"/leaderboards/{board}")
    saved = await console.post(f"/leaderboards/{board}/schedule", {"cron": "on", "preset": "CUSTOM",
                                                                   "expression": "15 3 * * *"})
    assert saved.status_code == 303
    page = (await console.get(f"/leaderboards/{board}")).text
    assert re.search(r'id="next-due"><li>cron: <time datetime="[0-9T:\-.]+Z?">[0-9-]+ 03:15', page)
    wrong = await console.post(f"/leaderboards/{board}/schedule", {"cron": "on", "preset": "CUSTOM",
                                                                   "expression": "every day"})
    assert wrong.status_code == 422 and "five fields" in wrong.text


async def test_human_evaluation_one_at_a_time_and_pairwise_feeds_the_ranking(console, upstream, worker):
    board = await _push_board(console.client, console.api, _capital_rows()[:2], eval_type="human")
    await _add_candidates(console, board, upstream)
    run_id = await _run(console, board, worker)
    queue = f"/leaderboards/{board}/runs/{run_id}/annotate"
    first = (await console.get(queue)).text
    assert "0 of 4 scored" in first
    item = re.search(r'/annotate/([0-9a-f-]+)"', first).group(1)
    assert (await console.post(f"{queue}/{item}", {"score": "2"})).status_code == 422  # the API's 0..1 rule
    assert (await console.post(f"{queue}/{item}", {"score": "1.0", "comment": "fine"})).status_code == 303
    assert "1 of 4 scored" in (await console.get(queue)).text
    pairwise = (await console.get(f"{queue}?mode=pairwise")).text
    assert "Which answer is better?" in pairwise
    ids = dict(re.findall(r'name="(a_id|b_id)" value="([0-9a-f-]+)"', pairwise))
    assert (await console.post(f"/leaderboards/{board}/runs/{run_id}/verdicts",
                               {"verdict": "a", **ids})).status_code == 303
    last = (await console.get(queue)).text
    item = re.search(r'/annotate/([0-9a-f-]+)"', last).group(1)
    await console.post(f"{queue}/{item}", {"score": "0.5"})
    assert 'id="annotations-done"' in (await console.get(queue)).text
    await worker.drain(timeout=60)
    run = (await console.client.get(f"/api/leaderboards/{board}/runs/{run_id}", headers=console.api)).json()
    assert run["status"] == "completed" and len(run["ranking"]) == 2


async def test_the_push_dataset_page(console):
    board = await _push_board(console.client, console.api, [])
    page = f"/leaderboards/{board}/dataset"
    assert 'value="0"' in (await console.get(page)).text
    pushed = await console.post(f"{page}/push", {"rows": '{"input": "a", "expected": "A"}\nplain text row\n'})
    assert pushed.status_code == 200 and "Accepted 2 row(s)" in pushed.text
    assert 'id="quota-today" min="0" max="' in pushed.text and 'value="2"' in pushed.text
    assert (await console.post(f"{page}/consolidate")).status_code == 303
    state = (await console.get(page)).text
    assert re.search(r'id="dataset-version">1', state) and re.search(r'id="consolidated-rows">2<', state)
    assert len((await console.client.get(f"{page}/download")).text.splitlines()) == 2
    created = await console.post(f"{page}/push-tokens", {"name": "app"})
    value = re.search(r'id="new-push-token">(hpd_[^<]+)<', created.text).group(1)
    assert value not in (await console.get(page)).text
    assert "1 active token(s)" in (await console.get(page)).text
    assert (await console.post(f"{page}/push-tokens/revoke")).status_code == 303
    assert "0 active token(s)" in (await console.get(page)).text


async def test_settings_tokens_shown_once_and_revoked(console):
    created = await console.post("/settings/tokens", {"name": "ci", "scope:leaderboards:read": "on"})
    value = re.search(r'id="new-api-token">(drgero_[^<]+)<', created.text).group(1)
    api = {"Authorization": f"Bearer {value}"}
    assert (await console.client.get("/api/leaderboards", headers=api)).status_code == 200
    settings = (await console.get("/settings")).text
    assert value not in settings and "leaderboards:read" in settings
    token_id = re.search(r'data-token="([0-9a-f-]+)"><th scope="row">ci<', settings).group(1)
    assert (await console.post(f"/settings/tokens/{token_id}/revoke")).status_code == 303
    assert (await console.client.get("/api/leaderboards", headers=api)).status_code == 401


async def test_settings_integrations_and_invites(console):
    await console.get("/settings")
    stored = await console.post("/settings/integrations", {"provider": "openrouter", "api_key": PROVIDER_KEY})
    assert stored.status_code == 303
    page = (await console.get("/settings")).text
    assert "openrouter: key set" in page and PROVIDER_KEY not in page and PROVIDER_KEY[-4:] not in page
    assert (await console.post("/settings/integrations/openrouter/remove")).status_code == 303
    assert (await console.post("/settings/members/invite", {"email": "new@acme.example", "role": "admin"})
            ).status_code == 303
    assert "new@acme.example" in (await console.get("/settings")).text
    refused = await console.post("/settings/members/invite", {"email": "x@y.z", "role": "emperor"})
    assert refused.status_code == 422 and "role" in refused.text


# --- every console URL, as another workspace and for secrets ------------------------------------

async def _everything(console, ran, upstream) -> dict[str, str]:
    """Ids of one of each thing the console shows, with a trace and secrets stored along the way."""
    board, run_id = ran
    await console.client.post(f"/v1/leaderboard/{board}/inference", headers=console.api, json={"input": "hi"})
    trace = (await console.client.get(f"/v1/leaderboard/{board}/traces", headers=console.api)).json()["data"][0]
    await console.get("/settings")
    await console.post("/settings/integrations", {"provider": "openrouter", "api_key": PROVIDER_KEY})
    created = await console.post("/settings/tokens", {"name": "kept"})
    api_value = re.search(r'id="new-api-token">(drgero_[^<]+)<', created.text).group(1)
    token_id = re.search(r'data-token="([0-9a-f-]+)"><th scope="row">kept<', (await console.get("/settings")).text
                         ).group(1)
    pushed = await console.post(f"/leaderboards/{board}/dataset/push-tokens", {"name": "p"})
    push_value = re.search(r'id="new-push-token">(hpd_[^<]+)<', pushed.text).group(1)
    page = (await console.get(f"/leaderboards/{board}")).text
    candidate = re.search(r'data-candidate="([0-9a-f-]+)"><th', page).group(1)
    queue = await console.client.get(f"/api/leaderboards/{board}/runs/{run_id}/annotations", headers=console.api)
    assert queue.status_code == 200
    return {"leaderboard_id": board, "run_id": run_id, "leaderboard_model_id": candidate, "row": "0",
            "trace_id": trace["id"], "token_id": token_id, "item_id": str(uuid.uuid4()), "provider": "openrouter",
            "secrets": [CANDIDATE_TOKEN, PROVIDER_KEY, api_value, push_value, console.api["Authorization"][7:]]}


OWNED = [route for route in ROUTES if set(route.path_params) & {"leaderboard_id", "token_id", "provider"}]


async def test_every_console_url_of_another_workspace_is_not_found(console, other, ran, upstream, tenants):
    ids = await _everything(console, ran, upstream)
    for route in OWNED:
        path = route.path.format(**{name: ids[name] for name in route.path_params})
        if route.method == "GET":
            answer = await other.client.get(path)
        else:
            await other.get("/")
            answer = await other.post(path, {"name": "x", "score": "1", "verdict": "a", "rows": "x",
                                              "a_id": ids["item_id"], "b_id": ids["item_id"]})
        assert answer.status_code == 404, (route.method, route.path, answer.status_code)
        assert "Not found" in answer.text or answer.headers["content-type"].startswith("application/json")
    owner = await tenants.session("acme", "owner")
    members = (await console.client.get("/api/invite-user", headers=owner)).json()
    removed = await other.post("/settings/members/remove", {"user_id": members["members"][0]["user_id"]})
    assert removed.status_code == 404
    assert (await console.client.get("/api/invite-user", headers=owner)).json() == members


async def test_no_page_shows_a_secret(console, ran, upstream):
    ids = await _everything(console, ran, upstream)
    for route in ROUTES:
        if route.method != "GET" or "secret" in route.path_params or "name" in route.path_params:
            continue
        path = route.path.format(**{name: ids[name] for name in route.path_params})
        answer = await console.client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        for secret in ids["secrets"]:
            assert secret not in answer.text, (path, secret[:8])
