"""What a gateway adds to a provider's latency, and what it costs in CPU, under open-loop load.

The upstream is `upstream.mjs`, a Node OpenAI-compatible server answering every chat completion
after UPSTREAM_DELAY_MS (a timer, so it waits for any number of calls side by side and spends
little CPU). Four targets are called with the same body, `{"model", "messages"}`, on the same
endpoint shape:

- direct: the upstream's own `/chat/completions`;
- drgero: `POST /v1/leaderboard/{id}/chat/completions` on a real `drgero serve` (the embedded
  default, started as `start_server` does, with its logging as it ships: uvicorn's access log
  at info, written to /dev/null), whose leaderboard's chosen model is the upstream;
- litellm: LiteLLM's proxy `/chat/completions` with a master key and no database, one worker,
  the same upstream (`$LITELLM_BIN`, or `bench/.litellm-venv`, which `make bench` installs;
  skipped when neither is there or it does not start); it starts offline
  (LITELLM_LOCAL_MODEL_COST_MAP), logs as it ships with LITELLM_LOG=ERROR, and runs on
  whatever its own dependencies bring;
- floor: `bench.floor`'s `/chat/completions`, a bare Starlette route under the same uvicorn
  options that forwards the body with aiohttp and answers what the upstream said: the least a
  gateway on this stack can spend per call, so Dr.Gero's CPU per answer over the floor's is
  what its auth, routing, trace, spend and budget work cost.

Each target must answer one call before the ladder starts. The load is `openloop.mjs`: requests
due at a fixed offered rate, sent whether or not earlier ones were answered, over keep-alive
connections with no pool limit; each step is WARMUP_S seconds unrecorded then MEASURE_S
recorded, and a request's latency runs from its due time, so a server that falls behind shows
it as latency rather than as a slower client. At every rate of RATES each target gets one step,
in an order that flips from one rate to the next (drgero, litellm, direct; then direct,
litellm, drgero; ...), so drift hurts both gateways alike; before each step the servers are
left to go idle, so one step's backlog does not bill the next.

One row per rate and target: the rate achieved (2xx answers received per second of the
window), p50 and p99 of the 2xx answers among the requests due in the window, and for a gateway
what it adds (its p50 and p99 minus direct's at the same rate), the share of those requests
that failed (non-2xx, connection errors, no answer within TIMEOUT_MS) by kind, and its CPU: the
user + system CPU time of the server process and its live descendants (/proc) during the
window, per answer received in it (of any status) and as cores, and how much of the window its
main thread (the event loop) spent ready to run but waiting for a CPU (/proc/PID/schedstat):
high means the machine, not the server, set the pace. Then the highest rate each held
(achieved >= 98% of offered, failed < 1%), Dr.Gero's CPU per answer over LiteLLM's at each
rate, and the steps where the load generator itself fell behind its schedule. Load generator,
upstream and servers share the machine's cores, so the absolute numbers are this machine's
(and its other load's: the report gives the load average at the start and the end); the
comparisons are side by side. `DRGERO_BENCH_QUICK=1` runs a short
smoke version (two rates, 1 s + 3 s steps).
"""

from __future__ import annotations

import asyncio
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

QUICK = os.environ.get("DRGERO_BENCH_QUICK", "") not in ("", "0")
RATES = (50, 500) if QUICK else (50, 200, 500, 1000, 1200, 1500)  # offered requests per second
WARMUP_S, MEASURE_S = (1, 3) if QUICK else (5, 15)
UPSTREAM_DELAY_MS = 200
TIMEOUT_MS = 10_000
HELD_ACHIEVED, HELD_ERRORS = 0.98, 0.01

HERE = Path(__file__).resolve().parent
OPENLOOP, UPSTREAM = HERE / "openloop.mjs", HERE / "upstream.mjs"
LITELLM_VENV = HERE / ".litellm-venv"
CHAT = {"model": "local", "messages": [{"role": "user", "content": "ping"}]}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _wait(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
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


def _litellm_binary() -> Path | None:
    configured = os.environ.get("LITELLM_BIN")
    binary = Path(configured) if configured else LITELLM_VENV / "bin" / "litellm"
    return binary if binary.exists() else None


def _litellm_version(binary: Path) -> str:
    python = binary.with_name("python")
    if not python.exists():
        return "unknown version"
    done = subprocess.run([str(python), "-c", "from importlib.metadata import version; print(version('litellm'))"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "unknown version"


def _litellm(binary: Path, upstream: str, work: str, processes: list[subprocess.Popen]
             ) -> tuple[subprocess.Popen, str, str]:
    config = Path(work, "litellm.yaml")
    config.write_text(f"model_list:\n  - model_name: local\n    litellm_params:\n      model: openai/local\n"
                      f"      api_base: {upstream}/m/echo/v1\n      api_key: local\n")
    port, key = _free_port(), "sk-" + secrets.token_hex(32)
    # The local cost map: otherwise it fetches the model price list from the network at start.
    env = {**os.environ, "LITELLM_MASTER_KEY": key, "LITELLM_LOG": "ERROR", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    process = subprocess.Popen([str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                                "--num_workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(process)
    _wait(f"http://127.0.0.1:{port}/health/liveliness", process, seconds=180)
    return process, f"http://127.0.0.1:{port}/chat/completions", key


def _cpu_seconds(root: int) -> float:
    """User + system CPU time of a process and of its live descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after the command name, which may hold spaces
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def _cpu_wait_seconds(pid: int) -> float:
    """How long the process's main thread (the event loop) has been ready to run but waiting for a
    CPU: the second field of /proc/PID/schedstat, in nanoseconds."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _settle(pids: list[int], seconds: float = 30) -> None:
    """Wait until the servers are idle (under 5% of a core over half a second), so one step's
    backlog does not bill the next."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = sum(_cpu_seconds(pid) for pid in pids)
        time.sleep(0.5)
        if sum(_cpu_seconds(pid) for pid in pids) - before < 0.025:
            return


def _step(url: str, token: str, rate: int, server: int | None) -> dict:
    """One open-loop step against `url`, with the server's CPU time over the measured window."""
    load = subprocess.Popen(["node", str(OPENLOOP), url, json.dumps(CHAT), token, str(rate), str(WARMUP_S),
                             str(MEASURE_S), str(TIMEOUT_MS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    marks: list[tuple[float, float]] = []
    report: dict | None = None
    for line in load.stdout:
        if line.strip() in ("warm", "measured"):
            marks.append((_cpu_seconds(server), _cpu_wait_seconds(server)) if server else (0.0, 0.0))
        elif line.startswith("{"):
            report = json.loads(line)
    load.wait(timeout=60)
    if report is None or len(marks) != 2:
        raise RuntimeError(f"openloop.mjs failed: {load.stderr.read()}")
    cpu, waited = marks[1][0] - marks[0][0], marks[1][1] - marks[0][1]
    report["cpu_ms"] = cpu * 1000 / max(1, report["answered_in_window"]) if server else None
    report["cpu_cores"] = cpu / MEASURE_S if server else None
    report["cpu_wait"] = waited / MEASURE_S if server else None
    return report


def _held(result: dict) -> bool:
    return result["achieved_rps"] >= HELD_ACHIEVED * result["offered_rps"] and result["error_ratio"] < HELD_ERRORS


def _ms(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _added(got: dict, direct: dict, key: str) -> float | None:
    return got[key] - direct[key] if got[key] is not None and direct[key] is not None else None


def _report(results: dict[int, dict[str, dict]], names: list[str], logging: str,
            load: tuple[float, float]) -> str:
    lines = [
        f"gateway: open loop against an upstream answering in {UPSTREAM_DELAY_MS} ms; per rate and target "
        f"{WARMUP_S} s warm-up + {MEASURE_S} s measured, the order flipping each rate",
        f"  latency of the 2xx answers, from each request's due time; + = minus direct at that rate; failed = "
        f"non-2xx, connection errors, no answer in {TIMEOUT_MS / 1000:g} s",
        "  cpu = the server's, per answer and in cores; wait = share of the window its event loop was ready "
        "to run but had no CPU",
        f"  logging: {logging}",
        f"  machine: {os.cpu_count()} cores, 1-minute load average {load[0]:.1f} at the start and {load[1]:.1f} "
        f"at the end (every process on it counts, the benchmark's own included)",
        f"  {'req/s':>5}  {'target':<7} {'got/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'+p50':>7} {'+p99':>8} "
        f"{'failed':>7} {'cpu/req':>8} {'cores':>5} {'wait':>5}  failures",
    ]
    for rate, row in results.items():
        direct = row["direct"]
        for name in names:
            got = row[name]
            cpu = f"{got['cpu_ms']:.2f} ms" if got["cpu_ms"] is not None else "-"
            cores = f"{got['cpu_cores']:.2f}" if got["cpu_cores"] is not None else "-"
            wait = f"{got['cpu_wait']:.0%}" if got["cpu_wait"] is not None else "-"
            added = (_ms(_added(got, direct, "p50_ms"), True), _ms(_added(got, direct, "p99_ms"), True)) \
                if name != "direct" else ("", "")
            kinds = " ".join(f"{kind} x{count}" for kind, count in got["errors"].items())
            lines.append(f"  {rate:>5}  {name:<7} {got['achieved_rps']:>6.0f} {_ms(got['p50_ms']):>7} "
                         f"{_ms(got['p99_ms']):>7} {added[0]:>7} {added[1]:>8} {100 * got['error_ratio']:>6.2f}% "
                         f"{cpu:>8} {cores:>5} {wait:>5}  {kinds}".rstrip())
    held = []
    for name in names:
        rates = [rate for rate, row in results.items() if _held(row[name])]
        held.append(f"{name} {max(rates) if rates else 'none'}")
    lines.append(f"  highest rate held (achieved >= {HELD_ACHIEVED:.0%} of offered, failed < {HELD_ERRORS:.0%}): "
                 + ", ".join(held))
    ratios = [f"{rate}: {row['drgero']['cpu_ms'] / row['floor']['cpu_ms']:.2f}x"
              + ("" if _held(row["drgero"]) and _held(row["floor"]) else "*")
              for rate, row in results.items() if row["drgero"]["cpu_ms"] and row["floor"]["cpu_ms"]]
    lines.append("  CPU per answer, drgero/floor (a bare aiohttp forward on the same uvicorn options; target "
                 "<= 1.5x): " + ", ".join(ratios))
    if "litellm" in names:
        ratios = [f"{rate}: {row['drgero']['cpu_ms'] / row['litellm']['cpu_ms']:.2f}x"
                  + ("" if _held(row["drgero"]) and _held(row["litellm"]) else "*")
                  for rate, row in results.items() if row["drgero"]["cpu_ms"] and row["litellm"]["cpu_ms"]]
        lines.append("  CPU per answer, drgero/litellm: " + ", ".join(ratios)
                     + " (* = one side did not hold that rate, so many of its answers were cheap failures)")
    lagged = [f"{name} at {rate}" for rate, row in results.items() for name, got in row.items()
              if (got["send_lag_p99_ms"] or 0) > 50]
    if lagged:
        lines.append("  the load generator itself sent late (p99 > 50 ms behind schedule) for: " + ", ".join(lagged))
    return "\n".join(lines)


def _check(url: str, token: str) -> None:
    """One call first, so a target that cannot answer at all fails loudly instead of as 100% errors."""
    answer = httpx.post(url, json=CHAT, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if answer.status_code != 200 or "choices" not in answer.json():
        raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:300]}")


async def run() -> str:
    processes: list[subprocess.Popen] = []
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as home:
        try:
            upstream_process = subprocess.Popen(["node", str(UPSTREAM), str(UPSTREAM_DELAY_MS)],
                                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            processes.append(upstream_process)
            upstream = upstream_process.stdout.readline().strip()
            board, token = await chosen_leaderboard(home, upstream, ["inference"])
            server, port = start_server(home)
            processes.append(server)
            targets: dict[str, tuple[str, str, int | None]] = {
                "drgero": (f"http://127.0.0.1:{port}/v1/leaderboard/{board}/chat/completions", token, server.pid)}
            logging = "drgero as `drgero serve` ships (uvicorn access log at info, to /dev/null)"
            binary = _litellm_binary()
            if binary is None:
                logging += "; LiteLLM skipped (no $LITELLM_BIN, no bench/.litellm-venv: `make bench` installs it)"
            else:
                try:
                    litellm, url, key = _litellm(binary, upstream, home, processes)
                    targets["litellm"] = (url, key, litellm.pid)
                    logging += (f"; litellm {_litellm_version(binary)}, 1 worker, LITELLM_LOG=ERROR, its uvicorn "
                                f"access log on (to /dev/null)")
                except RuntimeError as exc:
                    logging += f"; LiteLLM skipped: {binary} did not start ({exc})"
            floor_port = _free_port()
            floor = subprocess.Popen([sys.executable, "-m", "bench.floor", home, str(floor_port),
                                      f"{upstream}/m/echo/v1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(floor)
            _wait(f"http://127.0.0.1:{floor_port}/healthz", floor)
            targets["floor"] = (f"http://127.0.0.1:{floor_port}/chat/completions", "none", floor.pid)
            targets["direct"] = (f"{upstream}/m/echo/v1/chat/completions", "none", None)
            servers = [pid for _, _, pid in targets.values() if pid]
            for url, key, _ in targets.values():
                _check(url, key)
            results: dict[int, dict[str, dict]] = {}
            for step, rate in enumerate(RATES):
                order = list(targets) if step % 2 == 0 else list(reversed(targets))
                results[rate] = {}
                for name in order:
                    url, key, pid = targets[name]
                    _settle(servers)
                    results[rate][name] = _step(url, key, rate, pid)
            load = (load_at_start, os.getloadavg()[0])
            return _report(results, ["direct", *(name for name in targets if name != "direct")], logging, load)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)


if __name__ == "__main__":
    print(asyncio.run(run()))
