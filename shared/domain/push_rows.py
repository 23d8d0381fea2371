"""Normalization of the rows production apps push into a PUSH dataset.

A push body is one row object, or `{"rows": [...]}` with a non-empty list. Each row is
accepted or rejected on its own, with a stable `reason` code. A rejected row is never
stored, and nothing stored is silently altered: a value over a cap is rejected, never
truncated. A field that is absent and a field that is null mean the same.

- input: the first of `input`, `prompt`, `question`, `query` that is non-empty (a blank
  string, `[]` or `{}` counts as empty, so the next alias is tried). Strings are kept as
  they are (not stripped); numbers and booleans become their JSON text (`true`, `3`);
  objects and lists become compact JSON text with sorted keys.
- messages: used only when no input field is given. It must be a non-empty list of
  `{"role": str, "content": str | [parts]}` (`invalid_messages` otherwise). A list content
  is an OpenAI-style list of part objects: `{"type": "text", "text": str}` parts are joined
  with newlines, parts of other types (images, audio) are skipped. Other message keys are
  dropped. When the last message has the role `assistant` and no expected field is given,
  it becomes `expected` and leaves the conversation, which must then still hold a message.
  The conversation is kept on the row as `messages` (`[{role, content}]`), and `input` is
  its transcript: one `role: content` per message, joined with newlines.
- expected: the first non-null of `expected`, `output`, `response`, `completion`,
  `answer`, converted like input; an empty string is kept. Absent: null.
- id: a string or an integer (not a boolean), stored as text without surrounding
  whitespace, 1 to 200 characters. Absent: null.
- metadata: the `metadata` object, plus the top-level `trace_id`, `session_id`,
  `conversation_id`, `user_id`, `source`, `model`, `provider`, `latency_ms`, `cost_usd`,
  `tags` and `timestamp` when not null; top-level values win over the same keys inside
  `metadata`. Every other top-level field is ignored.
- ref_trace_id, ref_timestamp, ref_source_id: where the row comes from (the production trace,
  when the call or event happened, the event's id in the app). Strings of 1 to 200
  characters, ref_timestamp an ISO-8601 time; kept as given (`invalid_ref` otherwise).
- pushed_at: the time the push was received, given by the caller.
- caps: at most 500 rows per push (checked by the caller), input and expected up to 32,000
  characters each, metadata up to 16,384 bytes as compact UTF-8 JSON.

The stored row is `{"id", "input", "expected", "messages", "metadata", "pushed_at"}`, in
that order, with `messages` only when the input came from messages, then the `ref_*`
fields that were given.

Rejection reasons: `not_an_object`, `missing_input`, `invalid_messages`, `invalid_id`,
`invalid_ref`, `invalid_metadata`, `field_too_long`, `metadata_too_large` and `invalid_value`. A row
breaking several rules reports the first one found, looking at expected and input, then
id, metadata, lengths and metadata size. `invalid_value` covers what JSON storage cannot
hold faithfully: nesting deeper than the interpreter can serialize, non-finite floats,
integers too long to print or beyond 64 bits, keys of mixed types, and strings with a lone UTF-16 surrogate
(a JSON body may escape one, UTF-8 cannot encode it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

MAX_ROWS_PER_REQUEST = 500
MAX_FIELD_CHARS = 32_000        # input / expected, after conversion to text
MAX_METADATA_BYTES = 16_384     # compact JSON of the final metadata dict
MAX_ID_CHARS = 200
METADATA_FIELDS = ("trace_id", "session_id", "conversation_id", "user_id", "source", "model",
                   "provider", "latency_ms", "cost_usd", "tags", "timestamp")
INPUT_FIELDS = ("input", "prompt", "question", "query")
EXPECTED_FIELDS = ("expected", "output", "response", "completion", "answer")
REF_FIELDS = ("ref_trace_id", "ref_timestamp", "ref_source_id")


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str   # stable snake_case code
    message: str  # human explanation


def rows_of(body: Any) -> list[Any]:
    """The rows of a push body: `{"rows": [...]}` or one bare row object.

    ValueError (a 422 for callers) when the body is not an object, or `rows` is not a
    non-empty list.
    """
    if not isinstance(body, dict):
        raise ValueError('The body must be a JSON object: one row, or {"rows": [...]}.')
    if "rows" not in body:
        return [body]
    rows = body["rows"]
    if not isinstance(rows, list):
        raise ValueError(f"`rows` must be a list of row objects, not {_kind(rows)}.")
    if not rows:
        raise ValueError("`rows` is empty: send at least one row.")
    return rows


def normalize(raw: Any, index: int, pushed_at: str) -> dict[str, Any] | Rejection:
    """One stored row, or why it was rejected."""
    if not isinstance(raw, dict):
        return Rejection(index, "not_an_object", f"A row must be a JSON object, not {_kind(raw)}.")
    try:
        # Expected is read first: whether it is given decides what a trailing assistant message is.
        expected = _expected(raw)
        text, expected, conversation = _input(raw, expected)
        row_id = _row_id(raw)
        refs = _refs(raw)
        metadata = _metadata(raw)
        for name, value in (("input", text), ("expected", expected)):
            if value is not None and len(value) > MAX_FIELD_CHARS:
                raise _Reject("field_too_long", f"`{name}` has {len(value)} characters; the limit is "
                                                f"{MAX_FIELD_CHARS} (values are rejected, never truncated).")
        size = len(_utf8(_json(metadata, sort_keys=False)))
        if size > MAX_METADATA_BYTES:
            raise _Reject("metadata_too_large",
                          f"metadata is {size} bytes of JSON; the limit is {MAX_METADATA_BYTES}.")
        for value in (text, expected, row_id, *refs.values()):
            if value is not None:
                _utf8(value)
    except _Reject as rejected:
        return Rejection(index, rejected.reason, rejected.message)
    row: dict[str, Any] = {"id": row_id, "input": text, "expected": expected}
    if conversation is not None:
        row["messages"] = conversation
    row["metadata"] = metadata
    row["pushed_at"] = pushed_at
    row.update(refs)
    try:
        orjson.dumps(row)  # the encoder storage uses: 64-bit integers, UTF-8 strings, string keys
    except TypeError:
        return Rejection(index, "invalid_value", "A value cannot be stored: integers must fit in 64 bits.")
    return row


class _Reject(Exception):
    """Unwinds the helpers to normalize, which turns it into a Rejection."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _json(value: Any, sort_keys: bool = True) -> str:
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and storage would turn them into null.
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":"),
                          allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise _Reject("invalid_value", "A value cannot be written as JSON: nested too deeply, not a finite "
                                       "number, an integer too long to print, or keys of mixed types.") from None


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Reject("invalid_value", "A string holds a lone UTF-16 surrogate, which cannot be stored "
                                       "as UTF-8.") from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


def _given(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return bool(value)
    return value is not None


def _expected(raw: dict[str, Any]) -> str | None:
    for name in EXPECTED_FIELDS:
        if raw.get(name) is not None:
            return _text(raw[name])
    return None


def _input(raw: dict[str, Any], expected: str | None) -> tuple[str, str | None, list[dict[str, str]] | None]:
    for name in INPUT_FIELDS:
        if _given(raw.get(name)):
            return _text(raw[name]), expected, None
    if raw.get("messages") is None:
        raise _Reject("missing_input", f"A row needs a non-empty {', '.join(INPUT_FIELDS)} or `messages`.")
    conversation = _messages(raw["messages"])
    if expected is None and conversation[-1]["role"] == "assistant":
        expected = conversation.pop()["content"]
    if not conversation:
        raise _Reject("invalid_messages", "`messages` holds only the assistant answer; the conversation "
                                          "before it is missing.")
    return "\n".join(f"{m['role']}: {m['content']}" for m in conversation), expected, conversation


def _messages(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise _Reject("invalid_messages", "`messages` must be a non-empty list of {role, content} objects.")
    conversation = []
    for position, message in enumerate(raw):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise _Reject("invalid_messages", f"messages[{position}] must be an object with a string `role`.")
        conversation.append({"role": message["role"], "content": _content(message.get("content"), position)})
    return conversation


def _content(value: Any, position: int) -> str:
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise _Reject("invalid_messages", f"messages[{position}].content must be a string or a list of parts.")
    texts = []
    for part in value:
        if not isinstance(part, dict):
            raise _Reject("invalid_messages", f"messages[{position}].content parts must be objects.")
        if part.get("type") != "text":
            continue  # images, audio and other parts have no text to evaluate on
        if not isinstance(part.get("text"), str):
            raise _Reject("invalid_messages", f"A text part of messages[{position}] needs a string `text`.")
        texts.append(part["text"])
    return "\n".join(texts)


def _row_id(raw: dict[str, Any]) -> str | None:
    value = raw.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Reject("invalid_id", f"`id` must be a string or an integer, not {_kind(value)}.")
    # Sized before str(): printing an integer past the interpreter's digit limit raises.
    too_long = isinstance(value, int) and abs(value) >= 10**MAX_ID_CHARS
    text = "" if too_long else str(value).strip()
    if too_long or not 1 <= len(text) <= MAX_ID_CHARS:
        raise _Reject("invalid_id", f"`id` must be 1 to {MAX_ID_CHARS} characters once trimmed.")
    return text


def _refs(raw: dict[str, Any]) -> dict[str, str]:
    refs = {name: raw[name] for name in REF_FIELDS if raw.get(name) is not None}
    for name, value in refs.items():
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_ID_CHARS:
            raise _Reject("invalid_ref", f"`{name}` must be a string of 1 to {MAX_ID_CHARS} characters.")
    if "ref_timestamp" in refs:
        try:
            datetime.fromisoformat(refs["ref_timestamp"].replace("Z", "+00:00"))
        except ValueError:
            raise _Reject("invalid_ref", "`ref_timestamp` must be an ISO-8601 time.") from None
    return refs


def _metadata(raw: dict[str, Any]) -> dict[str, Any]:
    given = raw.get("metadata")
    if given is not None and not isinstance(given, dict):
        raise _Reject("invalid_metadata", f"`metadata` must be an object, not {_kind(given)}.")
    metadata = dict(given or {})
    metadata.update({name: raw[name] for name in METADATA_FIELDS if raw.get(name) is not None})
    return metadata
