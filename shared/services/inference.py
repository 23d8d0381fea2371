"""Production inference through a leaderboard's chosen model, with fallback and a trace per call.

The chosen candidate answers; when it fails after the client's retries, the next candidates
of the latest ranking are tried in order, at most MAX_FALLBACKS of them. Every call leaves
a trace, and its cost is added to the month's spend, before the answer is sent: on Cloud
Run the CPU is throttled once a response is out, and budgets are only as good as the
spend behind them. That costs the caller one document write (two at once when the
provider reports a cost); a stream's trace is written when it ends, still inside the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio

from shared.domain.leaderboard import Candidate, Leaderboard, fill_prompt
from shared.domain.times import iso
from shared.domain.trace import Trace
from shared.errors import ConflictError, DomainError
from shared.ports import Data, Deps, ProviderError, StreamChunk
from shared.services import online_eval, push_datasets, spend
from shared.services.endpoints import EndpointUnavailable, candidate_endpoint
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.traces import Traces

MAX_FALLBACKS = 2
EXPORT_PAGE = 500
# A client that leaves mid-stream cancels the request; its trace is still worth a few seconds.
DISCONNECTED_SAVE_SECONDS = 5.0


class BudgetExceeded(DomainError):
    """The leaderboard's monthly budget is spent: inference answers 402 until next month or a higher budget."""

    code = "budget_exceeded"

    def __init__(self, message: str, budget: spend.Budget) -> None:
        super().__init__(message)
        self.budget = budget


class ProviderFailed(DomainError):
    """Every candidate tried failed; the trace (saved by the caller) says what happened."""

    code = "provider_error"

    def __init__(self, message: str, trace: Trace, budget: spend.Budget) -> None:
        super().__init__(message, details={"trace_id": trace.id})
        self.trace, self.budget = trace, budget


def _messages(board: Leaderboard, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The chat messages to send and the input text to trace."""
    template = board.prompt
    if body.get("messages"):
        messages = list(body["messages"])
        if template and "{input}" not in template:
            messages = [{"role": "system", "content": template}, *messages]
        text = "\n".join(f"{m['role']}: {m['content']}" for m in body["messages"] if isinstance(m.get("content"), str))
        return messages, text
    text = body["input"]
    return [{"role": "user", "content": fill_prompt(template, {"input": text, "id": ""})}], text


async def _candidates_in_order(deps: Deps, board: Leaderboard) -> AsyncIterator[Candidate]:
    """The chosen candidate, then the runners-up of the latest ranking, each read only when needed."""
    chosen = board.chosen_leaderboard_model_id
    ranking = (board.latest_ranking or {}).get("ranking") or []
    order = [chosen] + [entry["candidate_id"] for entry in ranking if entry["candidate_id"] != chosen]
    candidates = Candidates(deps.documents)
    for candidate_id in order[: 1 + MAX_FALLBACKS]:
        found = await candidates.get(candidate_id or "")
        if found is not None and found.leaderboard_id == board.id:
            yield found


async def _begin(deps: Deps, workspace_id: str, leaderboard_id: str, body: dict[str, Any]
                 ) -> tuple[Leaderboard, list[dict[str, Any]], Trace, spend.Budget]:
    """The leaderboard (which must have a chosen model), the messages to send, a fresh trace, the budget state."""
    board = (await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)).require_unarchived("inference")
    if not board.chosen_leaderboard_model_id:
        raise ConflictError("The leaderboard has no chosen model yet: run it, or PATCH chosen_leaderboard_model_id.",
                            code="no_chosen_model")
    budget = await spend.budget(deps, board)
    if budget.state == "exceeded":
        raise BudgetExceeded(f"This leaderboard spent ${budget.spent_usd:.4f} of its ${budget.limit_usd:.4f} "
                             "monthly budget.", budget)
    messages, text = _messages(board, body)
    metadata = body.get("metadata") or {}
    expected = body.get("expected")
    if expected is None and isinstance(metadata.get("expected"), str):
        expected = metadata["expected"]
    trace = Trace(id=deps.ids.new_id(), workspace_id=workspace_id, leaderboard_id=leaderboard_id, input=text,
                  metadata=metadata, expected=expected, created_at=iso(deps.clock.now()))
    return board, messages, trace, budget


async def infer(deps: Deps, workspace_id: str, leaderboard_id: str, body: dict[str, Any]
                ) -> tuple[Data, Trace, spend.Budget]:
    """(response body, trace, budget): ConflictError without a chosen model, ProviderFailed when all fail."""
    board, messages, trace, budget = await _begin(deps, workspace_id, leaderboard_id, body)
    started = time.perf_counter()
    deadline = asyncio.get_running_loop().time() + deps.settings.inference_timeout_seconds
    async for candidate in _candidates_in_order(deps, board):
        trace.attempted.append(candidate.id)
        try:
            endpoint = await candidate_endpoint(deps, candidate)
            async with asyncio.timeout_at(deadline):
                completion = await deps.chat.complete(endpoint, messages, temperature=body.get("temperature"),
                                                      max_tokens=body.get("max_tokens"))
        except (ProviderError, EndpointUnavailable) as exc:
            trace.failed(candidate.id, candidate.name, _reason(exc), getattr(exc, "message", str(exc)))
            continue
        except TimeoutError:
            trace.failed(candidate.id, candidate.name, "timeout",
                         f"no answer within {deps.settings.inference_timeout_seconds} s")
            break
        trace.answered_by(candidate.id, candidate.name)
        trace.status, trace.output = "ok", completion.text
        trace.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        trace.tokens, trace.cost_usd = completion.usage.total_tokens, completion.usage.cost_usd
        usage = {"prompt_tokens": completion.usage.prompt_tokens,
                 "completion_tokens": completion.usage.completion_tokens, "total_tokens": completion.usage.total_tokens}
        return {"output": completion.text, "model": {"id": candidate.id, "name": candidate.name},
                "trace_id": trace.id, "usage": usage, "latency_ms": trace.latency_ms,
                "cost_usd": completion.usage.cost_usd, "fallback": trace.fallback}, trace, budget
    trace.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    raise ProviderFailed(_no_answer(trace), trace, budget)


def _reason(exc: Exception) -> str:
    """The short word a caller may see; the detail (URLs, library errors) stays in the trace."""
    return exc.reason if isinstance(exc, ProviderError) else "unavailable"


def _no_answer(trace: Trace) -> str:
    tried = "; ".join(f"{failure['name']}: {failure['reason']}" for failure in trace.failures)
    return f"No candidate could answer ({tried or 'none could be called'}). The trace has the details."


async def save_trace(deps: Deps, trace: Trace) -> None:
    """Store the trace and add its cost to the month's spend, side by side (before the answer is sent);
    then push it to the dataset and queue its online evaluation when the leaderboard asks for them."""
    writes = [Traces(deps.documents).create(trace)]
    if trace.cost_usd:
        writes.append(spend.add(deps, trace.workspace_id, trace.leaderboard_id, trace.cost_usd))
    await asyncio.gather(*writes)
    board = await Leaderboards(deps.documents).get(trace.leaderboard_id)  # cached per instance
    if board is None:
        return
    if trace.status == "ok":
        await _capture(deps, board, trace)
    await online_eval.queue_scoring(deps, board, trace)


async def _capture(deps: Deps, board: Leaderboard, trace: Trace) -> None:
    """With `dataset_metadata.capture_traces_to_dataset` on a PUSH leaderboard, the answer becomes a pushed row.

    It goes through the webhook's own path (normalization, quotas, dedupe), keyed by the
    trace id so a retried save cannot push it twice, and links back to the trace by its
    ref_trace_id and ref_timestamp.
    """
    if not board.captures_traces:
        return
    row = {"input": trace.input, "output": trace.output, "trace_id": trace.id, "model": trace.model,
           "latency_ms": trace.latency_ms, "cost_usd": trace.cost_usd, "source": "inference",
           "metadata": trace.metadata, "ref_trace_id": trace.id, "ref_timestamp": trace.created_at}
    source_id = trace.metadata.get("source_id")
    if isinstance(source_id, str) and 0 < len(source_id.strip()) <= 200:
        row["ref_source_id"] = source_id  # the app's own id of the call, when its request metadata names one
    await push_datasets.push(deps, trace.workspace_id, trace.leaderboard_id, row, idempotency_key=f"trace-{trace.id}")


async def list_traces(deps: Deps, workspace_id: str, leaderboard_id: str, filters: dict[str, Any],
                      limit: int | None, offset: int) -> tuple[list[Trace], int]:
    """Traces newest first, filtered by time window (since <= created_at < until), status and model."""
    await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)
    return await Traces(deps.documents).listed(workspace_id, leaderboard_id, filters, limit, offset)


async def every_trace(deps: Deps, workspace_id: str, leaderboard_id: str, filters: dict[str, Any]
                      ) -> AsyncIterator[list[Trace]]:
    """Every matching trace, newest first, a page at a time so memory stays flat for any count."""
    offset = 0
    while True:
        page, _ = await list_traces(deps, workspace_id, leaderboard_id, filters, EXPORT_PAGE, offset)
        if not page:
            return
        yield page
        offset += len(page)


def openai_completion(answer: Data, trace: Trace, created: int) -> Data:
    """An inference answer in the OpenAI chat completion shape."""
    return {"id": f"chatcmpl-{trace.id}", "object": "chat.completion", "created": created,
            "model": answer["model"]["name"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer["output"]},
                         "finish_reason": "stop"}],
            "usage": answer["usage"]}


async def stream_completion(deps: Deps, workspace_id: str, leaderboard_id: str, body: dict[str, Any]
                            ) -> tuple[Trace, spend.Budget, AsyncIterator[Data]]:
    """(trace, budget, the answer's chunks in the OpenAI chunk shape); falls back only before the first chunk.

    The trace is saved when the chunks end, including when the client goes away mid-stream
    (status `client_disconnected`, with what had been sent); a stream cut by the provider
    ends with an `{"error": ...}` chunk and the trace status `error`.
    """
    board, messages, trace, budget = await _begin(deps, workspace_id, leaderboard_id, body)
    started = time.perf_counter()
    async for candidate in _candidates_in_order(deps, board):
        trace.attempted.append(candidate.id)
        try:
            endpoint = await candidate_endpoint(deps, candidate)
            chunks = deps.chat.stream(endpoint, messages, temperature=body.get("temperature"),
                                      max_tokens=body.get("max_tokens"))
            first = await anext(chunks)
        except StopAsyncIteration:
            trace.failed(candidate.id, candidate.name, "bad_response", "the stream ended before its first chunk")
            continue
        except (ProviderError, EndpointUnavailable) as exc:
            trace.failed(candidate.id, candidate.name, _reason(exc), getattr(exc, "message", str(exc)))
            continue
        trace.answered_by(candidate.id, candidate.name)
        return trace, budget, _relayed(deps, trace, first, chunks, started)
    trace.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    raise ProviderFailed(_no_answer(trace), trace, budget)


async def _relayed(deps: Deps, trace: Trace, first: StreamChunk, chunks: AsyncIterator[StreamChunk], started: float
                   ) -> AsyncIterator[Data]:
    parts: list[str] = []
    trace.status = "client_disconnected"
    try:
        async for chunk in _chain(first, chunks):
            parts.append(chunk.text)
            if chunk.usage is not None:
                trace.tokens, trace.cost_usd = chunk.usage.total_tokens, chunk.usage.cost_usd
            yield {**chunk.data, "id": f"chatcmpl-{trace.id}", "model": trace.model}
        trace.status = "ok"
    except ProviderError as exc:
        trace.status, trace.error = "error", f"stream cut: {exc.message}"
        yield {"error": {"message": f"The stream was cut ({exc.reason}). The trace has the details.",
                         "type": "provider_error", "code": exc.reason}}
    finally:
        trace.output = "".join(parts)
        trace.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        # Shielded: when the client went away the request is being cancelled, and an
        # unshielded await here would be cancelled with it.
        with anyio.CancelScope(shield=True), anyio.move_on_after(DISCONNECTED_SAVE_SECONDS):
            await save_trace(deps, trace)


async def _chain(first: StreamChunk, rest: AsyncIterator[StreamChunk]) -> AsyncIterator[StreamChunk]:
    yield first
    async for chunk in rest:
        yield chunk
