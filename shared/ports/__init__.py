"""The ports every service sees, one module per kind of outside thing; adapters and providers implement them.

- storage: Documents, Blobs, TaskQueue (`shared.adapters`: SQLite/files/in-process, Firestore/GCS/Cloud Tasks)
- models: ChatModels and FineTuner, with the errors of calling a model (`shared.providers`)
- outside: Fetcher, Sealer, SessionKeys (`shared.providers`, `shared.auth`)
- deps: Deps, what bootstrap hands every service, with Clock and Ids
"""

from shared.ports.deps import Clock, Deps, Ids
from shared.ports.models import (
    ChatModels,
    Completion,
    Endpoint,
    FineTuneJob,
    FineTuner,
    FineTuneRejected,
    LocalModels,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderBadResponse,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
    StreamChunk,
    Usage,
)
from shared.ports.outside import Fetched, Fetcher, FetchFailed, FetchStream, Sealer, SessionKeys
from shared.ports.storage import (
    AlreadyExists,
    BlobInfo,
    Blobs,
    Data,
    Doc,
    Documents,
    NotFound,
    Order,
    PermanentTaskError,
    PreconditionFailed,
    Query,
    Range,
    StoreError,
    TaskHandler,
    TaskQueue,
    Transaction,
    Unavailable,
)

__all__ = [
    "AlreadyExists", "BlobInfo", "Blobs", "ChatModels", "Clock", "Completion", "Data", "Deps", "Doc", "Documents",
    "Endpoint", "FetchFailed", "FetchStream", "Fetched", "Fetcher", "FineTuneJob", "FineTuneRejected", "FineTuner",
    "Ids", "LocalModels", "NotFound", "Order", "PermanentTaskError", "PreconditionFailed", "ProviderAuthError",
    "ProviderBadRequest", "ProviderBadResponse", "ProviderConnectionError", "ProviderError", "ProviderRateLimited",
    "ProviderServerError", "ProviderTimeout", "Query", "Range", "Sealer", "SessionKeys", "StoreError", "StreamChunk", "TaskHandler",
    "TaskQueue", "Transaction", "Unavailable", "Usage",
]
