"""`drgero run LEADERBOARD_ID [--wait]`: start a run through the API and follow its progress."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, TextIO

import httpx

BAR_WIDTH = 30


def add_parser(commands: Any) -> None:
    run = commands.add_parser("run", help="start a leaderboard run through the API (and wait for its ranking)")
    run.add_argument("leaderboard_id")
    run.add_argument("--wait", action="store_true", help="show progress until the ranking is ready")
    run.add_argument("--model", dest="model_ids", action="append", help="a candidate id (repeatable; default all)")
    run.add_argument("--api-base", default=os.environ.get("API_BASE", "http://127.0.0.1:8080"))
    run.add_argument("--token", default=os.environ.get("DRGERO_TOKEN"), help="API token (default $DRGERO_TOKEN)")
    run.add_argument("--poll-seconds", type=float, default=1.0)


def bar(percent: float) -> str:
    filled = int(BAR_WIDTH * percent / 100)
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + f"] {percent:5.1f}%"


def ranking_table(run: dict[str, Any]) -> str:
    names = {c["id"]: c["name"] for c in run["candidates"]}
    lines = [f"{'rank':>4}  {'candidate':<28} {'score':>6} {'95% CI':>15} {'fails':>5} {'p50 ms':>8}  tie"]
    for entry in run.get("ranking") or []:
        ci = entry["ci95"]
        lines.append(
            f"{entry['rank']:>4}  {names.get(entry['candidate_id'], entry['candidate_id'])[:28]:<28} "
            f"{(entry['mean_score'] or 0):>6.3f} {(f'{ci[0]:.3f}-{ci[1]:.3f}' if ci else '-'):>15} "
            f"{entry['failures']:>5} {(entry['latency_ms_p50'] or 0):>8.0f}  {'=' if entry['tied_with_leader'] else ''}")
    return "\n".join(lines)


def follow(http: httpx.Client, base: str, run_id: str, poll_seconds: float, err: TextIO) -> dict[str, Any]:
    """Poll the run, drawing its progress bar on `err`, until it stops; the run as it ended."""
    started = time.monotonic()
    while True:
        run = http.get(f"{base}/runs/{run_id}").raise_for_status().json()
        progress = run["progress"]
        # The rows of a chunk count when the chunk ends, so the seconds show it is moving meanwhile.
        print(f"\r{bar(progress['percent'])} {progress['rows_done']}/{progress['rows_total']} rows "
              f"({run['status']}, {time.monotonic() - started:.0f} s)", end="", file=err, flush=True)
        if run["status"] in ("completed", "failed", "cancelled", "awaiting_human"):
            print(file=err)
            return run
        time.sleep(poll_seconds)


def run_command(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if not args.token:
        print("error: pass --token or set DRGERO_TOKEN", file=err)
        return 2
    base = f"{args.api_base.rstrip('/')}/api/leaderboards/{args.leaderboard_id}"
    with httpx.Client(headers={"Authorization": f"Bearer {args.token}"}, timeout=30) as http:
        body = {"run_source": "manual", **({"model_ids": args.model_ids} if args.model_ids else {})}
        started = http.post(f"{base}/run", json=body)
        if started.status_code != 202:
            print(f"error: {started.status_code} {started.text}", file=err)
            return 1
        run = started.json()
        print(run["id"], file=out)
        if not args.wait:
            return 0
        run = follow(http, base, run["id"], args.poll_seconds, err)
    if run["status"] != "completed":
        print(f"run {run['status']}: {run.get('error') or ''}", file=err)
        return 0 if run["status"] == "awaiting_human" else 1
    print(ranking_table(run), file=out)
    return 0
