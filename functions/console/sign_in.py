"""Signing in (one-time link, API token, Supabase session) and out.

The sign-in forms come before any session, so they carry their own double-submit token: a
random cookie the form must repeat, which another site can neither read nor set.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from functions.console.web import form, redirect, render, secure_request, set_session_cookie
from shared.auth.secrets import same_secret
from shared.domain.times import parse_iso
from shared.errors import DomainError
from shared.http.authenticate import CONSOLE_COOKIE
from shared.http.routes import Call
from shared.services import console_sessions

SIGNIN_COOKIE = "drgero_signin"


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never `//elsewhere` or a full URL (an open redirect).
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def _page(call: Call[Any], status: int = 200, **context: Any) -> Response:
    token = call.request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(None, "sign_in.html", status, request=call.request, signin_csrf=token, **context)
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, path="/sign-in", httponly=True,
                        secure=secure_request(call.request), samesite="strict")
    return response


async def sign_in_page(call: Call[None]) -> Response:
    return _page(call, next=_safe_next(call.request.query_params.get("next")))


async def link_page(call: Call[None]) -> Response:
    # Spent by the POST behind the button, not by this GET: a link preview must not use it up.
    return _page(call, link=call.path["secret"])


async def _signed_in_form(call: Call[Any]) -> dict[str, str] | None:
    fields = await form(call)
    cookie = call.request.cookies.get(SIGNIN_COOKIE, "")
    if not cookie or not same_secret(fields.get("signin_csrf", ""), cookie):
        return None
    return fields


def _session_response(call: Call[Any], secret: str, expires_at: str, target: str) -> Response:
    response = redirect(target)
    max_age = int((parse_iso(expires_at) - call.deps.clock.now()).total_seconds())
    set_session_cookie(response, call.request, secret, max(max_age, 1))
    response.delete_cookie(SIGNIN_COOKIE, path="/sign-in")
    return response


async def sign_in_with_link(call: Call[None]) -> Response:
    if await _signed_in_form(call) is None:
        return _page(call, 403, link=call.path["secret"], message="The form expired; press Continue again.")
    try:
        secret, session = await console_sessions.sign_in_with_link(call.deps, call.path["secret"])
    except DomainError as exc:
        return _page(call, 401, message=exc.message, next="/")
    return _session_response(call, secret, session.expires_at, "/")


async def sign_in(call: Call[None]) -> Response:
    fields = await _signed_in_form(call)
    if fields is None:
        return _page(call, 403, message="The form expired; sign in again.", next="/")
    target = _safe_next(fields.get("next"))
    try:
        if fields.get("api_token", "").strip():
            secret, session = await console_sessions.sign_in_with_api_token(call.deps, fields["api_token"])
        elif fields.get("access_token", "").strip():
            secret, session = await console_sessions.sign_in_with_supabase(
                call.deps, fields["access_token"].strip(), fields.get("workspace_id", "").strip() or None)
        else:
            return _page(call, 422, message="Paste an API token or a session access token.", next=target)
    except DomainError as exc:
        return _page(call, 401 if exc.code != "workspace_required" else 422, message=exc.message, next=target,
                     workspace_id=fields.get("workspace_id"))
    return _session_response(call, secret, session.expires_at, target)


async def sign_out(call: Call[None]) -> Response:
    await console_sessions.sign_out(call.deps, call.request.cookies.get(CONSOLE_COOKIE, ""))
    response = redirect("/sign-in")
    response.delete_cookie(CONSOLE_COOKIE, path="/")
    return response
