"""The body parser's fast path (orjson on shallow bodies without long numbers) accepts exactly what
the careful parser accepts, and gives the same values."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.http.bodies import MAX_DEPTH, parse_json
from shared.http.errors import HttpError

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SCALARS = st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_whatever_json_encodes_comes_back_equal(value):
    raw = json.dumps(value, ensure_ascii=False).encode()
    try:
        parsed = parse_json(raw)
    except InvalidInput as refused:  # only for nesting past MAX_DEPTH
        assert "nested too deeply" in str(refused.details)
        return
    assert parsed == json.loads(raw)


@pytest.mark.parametrize("raw, message", [
    (b'{"a": 1e999}', None), (b'{"a": -1e999}', None), (b'[NaN]', None),
    (b'{"big": 9223372036854775808}', "integer out of range"),
    (b'{"text": "\\ud800"}', "unpaired surrogate in text"),
    (b'{"id": "12345678901234567890123", "n": 5}', "accepted"),
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested too deeply"),
])
def test_what_the_fast_path_turns_down_the_careful_one_explains(raw, message):
    if message == "accepted":
        assert parse_json(raw) == json.loads(raw)  # a long digit run in a string is fine
        return
    with pytest.raises((InvalidInput, HttpError)) as refused:
        parse_json(raw)
    if message is None:
        assert isinstance(refused.value, HttpError) and refused.value.code == "malformed_json"
    else:
        assert refused.value.details[0]["message"] == message
