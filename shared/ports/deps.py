"""Deps: everything a service may touch, as settings and ports (bootstrap fills it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.config import Settings
from shared.ports.models import ChatModels, FineTuner, LocalModels
from shared.ports.outside import Fetcher, Sealer, SessionKeys
from shared.ports.storage import Blobs, Documents, TaskQueue


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class Ids(Protocol):
    def new_id(self) -> str:
        """A new random UUID as a string."""
        ...


@dataclass
class Deps:
    """The ports a service sees, and the settings; nothing concrete."""

    settings: Settings
    documents: Documents
    blobs: Blobs
    queue: TaskQueue
    clock: Clock
    ids: Ids
    sealer: Sealer
    chat: ChatModels
    fetch: Fetcher
    # The identity provider's signing keys, when sessions are verified against a JWKS URL.
    session_keys: SessionKeys | None = None
    fine_tuner: FineTuner | None = None
    # Models served on this machine (the Local platform); None where none can be.
    local_models: LocalModels | None = None
