"""`drgero demo`: a real evaluation on this machine, with no provider key and no network.

It asks the server at API_BASE for a leaderboard of 30 short questions shipped with Dr.Gero,
two candidates that are the same small local model sampled two ways (greedy, and hot enough
to wander), and the same model as the judge; runs it with a progress bar and prints the ranking.

The token: a server lets nobody create a workspace or a token over HTTP without a signed-in
admin, and the demo does not open a way around that. Like `drgero token create` (which the
README has people run while the server runs), it writes the workspace and token straight into
the store the server reads, so it only does so for a server on this machine (loopback), run
with the same settings (the same `DRGERO_DATA_DIR`). Against any other server, pass a token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx

from functions.cli_run import follow, ranking_table
from shared.domain.urls import literal_address

DEFAULT_API_BASE = "http://127.0.0.1:8080"
WORKSPACE = "demo"
PROMPT = "Answer the question with only the answer: a word, a name or a number.\n\nQuestion: {input}\nAnswer:"
# Same weights, two samplings: greedy picks the likeliest answer, 1.8 lets unlikely words in.
# max_tokens caps each answer: a short question needs a short answer, and CPU time is the budget.
CANDIDATES = (("SmolLM2 135M, greedy", "smollm2-135m?temperature=0&max_tokens=16"),
              ("SmolLM2 135M, temperature 1.8", "smollm2-135m?temperature=1.8&max_tokens=16"))
# The judge's verdict is a short JSON object; the cap keeps a rambling one from costing minutes.
JUDGE = "smollm2-135m?max_tokens=48"
SMALL_JUDGE_NOTE = ("A 135M model is a weak judge: these scores show the pieces working together, not which "
                    "model is best.\nFor real decisions name a stronger judge (OpenRouter, Custom, or a bigger GGUF "
                    "the operator allows in DRGERO_LOCAL_MODEL_PATHS).")


def add_parser(commands: Any) -> None:
    demo = commands.add_parser("demo", help="evaluate two local models with a local judge, offline")
    demo.add_argument("--api-base", default=os.environ.get("API_BASE", DEFAULT_API_BASE))
    demo.add_argument("--token", default=os.environ.get("DRGERO_TOKEN"),
                      help="an API token with every scope (default: $DRGERO_TOKEN, else one is created)")
    demo.add_argument("--questions", type=int, default=30, help="how many of the 30 questions to ask")
    demo.add_argument("--poll-seconds", type=float, default=1.0)


def questions(limit: int) -> list[dict[str, str]]:
    """The bundled questions (short facts and arithmetic, each with its answer)."""
    text = resources.files("functions").joinpath("demo_questions.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()][:limit]


def demo_command(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    base = args.api_base.rstrip("/")
    if not _answers(base):
        print(f"No Dr.Gero server answers at {base}. Start one in another terminal with\n\n"
              "    make serve            (or: .venv/bin/drgero serve)\n\n"
              "then run the demo again (API_BASE or --api-base to point it elsewhere).", file=err)
        return 1
    token = args.token or _local_token(base, err)
    if token is None:
        return 1
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        try:
            return _demo(http, base, token, args, out, err)
        except _Refused as refused:
            print(f"error: {refused}", file=err)
            return 1


class _Refused(Exception):
    """The server said no; the message is its own."""


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _is_loopback(base: str) -> bool:
    host = (urlsplit(base).hostname or "").lower()
    address = literal_address(host)
    return host == "localhost" or (address is not None and address.is_loopback)


def _local_token(base: str, err: TextIO) -> str | None:
    if not _is_loopback(base):
        print(f"error: {base} is not on this machine: pass --token (or set DRGERO_TOKEN) with a token of yours",
              file=err)
        return None
    # Only this path writes to the store (see the module's docstring), so only it loads the backends.
    from shared.config import Settings  # noqa: PLC0415

    settings = Settings()
    token = asyncio.run(_create_token(settings))
    print(f"Created an API token for workspace {WORKSPACE!r} in {settings.data_dir}", file=err)
    return token


async def _create_token(settings: Any) -> str:
    from shared.auth.scopes import parse_scopes  # noqa: PLC0415 - see _local_token
    from shared.bootstrap import build  # noqa: PLC0415
    from shared.services.api_tokens import create_api_token  # noqa: PLC0415
    from shared.services.workspaces import create_workspace, find_workspace  # noqa: PLC0415

    deps = build(settings)
    workspace = await find_workspace(deps, WORKSPACE) or await create_workspace(deps, WORKSPACE, None)
    token, _ = await create_api_token(deps, workspace.id, "demo", parse_scopes("all"), created_by="demo")
    return token


def _ok(response: httpx.Response) -> Any:
    if response.status_code == 401:
        raise _Refused("the server does not know this token: run the demo with the server's settings (the same "
                       "directory and DRGERO_DATA_DIR), or pass --token")
    if response.status_code >= 300:
        try:
            body = response.json()
            message = body.get("message") or body
        except ValueError:
            message = response.text[:300]
        raise _Refused(f"{response.request.method} {response.request.url.path} answered {response.status_code}: "
                       f"{message}")
    return response.json() if response.content else None


def _demo(http: httpx.Client, base: str, token: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rows = questions(args.questions)
    board = _ok(http.post("/api/leaderboards", json={
        "name": f"Demo: facts and arithmetic ({datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)", "system_prompt": PROMPT,
        "dataset_type": "PUSH", "eval_type": "judge", "judge_provider": "Local", "judge_model": JUDGE,
    }))["leaderboard"]
    leaderboard = f"/api/leaderboards/{board['id']}"
    _ok(http.post(f"/v1/leaderboard/{board['id']}/dataset/push", json={"rows": rows}))
    _ok(http.post(f"/v1/leaderboard/{board['id']}/dataset/consolidate"))
    for name, model in CANDIDATES:
        _ok(http.post(f"{leaderboard}/models", json={"name": name, "platform": "Local", "model_url": model}))
    print(f"Leaderboard {board['id']}: {len(rows)} questions, {len(CANDIDATES)} local candidates, "
          f"judged by {JUDGE.split('?')[0]} on this machine (the first call starts the model).", file=err)
    run = _ok(http.post(f"{leaderboard}/run", json={"run_source": "manual"}))
    run = follow(http, f"{base}{leaderboard}", run["id"], args.poll_seconds, err)
    if run["status"] != "completed":
        print(f"run {run['status']}: {run.get('error') or ''}", file=err)
        return 1
    print(ranking_table(run), file=out)
    scores = _judge_scores(http, leaderboard, run["id"])
    print(f"\nThe judge scored {len(scores)} of {len(rows) * len(CANDIDATES)} answers"
          + (f" (scores from {min(scores):.2f} to {max(scores):.2f})." if scores else "."), file=out)
    print(SMALL_JUDGE_NOTE, file=out)
    print(f"\nLeaderboard: {base}{leaderboard}\nRun:         {base}{leaderboard}/runs/{run['id']}\n"
          f"Console:     {base}/\n\nTo go on with curl:  export API_BASE={base} DRGERO_TOKEN={token}", file=out)
    return 0


def _judge_scores(http: httpx.Client, leaderboard: str, run_id: str) -> list[float]:
    results = http.get(f"{leaderboard}/runs/{run_id}/results")
    lines = [json.loads(line) for line in results.text.splitlines() if line.strip()] if results.is_success else []
    return [row["score"] for row in lines if row.get("status") == "scored" and row.get("score") is not None]
