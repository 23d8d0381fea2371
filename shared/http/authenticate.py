"""Resolve the caller of a request according to the route's declared auth kind."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

from shared.auth.principal import Principal
from shared.auth.secrets import TASK_SIGNATURE_HEADER, same_secret, task_signature
from shared.errors import NotFoundError, PermissionDenied, Unauthenticated
from shared.http.bodies import read_limited
from shared.http.routes import Route
from shared.ports import Deps
from shared.services import console_sessions
from shared.services.api_tokens import authenticate_api_token
from shared.services.members import WORKSPACE_HEADER, authenticate_session, authenticate_user
from shared.services.push_tokens import PUSH_TOKEN_PREFIX, authenticate_push_token


def bearer(request: Request) -> str:
    """The bearer credential of the Authorization header, or Unauthenticated."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <token>'.")
    return credential.strip()


async def _api_token(request: Request, deps: Deps) -> Principal:
    return await authenticate_api_token(deps, bearer(request))


PUSH_TOKEN_HEADER = "X-Dr.Gero-Push-Token"
CONSOLE_COOKIE = "drgero_console"
CSRF_HEADER, CSRF_FIELD = "X-CSRF-Token", "csrf"
SAFE_METHODS = ("GET", "HEAD")
FORM_LIMIT = 1_000_000  # a console form: a prompt, a schedule, a few rows to push


async def _push_or_api_token(request: Request, deps: Deps) -> Principal:
    """A push token (its header, or a bearer `hpd_` value), else an API token."""
    token = request.headers.get(PUSH_TOKEN_HEADER, "").strip()
    if not token and request.headers.get("authorization", "").lower().startswith(f"bearer {PUSH_TOKEN_PREFIX}"):
        token = bearer(request)
    if token:
        return await authenticate_push_token(deps, token)
    return await _api_token(request, deps)


async def _session(request: Request, deps: Deps) -> Principal:
    workspace_id = request.headers.get(WORKSPACE_HEADER, "").strip() or None
    return await authenticate_session(deps, bearer(request), workspace_id)


async def _task(request: Request, deps: Deps) -> Principal:
    kind = request.scope["path"].rstrip("/").rsplit("/", 1)[-1]
    expected = task_signature(deps.settings.encryption_key, kind, await request.body())
    if not same_secret(request.headers.get(TASK_SIGNATURE_HEADER, ""), expected):
        raise Unauthenticated("Tasks must carry the queue's signature.", code="invalid_signature")
    return Principal(workspace_id="", kind="task")


async def _user(request: Request, deps: Deps) -> Principal:
    return await authenticate_user(deps, bearer(request))


async def _console(request: Request, deps: Deps) -> Principal:
    """The console cookie's principal; a write must also carry the session's CSRF token."""
    secret = request.cookies.get(CONSOLE_COOKIE, "")
    principal = await console_sessions.resolve(deps, secret)
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER, "") or await _form_field(request, CSRF_FIELD)
        if not console_sessions.csrf_ok(deps.settings.encryption_key, secret, given):
            raise PermissionDenied("The form's CSRF token is missing or wrong; reload the page and retry.",
                                   code="csrf_failed")
    return principal


async def _form_field(request: Request, name: str) -> str:
    """One field of a urlencoded form body (Starlette keeps the body for the handler to read again)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return ""
    return (parse_qs((await form_body(request)).decode("utf-8", "replace")).get(name) or [""])[0]


async def form_body(request: Request) -> bytes:
    """The request body, read once within the form limit and kept for whoever reads it next."""
    if not hasattr(request, "_body"):
        request._body = await read_limited(request, FORM_LIMIT)  # Starlette replays `_body` to later readers
    return request._body


async def _cron(request: Request, deps: Deps) -> Principal:
    if not same_secret(bearer(request), deps.settings.effective_cron_secret):
        raise Unauthenticated("The cron secret is wrong.", code="invalid_token")
    return Principal(workspace_id="", kind="cron")


async def authenticate(route: Route, request: Request, deps: Deps, params: dict[str, str]) -> Principal | None:
    """The principal for this request (None for public routes); checks the route's scopes."""
    if route.auth == "none":
        return None
    principal = await AUTHENTICATORS[route.auth](request, deps)
    if principal.leaderboard_id is not None and params.get("leaderboard_id") != principal.leaderboard_id:
        # A push token's whole world is its one leaderboard: anything else does not exist.
        raise NotFoundError("Leaderboard not found.")
    missing = [scope for scope in route.scopes if scope not in principal.scopes]
    if principal.kind == "api_token" and missing:
        raise PermissionDenied(f"This token lacks the scope(s): {', '.join(missing)}.")
    if principal.kind == "session" and missing:
        raise PermissionDenied(f"This needs the owner or admin role; you are a {principal.role}.",
                               code="insufficient_role")
    return principal


AUTHENTICATORS = {
    "api_token": _api_token, "push": _push_or_api_token, "session": _session, "user": _user, "cron": _cron,
    "task": _task, "console": _console,
}
