"""Ranking statistics and scoring rules, on hand-made results."""

from __future__ import annotations

import pytest

from shared.domain.ranking import CandidateRows, rank
from shared.domain.scoring import exact_score, judge_messages, normalize_answer, parse_verdict


def rows(cid: str, scores: list[float | None], failed: tuple[int, ...] = (), latency: float = 100.0,
         cost: float | None = None) -> CandidateRows:
    c = CandidateRows(cid)
    for index, score in enumerate(scores):
        c.scores[f"r{index}"] = None if index in failed else score
        if index in failed:
            c.failed.add(f"r{index}")
        else:
            c.latencies_ms.append(latency)
            c.tokens += 10
            if cost is not None:
                c.cost_usd, c.cost_known = c.cost_usd + cost, True
    return c


def test_the_ranking_orders_by_mean_and_is_reproducible():
    a = rows("a", [1, 1, 1, 0, 1, 1, 1, 1, 1, 1])
    b = rows("b", [0, 1, 0, 0, 1, 0, 0, 1, 0, 0])
    first, again = rank([b, a]), rank([a, b])
    assert first == again
    assert [e["candidate_id"] for e in first] == ["a", "b"]
    assert first[0]["mean_score"] == pytest.approx(0.9) and first[1]["mean_score"] == pytest.approx(0.3)
    low, high = first[0]["ci95"]
    assert low < 0.9 < high <= 1.0
    assert first[1]["tied_with_leader"] is False


def test_candidates_whose_difference_is_noise_are_tied():
    a = rows("a", [1, 0, 1, 1, 0, 1, 0, 1])
    b = rows("b", [1, 1, 0, 1, 0, 1, 0, 1])
    assert all(entry["tied_with_leader"] for entry in rank([a, b]))


def test_failures_count_as_zero_and_are_reported():
    a = rows("a", [1, 1, 1, 1], failed=(2, 3))
    [entry] = rank([a])
    assert (entry["mean_score"], entry["failures"], entry["rows_scored"], entry["pass_rate"]) == (0.5, 2, 2, 1.0)


def test_the_pareto_front_keeps_cheaper_or_faster_trade_offs():
    best = rows("best", [1, 1, 1, 1], latency=900, cost=0.01)
    cheap = rows("cheap", [1, 1, 0, 1], latency=100, cost=0.001)
    dominated = rows("dominated", [1, 0, 0, 1], latency=950, cost=0.02)
    front = {e["candidate_id"]: e["pareto_front"] for e in rank([best, cheap, dominated])}
    assert front == {"best": True, "cheap": True, "dominated": False}
    entry = next(e for e in rank([best]) if e["candidate_id"] == "best")
    assert entry["cost_usd_total"] == pytest.approx(0.04) and entry["cost_usd_per_row"] == pytest.approx(0.01)


def test_exact_match_normalizes_by_default_and_can_be_strict():
    assert exact_score("  Paris\n", "paris") == 1.0
    assert exact_score("Pa  ris", "pa ris") == 1.0
    assert exact_score("Paris", "paris", {"case_sensitive": True}) == 0.0
    assert exact_score("Paris!", "paris", {"strip_punctuation": True}) == 1.0
    assert exact_score("ｐａｒｉｓ", "paris") == 1.0  # NFKC folds full-width letters
    assert exact_score("x", None) is None
    assert normalize_answer("A  b", {"keep_whitespace": True}) == "a  b"


@pytest.mark.parametrize(("reply", "score"), [
    ('{"score": 0.8, "reasoning": "close"}', 0.8),
    ('Sure! {"score": 1, "reasoning": "right"} Hope this helps {"score": 0}', 1.0),
    ('{"note": "no score"} then {"score": 7, "reasoning": "clamped"}', 1.0),
    ('{"score": -2, "reasoning": "clamped"}', 0.0),
])
def test_verdicts_take_the_first_object_with_a_score_clamped(reply, score):
    assert parse_verdict(reply).score == score


@pytest.mark.parametrize("reply", ["no json here", '{"score": "high"}', '{"score": true}', "{broken", ""])
def test_garbage_verdicts_are_none(reply):
    assert parse_verdict(reply) is None


def test_the_judge_sees_the_reference_only_when_there_is_one():
    with_ref = judge_messages("Q?", "A.", "Ref.")[0]["content"]
    without = judge_messages("Q?", "A.", None)[0]["content"]
    assert "Reference answer:\nRef." in with_ref and "Reference answer" not in without
    assert with_ref.rstrip().endswith("A.")
