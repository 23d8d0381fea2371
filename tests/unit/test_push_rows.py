"""Pushed-row normalization: aliases, the messages conversion, metadata, every rejection, dedupe keys."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.push_rows import (
    EXPECTED_FIELDS,
    INPUT_FIELDS,
    MAX_FIELD_CHARS,
    MAX_ID_CHARS,
    MAX_METADATA_BYTES,
    METADATA_FIELDS,
    Rejection,
    normalize,
    rows_of,
)
from shared.services.consolidation import row_digest

AT = "2026-03-14T09:00:00.000000Z"


def ok(raw) -> dict:
    row = normalize(raw, 0, AT)
    assert not isinstance(row, Rejection), row
    return row


def reason(raw) -> str:
    row = normalize(raw, 7, AT)
    assert isinstance(row, Rejection), row
    assert row.index == 7 and row.message
    return row.reason


def nested(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


# --- shape -------------------------------------------------------------------------------------

def test_a_plain_row_has_a_fixed_shape_and_order():
    row = ok({"id": "t-1", "input": "q", "output": "a"})
    assert row == {"id": "t-1", "input": "q", "expected": "a", "metadata": {}, "pushed_at": AT}
    assert list(row) == ["id", "input", "expected", "metadata", "pushed_at"]


def test_absent_optional_fields_are_null_or_empty():
    assert ok({"input": "q"}) == {"id": None, "input": "q", "expected": None, "metadata": {}, "pushed_at": AT}


def test_unknown_top_level_fields_are_ignored():
    row = ok({"input": "q", "foo": 1, "extra": {"a": 1}})
    assert set(row) == {"id", "input", "expected", "metadata", "pushed_at"}
    assert row["metadata"] == {}


def test_the_input_row_is_not_mutated():
    raw = {"input": "q", "metadata": {"a": 1}, "source": "s", "messages": [{"role": "user", "content": "x"}]}
    before = json.dumps(raw, sort_keys=True)
    ok(raw)
    assert json.dumps(raw, sort_keys=True) == before


# --- input and expected ---------------------------------------------------------------------------

@pytest.mark.parametrize("field", INPUT_FIELDS)
def test_every_input_alias_is_read(field):
    assert ok({field: "asked"})["input"] == "asked"


@pytest.mark.parametrize("field", EXPECTED_FIELDS)
def test_every_expected_alias_is_read(field):
    assert ok({"input": "q", field: "said"})["expected"] == "said"


@pytest.mark.parametrize("count", range(1, len(INPUT_FIELDS) + 1))
def test_input_aliases_take_precedence_in_order(count):
    fields = INPUT_FIELDS[-count:]
    assert ok({field: field for field in reversed(fields)})["input"] == fields[0]


@pytest.mark.parametrize("count", range(1, len(EXPECTED_FIELDS) + 1))
def test_expected_aliases_take_precedence_in_order(count):
    fields = EXPECTED_FIELDS[-count:]
    assert ok({"input": "q", **{field: field for field in reversed(fields)}})["expected"] == fields[0]


@pytest.mark.parametrize("empty", [None, "", "  \n\t", [], {}])
def test_an_empty_input_alias_falls_through_to_the_next(empty):
    assert ok({"input": empty, "prompt": "p"})["input"] == "p"


def test_input_strings_are_kept_unstripped():
    assert ok({"input": "  spaced \n"})["input"] == "  spaced \n"


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (False, "false"), (0, "0"), (3, "3"), (-2.5, "-2.5"),
    ({"b": 1, "a": [1, "é"]}, '{"a":[1,"é"],"b":1}'), ([1, {"y": 2, "x": None}], '[1,{"x":null,"y":2}]'),
])
def test_non_string_values_become_compact_json_text(value, text):
    assert ok({"input": value})["input"] == text
    assert ok({"input": "q", "output": value})["expected"] == text


def test_expected_keeps_empty_and_blank_strings_and_skips_nulls():
    assert ok({"input": "q", "output": ""})["expected"] == ""
    assert ok({"input": "q", "expected": "  "})["expected"] == "  "
    assert ok({"input": "q", "expected": None, "answer": "a"})["expected"] == "a"
    assert ok({"input": "q", "expected": []})["expected"] == "[]"


# --- messages ----------------------------------------------------------------------------------

def test_string_messages_become_a_transcript():
    row = ok({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]})
    assert row["input"] == "system: Be brief.\nuser: Hi"
    assert row["expected"] is None
    assert row["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert list(row) == ["id", "input", "expected", "messages", "metadata", "pushed_at"]


def test_content_parts_keep_their_text_and_skip_other_types():
    row = ok({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Look"},
        {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
        {"type": "input_audio", "input_audio": {"data": "...", "format": "wav"}},
        {"type": "text", "text": "at this"}]}]})
    assert row["input"] == "user: Look\nat this"
    assert row["messages"] == [{"role": "user", "content": "Look\nat this"}]


def test_a_trailing_assistant_message_becomes_expected():
    row = ok({"messages": [{"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}]}]})
    assert (row["input"], row["expected"]) == ("user: Hi", "Hello!")
    assert row["messages"] == [{"role": "user", "content": "Hi"}]


def test_only_the_last_message_can_become_expected():
    row = ok({"messages": [{"role": "assistant", "content": "Earlier"}, {"role": "user", "content": "Now?"}]})
    assert (row["input"], row["expected"]) == ("assistant: Earlier\nuser: Now?", None)


def test_an_explicit_expected_keeps_the_assistant_message_in_the_conversation():
    row = ok({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],
              "answer": "Hello"})
    assert (row["input"], row["expected"]) == ("user: Hi\nassistant: Yo", "Hello")
    assert row["messages"][-1] == {"role": "assistant", "content": "Yo"}


def test_a_null_expected_does_not_count_as_given():
    row = ok({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],
              "expected": None})
    assert row["expected"] == "Yo"


def test_messages_drop_extra_keys_and_are_ignored_when_an_input_is_given():
    row = ok({"messages": [{"role": "user", "content": "Hi", "name": "ann"}]})
    assert row["messages"] == [{"role": "user", "content": "Hi"}]
    row = ok({"prompt": "p", "messages": "not even a list"})
    assert row["input"] == "p" and "messages" not in row


@pytest.mark.parametrize("messages", [
    [], "text", {"role": "user", "content": "x"}, ["not an object"], [{"content": "no role"}],
    [{"role": 1, "content": "x"}], [{"role": "user"}], [{"role": "user", "content": None}],
    [{"role": "user", "content": 5}], [{"role": "user", "content": ["bare string part"]}],
    [{"role": "user", "content": [{"type": "text", "text": 5}]}],
    [{"role": "user", "content": [{"type": "text"}]}],
    [{"role": "assistant", "content": "only the answer"}],
])
def test_bad_messages_are_rejected(messages):
    assert reason({"messages": messages}) == "invalid_messages"


# --- id ----------------------------------------------------------------------------------------

def test_ids_are_kept_as_trimmed_text():
    assert ok({"id": 1001, "input": "q"})["id"] == "1001"
    assert ok({"id": -5, "input": "q"})["id"] == "-5"
    assert ok({"id": "  a-1 ", "input": "q"})["id"] == "a-1"
    assert ok({"id": "x" * MAX_ID_CHARS, "input": "q"})["id"] == "x" * MAX_ID_CHARS
    assert ok({"id": None, "input": "q"})["id"] is None


@pytest.mark.parametrize("bad", [True, False, 1.5, [1], {"a": 1}, "", "   ", "x" * (MAX_ID_CHARS + 1),
                                 10**MAX_ID_CHARS, pytest.param(10**5000, id="beyond_printable")])
def test_bad_ids_are_rejected(bad):
    assert reason({"id": bad, "input": "q"}) == "invalid_id"


# --- metadata ----------------------------------------------------------------------------------

def test_metadata_merges_the_known_top_level_fields_which_win():
    row = ok({"input": "q", "metadata": {"source": "inner", "user_id": "inner", "kept": 1},
              "source": "outer", "user_id": None, "session_id": None, "latency_ms": 12, "tags": ["a"],
              "unknown_field": "ignored"})
    assert row["metadata"] == {"source": "outer", "user_id": "inner", "kept": 1, "latency_ms": 12, "tags": ["a"]}


def test_every_known_metadata_field_is_lifted():
    row = ok({"input": "q", **{field: field for field in METADATA_FIELDS}})
    assert row["metadata"] == {field: field for field in METADATA_FIELDS}


def test_null_metadata_is_empty():
    assert ok({"input": "q", "metadata": None})["metadata"] == {}


@pytest.mark.parametrize("bad", [[1], "text", 3, True])
def test_metadata_must_be_an_object(bad):
    assert reason({"input": "q", "metadata": bad}) == "invalid_metadata"


def test_metadata_size_counts_utf8_bytes_of_the_merged_object():
    overhead = len('{"k":""}')
    assert ok({"input": "q", "metadata": {"k": "x" * (MAX_METADATA_BYTES - overhead)}})
    assert reason({"input": "q", "metadata": {"k": "x" * (MAX_METADATA_BYTES - overhead + 1)}}) == "metadata_too_large"
    # "é" is 2 bytes: half as many characters already break the cap.
    assert reason({"input": "q", "metadata": {"k": "é" * (MAX_METADATA_BYTES // 2)}}) == "metadata_too_large"
    # Top-level fields count too.
    assert reason({"input": "q", "tags": ["x" * MAX_METADATA_BYTES]}) == "metadata_too_large"


# --- caps and other rejections -----------------------------------------------------------------

def test_fields_at_the_cap_are_kept_and_longer_ones_rejected():
    assert ok({"input": "x" * MAX_FIELD_CHARS, "output": "y" * MAX_FIELD_CHARS})["input"] == "x" * MAX_FIELD_CHARS
    assert reason({"input": "x" * (MAX_FIELD_CHARS + 1)}) == "field_too_long"
    assert reason({"input": "q", "output": "x" * (MAX_FIELD_CHARS + 1)}) == "field_too_long"
    assert reason({"input": ["x" * MAX_FIELD_CHARS]}) == "field_too_long"  # counted after conversion
    assert reason({"messages": [{"role": "user", "content": "x" * MAX_FIELD_CHARS}]}) == "field_too_long"


@pytest.mark.parametrize("raw", ["a string", None, 3, 1.5, True, [{"input": "x"}]])
def test_rows_that_are_not_objects_are_rejected(raw):
    assert reason(raw) == "not_an_object"


@pytest.mark.parametrize("raw", [{}, {"output": "no input"}, {"input": "  ", "output": "blank"},
                                 {"input": None, "prompt": [], "question": {}, "query": ""},
                                 {"messages": None}])
def test_rows_without_input_are_rejected(raw):
    assert reason(raw) == "missing_input"


@pytest.mark.parametrize("raw", [
    {"input": nested(100_000)}, {"input": "q", "metadata": {"deep": nested(100_000)}},
    {"input": float("nan")}, {"input": "q", "output": float("inf")}, {"input": 10**5000},
    {"input": {1: "a", "b": 2}}, {"input": "\ud800"}, {"id": "a\udfff", "input": "q"},
    {"input": "q", "metadata": {"k": "\ud800"}},
])
def test_values_json_storage_cannot_hold_are_rejected(raw):
    assert reason(raw) == "invalid_value"


# --- rows_of -----------------------------------------------------------------------------------

def test_rows_of_reads_one_row_or_a_list():
    assert rows_of({"input": "x"}) == [{"input": "x"}]
    assert rows_of({"rows": [{"input": "x"}, 3]}) == [{"input": "x"}, 3]


@pytest.mark.parametrize(("body", "says"), [
    ([], "object"), ("x", "object"), (None, "object"), ({"rows": {}}, "list"), ({"rows": None}, "list"),
    ({"rows": "x"}, "list"), ({"rows": []}, "empty"),
])
def test_rows_of_refuses_bodies_without_usable_rows(body, says):
    with pytest.raises(ValueError, match=says):
        rows_of(body)


# --- property ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)
parts = st.lists(st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url"])},
                                       optional={"text": json_values}) | json_values, max_size=3)
messages = st.lists(st.fixed_dictionaries({}, optional={"role": st.sampled_from(["user", "assistant"]) | json_values,
                                                        "content": st.text(max_size=20) | parts}) | json_values,
                    max_size=4)
row_like = st.dictionaries(
    st.sampled_from(INPUT_FIELDS + EXPECTED_FIELDS + METADATA_FIELDS + ("id", "metadata", "messages", "other")),
    json_values | messages, max_size=6)


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, row_like))
def test_any_json_becomes_a_row_or_a_rejection(raw):
    row = normalize(raw, 0, AT)
    if isinstance(row, Rejection):
        assert row.index == 0 and row.reason and row.message
        return
    assert isinstance(row["input"], str) and row["input"].strip()
    assert row["expected"] is None or isinstance(row["expected"], str)
    assert row["id"] is None or isinstance(row["id"], str)
    assert isinstance(row["metadata"], dict) and row["pushed_at"] == AT
    assert len(row_digest(row)) == 16
    assert orjson.loads(orjson.dumps(row)) == row  # what storage does must round-trip it exactly
