"""Stores of console sign-in links and sessions (documents keyed by the hash of their secret)."""

from __future__ import annotations

from shared.domain.console import ConsoleSession, SignInLink
from shared.stores.base import Store


class SignInLinks(Store[SignInLink]):
    collection, aggregate, label = "console_links", SignInLink, "Sign-in link"


class ConsoleSessions(Store[ConsoleSession]):
    collection, aggregate, label = "console_sessions", ConsoleSession, "Console session"
