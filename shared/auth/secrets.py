"""Token generation, hashing and redaction; provider keys encrypted at rest."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken


def new_token(prefix: str) -> str:
    """A high-entropy bearer token: prefix + 256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash cannot be brute-forced; only this is stored.
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(given.encode(), expected.encode())


TASK_SIGNATURE_HEADER = "X-DrGero-Task-Signature"


def task_signature(key: str, kind: str, body: bytes) -> str:
    """HMAC-SHA256 of a queued task, so the worker runs only tasks this deployment queued."""
    derived = hmac.new(key.encode(), b"drgero task signing", hashlib.sha256).digest()
    return hmac.new(derived, kind.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def redact(secret: str | None) -> str | None:
    """Show only the last four characters of a long secret, nothing of a short one."""
    if not secret:
        return None
    return "••••" + secret[-4:] if len(secret) >= 12 else "••••"


class SecretBox:
    """Symmetric encryption for provider keys stored in documents."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("sealed secret cannot be opened with this key") from exc
