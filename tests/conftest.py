"""Fixtures shared by every test: embedded deps in a temp dir, an HTTP client, API tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from functions.server import create_app
from shared.adapters.local_queue import LocalQueue
from shared.adapters.sqlite import SqliteDocuments
from shared.auth.scopes import ALL_SCOPES
from shared.auth.sessions import dev_user_id, mint_dev_session
from shared.bootstrap import build
from shared.config import Settings
from shared.ports import Deps
from shared.services.api_tokens import create_api_token
from shared.services.members import add_member
from shared.services.tasks import runner
from shared.services.workspaces import create_workspace
from tests.index_coverage import INDEX_FILE, covered, required_index

# Session fixtures that start the GCP emulators on first use, and `backend`: the deps on each backend.
pytest_plugins = ("tests.emulators", "tests.contract.gcp_backends")



def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    # Base models are read from the fine-tuning backend: tests that do not serve one get a
    # closed local port (the built-in list) rather than a real provider.
    overrides.setdefault("fine_tune_base_url", "http://127.0.0.1:9/v1")
    return Settings(_env_file=None, data_dir=tmp_path / "data", **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[Deps]:
    built = build(settings)
    yield built
    await built.chat.aclose()  # its connections belong to this test's event loop
    await built.local_models.stop_all()  # a Local candidate a test ran started a model server


@pytest.fixture
async def worker(deps: Deps) -> AsyncIterator[LocalQueue]:
    """The in-process queue's workers (the test client runs no lifespan)."""
    deps.queue.start(runner(deps))
    yield deps.queue
    await deps.queue.stop()


@pytest.fixture
async def client(deps: Deps) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(deps))
    async with httpx.AsyncClient(transport=transport, base_url="http://drgero.test") as http:
        yield http


class Workspaces:
    """Creates workspaces with tokens: `await tenants.token("acme", scopes)` -> auth headers."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.ids: dict[str, str] = {}

    async def headers(self, name: str = "acme", scopes: tuple[str, ...] = ALL_SCOPES,
                      plan: str = "pro") -> dict[str, str]:
        if name not in self.ids:
            self.ids[name] = (await create_workspace(self.deps, name, plan)).id
        token, _ = await create_api_token(self.deps, self.ids[name], "test", list(scopes))
        return {"Authorization": f"Bearer {token}"}

    async def session(self, name: str = "acme", role: str = "owner", email: str | None = None,
                      plan: str = "pro") -> dict[str, str]:
        """Browser-session headers for a member of the workspace with this role."""
        if name not in self.ids:
            self.ids[name] = (await create_workspace(self.deps, name, plan)).id
        email = email or f"{role}@{name}.example"
        await add_member(self.deps, self.ids[name], dev_user_id(email), email, role)
        return {"Authorization": f"Bearer {mint_dev_session(self.deps.settings, email)}",
                "X-Drgero-Workspace": self.ids[name]}


@pytest.fixture
def tenants(deps: Deps) -> Workspaces:
    return Workspaces(deps)


@pytest.fixture
async def auth(tenants: Workspaces) -> dict[str, str]:
    """Headers for workspace 'acme' (pro plan) with every scope."""
    return await tenants.headers()


class SteppedClock:
    """A clock tests move by hand, for quotas per day and age-based triggers."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock(deps: Deps) -> SteppedClock:
    """Replaces the deps' clock; starts at a fixed UTC instant."""
    deps.clock = SteppedClock(datetime(2026, 3, 14, 9, 0, tzinfo=UTC))
    return deps.clock


# --- Firestore index coverage: record every query shape the suite makes ----------------

_QUERY_SHAPES: set = set()
RECORDING = {"on": True}  # the adapter contract suite turns it off: its collections are not the product's


@pytest.fixture(autouse=True, scope="session")
def _record_query_shapes():
    original_query, original_count = SqliteDocuments.query, SqliteDocuments.count

    async def query(self, q):
        if RECORDING["on"]:
            _QUERY_SHAPES.add(required_index(q, ordered=True))
        return await original_query(self, q)

    async def count(self, q):
        if RECORDING["on"]:
            _QUERY_SHAPES.add(required_index(q, ordered=False))
        return await original_count(self, q)

    SqliteDocuments.query, SqliteDocuments.count = query, count
    yield
    SqliteDocuments.query, SqliteDocuments.count = original_query, original_count


def pytest_sessionfinish(session, exitstatus):
    missing = sorted(shape for shape in _QUERY_SHAPES if shape is not None and not covered(shape))
    if missing:
        session.config.get_terminal_writer().line(
            f"\\nQueries without a composite index in {INDEX_FILE.name} (Firestore would refuse them):", red=True)
        for shape in missing:
            session.config.get_terminal_writer().line(f"  {shape}", red=True)
        session.exitstatus = 1
