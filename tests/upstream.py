"""A local OpenAI-compatible chat completions server with scripted model behaviours.

It speaks the real wire format over real HTTP (uvicorn on 127.0.0.1), so runs exercise
the same client code as against a provider. The model behaviour comes from the URL:
`{url}/m/{behaviour}/v1` is a candidate base URL; `{url}/judge/v1` is a judge that
scores 1 when the answer contains the reference (0 otherwise). Behaviours:

- `echo` (or `echo<anything>`, for several distinct candidates): answers the last line of the prompt
- `upper`: the same, upper-cased
- `const-<text>`: always `<text>`
- `fail`: HTTP 500 with an OpenAI-style error body
- `garbage`: HTTP 200 with a body that is not JSON
- `switch-<name>`: echoes while `switches[name]` is "good" (the default), answers "no idea"
  once a test sets it to "bad": a model whose quality drops mid-test
- `slow`: echoes after 2 s; `trickle`: streams a long answer, one chunk every 0.2 s

It also answers OpenRouter's key check (`/m/{behaviour}/v1/key`) and Hugging Face's
`/api/whoami-v2` for the keys in `valid_keys`, and serves files put in `files` (path -> bytes) with an ETag, standing in for the
Hugging Face Hub's `/datasets/OWNER/NAME/resolve/REVISION/FILE` downloads.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _completion(text: str, model: str | None) -> dict:
    return {"id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()), "model": model or "local",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "cost": 0.0001}}


def _answer(text: str, body: dict, pause: float = 0.0) -> Response:
    """A chat completion, or with `stream: true` the same text as server-sent chunks of 3 characters."""
    if not body.get("stream"):
        return JSONResponse(_completion(text, body.get("model")))

    async def events():
        for start in range(0, len(text), 3):
            await asyncio.sleep(pause)
            chunk = {"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": body.get("model") or "local",
                     "choices": [{"index": 0, "delta": {"content": text[start:start + 3]}, "finish_reason": None}]}
            yield f"data: {json.dumps(chunk)}\n\n"
        done = {"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model") or "local", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "cost": 0.0001}}
        yield f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


class Upstream:
    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.calls: Counter[str] = Counter()
        self.files: dict[str, bytes] = {}
        # OpenRouter's /models: model id -> its `created` time, or a whole catalog entry.
        self.catalog: dict[str, int | dict] = {}
        self.authorization: dict[str, str] = {}  # behaviour -> the last Authorization header it got
        self.valid_keys: set[str] = set()  # what the key checks below accept
        self.switches: dict[str, str] = {}  # `switch-<name>` behaviours: name -> "good" or "bad"
        self.url = ""

    def app(self) -> Starlette:
        async def model(request: Request) -> Response:
            behaviour = request.path_params["behaviour"]
            self.calls[behaviour] += 1
            self.authorization[behaviour] = request.headers.get("authorization", "")
            body = await request.json()
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            prompt = body["messages"][-1]["content"]
            last_line = prompt.strip().splitlines()[-1] if prompt.strip() else ""
            if behaviour == "fail":
                return JSONResponse({"error": {"message": "upstream exploded", "code": 500}}, status_code=500)
            if behaviour == "garbage":
                return Response(b"<html>not json</html>", media_type="text/html")
            if behaviour == "upper":
                return _answer(last_line.upper(), body)
            if behaviour == "slow":
                await asyncio.sleep(2.0)
            if behaviour == "trickle":
                return _answer("a slow stream of words " * 10, body, pause=0.2)
            if behaviour.startswith("switch-") and self.switches.get(behaviour.removeprefix("switch-")) == "bad":
                return _answer("no idea", body)
            if behaviour.startswith("const-"):
                return _answer(behaviour.removeprefix("const-"), body)
            return _answer(last_line, body)

        async def judge(request: Request) -> Response:
            self.calls["judge"] += 1
            prompt = (await request.json())["messages"][-1]["content"]
            reference = re.search(r"Reference answer:\n(.*?)\n", prompt, re.S)
            answer = prompt.split("Answer to grade:\n", 1)[1].strip()
            score = 1.0 if reference and reference.group(1).strip().lower() in answer.lower() else 0.0
            verdict = f'Verdict follows. {json.dumps({"score": score, "reasoning": "compared with the reference"})}'
            return JSONResponse(_completion(verdict, None))

        async def file(request: Request) -> Response:
            path = request.url.path
            if path not in self.files:
                return JSONResponse({"error": "Entry not found"}, status_code=404)
            self.calls["file"] += 1
            etag = f'"{hash(self.files[path]) & 0xFFFFFFFF:x}"'
            if request.headers.get("if-none-match") == etag:
                self.calls["file_not_modified"] += 1
                return Response(status_code=304, headers={"ETag": etag})
            return Response(self.files[path], media_type="application/octet-stream", headers={"ETag": etag})

        async def catalog(request: Request) -> Response:
            self.calls["catalog"] += 1
            return JSONResponse({"data": [
                {"id": model_id, "name": model_id, **(entry if isinstance(entry, dict) else {"created": entry})}
                for model_id, entry in self.catalog.items()]})

        async def key(request: Request) -> Response:
            # OpenRouter's GET /api/v1/key; the `slow` behaviour answers after 2 s.
            if request.path_params["behaviour"] == "slow":
                await asyncio.sleep(2.0)
            if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.valid_keys:
                return JSONResponse({"error": {"message": "User not found.", "code": 401}}, status_code=401)
            return JSONResponse({"data": {"label": "sk-or-v1-...", "usage": 1.25, "limit": 10,
                                          "limit_remaining": 8.75, "is_free_tier": False}})

        async def whoami(request: Request) -> Response:
            # Hugging Face's GET /api/whoami-v2.
            if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.valid_keys:
                return JSONResponse({"error": "Invalid credentials in Authorization header"}, status_code=401)
            return JSONResponse({"type": "user", "name": "ada", "auth": {
                "type": "access_token", "accessToken": {"displayName": "drgero", "role": "read"}}})

        return Starlette(routes=[Route("/m/{behaviour}/v1/models", catalog, methods=["GET"]),
                                 Route("/m/{behaviour}/v1/key", key, methods=["GET"]),
                                 Route("/api/whoami-v2", whoami, methods=["GET"]),
                                 Route("/m/{behaviour}/v1/chat/completions", model, methods=["POST"]),
                                 Route("/judge/v1/chat/completions", judge, methods=["POST"]),
                                 Route("/datasets/{rest:path}", file, methods=["GET"])])

    def model_url(self, behaviour: str) -> str:
        return f"{self.url}/m/{behaviour}/v1"


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a background thread; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the local server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def running_upstream(delay_seconds: float = 0.0) -> Iterator[Upstream]:
    """An Upstream served on a free loopback port."""
    upstream = Upstream(delay_seconds)
    with serving(upstream.app()) as url:
        upstream.url = url
        yield upstream


if __name__ == "__main__":
    # For benchmarks: serve in this process, print the base URL, run until killed.
    import sys

    with running_upstream(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0) as served:
        print(served.url, flush=True)
        threading.Event().wait()
