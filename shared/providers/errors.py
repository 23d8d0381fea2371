"""What can go wrong calling a provider, as a tree like httpx's.

    ProviderError                 any failure; `retryable`, `status`, `attempts`, `provider_body`
    ├── ProviderTimeout           no answer within the timeout (retried)
    ├── ProviderConnectionError   refused, reset, DNS failure (retried)
    ├── ProviderRateLimited       429, with `retry_after` when the provider sent one (retried)
    ├── ProviderServerError       5xx (retried)
    ├── ProviderAuthError         401 or 403: the key is wrong or lacks access (not retried)
    ├── ProviderBadRequest        any other 4xx: the request is wrong (not retried)
    └── ProviderBadResponse       2xx that is not a chat completion (not retried)
"""

from __future__ import annotations


class ProviderError(Exception):
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, provider_body: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.provider_body, self.retry_after = message, status, provider_body, retry_after
        self.attempts = 1


class ProviderTimeout(ProviderError):
    retryable = True


class ProviderConnectionError(ProviderError):
    retryable = True


class ProviderRateLimited(ProviderError):
    retryable = True


class ProviderServerError(ProviderError):
    retryable = True


class ProviderAuthError(ProviderError):
    pass


class ProviderBadRequest(ProviderError):
    pass


class ProviderBadResponse(ProviderError):
    pass
