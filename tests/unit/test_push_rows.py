"""Row normalization of pushed rows: every alias, the messages conversion, every rejection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.push_rows import MAX_FIELD_CHARS, MAX_ID_CHARS, Rejection, normalize, rows_of

AT = "2026-03-14T09:00:00.000000Z"


def ok(raw) -> dict:
    row = normalize(raw, 0, AT)
    assert not isinstance(row, Rejection), row
    return row


def reason(raw) -> str:
    row = normalize(raw, 3, AT)
    assert isinstance(row, Rejection), row
    assert row.index == 3 and row.message
    return row.reason


def test_a_plain_row_keeps_its_fields_in_a_fixed_shape():
    assert ok({"id": "t-1", "input": "q", "output": "a"}) == {
        "id": "t-1", "input": "q", "expected": "a", "metadata": {}, "pushed_at": AT}


@pytest.mark.parametrize("field", ["input", "prompt", "question", "query"])
def test_every_input_alias_is_read(field):
    assert ok({field: "asked"})["input"] == "asked"


@pytest.mark.parametrize("field", ["expected", "output", "response", "completion", "answer"])
def test_every_expected_alias_is_read(field):
    assert ok({"input": "q", field: "said"})["expected"] == "said"


def test_aliases_take_precedence_in_the_documented_order():
    assert ok({"query": "4", "question": "3", "prompt": "2", "input": "1"})["input"] == "1"
    assert ok({"prompt": "2", "query": "4"})["input"] == "2"
    assert ok({"input": "", "prompt": "used when input is empty"})["input"] == "used when input is empty"
    assert ok({"input": "q", "answer": "5", "output": "2", "expected": "1"})["expected"] == "1"
    assert ok({"input": "q", "answer": "5", "completion": "4"})["expected"] == "4"


def test_non_string_values_become_json_text():
    assert ok({"input": 42, "output": True})["input"] == "42"
    assert ok({"input": {"b": 1, "a": [1, 2]}})["input"] == '{"a":[1,2],"b":1}'
    assert ok({"input": "q", "output": ""})["expected"] == ""
    assert ok({"input": "q"})["expected"] is None


def test_messages_become_a_transcript_and_a_trailing_answer_becomes_expected():
    row = ok({"messages": [{"role": "system", "content": "Be brief."},
                           {"role": "user", "content": [{"type": "text", "text": "Hi"},
                                                        {"type": "image_url", "image_url": {"url": "x"}},
                                                        {"type": "text", "text": "there"}]},
                           {"role": "assistant", "content": "Hello!"}]})
    assert row["input"] == "system: Be brief.\nuser: Hi\nthere"
    assert row["expected"] == "Hello!"
    assert row["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi\nthere"}]
    assert list(row) == ["id", "input", "expected", "messages", "metadata", "pushed_at"]


def test_an_explicit_expected_keeps_the_assistant_message_in_the_conversation():
    row = ok({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],
              "expected": "Hello"})
    assert (row["input"], row["expected"]) == ("user: Hi\nassistant: Yo", "Hello")


@pytest.mark.parametrize("messages", [[], "text", [{"content": "no role"}], [{"role": "user"}],
                                      [{"role": "user", "content": 5}], [{"role": "assistant", "content": "only"}],
                                      ["not an object"]])
def test_bad_messages_are_rejected(messages):
    assert reason({"messages": messages}) == "invalid_messages"


def test_metadata_merges_the_known_top_level_fields_which_win():
    row = ok({"input": "q", "metadata": {"source": "inner", "kept": 1}, "source": "outer", "user_id": "u",
              "session_id": None, "latency_ms": 12, "tags": ["a"], "unknown_field": "ignored"})
    assert row["metadata"] == {"source": "outer", "kept": 1, "user_id": "u", "latency_ms": 12, "tags": ["a"]}
    assert "unknown_field" not in row


@pytest.mark.parametrize(("raw", "why"), [
    ("a string", "not_an_object"), (None, "not_an_object"), ([{"input": "x"}], "not_an_object"),
    ({"output": "no input"}, "missing_input"), ({"input": "  ", "output": "blank"}, "missing_input"),
    ({"input": "q", "id": True}, "invalid_id"), ({"input": "q", "id": ""}, "invalid_id"),
    ({"input": "q", "id": {"a": 1}}, "invalid_id"), ({"input": "q", "id": "x" * (MAX_ID_CHARS + 1)}, "invalid_id"),
    ({"input": "q", "metadata": [1]}, "invalid_metadata"),
    ({"input": "q", "metadata": {"blob": "x" * 20_000}}, "metadata_too_large"),
    ({"input": "x" * (MAX_FIELD_CHARS + 1)}, "field_too_long"),
    ({"input": "q", "output": "x" * (MAX_FIELD_CHARS + 1)}, "field_too_long"),
])
def test_rows_breaking_a_rule_are_rejected_with_its_reason(raw, why):
    assert reason(raw) == why


def test_integer_ids_are_kept_as_text():
    assert ok({"id": 1001, "input": "q"})["id"] == "1001"


def test_rows_of_reads_one_row_or_a_list():
    assert rows_of({"input": "x"}) == [{"input": "x"}]
    assert rows_of({"rows": [{"input": "x"}, 3]}) == [{"input": "x"}, 3]
    for body in ([], "x", {"rows": {}}, {"rows": []}):
        with pytest.raises(ValueError):
            rows_of(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
row_like = st.dictionaries(
    st.sampled_from(["input", "prompt", "question", "query", "messages", "expected", "output", "answer", "id",
                     "metadata", "user_id", "tags", "other"]), json_values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, row_like))
def test_any_json_is_either_a_row_or_a_rejection(raw):
    row = normalize(raw, 0, AT)
    if isinstance(row, Rejection):
        assert row.reason and row.message
        return
    assert isinstance(row["input"], str) and row["input"].strip()
    assert row["expected"] is None or isinstance(row["expected"], str)
    assert isinstance(row["metadata"], dict) and row["pushed_at"] == AT
