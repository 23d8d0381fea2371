"""What the gateway adds to a provider's latency: /inference minus calling the upstream directly.

An OpenAI-compatible upstream that answers at once (the tests' server, in its own
process); a real `drgero serve` whose leaderboard's chosen model is that upstream; the
same Node client measuring p50/p99 at concurrency 1 and 16 directly, through Dr.Gero and,
when LiteLLM's proxy is installed (`$LITELLM_BIN`, e.g. a venv with `litellm[proxy]`),
through LiteLLM configured with the same upstream. Rounds alternate so noise hits all alike.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.push import _free_port
from shared.bootstrap import build
from shared.config import Settings
from shared.schemas.candidates import CandidateCreate
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardUpdate
from shared.services.api_tokens import create_api_token
from shared.services.candidates import add_candidate
from shared.services.leaderboards import create_leaderboard, update_leaderboard
from shared.services.workspaces import create_workspace

ROOT = Path(__file__).resolve().parents[1]
LATENCY = Path(__file__).with_name("latency.mjs")
REQUESTS = {1: 1000, 16: 4000}
CHAT = {"model": "local", "messages": [{"role": "user", "content": "ping"}]}


def _measure(url: str, body: dict, token: str, concurrency: int) -> dict:
    done = subprocess.run(["node", str(LATENCY), url, json.dumps(body), token, str(REQUESTS[concurrency]),
                           str(concurrency)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _wait(url: str, process: subprocess.Popen) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def chosen_leaderboard(home: str, upstream: str, scopes: list[str], **fields: object) -> tuple[str, str]:
    """A PUSH leaderboard whose chosen model is the upstream's echo, and a token with these scopes."""
    deps = build(Settings(_env_file=None, data_dir=Path(home), allow_private_urls=True))
    workspace = await create_workspace(deps, "bench")
    token, _ = await create_api_token(deps, workspace.id, "bench", scopes)
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
        {"name": "gateway", "system_prompt": "{input}", "dataset_type": "PUSH", **fields}))
    candidate = await add_candidate(deps, workspace.id, board.id, CandidateCreate.model_validate(
        {"name": "upstream", "platform": "Custom", "model_url": f"{upstream}/m/echo/v1"}))
    await update_leaderboard(deps, workspace.id, board.id,
                             LeaderboardUpdate.model_validate({"chosen_leaderboard_model_id": candidate.id}))
    return board.id, token


def start_server(home: str) -> tuple[subprocess.Popen, int]:
    """`drgero serve` on a free port with its data in `home` and models on loopback allowed, once healthy."""
    port = _free_port()
    env = {**os.environ, "DRGERO_DATA_DIR": home, "PORT": str(port), "DRGERO_TICKER_SECONDS": "0",
           "DRGERO_ALLOW_PRIVATE_URLS": "true"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("drgero")), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(f"http://127.0.0.1:{port}/healthz", server)
    return server, port


def _litellm(upstream: str, work: str) -> tuple[subprocess.Popen, str, str] | None:
    binary = os.environ.get("LITELLM_BIN")
    if not binary or not Path(binary).exists():
        return None
    config = Path(work, "litellm.yaml")
    config.write_text(f"model_list:\n  - model_name: local\n    litellm_params:\n      model: openai/local\n"
                      f"      api_base: {upstream}/m/echo/v1\n      api_key: local\n")
    port, key = _free_port(), "sk-" + secrets.token_hex(32)
    process = subprocess.Popen([binary, "--config", str(config), "--port", str(port), "--num_workers", "1"],
                               env={**os.environ, "LITELLM_MASTER_KEY": key, "LITELLM_LOG": "ERROR"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(f"http://127.0.0.1:{port}/health/liveliness", process)
    return process, f"http://127.0.0.1:{port}/chat/completions", key


async def run() -> str:
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as home:
        try:
            upstream_process = subprocess.Popen([sys.executable, "-m", "tests.upstream", "0"], cwd=ROOT,
                                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            processes.append(upstream_process)
            upstream = upstream_process.stdout.readline().strip()
            board, token = await chosen_leaderboard(home, upstream, ["inference"])
            server, port = start_server(home)
            processes.append(server)
            litellm = _litellm(upstream, home)
            if litellm:
                processes.append(litellm[0])
            targets = {"direct": (f"{upstream}/m/echo/v1/chat/completions", CHAT, "none"),
                       "drgero": (f"http://127.0.0.1:{port}/v1/leaderboard/{board}/inference", {"input": "ping"},
                                  token)}
            if litellm:
                targets["litellm"] = (litellm[1], CHAT, litellm[2])
            lines = ["gateway: added latency = through the gateway - direct to the upstream (answers at once)"]
            for concurrency in (1, 16):
                for url, body, key in targets.values():  # warm every path first
                    _measure(url, body, key, concurrency)
                results = {name: _measure(url, body, key, concurrency) for name, (url, body, key) in targets.items()}
                direct = results["direct"]
                line = f"  c={concurrency:<3} direct p50 {direct['p50_ms']:.2f} ms p99 {direct['p99_ms']:.2f} ms"
                for name in ("drgero", "litellm"):
                    if name in results:
                        added50 = results[name]["p50_ms"] - direct["p50_ms"]
                        added99 = results[name]["p99_ms"] - direct["p99_ms"]
                        line += f" | {name} +{added50:.2f} ms p50, +{added99:.2f} ms p99"
                if "litellm" in results:
                    ratio = (results["drgero"]["p50_ms"] - direct["p50_ms"]) / \
                        max(1e-9, results["litellm"]["p50_ms"] - direct["p50_ms"])
                    line += f" | drgero/litellm added p50 {ratio:.2f}x"
                lines.append(line)
            return "\n".join(lines)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)
