"""Settings read from the environment the way Secret Manager and .env files hand them over."""

from __future__ import annotations

from shared.config import Settings


def test_secrets_lose_the_trailing_newline_a_secret_file_carries(monkeypatch, tmp_path):
    # `base64 | gcloud secrets create --data-file=-` used to store one; every Scheduler call then got 401.
    monkeypatch.setenv("DRGERO_CRON_SECRET", "c" * 43 + "=\n")
    monkeypatch.setenv("DRGERO_SECRET_KEY", " " + "k" * 43 + "=\n")
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.effective_cron_secret == "c" * 43 + "="
    assert settings.encryption_key == "k" * 43 + "="


def test_the_task_queue_emulator_is_a_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("DRGERO_TASKS_EMULATOR_HOST", "127.0.0.1:8123")
    assert Settings(_env_file=None, data_dir=tmp_path).tasks_emulator_host == "127.0.0.1:8123"
