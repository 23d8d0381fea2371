"""`drgero demo` end to end: a fresh `drgero serve`, then the demo's 30 questions x 2 local candidates
judged by the local model, timed from the command's start to its ranking (the model's start included).

Calls per second count every chat completion the local llama.cpp server answered during the run
(candidates, judge verdicts and the judge's retries), from the server's own log, over the run's
wall time (created to finished, as the run records them). On this 2-core machine the figure moves
with whatever else runs on it: the load average is printed beside it, and so is the CPU time the
model server and `drgero serve` spent, which does not (on an idle core the model's part of the wall
time is about its CPU time, as it runs one thread).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

DRGERO = Path(sys.executable).with_name("drgero")
TIMING = re.compile(r"^\S+ I slot print_timing: .*\|\s+eval time =\s+[\d.]+ ms /\s+(\d+) tokens", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        process = subprocess.Popen([str(DRGERO), "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"drgero serve did not start: {log.read_text()[-2000:]}")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process (from /proc, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


async def run() -> str:
    with tempfile.TemporaryDirectory() as home:
        data = Path(home, "data")
        env = {**os.environ, "DRGERO_DATA_DIR": str(data), "PORT": str(_free_port()), "DRGERO_BACKEND": "embedded"}
        base = f"http://127.0.0.1:{env['PORT']}"
        server = _serve(env, Path(home, "serve.log"))
        try:
            load = os.getloadavg()[0]
            started = time.perf_counter()
            done = subprocess.run([str(DRGERO), "demo", "--poll-seconds", "0.5"], env={**env, "API_BASE": base},
                                  capture_output=True, text=True, timeout=1800, check=False)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"drgero demo failed: {done.stderr[-2000:]}")
            token = re.search(r"DRGERO_TOKEN=(drgero_\S+)", done.stdout)[1]
            run_path = re.search(r"/api/leaderboards/[0-9a-f-]+/runs/[0-9a-f-]+", done.stdout)[0]
            run = httpx.get(f"{base}{run_path}", headers={"Authorization": f"Bearer {token}"}).json()
            # CPU the work took, whatever else shared the machine: the wall time on an idle core is about this.
            model_cpu = sum(_cpu_seconds(child) for child in _children(server.pid))
            server_cpu = _cpu_seconds(server.pid)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        calls = [int(tokens) for tokens in TIMING.findall(
            "".join(log.read_text(errors="replace") for log in (data / "local-models").glob("*.log")))]
    run_seconds = _seconds_between(run["created_at"], run["finished_at"])
    ranking = ", ".join(f"{entry['mean_score']:.2f}" for entry in run["ranking"])
    return (f"demo: `drgero demo` end to end {seconds:.1f} s (load average {load:.1f} on {os.cpu_count()} cores)\n"
            f"  run {run_seconds:.1f} s: {len(calls)} local model calls, {len(calls) / run_seconds:.2f} calls/s, "
            f"{sum(calls) / run_seconds:.1f} generated tokens/s; mean judge scores {ranking}\n"
            f"  CPU: the model server {model_cpu:.1f} s ({len(calls) / model_cpu:.2f} calls per CPU second), "
            f"drgero serve {server_cpu:.1f} s")


if __name__ == "__main__":
    print(asyncio.run(run()))
