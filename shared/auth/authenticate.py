"""Resolve the caller of a request according to the route's declared auth kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from shared.auth.principal import Principal
from shared.auth.secrets import same_secret
from shared.errors import PermissionDenied, Unauthenticated

if TYPE_CHECKING:
    from shared.bootstrap import Deps
    from shared.http.routes import Route


def bearer(request: Request) -> str:
    """The bearer credential of the Authorization header, or Unauthenticated."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <token>'.")
    return credential.strip()


async def _api_token(request: Request, deps: Deps) -> Principal:
    from shared.services.api_tokens import authenticate_api_token

    return await authenticate_api_token(deps, bearer(request))


async def _cron(request: Request, deps: Deps) -> Principal:
    if not same_secret(bearer(request), deps.settings.effective_cron_secret):
        raise Unauthenticated("The cron secret is wrong.", code="invalid_token")
    return Principal(workspace_id="", kind="cron")


async def authenticate(route: Route, request: Request, deps: Deps, params: dict[str, str]) -> Principal | None:
    """The principal for this request (None for public routes); checks the route's scopes."""
    if route.auth == "none":
        return None
    principal = await AUTHENTICATORS[route.auth](request, deps)
    missing = [scope for scope in route.scopes if scope not in principal.scopes]
    if principal.kind == "api_token" and missing:
        raise PermissionDenied(f"This token lacks the scope(s): {', '.join(missing)}.")
    return principal


AUTHENTICATORS = {"api_token": _api_token, "cron": _cron}
