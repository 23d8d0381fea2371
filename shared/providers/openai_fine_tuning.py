"""A fine-tuning backend speaking the OpenAI wire format: `POST /files` (purpose `fine-tune`),
`POST /fine_tuning/jobs`, `GET /fine_tuning/jobs/{id}`, and `GET /models` for the models it
has. OpenAI itself and the services that copy its API work with a base URL and a key.
"""

from __future__ import annotations

from typing import Any

import httpx

from shared.ports import Data, FineTuneJob, FineTuneRejected, Unavailable

# The backend's statuses, folded into ours.
STATUSES = {"validating_files": "queued", "queued": "queued", "running": "running",
            "succeeded": "succeeded", "failed": "failed", "cancelled": "cancelled"}


class OpenAIFineTuner:
    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        self.base_url, self.api_key, self.timeout = base_url.rstrip("/"), api_key, timeout

    async def _call(self, method: str, path: str, **kwargs: Any) -> Data:
        """A request whose answer is one object with an id (a file, a job)."""
        body = await self._json(method, path, **kwargs)
        if not isinstance(body.get("id"), str):
            raise Unavailable("the fine-tuning backend's answer has no id")
        return body

    async def _json(self, method: str, path: str, **kwargs: Any) -> Data:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the fine-tuning backend did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 500 or response.status_code in (401, 403, 429):
            raise Unavailable(f"the fine-tuning backend answered HTTP {response.status_code}: {_message(response)}")
        if response.status_code >= 400:
            raise FineTuneRejected(_message(response))
        try:
            body = response.json()
        except ValueError:
            raise Unavailable("the fine-tuning backend answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise Unavailable("the fine-tuning backend answered something that is not a JSON object")
        return body

    async def list_models(self, timeout: float) -> list[str]:
        try:
            body = await self._json("GET", "/models", timeout=timeout)
        except FineTuneRejected as exc:  # a 404 or the like: this backend has no model listing
            raise Unavailable(f"the fine-tuning backend lists no models ({exc})") from None
        entries = body.get("data")
        if not isinstance(entries, list):
            raise Unavailable("the fine-tuning backend's model list has no `data`")
        return [entry["id"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)]

    async def upload_training_file(self, filename: str, jsonl: bytes) -> str:
        body = await self._call("POST", "/files", data={"purpose": "fine-tune"},
                                files={"file": (filename, jsonl, "application/jsonl")})
        return body["id"]

    async def create_job(self, base_model: str, training_file: str, hyperparameters: Data,
                         suffix: str | None) -> FineTuneJob:
        request: Data = {"model": base_model, "training_file": training_file}
        if hyperparameters:
            request["hyperparameters"] = hyperparameters
        if suffix:
            request["suffix"] = suffix
        return _job(await self._call("POST", "/fine_tuning/jobs", json=request))

    async def get_job(self, job_id: str) -> FineTuneJob:
        return _job(await self._call("GET", f"/fine_tuning/jobs/{job_id}"))


def _job(body: Data) -> FineTuneJob:
    error = body.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return FineTuneJob(
        id=body["id"], status=STATUSES.get(str(body.get("status")), "running"),
        fine_tuned_model=body.get("fine_tuned_model") or None, error=message or None,
        trained_tokens=body.get("trained_tokens") if isinstance(body.get("trained_tokens"), int) else None,
    )


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error or response.text)[:300]
