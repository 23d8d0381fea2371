"""The one place adapters and providers are chosen and wired: settings in, Deps out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.adapters.read_cache import ReadCache
from shared.auth.secrets import SecretBox
from shared.auth.sessions import Jwks
from shared.config import Settings
from shared.ports import Blobs, Deps, Documents, TaskQueue
from shared.providers.chat import ChatClient
from shared.providers.fetch import HttpFetcher
from shared.providers.local_models import LlamaServers
from shared.providers.openai_fine_tuning import OpenAIFineTuner


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class UuidIds:
    def new_id(self) -> str:
        return str(uuid.uuid4())


# What a push or an inference call reads on every request and seldom changes; see ReadCache.
READ_MOSTLY = ("api_tokens", "push_tokens", "workspaces", "leaderboards", "leaderboard_models",
               "push_datasets", "push_quota_shards", "spend_shards")


def build(settings: Settings, cached_reads: tuple[str, ...] = READ_MOSTLY) -> Deps:
    """Wire the embedded default or the GCP adapters, as `settings.backend` says.

    Reads of `cached_reads` go through a per-instance cache. One process serving every family
    (the embedded server) caches them all: every write goes through that same cache, so it
    is never stale. A deployed function caches only what its family declares.
    """
    documents, blobs, queue = (_gcp if settings.backend == "gcp" else _embedded)(settings)
    if settings.cache_seconds > 0 and cached_reads:
        documents = ReadCache(documents, cached_reads, settings.cache_seconds)
    fetch = HttpFetcher()
    return Deps(
        settings=settings, documents=documents, blobs=blobs, queue=queue, clock=SystemClock(), ids=UuidIds(),
        sealer=SecretBox(settings.encryption_key), fetch=fetch,
        chat=ChatClient(max_connections=settings.upstream_max_connections,
                        max_connections_per_host=settings.upstream_max_connections_per_host),
        session_keys=Jwks(settings.supabase_jwks_url, fetch) if settings.supabase_jwks_url else None,
        fine_tuner=OpenAIFineTuner(settings.fine_tune_base_url, settings.fine_tune_api_key),
        local_models=LlamaServers(settings),
    )


# Each backend's adapters are imported only when chosen: the embedded default never loads the
# Google client libraries (seconds of start-up), and a function on GCP never opens SQLite.


def _embedded(settings: Settings) -> tuple[Documents, Blobs, TaskQueue]:
    from shared.adapters.files import FileBlobs  # noqa: PLC0415 - see above
    from shared.adapters.local_queue import LocalQueue  # noqa: PLC0415
    from shared.adapters.sqlite import SqliteDocuments  # noqa: PLC0415

    root = settings.data_dir
    return (
        SqliteDocuments(root / "documents.sqlite3"),
        FileBlobs(root / "blobs"),
        LocalQueue(root / "queue.sqlite3", workers=settings.local_queue_workers),
    )


def _gcp(settings: Settings) -> tuple[Documents, Blobs, TaskQueue]:
    from shared.adapters.cloud_tasks import CloudTasksQueue  # noqa: PLC0415 - see above
    from shared.adapters.firestore import FirestoreDocuments  # noqa: PLC0415
    from shared.adapters.gcs import GcsBlobs  # noqa: PLC0415

    return (
        FirestoreDocuments(
            settings.gcp_project, settings.firestore_database, prefix=settings.collection_prefix
        ),
        GcsBlobs(settings.gcs_bucket, settings.gcp_project),
        CloudTasksQueue(
            settings.gcp_project, settings.tasks_location, settings.tasks_queue,
            worker_url=settings.worker_url,
            service_account_email=settings.tasks_service_account or None,
            signing_key=settings.encryption_key, emulator_host=settings.tasks_emulator_host,
        ),
    )
