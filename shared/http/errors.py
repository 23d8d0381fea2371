"""Error bodies and the one mapping from error classes to HTTP statuses."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from shared import errors
from shared.ports import NotFound, PreconditionFailed, Unavailable

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.EntitlementRequired, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.StaleVersion, 412),
    (errors.InvalidInput, 422),
    (errors.TooLarge, 413),
    (errors.ServiceUnavailable, 503),
    (errors.UpstreamUnavailable, 502),
    # Store errors that escaped a service: a lost race is a conflict, not a crash.
    (NotFound, 404),
    (PreconditionFailed, 409),
    (Unavailable, 503),
]

STORE_CODES = {NotFound: "not_found", PreconditionFailed: "conflict", Unavailable: "unavailable"}


class HttpError(Exception):
    """An error found by the HTTP layer itself (malformed JSON, 405, 413, 415)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def response_for(exc: Exception) -> JSONResponse | None:
    """The JSON error response for a known error, or None for a bug."""
    if isinstance(exc, HttpError):
        return error_response(exc.status, exc.code, exc.message, headers=exc.headers)
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            if isinstance(exc, errors.DomainError):
                return error_response(status, exc.code, exc.message, exc.details)
            return error_response(status, STORE_CODES[cls], _store_message(cls))
    return None


def _store_message(cls: type[Exception]) -> str:
    return {
        NotFound: "The resource does not exist.",
        PreconditionFailed: "The resource changed meanwhile; retry the request.",
        Unavailable: "A backend is unavailable; retry shortly.",
    }[cls]
