"""Dataset items through HTTP on both backends: list, read, edit, soft delete, restore, and folding into versions.

The GCP side serves the same app from the Firestore and GCS emulators.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from functions.server import create_app
from shared.ports import Deps
from shared.services import push_datasets
from shared.services.tasks import runner
from tests.conftest import Workspaces
from tests.factories import push_leaderboard


@pytest.fixture
async def http(backend: Deps) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(backend))
    async with httpx.AsyncClient(transport=transport, base_url="http://drgero.test") as client:
        yield client


@pytest.fixture
async def api(backend: Deps) -> dict[str, str]:
    return await Workspaces(backend).headers(f"acme-{backend.ids.new_id()[:6]}")


async def _board(http, api, **settings) -> str:
    created = await http.post("/api/leaderboards", headers=api, json=push_leaderboard(**settings))
    assert created.status_code == 201, created.text
    return created.json()["leaderboard"]["id"]


async def _push(http, api, board: str, rows: list[dict]) -> dict:
    pushed = await http.post(f"/v1/leaderboard/{board}/dataset/push", headers=api, json={"rows": rows})
    assert pushed.status_code == 202, pushed.text
    return pushed.json()


async def _consolidate(http, api, board: str) -> dict:
    done = await http.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=api)
    assert done.status_code == 200, done.text
    return done.json()


async def _download(http, api, board: str) -> list[dict]:
    return [json.loads(line) for line in (await http.get(f"/v1/leaderboard/{board}/dataset", headers=api)).text.splitlines()]


def _items(board: str, item: str = "") -> str:
    return f"/v1/leaderboard/{board}/dataset/items" + (f"/{item}" if item else "")


ROWS = [{"id": "t-1", "input": "How do I cancel?", "expected": "From Billing.", "source": "support"},
        {"id": "t-2", "input": "Where is my invoice?", "expected": None, "source": "billing"},
        {"id": "t-3", "input": "Reset my password", "expected": "Use the link.", "source": "support"}]


async def test_an_edit_is_seen_at_once_by_item_reads_and_by_downloads_from_the_next_version(http, api):
    board = await _board(http, api)
    await _push(http, api, board, ROWS)
    assert (await _consolidate(http, api, board))["version"] == 1
    one = await http.get(_items(board, "t-1"), headers=api)
    assert one.status_code == 200, one.text
    assert one.headers["ETag"] == f'"{one.json()["version"]}"'
    assert (one.json()["state"], one.json()["edit_pending"], one.json()["golden"]) == ("consolidated", False, False)
    patched = await http.patch(_items(board, "t-1"), headers={**api, "If-Match": one.headers["ETag"]},
                               json={"expected": "Settings, then Billing.", "golden": True})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["expected"], patched.json()["golden"], patched.json()["edit_pending"]) == \
        ("Settings, then Billing.", True, True)
    assert (await http.get(_items(board, "t-1"), headers=api)).json() == patched.json()
    assert patched.json()["version"] != one.json()["version"]
    # The file is not rewritten per edit: the download is still version 1 as it was.
    assert [row["expected"] for row in await _download(http, api, board)][0] == "From Billing."
    stale = await http.patch(_items(board, "t-1"), headers={**api, "If-Match": one.headers["ETag"]},
                             json={"input": "lost update"})
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    folded = await _consolidate(http, api, board)
    assert (folded["changed"], folded["version"], folded["edited_rows"], folded["rows"]) == (True, 2, 1, 3)
    rows = await _download(http, api, board)
    assert [(row["id"], row["expected"], row.get("golden")) for row in rows] == [
        ("t-1", "Settings, then Billing.", True), ("t-2", None, None), ("t-3", "Use the link.", None)]
    after = (await http.get(_items(board, "t-1"), headers=api)).json()
    assert (after["edit_pending"], after["dataset_version"], after["version"]) == (False, 2, patched.json()["version"])
    assert (await _consolidate(http, api, board))["changed"] is False  # nothing left to fold


async def test_a_deleted_item_leaves_the_next_version_and_a_repush_stays_out_until_restored(http, api):
    board = await _board(http, api)
    await _push(http, api, board, ROWS)
    await _consolidate(http, api, board)
    deleted = await http.delete(_items(board, "t-2"), headers=api)
    assert deleted.status_code == 200 and deleted.json()["deleted_at"]
    listed = (await http.get(_items(board), headers=api)).json()
    assert [item["id"] for item in listed["data"]] == ["t-1", "t-3"] and listed["pending_edits"] == 1
    only = (await http.get(_items(board), headers=api, params={"deleted": "only"})).json()
    assert [item["id"] for item in only["data"]] == ["t-2"]
    folded = await _consolidate(http, api, board)
    assert (folded["version"], folded["rows"], folded["deleted_rows"]) == (2, 2, 1)
    assert [row["id"] for row in await _download(http, api, board)] == ["t-1", "t-3"]
    still = (await http.get(_items(board, "t-2"), headers=api)).json()
    assert (still["deleted_at"], still["edit_pending"]) == (deleted.json()["deleted_at"], False)
    await _push(http, api, board, [{"id": "t-2", "input": "Where is my invoice, again?"}])
    repushed = await _consolidate(http, api, board)
    assert (repushed["rows"], repushed["deduplicated_rows"]) == (2, 1)
    assert [row["id"] for row in await _download(http, api, board)] == ["t-1", "t-3"]
    restored = await http.post(_items(board, "t-2") + "/restore", headers=api)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    back = await _consolidate(http, api, board)
    assert (back["rows"], back["deleted_rows"]) == (3, 0)
    rows = await _download(http, api, board)
    assert [(row["id"], row["input"]) for row in rows][-1] == ("t-2", "Where is my invoice?")
    assert "deleted_at" not in rows[-1]
    status = (await http.get(f"/v1/leaderboard/{board}/dataset/status", headers=api)).json()
    assert (status["dataset_version"], status["deleted_rows"], status["pending_edits"]) == (4, 0, 0)


async def test_without_dedupe_a_deleted_row_still_never_comes_back_by_a_push(http, api):
    board = await _board(http, api, dedupe=False)
    await _push(http, api, board, [{"input": "my card is 4111 1111"}, {"input": "fine row"}])
    await _consolidate(http, api, board)
    secret = (await http.get(_items(board), headers=api, params={"search": "4111"})).json()["data"][0]
    await http.delete(_items(board, secret["id"]), headers=api)
    await _push(http, api, board, [{"input": "my card is 4111 1111"}])
    folded = await _consolidate(http, api, board)
    assert (folded["rows"], folded["deleted_rows"], folded["deduplicated_rows"]) == (1, 1, 1)
    assert [row["input"] for row in await _download(http, api, board)] == ["fine row"]


async def test_pending_rows_are_items_too_and_their_edits_land_with_them(http, api):
    board = await _board(http, api)
    pushed = await _push(http, api, board, [{"input": "no id yet", "ref_source_id": "evt-1",
                                             "ref_timestamp": "2026-01-02T03:04:05Z"}])
    [item] = (await http.get(_items(board), headers=api)).json()["data"]
    assert (item["id"], item["state"], item["ref_source_id"], item["ref_timestamp"]) == \
        (f"{pushed['batch_id']}-0", "pending", "evt-1", "2026-01-02T03:04:05Z")
    edited = await http.patch(_items(board, item["id"]), headers=api, json={"version": item["version"],
                                                                            "metadata": {"reviewed": True}})
    assert edited.status_code == 200 and edited.json()["metadata"] == {"reviewed": True}
    folded = await _consolidate(http, api, board)
    assert (folded["merged_rows"], folded["edited_rows"]) == (1, 1)
    [row] = await _download(http, api, board)
    assert (row["id"], row["metadata"], row["ref_source_id"]) == (item["id"], {"reviewed": True}, "evt-1")


async def test_the_list_filters_searches_orders_and_pages(http, api):
    board = await _board(http, api)
    await _push(http, api, board, ROWS)
    await _consolidate(http, api, board)
    await http.patch(_items(board, "t-3"), headers=api, json={"golden": True})

    async def ids(**params) -> list[str]:
        answer = await http.get(_items(board), headers=api, params=params)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["data"]]

    assert await ids(search="BILLING") == ["t-1"]  # the expected answer, any case
    assert await ids(search="password") == ["t-3"]
    assert await ids(golden="true") == ["t-3"] and await ids(golden="false") == ["t-1", "t-2"]
    assert await ids(source="support") == ["t-1", "t-3"]
    assert await ids(has_expected="false") == ["t-2"]
    assert await ids(order_by="-id") == ["t-3", "t-2", "t-1"] and await ids(order_by="-position") == ["t-3", "t-2", "t-1"]
    assert await ids(pushed_after="2000-01-01T00:00:00Z") == ["t-1", "t-2", "t-3"]
    assert await ids(pushed_before="2000-01-01") == []
    first = (await http.get(_items(board), headers=api, params={"limit": 2})).json()
    assert ([item["id"] for item in first["data"]], first["has_more"], first["count"]) == (["t-1", "t-2"], True, None)
    rest = (await http.get(_items(board), headers=api, params={"limit": 2, "offset": 2})).json()
    assert ([item["id"] for item in rest["data"]], rest["has_more"], rest["count"]) == (["t-3"], False, 3)
    for bad in ({"limit": 201}, {"order_by": "input"}, {"pushed_after": "yesterday"},
                {"order_by": "id", "offset": 9990, "limit": 50}):
        refused = await http.get(_items(board), headers=api, params=bad)
        assert refused.status_code == 422 and refused.json()["error"], bad


async def test_bad_edits_and_unknown_items_are_4xx(http, api):
    board = await _board(http, api)
    await _push(http, api, board, ROWS)
    await _consolidate(http, api, board)
    for body in ({}, {"version": "x"}, {"input": None}, {"input": ""}, {"golden": None}, {"unknown": 1},
                 {"metadata": {"big": "x" * 20_000}}, {"expected": 3}):
        refused = await http.patch(_items(board, "t-1"), headers=api, json=body)
        assert refused.status_code == 422 and refused.json()["error"], body
    broken = await http.patch(_items(board, "t-1"), headers={**api, "Content-Type": "application/json"},
                              content=b'{"input": ')
    assert broken.status_code == 400
    for method, path in (("GET", _items(board, "nope")), ("PATCH", _items(board, "nope")),
                         ("DELETE", _items(board, "nope")), ("POST", _items(board, "nope") + "/restore")):
        missing = await http.request(method, path, headers=api, json={"golden": True} if method == "PATCH" else None)
        assert missing.status_code == 404 and missing.json()["error"] == "not_found", (method, path)
    assert (await http.get(_items(board, "t-1"), headers={})).status_code == 401


async def test_another_workspace_sees_no_board_and_no_item(http, api, backend):
    board = await _board(http, api)
    await _push(http, api, board, ROWS)
    await _consolidate(http, api, board)
    other = await Workspaces(backend).headers(f"beta-{backend.ids.new_id()[:6]}")
    for method, path in (("GET", _items(board)), ("GET", _items(board, "t-1")), ("PATCH", _items(board, "t-1")),
                         ("DELETE", _items(board, "t-1")), ("POST", _items(board, "t-1") + "/restore")):
        answer = await http.request(method, path, headers=other, json={"golden": True} if method == "PATCH" else None)
        assert answer.status_code == 404 and answer.json()["error"] == "not_found", (method, path)
    assert (await http.get(_items(board, "t-1"), headers=api)).json()["golden"] is False


async def test_reading_needs_the_read_scope_and_editing_the_write_scope(http, api, backend):
    board = await _board(http, api)
    await _push(http, api, board, ROWS)
    await _consolidate(http, api, board)
    tenants = Workspaces(backend)
    name = f"gamma-{backend.ids.new_id()[:6]}"
    reader = await tenants.headers(name, scopes=("leaderboards:read",))
    board_of_gamma = await _board(http, await tenants.headers(name), )
    await _push(http, await tenants.headers(name), board_of_gamma, ROWS)
    assert (await http.get(_items(board_of_gamma, "t-1"), headers=reader)).status_code == 200
    refused = await http.patch(_items(board_of_gamma, "t-1"), headers=reader, json={"golden": True})
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"


# --- how edits are batched into versions (embedded: a stepped clock and the in-process worker) -----------------

async def test_edits_made_within_the_fold_delay_land_in_one_new_version(client, auth, deps, monkeypatch):
    monkeypatch.setattr(push_datasets, "EDIT_FOLD_SECONDS", 0.3)
    board = await _board(client, auth)
    await _push(client, auth, board, ROWS)
    await _consolidate(client, auth, board)
    deps.queue.start(runner(deps))  # the test client runs no lifespan, so start the worker here
    try:
        for item in ("t-1", "t-2", "t-3"):
            assert (await client.patch(_items(board, item), headers=auth, json={"golden": True})).status_code == 200
        assert (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()["dataset_version"] == 1
        await asyncio.sleep(0.5)
        await deps.queue.drain()
    finally:
        await deps.queue.stop()
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert (status["dataset_version"], status["pending_edits"]) == (2, 0)  # one fold for the three edits
    assert [row.get("golden") for row in await _download(client, auth, board)] == [True, True, True]


async def test_consolidate_due_folds_edits_the_queue_did_not(client, auth, deps, clock):
    board = await _board(client, auth, consolidate_every_events=100, consolidate_every_hours=24)
    await _push(client, auth, board, ROWS)
    await _consolidate(client, auth, board)
    await client.delete(_items(board, "t-1"), headers=auth)
    url, cron = "/api/push-datasets/consolidate-due", {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}
    assert (await client.post(url, headers=cron)).json() == {"consolidated": []}  # within the fold delay
    clock.advance(seconds=push_datasets.EDIT_FOLD_SECONDS + 1)
    [done] = (await client.post(url, headers=cron)).json()["consolidated"]
    assert (done["leaderboard_id"], done["reason"], done["version"], done["rows"], done["deleted_rows"]) == \
        (board, "edits", 2, 2, 1)
    assert (await client.post(url, headers=cron)).json() == {"consolidated": []}


async def test_an_archived_leaderboard_keeps_its_items_readable_but_not_editable(client, auth):
    board = await _board(client, auth)
    await _push(client, auth, board, ROWS)
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"status": "archived"})
    assert (await client.get(_items(board, "t-1"), headers=auth)).status_code == 200
    refused = await client.patch(_items(board, "t-1"), headers=auth, json={"golden": True})
    assert refused.status_code == 409 and refused.json()["error"]
