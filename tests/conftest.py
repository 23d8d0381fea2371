"""Fixtures shared by every test: embedded deps in a temp dir, an HTTP client, API tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from functions.server import create_app
from shared.auth.scopes import ALL_SCOPES
from shared.bootstrap import Deps, build
from shared.config import Settings
from shared.services.api_tokens import create_api_token
from shared.services.workspaces import create_workspace

# Session fixtures that start the GCP emulators on first use.
pytest_plugins = ("tests.emulators",)



def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def deps(settings: Settings) -> Deps:
    return build(settings)


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
            self.ids[name] = (await create_workspace(self.deps, name, plan))["id"]  # type: ignore[arg-type]
        token, _ = await create_api_token(self.deps, self.ids[name], "test", list(scopes))
        return {"Authorization": f"Bearer {token}"}


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
