"""A real `drgero serve` process on a free port, with a token made by `drgero token create`.

This is what a newcomer gets from `make serve` and the README: the console script, the
embedded backend on disk, uvicorn, and every family on one port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.emulators import free_port
from tests.factories import OPENROUTER_CATALOG
from tests.upstream import running_upstream

DRGERO = Path(sys.executable).with_name("drgero")


def drgero(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the console script; raises with its stderr when it fails."""
    done = subprocess.run([str(DRGERO), *args], env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"drgero {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    token: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"},
                            timeout=10)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"drgero serve exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"drgero serve did not answer /healthz in {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def fake_openrouter() -> Iterator[str]:
    """OpenRouter's API stood in for by the local upstream (answers with the prompt's last line)."""
    with running_upstream() as upstream:
        upstream.catalog.update(OPENROUTER_CATALOG)
        yield upstream.model_url("echo")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, fake_openrouter: str) -> Iterator[LiveServer]:
    yield from serve_live(tmp_path_factory.mktemp("live"), {
        "DRGERO_OPENROUTER_BASE_URL": fake_openrouter, "DRGERO_OPENROUTER_API_KEY": "sk-or-local-test"})


@pytest.fixture(scope="session")
def local_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server allowed to call models on loopback, as a developer's machine would be."""
    yield from serve_live(tmp_path_factory.mktemp("local"), {
        "DRGERO_ALLOW_PRIVATE_URLS": "true", "DRGERO_RUN_MAX_TOKENS": "48", "DRGERO_JUDGE_MAX_TOKENS": "256"})


def serve_live(home: Path, extra_env: dict[str, str]) -> Iterator[LiveServer]:
    assert DRGERO.exists(), f"{DRGERO} is missing: install the project (make install-dev)"
    port = free_port()
    env = {**os.environ, "DRGERO_DATA_DIR": str(home / "data"), "PORT": str(port),
           "DRGERO_BACKEND": "embedded", **extra_env}
    token = drgero("token", "create", "--workspace", "acme", "--scopes", "all", env=env).stdout.splitlines()[-1]
    process = start_serve(env, home / "serve.log")
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", env, token)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`drgero serve` in its own process group (so a test can kill it whole), once it is healthy."""
    with log.open("ab") as sink:
        process = subprocess.Popen([str(DRGERO), "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    _wait_healthy(f"http://127.0.0.1:{env['PORT']}", process, log)
    return process
