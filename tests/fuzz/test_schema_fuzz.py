"""Schema fuzzing: every operation of the live server's /openapi.yaml, generated from its own schemas.

A real `drgero serve` (its model providers, Hugging Face and the fine-tuning backend stood in
for by local servers) gets valid and invalid requests for every operation, with the
credential its family takes and, in the path, ids of real resources of the caller's
workspace, so generated bodies reach the handlers instead of stopping at 404. One JSON object
body in three has one value, at the top or nested in a field (metadata, constraints, rows, ...),
replaced by what no store can keep: text with a lone surrogate, nesting 40 levels deep, or a
4,000-digit integer. Each answer must be no 5xx, a documented status, the documented content
type, and match the documented schema. `DRGERO_FUZZ_EXAMPLES` sets the examples per operation
(default 20).
"""

from __future__ import annotations

import copy
import json
import os
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from functions.families import FAMILIES
from shared.auth.secrets import task_signature
from shared.domain.base_models import BASE_MODEL_IDS
from shared.http.bodies import MAX_DEPTH
from shared.http.family import api_document, common_routes
from shared.services.tasks import KINDS
from tests.e2e.conftest import LiveServer, drgero, serve_live
from tests.factories import OPENROUTER_CATALOG, own_model, push_leaderboard
from tests.fine_tuning_server import KEY, running_backend
from tests.upstream import running_upstream

EXAMPLES = int(os.environ.get("DRGERO_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CRON_SECRET = "fuzz-cron-secret-0123456789abcdef"
SECRET_KEY = "bWFkZS11cC1mb3ItZnV6emluZy1vbmx5LTMyYnl0ZXM="
ROUTES = {(route.method, route.path): route
          for route in [*(r for family in FAMILIES for r in family.routes), *common_routes(FAMILIES)]}
SEEN: Counter[tuple[str, int]] = Counter()
HOSTILE_SENT: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_upstream() as upstream, running_backend(set(BASE_MODEL_IDS)) as tuner:
        upstream.catalog.update(OPENROUTER_CATALOG)
        yield from serve_live(tmp_path_factory.mktemp("fuzz"), {
            "DRGERO_OPENROUTER_BASE_URL": upstream.model_url("echo"), "DRGERO_OPENROUTER_API_KEY": "sk-or-fuzz",
            "DRGERO_HUGGINGFACE_BASE_URL": upstream.url, "DRGERO_FINE_TUNE_BASE_URL": tuner.url,
            "DRGERO_FINE_TUNE_API_KEY": KEY, "DRGERO_FINE_TUNE_BASE_MODELS": "*",
            "DRGERO_CRON_SECRET": CRON_SECRET, "DRGERO_SECRET_KEY": SECRET_KEY,
            "DRGERO_INTEGRATION_TIMEOUT_SECONDS": "2",
        })


@pytest.fixture(scope="module")
def session_token(fuzz_server: LiveServer) -> str:
    return drgero("session", "create", "--email", "fuzz@acme.example", "--workspace", "acme",
                  env=fuzz_server.env).stdout.splitlines()[-1]


@pytest.fixture
def resources(fuzz_server: LiveServer, session_token: str) -> dict[str, str]:
    """Fresh resources of the caller's workspace for one operation's examples."""
    with fuzz_server.client() as http:
        board = http.post("/api/leaderboards", json=push_leaderboard()).raise_for_status().json()["leaderboard"]
        http.post(f"/v1/leaderboard/{board['id']}/dataset/push",
                  json={"rows": [{"input": "2+2", "expected": "4"}, {"input": "3+3", "expected": "6"}]})
        http.post(f"/v1/leaderboard/{board['id']}/dataset/consolidate").raise_for_status()
        model = http.post("/api/models", json=own_model()).raise_for_status().json()
        candidate = http.post(f"/api/leaderboards/{board['id']}/models", json={
            "name": "echo", "platform": "OpenRouter", "model_url": "openai/gpt-4o-mini"}).raise_for_status().json()
        http.patch(f"/api/leaderboards/{board['id']}", json={"chosen_leaderboard_model_id": candidate["id"]})
        run = http.post(f"/api/leaderboards/{board['id']}/run", json={}).raise_for_status().json()
        token = http.post("/api/tokens", headers={"Authorization": f"Bearer {session_token}"},
                          json={"name": "fuzzed"}).raise_for_status().json()
    return {"leaderboard_id": board["id"], "leaderboard_model_id": candidate["id"], "model_id": model["id"],
            "run_id": run["id"], "item_id": str(uuid.uuid4()), "token_id": token["id"]}


# The document the server serves at /openapi.yaml (checked below), built from the same route tables.
DOCUMENT = api_document(FAMILIES)
schema = schemathesis.openapi.from_dict(yaml.safe_load(DOCUMENT))
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


def _nested(levels: int) -> object:
    value: object = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"a": value}
    return value


# Valid JSON no store can keep; the server must refuse each with a documented 4xx. NaN and
# Infinity are not JSON at all (requests refuses to send them). 4,000 digits, not more: Python
# will not turn an int of over 4,300 digits into text, so json.dumps could not send it.
HOSTILE = {"surrogate": "note \ud800 here", "deep": _nested(40), "huge int": 10**3999}


def _paths(value: object, prefix: tuple = ()) -> Iterator[tuple]:
    """Where a value sits in the body: its top-level fields and everything inside them."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield (*prefix, key)
        yield from _paths(item, (*prefix, key))


@st.composite
def _maybe_hostile(draw: st.DrawFn, body: dict) -> dict:
    paths = list(_paths(body))
    # Drawn, so a failure shrinks and replays; it shrinks towards the body as generated.
    if not paths or draw(st.integers(0, 2)) < 2:
        return body
    *parents, last = draw(st.sampled_from(paths))
    body = copy.deepcopy(body)  # the generated value is Hypothesis's; change a copy
    target = body
    for key in parents:
        target = target[key]
    target[last] = HOSTILE[draw(st.sampled_from(sorted(HOSTILE)))]
    return body


@schema.hook
def flatmap_body(context, body):
    return _maybe_hostile(body) if isinstance(body, dict) else st.just(body)


def _hostile_in(value: object) -> set[str]:
    """Which kinds of hostile value the body carries, by the server's rules (shared/http/bodies.py)."""
    kinds, todo = set(), [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if depth > MAX_DEPTH:
            kinds.add("deep")
        elif isinstance(item, str) and any("\ud800" <= char <= "\udfff" for char in item):
            kinds.add("surrogate")
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:
            kinds.add("huge int")
        elif isinstance(item, dict | list):
            todo += [(child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)]
    return kinds


def test_the_fuzzed_document_is_the_one_the_server_serves(fuzz_server):
    with httpx.Client(base_url=fuzz_server.base_url) as http:
        assert http.get("/openapi.yaml").text == DOCUMENT


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_operation_answers_5xx_or_off_schema(case, fuzz_server, session_token, resources):
    route = ROUTES[(case.operation.method.upper(), case.operation.path)]
    for name in route.path_params:
        if name in resources:
            case.path_parameters[name] = resources[name]
        elif name == "kind":  # three times in four a real task kind, so the handlers see the payloads
            digest, kinds = zlib.crc32(repr(case.body).encode()), sorted(KINDS)
            if digest % 4:
                case.path_parameters[name] = kinds[digest % len(kinds)]
    # Headers the document does not define (a Content-Length with no value, say) make requests
    # the HTTP server itself refuses before the application sees them: not what is fuzzed here.
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() == "content-type"}
    headers = _credential(route, case, fuzz_server.token, session_token)
    response = case.call(base_url=fuzz_server.base_url, headers=headers, timeout=30)
    SEEN[(f"{route.method} {route.path}", response.status_code)] += 1
    HOSTILE_SENT.update(_hostile_in(case.body))
    case.validate_response(response, checks=CHECKS)


def _credential(route, case, api_token: str, session_token: str) -> dict[str, str]:
    """The credential the route's family takes, valid and with every scope."""
    if route.auth in ("api_token", "push"):
        return {"Authorization": f"Bearer {api_token}"}
    if route.auth == "session":
        return {"Authorization": f"Bearer {session_token}"}
    if route.auth == "cron":
        return {"Authorization": f"Bearer {CRON_SECRET}"}
    if route.auth == "task":
        body = json.dumps(case.body).encode() if isinstance(case.body, dict | list | str | int | float) else b""
        case.headers = {**(case.headers or {}), "Content-Type": "application/json"}
        kind = case.path_parameters["kind"]
        return {"X-DrGero-Task-Signature": task_signature(SECRET_KEY, kind, body)}
    return {}


def test_zz_the_fuzzing_reached_the_handlers(fuzz_server):
    """Runs after the fuzzing: most operations answered something other than a validation error."""
    operations = {operation for operation, _ in SEEN}
    assert len(operations) >= len(ROUTES) - 2, sorted(set(f"{m} {p}" for m, p in ROUTES) - operations)
    answered = {operation for (operation, status) in SEEN if status < 400}
    assert len(answered) >= len(operations) // 2, sorted(operations - answered)
    print(f"\nfuzzed {len(operations)} operations, {sum(SEEN.values())} requests:",
          dict(Counter(status for (_, status) in SEEN.elements())), "hostile values:", dict(HOSTILE_SENT))
    assert set(HOSTILE_SENT) == set(HOSTILE), HOSTILE_SENT
    with httpx.Client(base_url=fuzz_server.base_url, timeout=5) as http:
        assert http.get("/healthz").status_code == 200
