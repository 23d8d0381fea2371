"""Errors services raise; `shared.http.errors` maps each to one HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on, with a stable machine code."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details


class NotFoundError(DomainError):
    code = "not_found"


class ConflictError(DomainError):
    code = "conflict"


class StaleVersion(DomainError):
    """The caller's If-Match named a version the resource has left."""

    code = "precondition_failed"


class InvalidInput(DomainError):
    """Input that parses but breaks a rule; `details` lists `{field, message}`."""

    code = "validation_error"

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls(f"{field}: {message}", details=[{"field": field, "message": message}])


class TooLarge(DomainError):
    """A request over a documented size cap (rows per push, bytes)."""

    code = "payload_too_large"


class EntitlementRequired(DomainError):
    code = "entitlement_required"


class Unauthenticated(DomainError):
    code = "unauthorized"


class PermissionDenied(DomainError):
    code = "insufficient_scope"


class ServiceUnavailable(DomainError):
    code = "unavailable"


class UpstreamUnavailable(DomainError):
    """A provider we had to ask (key check, model catalog, fine-tuning backend) did not answer usefully."""

    code = "provider_unavailable"
