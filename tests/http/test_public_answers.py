"""Answers carry what their schema declares and nothing else: no sealed secret, no bookkeeping."""

from __future__ import annotations

from tests.factories import openrouter_candidate, push_leaderboard

SCHEDULE = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "DAILY"}}}
INTERNAL = ("token_sealed", "schedule_due", "schedule_rows_seen", "schedule_model_versions", "workspace_id",
            "latest_ranking")


async def test_candidates_and_leaderboards_never_show_sealed_tokens_or_bookkeeping(client, tenants):
    writer = await tenants.headers("acme")
    reader = await tenants.headers("acme", scopes=("leaderboards:read",))
    board = (await client.post("/api/leaderboards", json=push_leaderboard(schedule=SCHEDULE),
                               headers=writer)).json()["leaderboard"]["id"]
    added = await client.post(f"/api/leaderboards/{board}/models", headers=writer,
                              json=openrouter_candidate(token="sk-or-secret-value-1234"))
    answers = [added,
               await client.get(f"/api/leaderboards/{board}/models", headers=reader),
               await client.get(f"/api/leaderboards/{board}", headers=reader),
               await client.get("/api/leaderboards", headers=reader)]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        for name in INTERNAL:
            assert f'"{name}"' not in answer.text, (name, answer.request.url)
        assert "sk-or-secret-value" not in answer.text
    assert added.json()["token"].endswith("1234") and added.json()["has_token"] is True
