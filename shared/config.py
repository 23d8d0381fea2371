"""Settings from the environment (prefix DRGERO_) or a `.env` file."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.private_files import private_directory, write_private_text


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DRGERO_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    backend: Literal["embedded", "gcp"] = "embedded"
    host: str = "127.0.0.1"
    port: int = Field(8080, validation_alias=AliasChoices("DRGERO_PORT", "PORT"))
    data_dir: Path = Path(".drgero")
    public_base_url: str = ""

    default_plan: Literal["free", "pro"] = "pro"
    # Fernet key for provider tokens at rest; the embedded default makes one in data_dir.
    secret_key: str = ""
    cron_secret: str = ""
    max_body_bytes: int = 1_048_576
    # `drgero serve`'s connections: an idle keep-alive connection is closed after this long; a
    # request must arrive whole (headers and body) within the read timeout of its first byte
    # (or of the connection opening); beyond max_connections new requests answer 503.
    keep_alive_seconds: float = 5.0
    request_read_timeout_seconds: float = 30.0
    max_connections: int = 1000
    # Outbound connections to model providers (one pool per process): in total, and to any one
    # host (0: only the total applies). By Little's law the calls in flight are request rate x
    # upstream latency, so 1,200 req/s against a provider that slows to 1 s need 1,200 connections,
    # and one Cloud Run instance takes up to its concurrency setting of requests at once. A cap
    # below that sheds nothing: calls queue in the process until they time out, so a slow provider
    # becomes errors (a per-host cap of 256 collapsed at 1,200 req/s against a 200 ms upstream,
    # 240 in flight plus bursts). Hence caps above anything one instance can take in. The real
    # bound is file descriptors: a call in flight holds an inbound and an outbound socket, so the
    # open-file limit (`ulimit -n`, systemd's LimitNOFILE; often 1024 by default) must exceed
    # max_connections + upstream_max_connections plus the process's own files. Raise that limit
    # rather than lowering these: out of descriptors, accepts and connects both fail.
    upstream_max_connections: int = Field(4096, ge=1)
    upstream_max_connections_per_host: int = Field(0, ge=0)
    allow_private_urls: bool = False
    # The embedded server runs the operator jobs (consolidate-due, ...) every this many
    # seconds, as Cloud Scheduler does in production; 0 turns the ticker off.
    ticker_seconds: float = 60.0
    huggingface_base_url: str = "https://huggingface.co"
    huggingface_token: str = ""
    huggingface_router_url: str = "https://router.huggingface.co/v1"
    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    openrouter_api_key: str = ""
    max_dataset_bytes: int = 200 * 1024 * 1024
    # Runs: rows per queued chunk, model calls in flight per candidate, judge when auto-decided.
    run_chunk_rows: int = 100
    candidate_concurrency: int = 8
    stale_run_minutes: float = 30.0
    # Tasks the embedded queue runs at once; each candidate of a run keeps one chunk busy.
    local_queue_workers: int = 16
    # Bounds on generated tokens, so one rambling answer cannot hold a chunk for minutes.
    run_max_tokens: int = 1024
    # The most an inference call may take, fallbacks and retries included, before a 502.
    inference_timeout_seconds: float = 60.0
    judge_max_tokens: int = 400
    # A judge dry-run (POST .../eval/test) answers within this, with what finished by then.
    judge_test_timeout_seconds: float = 45.0
    # Browser sessions: Supabase access tokens (JWTs), HS256 with the project's JWT secret
    # and/or asymmetric keys from the project's JWKS URL; `aud` must match.
    supabase_jwt_secret: str = ""
    supabase_jwks_url: str = ""
    session_audience: str = "authenticated"
    session_issuer: str = ""
    # Outbound checks of provider keys, and how long the OpenRouter catalog is reused.
    integration_timeout_seconds: float = 10.0
    catalog_cache_seconds: float = 600.0
    # How long an instance may answer from memory what every request reads (tokens,
    # leaderboards, candidates, dataset pointers, quota and spend counters). Writes through the
    # same instance apply at once; writes through another instance (another function, the CLI)
    # are seen within this many seconds. 0 reads the store every time.
    cache_seconds: float = Field(2.0, ge=0, le=60)
    # Fine-tuning backend speaking the OpenAI files + fine_tuning jobs wire format; fine-tuned
    # models are then called at the serving URL (the same base URL unless set).
    fine_tune_base_url: str = "https://api.openai.com/v1"
    fine_tune_api_key: str = ""
    fine_tune_serving_url: str = ""
    # Which of the models the backend lists can be fine-tuned (comma-separated ids, or `*` for every
    # listed one): a model listing does not say. The default is what OpenAI documents for chat fine-tuning.
    fine_tune_base_models: str = ("gpt-4.1-2025-04-14,gpt-4.1-mini-2025-04-14,gpt-4.1-nano-2025-04-14,"
                                  "gpt-4o-2024-08-06,gpt-4o-mini-2024-07-18,gpt-3.5-turbo-0125")
    default_judge_provider: str = "OpenRouter"
    default_judge_model: str = "openai/gpt-4o-mini"
    # The Local platform: GGUF models served on this machine by llama.cpp (the `local` extra).
    # Unset, it is on for the embedded backend and off for gcp, where an instance's CPU and
    # memory are sized for HTTP and a model per instance is rarely what anyone wants.
    local_models_enabled: bool | None = None
    # GGUF files, or directories holding them, that Local models may name by path, separated by
    # commas or the OS path separator. Only these: a path is never taken from a user unchecked.
    local_model_paths: str = ""
    # Per model server: calls it decodes at once (each gets n_ctx / parallel tokens of context),
    # its context, and its CPU threads. One thread is the default because llama.cpp's threads
    # wait for each other by spinning: on a 2-core machine shared with other work, two threads
    # ran a 135M model at a fifth of the speed of one.
    local_model_parallel: int = Field(4, ge=1, le=64)
    local_model_context: int = Field(4096, ge=256, le=262_144)
    local_model_threads: int = Field(1, ge=1, le=256)
    local_model_start_timeout_seconds: float = Field(60.0, gt=0)
    # A model server no call used for this long is stopped by the embedded ticker (0: never).
    local_model_idle_minutes: float = Field(30.0, ge=0)

    gcp_project: str = ""
    firestore_database: str = "(default)"
    collection_prefix: str = ""
    gcs_bucket: str = ""
    tasks_location: str = "europe-west1"
    tasks_queue: str = "drgero-model-calls"
    worker_url: str = ""
    tasks_service_account: str = ""
    # host:port of a local Cloud Tasks emulator (plaintext gRPC, no credentials); empty in production.
    tasks_emulator_host: str = ""

    @field_validator("secret_key", "cron_secret", "supabase_jwt_secret", "openrouter_api_key", "huggingface_token",
                     "fine_tune_api_key")
    @classmethod
    def _strip(cls, value: str) -> str:
        # Secrets often arrive with a trailing newline (a file, `base64` output); it is never meant.
        return value.strip()

    @model_validator(mode="after")
    def _refuse_weak_production_secrets(self) -> Settings:
        if self.env == "production":
            missing = [
                name for name in ("secret_key", "cron_secret", "public_base_url")
                if len(getattr(self, name)) < 16
            ]
            if missing:
                raise ValueError(f"production needs strong values for: {', '.join(missing)}")
        if self.backend == "gcp" and not (self.gcp_project and self.gcs_bucket):
            raise ValueError("the gcp backend needs DRGERO_GCP_PROJECT and DRGERO_GCS_BUCKET")
        return self

    @property
    def local_models_allowed(self) -> bool:
        """Whether the Local platform may be used: as set, else only on the embedded backend."""
        return self.backend == "embedded" if self.local_models_enabled is None else self.local_models_enabled

    @property
    def local_model_roots(self) -> list[Path]:
        """The allowed GGUF files and directories of `local_model_paths`."""
        parts = self.local_model_paths.replace(os.pathsep, ",").split(",")
        return [Path(part.strip()).expanduser() for part in parts if part.strip()]

    @cached_property
    def encryption_key(self) -> str:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key

        path = self.data_dir / "secret.key"
        if not path.exists():
            private_directory(path.parent)
            write_private_text(path, Fernet.generate_key().decode())
        return path.read_text().strip()

    @cached_property
    def session_secret(self) -> str:
        """The HS256 session secret; in development an unset one is generated in the data directory."""
        if self.supabase_jwt_secret or self.env == "production":
            return self.supabase_jwt_secret
        path = self.data_dir / "session.secret"
        if not path.exists():
            private_directory(path.parent)
            write_private_text(path, secrets.token_urlsafe(48))
        return path.read_text().strip()

    @cached_property
    def effective_cron_secret(self) -> str:
        """The cron secret; in development an unset one is random, so nothing guesses it."""
        return self.cron_secret or secrets.token_urlsafe(32)
