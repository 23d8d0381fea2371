"""Browser sessions: verify a Supabase access token (a JWT) and return its claims.

Which key checks a token follows from its `alg`, never from anything else in it: HS256 only
ever uses the project's JWT secret and RS256/ES256/EdDSA only ever use a key from the
project's JWKS, found by `kid`. So a token cannot pick its own verification (`none`), nor
pass a public key off as an HMAC secret (the HS/RS confusion).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import jwt

from shared.config import Settings
from shared.errors import ServiceUnavailable, Unauthenticated
from shared.ports import Fetcher, FetchFailed, SessionKeys

SYMMETRIC = "HS256"
ASYMMETRIC = ("RS256", "ES256", "EdDSA")
LEEWAY_SECONDS = 30  # clock skew between Supabase and us
DATE_CLAIMS = ("exp", "nbf", "iat")
# Development user ids: the same email always maps to the same user, as a Supabase sub would.
DEV_USER_NAMESPACE = uuid.UUID("6f1f7a2e-3c4b-4d8e-9a55-0d7e5b1c2a90")


class Jwks:
    """The project's signing keys from its JWKS URL, reused for `ttl` seconds.

    An unknown `kid` refetches (keys rotate), but at most once per `refetch_gap` seconds, so a
    stream of forged kids cannot turn us into a request amplifier against the JWKS host.
    """

    def __init__(self, url: str, fetch: Fetcher, ttl: float = 600.0, refetch_gap: float = 30.0,
                 timeout: float = 5.0) -> None:
        self.url, self.fetch, self.ttl, self.refetch_gap, self.timeout = url, fetch, ttl, refetch_gap, timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    def _stale(self, kid: str | None) -> bool:
        age = time.monotonic() - self._fetched_at
        return age > self.ttl or (kid not in self._keys and age > self.refetch_gap)

    async def key(self, kid: str | None) -> jwt.PyJWK:
        if self._stale(kid):
            async with self._lock:
                if self._stale(kid):  # another request may have fetched while we waited
                    await self._fetch()
        if kid not in self._keys:
            raise Unauthenticated("The session token's signing key is unknown.", code="invalid_session")
        return self._keys[kid]

    async def _fetch(self) -> None:
        try:
            answer = await self.fetch.get(self.url, timeout=self.timeout)
            if answer.status != 200:
                raise ValueError(f"HTTP {answer.status}")
            keys = json.loads(answer.body)["keys"]
        except (FetchFailed, ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailable("The session signing keys cannot be fetched right now.") from exc
        found = {}
        for entry in keys:
            try:
                found[entry.get("kid")] = jwt.PyJWK(entry)
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue  # a key type we do not use; the others still work
        self._keys, self._fetched_at = found, time.monotonic()


async def verify_session_token(settings: Settings, keys: SessionKeys | None, token: str) -> dict[str, Any]:
    """The verified claims of a session token, or Unauthenticated saying what is wrong."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Unauthenticated("The session token is not a JWT.", code="invalid_session") from None
    alg = header.get("alg")
    if alg == SYMMETRIC and settings.session_secret:
        key: Any = settings.session_secret
    elif alg in ASYMMETRIC and keys is not None:
        key = _key_for(alg, await keys.key(header.get("kid")))
    else:
        raise Unauthenticated(f"Session tokens signed with {alg!r} are not accepted here.", code="invalid_session")
    try:
        claims = jwt.decode(
            token, key, algorithms=[alg], audience=settings.session_audience,
            issuer=settings.session_issuer or None, leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The session has expired; sign in again.", code="session_expired") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated("The session token is for another audience.", code="invalid_session") from None
    except jwt.PyJWTError as exc:  # invalid tokens, and keys the library cannot use for this token
        raise Unauthenticated(f"The session token is invalid: {exc}.", code="invalid_session") from None
    _require_numeric_dates(claims)
    return claims


def _key_for(alg: str, jwk: Any) -> Any:
    """The key of a JWKS entry, if the entry is for `alg`.

    The token names both its algorithm and its key id, so it could pair an ES256 signature
    with an RSA key; the verifier would then fail with a type error rather than refuse.
    """
    if jwk.algorithm_name != alg:
        raise Unauthenticated(f"The session token's algorithm {alg} does not match its signing key.",
                              code="invalid_session")
    return jwk.key


def _require_numeric_dates(claims: dict[str, Any]) -> None:
    """JWT dates are numbers (RFC 7519); the library also reads a string such as "9999999999"."""
    for name in DATE_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise Unauthenticated(f"The session token's {name} claim is not a number.", code="invalid_session")


def dev_user_id(email: str) -> str:
    return str(uuid.uuid5(DEV_USER_NAMESPACE, email.strip().lower()))


def mint_dev_session(settings: Settings, email: str, ttl_seconds: int = 3600) -> str:
    """A session token signed with the development secret; production settings refuse."""
    if settings.env == "production":
        raise ValueError("development sessions cannot be made with production settings")
    now = int(time.time())
    claims = {
        "sub": dev_user_id(email), "email": email.strip().lower(), "aud": settings.session_audience,
        "role": "authenticated", "iat": now, "exp": now + ttl_seconds,
    }
    if settings.session_issuer:
        claims["iss"] = settings.session_issuer
    return jwt.encode(claims, settings.session_secret, algorithm=SYMMETRIC)
