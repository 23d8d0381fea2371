"""Scoring of one answer: exact match, and the LLM judge's prompt and verdict parsing.

Exact match compares after normalization, by default: Unicode NFKC, surrounding
whitespace trimmed, inner whitespace runs collapsed to one space, case folded. Each step
can be turned off in `eval_metadata.exact` ({"case_sensitive": true,
"keep_whitespace": true}), and `"strip_punctuation": true` also drops punctuation.
A row without an expected answer cannot be scored exactly and is marked unscored.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

PASS_THRESHOLD = 0.5  # a judged answer at or above this score counts as a pass
DRY_RUN_MAX_ROWS = 20  # rows one judge dry-run scores (each may cost a candidate call and a judge call)
_SPACES = re.compile(r"\s+")


def normalize_answer(text: str, options: dict[str, Any] | None = None) -> str:
    options = options or {}
    text = unicodedata.normalize("NFKC", text)
    if not options.get("keep_whitespace"):
        text = _SPACES.sub(" ", text).strip()
    if not options.get("case_sensitive"):
        text = text.casefold()
    if options.get("strip_punctuation"):
        text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    return text


def exact_score(answer: str, expected: str | None, options: dict[str, Any] | None = None) -> float | None:
    if expected is None:
        return None
    return 1.0 if normalize_answer(answer, options) == normalize_answer(expected, options) else 0.0


JUDGE_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "verdict", "strict": True, "schema": {
        "type": "object", "additionalProperties": False, "required": ["score", "reasoning"],
        "properties": {"score": {"type": "number", "minimum": 0, "maximum": 1}, "reasoning": {"type": "string"}},
    }},
}

_RUBRIC = """You grade an AI assistant's answer to a task.
Score from 0 (wrong, unhelpful or unsafe) to 1 (fully correct and helpful).{reference_rule}
Reply with only a JSON object: {{"score": <number between 0 and 1>, "reasoning": "<one or two sentences>"}}.

Task:
{question}
{reference}
Answer to grade:
{answer}"""


def judge_messages(question: str, answer: str, reference: str | None) -> list[dict[str, str]]:
    """The judge's chat messages: rubric, task, optional reference answer, answer to grade."""
    rule = " A reference answer is given: judge agreement with it, not wording." if reference else ""
    block = f"\nReference answer:\n{reference}\n" if reference else ""
    return [{"role": "user", "content": _RUBRIC.format(reference_rule=rule, question=question,
                                                        reference=block, answer=answer)}]


@dataclass(frozen=True)
class Verdict:
    score: float
    reasoning: str


def parse_verdict(text: str) -> Verdict | None:
    """The first JSON object in the judge's reply that carries a numeric score, clamped to [0, 1]."""
    decoder = json.JSONDecoder()
    for start in (match.start() for match in re.finditer(r"\{", text)):
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("score"), (int, float)) \
                and not isinstance(value["score"], bool) and value["score"] == value["score"]:
            reasoning = value.get("reasoning")
            return Verdict(min(1.0, max(0.0, float(value["score"]))),
                           reasoning if isinstance(reasoning, str) else "")
    return None
