"""One model served in a child process: llama.cpp's OpenAI-compatible server (xllamacpp) on loopback.

`LlamaServers` starts it. It prints its base URL on one line once the model is loaded and
listening, then serves until its standard input closes: the parent closes it to stop the
server, and the system closes it when the parent dies, so a model server never outlives
the Dr.Gero process that started it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    # Only this child loads llama.cpp: a crash in it costs this model's calls, not the server.
    import xllamacpp  # noqa: PLC0415

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.context
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.port = args.port
    params.hostnames = ["127.0.0.1"]  # loopback only: nothing else on the network may call it
    server = xllamacpp.Server(params)
    address = server.listening_address
    print(address if address.startswith("http") else f"http://{address}", flush=True)
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when this one stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.read()
    os._exit(0)  # llama.cpp's own threads would otherwise keep the process alive


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Serve one GGUF model on loopback until stdin closes.")
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--parallel", type=int, default=4, help="calls decoded at once")
    parser.add_argument("--context", type=int, default=4096, help="context tokens, shared by the parallel calls")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    return parser


if __name__ == "__main__":
    main()
