"""Console sign-in: one-time links, sessions opened by a link, an API token or a Supabase session, and CSRF tokens.

The browser holds only a random secret in an HttpOnly cookie; the store keeps its hash, like
every other token here. A session is re-checked on each request against what vouched for it
(a revoked API token, or a membership that ended, signs the browser out), so nothing the API
would refuse stays reachable through the console.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from shared.auth.principal import Principal
from shared.auth.scopes import ALL_SCOPES, ROLE_SCOPES
from shared.auth.secrets import new_token, same_secret, token_hash
from shared.auth.sessions import verify_session_token
from shared.domain.console import ConsoleSession, SignInLink
from shared.domain.times import iso, parse_iso
from shared.errors import Unauthenticated
from shared.ports import Deps, Transaction
from shared.services.api_tokens import authenticate_api_token
from shared.services.members import authenticate_session, membership_id
from shared.stores.console import ConsoleSessions, SignInLinks
from shared.stores.workspaces import ApiTokens, Members

LINK_PREFIX = "drgero_link_"
SESSION_PREFIX = "drgero_console_"
LINK_SECONDS = 600  # long enough to paste a link from a terminal, short enough not to linger
SESSION_HOURS = 12
LINK_ROLE = "owner"  # whoever can run the CLI on the data directory owns the data anyway


async def create_sign_in_link(deps: Deps, workspace_id: str, ttl_seconds: int = LINK_SECONDS) -> str:
    """A one-time secret for `/sign-in/link/{secret}`; only its hash is stored."""
    secret, now = new_token(LINK_PREFIX), deps.clock.now()
    await SignInLinks(deps.documents).create(SignInLink(
        id=token_hash(secret), workspace_id=workspace_id, created_at=iso(now),
        expires_at=iso(now + timedelta(seconds=ttl_seconds))))
    return secret


async def sign_in_with_link(deps: Deps, secret: str) -> tuple[str, ConsoleSession]:
    """Spend the link (it works once, even for two browsers racing) and open an owner's session."""
    links = SignInLinks(deps.documents)

    async def spend(tx: Transaction) -> SignInLink | None:
        doc = await tx.get(links.collection, token_hash(secret))
        if doc is None:
            return None
        tx.delete(links.collection, doc.id)
        return links.load(doc)

    link = await deps.documents.run_transaction(spend) if secret.startswith(LINK_PREFIX) else None
    if link is None or parse_iso(link.expires_at) <= deps.clock.now():
        raise Unauthenticated("This sign-in link was used already or has expired; print a new one.",
                              code="invalid_link")
    return await _open(deps, link.workspace_id, "link", "console-link", role=LINK_ROLE)


async def sign_in_with_api_token(deps: Deps, token: str) -> tuple[str, ConsoleSession]:
    """A session with the token's scopes, for as long as the token lives."""
    principal = await authenticate_api_token(deps, token.strip())
    return await _open(deps, principal.workspace_id, "api_token", principal.credential_id,
                       scopes=sorted(principal.scopes))


async def sign_in_with_supabase(deps: Deps, access_token: str, workspace_id: str | None
                                ) -> tuple[str, ConsoleSession]:
    """A session of the Supabase user in one of their workspaces, ending when their access token would."""
    claims = await verify_session_token(deps.settings, deps.session_keys, access_token)
    principal = await authenticate_session(deps, access_token, workspace_id)
    until = min(deps.clock.now() + timedelta(hours=SESSION_HOURS), _from_epoch(deps, claims["exp"]))
    return await _open(deps, principal.workspace_id, "session", principal.credential_id, role=principal.role,
                       email=principal.email, until=until)


def _from_epoch(deps: Deps, seconds: float):
    now = deps.clock.now()
    return now + timedelta(seconds=float(seconds) - now.timestamp())


async def _open(deps: Deps, workspace_id: str, kind: str, credential_id: str, *, scopes: list[str] | None = None,
                role: str | None = None, email: str | None = None, until=None) -> tuple[str, ConsoleSession]:
    secret, now = new_token(SESSION_PREFIX), deps.clock.now()
    session = ConsoleSession(id=token_hash(secret), workspace_id=workspace_id, kind=kind, credential_id=credential_id,
                             scopes=scopes or [], role=role, email=email, created_at=iso(now),
                             expires_at=iso(until or now + timedelta(hours=SESSION_HOURS)))
    return secret, await ConsoleSessions(deps.documents).create(session)


async def resolve(deps: Deps, secret: str) -> Principal:
    """The principal a console cookie stands for now, or Unauthenticated."""
    session = await ConsoleSessions(deps.documents).get(token_hash(secret)) if secret.startswith(SESSION_PREFIX) \
        else None
    if session is None or parse_iso(session.expires_at) <= deps.clock.now():
        raise Unauthenticated("Sign in to use the console.", code="signed_out")
    if session.kind == "api_token":
        token = await ApiTokens(deps.documents).get(session.credential_id)
        if token is None or token.revoked_at:
            raise Unauthenticated("The API token this session was opened with is revoked.", code="signed_out")
        return Principal(workspace_id=session.workspace_id, kind="api_token", scopes=frozenset(token.scopes),
                         credential_id=token.id)
    role = session.role
    if session.kind == "session":
        member = await Members(deps.documents).get(membership_id(session.workspace_id, session.credential_id))
        if member is None:
            raise Unauthenticated("You are no longer a member of this workspace.", code="signed_out")
        role = member.role
    return Principal(workspace_id=session.workspace_id, kind="session", role=role, email=session.email,
                     scopes=frozenset(ALL_SCOPES) | ROLE_SCOPES[role or "member"], credential_id=session.credential_id)


async def sign_out(deps: Deps, secret: str) -> None:
    await ConsoleSessions(deps.documents).delete(token_hash(secret))


def csrf_token(key: str, secret: str) -> str:
    """The form token bound to this session: without the cookie's secret, nobody can compute it."""
    derived = hmac.new(key.encode(), b"drgero console csrf", hashlib.sha256).digest()
    return hmac.new(derived, secret.encode(), hashlib.sha256).hexdigest()


def csrf_ok(key: str, secret: str, given: str) -> bool:
    return bool(given) and same_secret(given, csrf_token(key, secret))
