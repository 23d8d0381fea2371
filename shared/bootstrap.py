"""The one place adapters and providers are chosen and wired: settings in, Deps out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.auth.secrets import SecretBox
from shared.auth.sessions import Jwks
from shared.config import Settings
from shared.ports import Blobs, Deps, Documents, TaskQueue
from shared.providers.chat import ChatClient
from shared.providers.fetch import HttpFetcher
from shared.providers.openai_fine_tuning import OpenAIFineTuner


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class UuidIds:
    def new_id(self) -> str:
        return str(uuid.uuid4())


def build(settings: Settings) -> Deps:
    """Wire the embedded default or the GCP adapters, as `settings.backend` says."""
    documents, blobs, queue = (_gcp if settings.backend == "gcp" else _embedded)(settings)
    fetch = HttpFetcher()
    return Deps(
        settings=settings, documents=documents, blobs=blobs, queue=queue, clock=SystemClock(), ids=UuidIds(),
        sealer=SecretBox(settings.encryption_key), chat=ChatClient(), fetch=fetch,
        session_keys=Jwks(settings.supabase_jwks_url, fetch) if settings.supabase_jwks_url else None,
        fine_tuner=OpenAIFineTuner(settings.fine_tune_base_url, settings.fine_tune_api_key),
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
