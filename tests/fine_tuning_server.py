"""A local fine-tuning backend speaking OpenAI's files and fine_tuning jobs wire format.

`POST /v1/files` takes a multipart upload (`purpose=fine-tune`) and checks every line is a
chat example; `POST /v1/fine_tuning/jobs` starts a job on a known file and base model;
each `GET /v1/fine_tuning/jobs/{id}` moves the job one step along validating_files, queued,
running, then the outcome set in `next_outcome` when it was created (`succeeded`, `failed`);
`POST /v1/fine_tuning/jobs/{id}/cancel` cancels it. Fine-tuned models then answer
`POST /v1/chat/completions` with `tuned:<the prompt's last line>`. `GET /v1/models` lists the
base models, the `also_listed` ones (listed, like OpenAI's embedding models, but not
fine-tunable here) and the fine-tuned ones; with `lists_models` off it answers 404, as a
backend without a listing. Every call needs the key.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.upstream import serving

KEY = "sk-ft-local"
STEPS = ("validating_files", "queued", "running")


def _error(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": param,
                                   "code": code}}, status_code=status)


class FineTuningBackend:
    def __init__(self, base_models: set[str], also_listed: frozenset[str] = frozenset()) -> None:
        self.base_models = base_models
        self.also_listed = also_listed
        self.lists_models = True
        self.listings = 0  # how many times GET /v1/models was asked
        self.files: dict[str, list[dict[str, Any]]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, str] = {}
        self.next_outcome = "succeeded"
        self.requests: list[dict[str, Any]] = []  # job creation bodies, as received
        self._ids = itertools.count(1)
        self.url = ""

    def app(self) -> Starlette:
        def authorized(request: Request) -> bool:
            return request.headers.get("authorization") == f"Bearer {KEY}"

        async def upload(request: Request):
            if not authorized(request):
                return _error(401, "Incorrect API key provided.", "invalid_api_key")
            form = await request.form()
            if form.get("purpose") != "fine-tune":
                return _error(400, "purpose must be fine-tune", "invalid_value", "purpose")
            raw = await form["file"].read()
            examples = []
            for number, line in enumerate(raw.decode().splitlines(), 1):
                example = json.loads(line)
                roles = [m.get("role") for m in example.get("messages", [])]
                if "assistant" not in roles or not all(isinstance(m.get("content"), str) for m in example["messages"]):
                    return _error(400, f"line {number} is not a chat example", "invalid_file_format", "file")
                examples.append(example)
            file_id = f"file-{next(self._ids)}"
            self.files[file_id] = examples
            return JSONResponse({"id": file_id, "object": "file", "bytes": len(raw), "created_at": int(time.time()),
                                 "filename": form["file"].filename, "purpose": "fine-tune", "status": "processed"})

        async def create(request: Request):
            if not authorized(request):
                return _error(401, "Incorrect API key provided.", "invalid_api_key")
            body = await request.json()
            self.requests.append(body)
            if body.get("training_file") not in self.files:
                return _error(400, f"invalid training_file: {body.get('training_file')}", "invalid_value", "training_file")
            if body.get("model") not in self.base_models:
                return _error(400, f"Model {body.get('model')} is not available for fine-tuning.", "model_not_available",
                              "model")
            job_id = f"ftjob-{next(self._ids)}"
            self.outcomes[job_id] = self.next_outcome
            self.jobs[job_id] = {
                "object": "fine_tuning.job", "id": job_id, "model": body["model"], "created_at": int(time.time()),
                "finished_at": None, "fine_tuned_model": None, "organization_id": "org-local", "result_files": [],
                "status": STEPS[0], "validation_file": None, "training_file": body["training_file"],
                "hyperparameters": {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto",
                                    **body.get("hyperparameters", {})},
                "trained_tokens": None, "error": None, "user_provided_suffix": body.get("suffix"), "seed": 42,
            }
            return JSONResponse(self.jobs[job_id])

        async def retrieve(request: Request):
            if not authorized(request):
                return _error(401, "Incorrect API key provided.", "invalid_api_key")
            job = self.jobs.get(request.path_params["job_id"])
            if job is None:
                return _error(404, "No such fine-tuning job", "fine_tune_not_found")
            if job["status"] in STEPS:
                step = STEPS.index(job["status"]) + 1
                job["status"] = STEPS[step] if step < len(STEPS) else self.outcomes[job["id"]]
                if job["status"] == "succeeded":
                    job.update(finished_at=int(time.time()), trained_tokens=1234,
                               fine_tuned_model=f"ft:{job['model']}:org-local:{job['user_provided_suffix'] or 'x'}:"
                                                f"{job['id'].split('-')[1]}")
                elif job["status"] == "failed":
                    job.update(finished_at=int(time.time()),
                               error={"code": "invalid_training_file", "message": "Training diverged.",
                                      "param": None})
            return JSONResponse(job)

        async def cancel(request: Request):
            if not authorized(request):
                return _error(401, "Incorrect API key provided.", "invalid_api_key")
            job = self.jobs[request.path_params["job_id"]]
            job["status"] = "cancelled"
            return JSONResponse(job)

        async def chat(request: Request):
            if not authorized(request):
                return _error(401, "Incorrect API key provided.", "invalid_api_key")
            body = await request.json()
            tuned = {job["fine_tuned_model"] for job in self.jobs.values()}
            if body.get("model") not in tuned:
                return _error(404, f"The model {body.get('model')} does not exist", "model_not_found", "model")
            last = body["messages"][-1]["content"].strip().splitlines()[-1]
            return JSONResponse({"id": "chatcmpl-ft", "object": "chat.completion", "created": int(time.time()),
                                 "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": f"tuned:{last}"}}],
                                 "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})

        async def list_models(request: Request):
            if not authorized(request):
                return _error(401, "Incorrect API key provided.", "invalid_api_key")
            if not self.lists_models:
                return _error(404, "Unknown request URL: GET /v1/models.", "unknown_url")
            self.listings += 1
            tuned = {job["fine_tuned_model"] for job in self.jobs.values() if job["fine_tuned_model"]}
            return JSONResponse({"object": "list", "data": [
                {"id": model_id, "object": "model", "created": 1_700_000_000,
                 "owned_by": "org-local" if model_id in tuned else "system"}
                for model_id in sorted({*self.base_models, *self.also_listed, *tuned})]})

        return Starlette(routes=[
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/files", upload, methods=["POST"]),
            Route("/v1/fine_tuning/jobs", create, methods=["POST"]),
            Route("/v1/fine_tuning/jobs/{job_id}", retrieve, methods=["GET"]),
            Route("/v1/fine_tuning/jobs/{job_id}/cancel", cancel, methods=["POST"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ])


@contextmanager
def running_backend(base_models: set[str], also_listed: frozenset[str] = frozenset()) -> Iterator[FineTuningBackend]:
    backend = FineTuningBackend(base_models, also_listed)
    with serving(backend.app()) as url:
        backend.url = f"{url}/v1"
        yield backend
