"""Normalization of rows pushed into a PUSH dataset.

A push body is one row object, or `{"rows": [...]}`. Each row is accepted or rejected on
its own; a rejected row is never stored, and nothing stored is silently altered.

- input: the first non-empty of `input`, `prompt`, `question`, `query`. Strings are kept
  as they are; numbers and booleans become their JSON text; objects and lists become
  compact JSON text.
- messages: without an input field, a chat list `[{"role", "content"}]` is converted.
  `content` may be a string or a list of parts, whose `text` parts are joined with
  newlines (other parts, such as images, are skipped). When the last message is from the
  assistant and no expected field is given, it becomes `expected` and leaves the
  conversation. The conversation is kept on the row as `messages`, and `input` is its
  transcript, one `role: content` line per message.
- expected: the first present of `expected`, `output`, `response`, `completion`,
  `answer`, converted like input (an empty string is kept).
- id: a string or integer of 1 to 200 characters, kept as the row id.
- metadata: the `metadata` object plus the top-level `trace_id`, `session_id`,
  `conversation_id`, `user_id`, `source`, `model`, `provider`, `latency_ms`, `cost_usd`,
  `tags` and `timestamp` (top-level values win).
- pushed_at: the time the push was received.
- caps: input and expected up to 32,000 characters, metadata up to 16 KiB of JSON,
  500 rows per push. Rows over a cap are rejected with a reason; other top-level fields
  are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_ROWS_PER_REQUEST = 500
MAX_FIELD_CHARS = 32_000
MAX_METADATA_BYTES = 16_384
MAX_ID_CHARS = 200
METADATA_FIELDS = ("trace_id", "session_id", "conversation_id", "user_id", "source", "model",
                   "provider", "latency_ms", "cost_usd", "tags", "timestamp")
INPUT_FIELDS = ("input", "prompt", "question", "query")
EXPECTED_FIELDS = ("expected", "output", "response", "completion", "answer")


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str
    message: str


def rows_of(body: Any) -> list[Any]:
    """The rows of a push body; ValueError when the body has no usable rows."""
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object: one row, or {\"rows\": [...]}.")
    if "rows" not in body:
        return [body]
    rows = body["rows"]
    if not isinstance(rows, list):
        raise ValueError("`rows` must be a list of row objects.")
    if not rows:
        raise ValueError("`rows` is empty.")
    return rows


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return bool(value)
    return True


class _Reject(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def _content(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [part["text"] for part in value
                 if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)]
        return "\n".join(parts)
    raise _Reject("invalid_messages", "Message content must be a string or a list of text parts.")


def _messages(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise _Reject("invalid_messages", "`messages` must be a non-empty list of {role, content}.")
    messages = []
    for message in raw:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str) or "content" not in message:
            raise _Reject("invalid_messages", "Each message needs a string `role` and a `content`.")
        messages.append({"role": message["role"], "content": _content(message["content"])})
    return messages


def _expected(raw: dict[str, Any]) -> str | None:
    for name in EXPECTED_FIELDS:
        if raw.get(name) is not None:
            return _text(raw[name])
    return None


def _input(raw: dict[str, Any], expected: str | None) -> tuple[str, str | None, list[dict[str, str]] | None]:
    for name in INPUT_FIELDS:
        if _present(raw.get(name)):
            return _text(raw[name]), expected, None
    if raw.get("messages") is None:
        raise _Reject("missing_input", f"A row needs one of {', '.join(INPUT_FIELDS)} or messages.")
    conversation = _messages(raw["messages"])
    if expected is None and conversation[-1]["role"] == "assistant":
        expected = conversation.pop()["content"]
    if not conversation:
        raise _Reject("invalid_messages", "`messages` needs at least one message before the answer.")
    transcript = "\n".join(f"{m['role']}: {m['content']}" for m in conversation)
    return transcript, expected, conversation


def _row_id(raw: dict[str, Any]) -> str | None:
    value = raw.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Reject("invalid_id", "`id` must be a string or an integer.")
    text = str(value).strip()
    if not 1 <= len(text) <= MAX_ID_CHARS:
        raise _Reject("invalid_id", f"`id` must be 1 to {MAX_ID_CHARS} characters.")
    return text


def _metadata(raw: dict[str, Any]) -> dict[str, Any]:
    given = raw.get("metadata")
    if given is not None and not isinstance(given, dict):
        raise _Reject("invalid_metadata", "`metadata` must be an object.")
    metadata = dict(given or {})
    metadata.update({name: raw[name] for name in METADATA_FIELDS if raw.get(name) is not None})
    if len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode()) > MAX_METADATA_BYTES:
        raise _Reject("metadata_too_large", f"metadata is limited to {MAX_METADATA_BYTES} bytes of JSON.")
    return metadata


def normalize(raw: Any, index: int, pushed_at: str) -> dict[str, Any] | Rejection:
    """One stored row, or why it was rejected."""
    if not isinstance(raw, dict):
        return Rejection(index, "not_an_object", "A row must be a JSON object.")
    try:
        row_id = _row_id(raw)
        text, expected, conversation = _input(raw, _expected(raw))
        if len(text) > MAX_FIELD_CHARS or (expected is not None and len(expected) > MAX_FIELD_CHARS):
            raise _Reject("field_too_long", f"input and expected are limited to {MAX_FIELD_CHARS} characters.")
        metadata = _metadata(raw)
    except _Reject as rejected:
        return Rejection(index, rejected.reason, rejected.message)
    row: dict[str, Any] = {"id": row_id, "input": text, "expected": expected}
    if conversation is not None:
        row["messages"] = conversation
    row["metadata"] = metadata
    row["pushed_at"] = pushed_at
    return row
