"""The console's SVG charts: intervals, ties and the Pareto front drawn from a ranking, names escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from functions.console import charts

NS = "{http://www.w3.org/2000/svg}"


def _entries() -> list[dict]:
    return [
        {"rank": 1, "candidate_id": "a", "mean_score": 0.9, "ci95": [0.8, 0.97], "tied_with_leader": True,
         "cost_usd_per_row": 0.002, "latency_ms_p50": 300.0, "pareto_front": True},
        {"rank": 2, "candidate_id": "b", "mean_score": 0.85, "ci95": [0.75, 0.93], "tied_with_leader": True,
         "cost_usd_per_row": 0.0005, "latency_ms_p50": 120.0, "pareto_front": True},
        {"rank": 3, "candidate_id": "c", "mean_score": 0.4, "ci95": [0.3, 0.5], "tied_with_leader": False,
         "cost_usd_per_row": 0.003, "latency_ms_p50": 500.0, "pareto_front": False},
    ]


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(markup.replace('<svg ', '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_the_ranking_draws_a_bar_and_an_interval_per_candidate_and_marks_ties():
    svg = _svg(charts.ranking(_entries(), {"a": "alpha", "b": "beta", "c": "<script>x</script>"}, chosen="b"))
    groups = svg.findall(f"{NS}g")
    assert [g.get("class") for g in groups] == ["entry tied", "entry tied", "entry"]
    assert all(len(g.findall(f"{NS}line")) == 3 for g in groups)  # the interval and its two ends
    labels = [g.find(f"{NS}text").text for g in groups]
    assert labels == ["1. alpha", "2. beta ★", "3. <script>x</script>"]  # text, never markup
    widths = [float(g.find(f"{NS}rect").get("width")) for g in groups]
    assert widths[0] > widths[1] > widths[2] > 0


def test_the_pareto_chart_joins_only_the_front():
    svg = _svg(charts.pareto(_entries(), {"a": "alpha", "b": "beta", "c": "gamma"}, "cost_usd_per_row", "cost"))
    [front] = svg.findall(f"{NS}polyline")
    assert len(front.get("points").split()) == 2
    assert [g.get("class") for g in svg.findall(f"{NS}g")] == ["point front-point", "point front-point", "point"]


def test_charts_without_figures_say_so():
    assert charts.ranking([], {}, None) == ""
    assert "No cost figures" in charts.pareto([{"candidate_id": "a", "cost": None}], {}, "cost", "cost")
    assert "No values" in charts.histogram([], "ms")


def test_the_histogram_counts_every_value_once():
    svg = _svg(charts.histogram([10, 20, 20, 30, 90, 100], "ms", bins=3))
    counts = [int(rect.find(f"{NS}title").text.rsplit(": ", 1)[1]) for rect in svg.findall(f"{NS}rect")]
    assert counts == [4, 0, 2]
