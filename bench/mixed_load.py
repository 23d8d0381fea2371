"""Mixed load on `drgero serve`: single-row pushes and inference at concurrency 64 for a fixed time.

The server is what `make serve` runs (embedded SQLite, files, in-process queue) with its
chosen model on a minimal OpenAI-compatible upstream in Node (upstream.mjs, answering at
once): the tests' Python upstream saturates first on a two-core machine and would measure
itself instead of the gateway.
The Node client (mixed.mjs) alternates pushes and inference calls, then the benchmark
checks the books through the API: the leaderboard's push quota counters and pending rows
must equal the rows the client saw accepted, and the trace count must equal the inference
calls that were answered.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.gateway import chosen_leaderboard, start_server

CONCURRENCY, SECONDS, PUSH_SHARE = 64, 20, 0.5
MIXED = Path(__file__).with_name("mixed.mjs")
UPSTREAM = Path(__file__).with_name("upstream.mjs")
SCOPES = ["leaderboards:read", "leaderboards:write", "inference", "traces:read"]
LIMITS = {"daily_event_limit": 10_000_000, "monthly_event_limit": 300_000_000,
          "consolidate_every_events": 1_000_000, "max_samples_to_gather": 1_000_000}


def _books(base: str, board: str, token: str, answered: int) -> tuple[dict, int]:
    """The push status and the trace count, once the traces written after each response have landed."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        traces, settled = -1, time.monotonic() + 30
        while time.monotonic() < settled:
            traces = http.get(f"/v1/leaderboard/{board}/traces", params={"limit": 1}).json()["count"]
            if traces >= answered:
                break
            time.sleep(0.2)
        return http.get(f"/v1/leaderboard/{board}/dataset/status").json(), traces


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / max(1, whole):.2f}%"


async def run() -> str:
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as home:
        try:
            upstream_process = subprocess.Popen(["node", str(UPSTREAM)], stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL, text=True)
            processes.append(upstream_process)
            upstream = upstream_process.stdout.readline().strip()
            board, token = await chosen_leaderboard(home, upstream, SCOPES, **LIMITS)
            server, port = start_server(home)
            processes.append(server)
            base = f"http://127.0.0.1:{port}"
            done = await asyncio.to_thread(subprocess.run, [
                "node", str(MIXED), str(port), board, token, str(CONCURRENCY), str(SECONDS), str(PUSH_SHARE)],
                capture_output=True, text=True, check=True)
            report = json.loads(done.stdout)
            push, inference = report["push"], report["inference"]
            answered = sum(count for status, count in inference["statuses"].items() if status.isdigit())
            status, traces = await asyncio.to_thread(_books, base, board, token, answered)
            total = push["requests"] + inference["requests"]
            errors = sum(count for kind in (push, inference) for status, count in kind["statuses"].items()
                         if not status.startswith("2"))
            used = status["quota"]["used_today"]
            quota_ok = used == status["quota"]["used_this_month"] == status["pending_events"] == push["accepted"]
            return "\n".join([
                f"mixed load: c={CONCURRENCY}, {report['seconds']:.1f} s, {PUSH_SHARE:.0%} single-row pushes, "
                f"the rest inference (upstream answers at once)",
                f"  throughput {total / report['seconds']:.0f} req/s, errors {errors} ({_percent(errors, total)})",
                f"  push       {push['requests']} req, p50 {push['p50_ms']:.1f} ms, p99 {push['p99_ms']:.1f} ms,"
                f" statuses {push['statuses']}",
                f"  inference  {inference['requests']} req, p50 {inference['p50_ms']:.1f} ms,"
                f" p99 {inference['p99_ms']:.1f} ms, statuses {inference['statuses']}",
                f"  books      rows accepted {push['accepted']} = quota used today and this month {used}"
                f" = pending {status['pending_events']}: {'exact' if quota_ok else 'MISMATCH'};"
                f" traces {traces} = inference answered {answered}: {'exact' if traces == answered else 'MISMATCH'}",
            ])
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)


if __name__ == "__main__":
    print(asyncio.run(run()))
