"""The observable-ceiling benchmark: counts and decayed sums of a stream before each date; draws of a city
and how they are pooled."""

from __future__ import annotations

import numpy as np
import pytest

from bench.observable_ceiling import drawn_config, merged, pooled_rows, render, stream_features
from cities.scenario import scenarios


def test_stream_features_count_and_decay_only_the_events_before_each_date() -> None:
    case = np.array([0, 0, 0, 1])
    day = np.array([3, 10, 17, 9])
    rows, at = np.array([0, 0, 1, 2]), np.array([10, 17, 10, 10])
    got = stream_features(case, day, rows, at, "call", cases=3)
    assert np.expm1(got["call_all"]).round(9).tolist() == [
        1.0,
        2.0,
        1.0,
        0.0,
    ]  # day 10 itself is not before 10
    assert np.expm1(got["call_h7"]).tolist() == pytest.approx([0.5, 0.25 + 0.5, 0.5 ** (1 / 7), 0.0])
    assert np.expm1(got["call_h3"])[0] == pytest.approx(0.5 ** (7 / 3))


def _row(name: str, truth: float, ceiling: float) -> dict:
    return {
        "name": name,
        "truth": truth,
        "expected_truth": truth,
        "oracle_logistic": ceiling / 2,
        "oracle_logistic_ratio": ceiling / 2 / truth,
        "oracle_logistic_expected_ratio": ceiling / 2 / truth,
        "observable_ceiling": ceiling,
        "observable_ceiling_ratio": ceiling / truth,
        "observable_ceiling_expected_ratio": ceiling / truth,
    }


def test_a_draw_moves_the_seed_as_the_generalization_benchmark_does() -> None:
    known = dict(scenarios())
    plain = known["hawkes_calls"]
    assert drawn_config(known, "hawkes_calls") is plain
    assert drawn_config(known, "hawkes_calls~2").seed == plain.seed + 2000
    assert drawn_config(known, "hawkes_calls~2").signal == plain.signal


def test_draws_run_now_replace_their_rows_and_are_pooled_into_one_city() -> None:
    earlier = [
        _row("hawkes_calls", 0.3, 0.24),
        _row("hawkes_notes", 0.2, 0.2),
        _row("hawkes_calls~1", 0.1, 0.0),
    ]
    now = [_row("hawkes_calls~1", 0.2, 0.18)]
    kept = merged(earlier, now)
    assert [s["name"] for s in kept] == ["hawkes_calls", "hawkes_notes", "hawkes_calls~1"]
    assert kept[-1]["truth"] == 0.2
    calls, notes = pooled_rows(kept)
    assert (calls["name"], calls["draws"], notes["draws"]) == ("hawkes_calls", 2, 1)
    assert calls["truth"] == pytest.approx(0.25)
    assert calls["observable_ceiling_ratio"] == pytest.approx(0.21 / 0.25)
    generalization = {
        "scenarios": [{"name": "hawkes_calls", "rule": 0.1}, {"name": "hawkes_calls~1", "rule": 0.2}]
    }
    text = render(
        {
            "command": "c",
            "date": "d",
            "scenarios": kept,
            "machine": {"cpu_model": "x"},
            "code": {"commit": "abc"},
        },
        generalization,
    )
    assert "| hawkes_calls | 2 | 0.250 |" in text and text.count("| 1.40× |") == 1  # 0.21 / mean(0.1, 0.2)
    assert "| hawkes_notes | 1 | 0.200 |" in text and text.rstrip().splitlines()[7].endswith("| – |")
