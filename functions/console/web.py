"""What every console page shares: templates, forms, cookies, redirects and error pages."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from shared.errors import Unauthenticated
from shared.http.authenticate import CONSOLE_COOKIE, form_body
from shared.http.dispatch import validation_details
from shared.http.errors import response_for
from shared.http.routes import Call
from shared.services.console_sessions import csrf_token

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)
# Pages are per person: no shared cache may keep them, and no other site may frame them.
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                      "script-src 'self'; form-action 'self'; frame-ancestors 'none'"}


def render(call: Call[Any] | None, template: str, status: int = 200, request: Request | None = None,
           **context: Any) -> HTMLResponse:
    """A page: the template with the signed-in principal and the session's CSRF token."""
    request = request or (call.request if call else None)
    principal = call.principal if call else None
    secret = request.cookies.get(CONSOLE_COOKIE, "") if request else ""
    csrf = csrf_token(call.deps.settings.encryption_key, secret) if call and principal else ""
    html = TEMPLATES.get_template(template).render(principal=principal, csrf=csrf, path=request.url.path
                                                   if request else "/", **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


async def form(call: Call[Any]) -> dict[str, str]:
    """The urlencoded form, one value per field (the last one, as a checkbox beside a hidden field wants)."""
    fields = parse_qs((await form_body(call.request)).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


def filled(fields: dict[str, str], *names: str) -> dict[str, str]:
    """The named fields the person filled in (empty inputs mean "not given", as an absent JSON field)."""
    return {name: fields[name].strip() for name in names if fields.get(name, "").strip()}


def validated(schema: type[BaseModel], data: dict[str, Any]) -> tuple[BaseModel | None, list[dict[str, str]]]:
    """The body validated as the API validates it, or the API's own field messages."""
    try:
        return schema.model_validate(data), []
    except ValidationError as exc:
        return None, validation_details(exc)


def secure_request(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def set_session_cookie(response: Response, request: Request, secret: str, max_age: int) -> None:
    response.set_cookie(CONSOLE_COOKIE, secret, max_age=max_age, path="/", httponly=True,
                        secure=secure_request(request), samesite="lax")


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.endswith(".json")


async def on_error(request: Request, exc: Exception) -> Response:
    """Errors of console routes: sign-in for a signed-out page, JSON for scripts, an error page otherwise."""
    if isinstance(exc, Unauthenticated) and request.method == "GET" and not wants_json(request):
        return redirect(f"/sign-in?next={quote(request.url.path)}")
    known = response_for(exc)
    if known is None:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status, body = 500, {"error": "internal_error", "message": "Something went wrong on our side."}
    else:
        status, body = known.status_code, json.loads(known.body)
    if wants_json(request):
        return JSONResponse(body, status_code=status)
    return render(None, "error.html", status, request=request, error=body, code=status)
