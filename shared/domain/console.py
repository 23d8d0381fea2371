"""Console sign-in: one-time links and the browser sessions they (or a token, or a Supabase session) open."""

from __future__ import annotations

from shared.domain.aggregate import Aggregate


class SignInLink(Aggregate):
    """A one-time link printed by `drgero console-url`; its id is the hash of the secret in the URL."""

    workspace_id: str
    created_at: str
    expires_at: str


class ConsoleSession(Aggregate):
    """A signed-in browser; its id is the hash of the cookie's secret, so the store never holds the cookie.

    `kind` says what vouched for it: `link` (the operator's one-time link, acting as an owner),
    `api_token` (that token's scopes, for as long as it is not revoked) or `session` (a Supabase
    user, whose membership and role are looked up again on every request).
    """

    workspace_id: str
    kind: str
    credential_id: str
    scopes: list[str] = []
    role: str | None = None
    email: str | None = None
    created_at: str
    expires_at: str
