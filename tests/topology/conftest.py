"""The deployed shape, started once for these tests: five functions, the router, the emulators.

It runs on the session's emulators (tests/emulators.py), under a project id of its own, with
a local OpenAI-compatible upstream for the candidates and a stand-in for a Supabase
project's signing keys (JWKS), as deploy's --supabase-url configures them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from infra.emulators import EmulatorFailed
from infra.topology import Emulators, Topology
from tests.upstream import Upstream, running_upstream, serving

DRGERO = Path(sys.executable).with_name("drgero")


@dataclass
class Supabase:
    """A Supabase project as far as sessions go: its JWKS URL, and sign-in that mints its access tokens."""

    url: str
    key: rsa.RSAPrivateKey

    def session(self, email: str, ttl: int = 600) -> str:
        claims = {"sub": f"user-{email}", "email": email, "aud": "authenticated", "role": "authenticated",
                  "iss": f"{self.url}/auth/v1", "exp": int(time.time()) + ttl}
        return jwt.encode(claims, self.key, "RS256", headers={"kid": "project-key"})


@pytest.fixture(scope="session")
def supabase() -> Iterator[Supabase]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))

    async def jwks(request):
        return JSONResponse({"keys": [{**public, "kid": "project-key", "alg": "RS256", "use": "sig"}]})

    with serving(Starlette(routes=[Route("/auth/v1/.well-known/jwks.json", jwks)])) as url:
        yield Supabase(url, key)


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    with running_upstream() as server:
        yield server


@pytest.fixture(scope="session")
def topology(firestore_emulator, gcs_emulator, tasks_emulator, supabase, tmp_path_factory) -> Iterator[Topology]:
    hosts = Emulators(firestore_emulator.host, gcs_emulator.url, tasks_emulator.host)
    # On top of deploy's settings: candidates on this machine's loopback, and small chunks so a
    # run spans several tasks.
    overrides = {"DRGERO_ALLOW_PRIVATE_URLS": "true", "DRGERO_RUN_CHUNK_ROWS": "10",
                 "DRGERO_CANDIDATE_CONCURRENCY": "2"}
    shape = Topology(hosts, tmp_path_factory.mktemp("topology"), supabase_url=supabase.url, overrides=overrides)
    try:
        shape.start()
    except EmulatorFailed as exc:
        shape.stop()
        pytest.fail(str(exc), pytrace=False)
    yield shape
    shape.stop()


def drgero(topology: Topology, *args: str) -> str:
    """Run the console script against the topology's data; its last line of output."""
    done = subprocess.run([str(DRGERO), *args], env={**os.environ, **topology.cli_env()}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@pytest.fixture(scope="session")
def token(topology: Topology) -> str:
    """An API token for workspace acme, made with the CLI straight into Firestore."""
    return drgero(topology, "token", "create", "--workspace", "acme", "--scopes", "all")
