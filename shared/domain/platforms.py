"""How each platform wants a key sent: the five auth types of custom endpoints, and OpenRouter's headers."""

from __future__ import annotations


def auth_headers(auth_type: str, token: str | None, header_name: str | None = None) -> dict[str, str]:
    """The header carrying a candidate's token, for each of the five auth types."""
    if not token:
        return {}
    if auth_type == "bearer":
        return {"Authorization": f"Bearer {token}"}
    if auth_type == "x-api-key":
        return {"x-api-key": token}
    if auth_type == "x-dr.gero-api-key":
        return {"X-Dr.Gero-Api-Key": token}
    if auth_type == "authorization":
        return {"Authorization": token}
    if auth_type == "custom-header":
        if not header_name:
            raise ValueError("custom-header auth needs a header name")
        return {header_name: token}
    raise ValueError(f"unknown auth type {auth_type!r}")


def openrouter_headers(api_key: str | None, referer: str | None = None, title: str | None = "Dr.Gero") -> dict[str, str]:
    """OpenRouter's bearer key plus its optional app attribution headers."""
    headers = auth_headers("bearer", api_key)
    if referer:
        headers["HTTP-Referer"] = referer
    if title:
        headers["X-Title"] = title
    return headers
