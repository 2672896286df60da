"""The generalization benchmark's metrics, date choice and table, on hand-made figures (no training)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from bench.generalization import (
    date_figures,
    describe_config,
    evaluation_dates,
    list_scores,
    overall,
    precision_at_share,
    ratio,
    read_truth,
    render,
    scenario_figures,
    sized_config,
    tie_order,
)


def test_precision_at_share_takes_the_top_share_by_score() -> None:
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0] * 2)
    scores = np.arange(20, 0, -1, dtype=float)  # case i has rank i + 1
    ids = [f"c{i}" for i in range(20)]
    assert precision_at_share(labels, scores, ids, 0.05) == 1.0  # k = 1: case 0
    assert precision_at_share(labels, scores, ids, 0.10) == 0.5  # k = 2: cases 0, 1
    assert precision_at_share(labels, scores, ids, 0.15) == pytest.approx(2 / 3)  # k = ceil(3)


def test_precision_at_share_breaks_ties_by_the_hashed_case_id_whatever_the_input_order() -> None:
    ids = [f"case-{i}" for i in range(40)]
    labels = np.array([i % 2 for i in range(40)])
    scores = np.zeros(40)  # all tied: the top 2 are the two ids first in tie_order
    first_two = np.argsort(tie_order(ids), kind="stable")[:2]
    expected = labels[first_two].mean()
    assert precision_at_share(labels, scores, ids, 0.05) == expected
    reverse = slice(None, None, -1)
    assert precision_at_share(labels[reverse], scores, ids[reverse], 0.05) == expected
    assert tie_order(["a", "b"]).tolist() == tie_order(["a", "b"]).tolist()
    assert tie_order(["a"])[0] != tie_order(["b"])[0]


def test_precision_at_share_refuses_nan_scores_and_is_nan_on_no_cases() -> None:
    with pytest.raises(ValueError, match="NaN"):
        precision_at_share(np.array([1, 0]), np.array([0.5, np.nan]), ["a", "b"])
    assert np.isnan(precision_at_share(np.array([]), np.array([]), []))


def test_list_scores_follow_the_published_rank_and_put_unlisted_cases_last() -> None:
    listed = pd.DataFrame({"rank": [1, 2, 3], "case_id": ["b", "c", "a"]})
    assert list_scores(["a", "b", "z", "c"], listed).tolist() == [1.0, 3.0, 0.0, 2.0]


def test_date_figures_compare_the_three_rankings_on_the_same_cases() -> None:
    day = pd.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(20)],
            "escalated": [True, False] + [False] * 17 + [True],
            "product": np.arange(20, 0, -1, dtype=float),  # c0 first: a hit
            "truth": np.arange(20, dtype=float) / 20,  # c19 first: a hit
            "rule": np.r_[0.0, 5.0, np.zeros(18)],  # c1 first: a miss
        }
    )
    assert date_figures(day) == {"n": 20, "k": 1, "base_rate": 0.1, "product": 1.0, "truth": 1.0, "rule": 0.0}


def test_ratios_and_scenario_means() -> None:
    assert ratio(0.3, 0.4) == pytest.approx(0.75)
    assert ratio(0.3, 0.0) is None
    dates = [
        {"n": 100, "base_rate": 0.05, "product": 0.2, "truth": 0.4, "rule": 0.1},
        {"n": 300, "base_rate": 0.07, "product": 0.4, "truth": 0.4, "rule": 0.3},
    ]
    figures = scenario_figures(dates)
    assert figures["product"] == pytest.approx(0.3)
    assert figures["ratio_to_truth"] == pytest.approx(0.75)
    assert figures["ratio_to_rule"] == pytest.approx(1.5)
    assert figures["open_cases"] == 200.0
    assert figures["base_rate"] == pytest.approx(0.06)
    assert figures["product_sd"] == pytest.approx(0.1)


def _scenario(name: str, product: float, truth: float, rule: float) -> dict:
    dates = [
        {
            "as_of": "2026-01-01",
            "n": 1000,
            "k": 50,
            "base_rate": 0.06,
            "product": product,
            "truth": truth,
            "rule": rule,
            "on_list": 990,
            "listed_without_truth": 0,
        }
    ]
    return {
        "name": name,
        "family": "demo simulator",
        "description": f"{name} city",
        "train_as_of": "2026-01-01",
        "model_version": "fengqiao-risk v1",
        "candidate": "trees",
        "dates": dates,
        **scenario_figures(dates),
        "seconds": {"simulate": 6.0, "ingest": 12.0, "train": 60.0, "score": 42.0, "total": 120.0},
        "ingest": {"cases": {"read": 1010, "quarantined": 10, "duplicates": 0}},
    }


def test_overall_gives_the_mean_the_worst_and_the_targets() -> None:
    scenarios = [_scenario("a", 0.36, 0.40, 0.20), _scenario("b", 0.30, 0.40, 0.15)]
    summary = overall(scenarios)
    assert summary["mean"]["ratio_to_truth"] == pytest.approx((0.9 + 0.75) / 2)
    assert summary["mean"]["ratio_to_rule"] == pytest.approx((1.8 + 2.0) / 2)
    assert summary["worst_ratio_to_truth"] == {"scenario": "b", "ratio_to_truth": pytest.approx(0.75)}
    assert summary["worst_ratio_to_rule"] == {"scenario": "a", "ratio_to_rule": pytest.approx(1.8)}
    assert summary["met"] == {
        "every_ratio_to_truth": False,
        "every_ratio_to_rule": True,
        "mean_ratio_to_truth": False,
    }
    assert overall([]) == {}


def test_evaluation_dates_are_the_latest_run_of_seven_fortnights_with_truth() -> None:
    weekly = [date(2025, 1, 31) + timedelta(days=7 * i) for i in range(20)]  # up to 2025-06-13
    dates = evaluation_dates(weekly)
    assert dates[0] == date(2025, 3, 21) and dates[-1] == date(2025, 6, 13)
    assert [b - a for a, b in pairwise(dates)] == [timedelta(days=14)] * 6
    with pytest.raises(ValueError, match="no 7 dates 14 days apart"):
        evaluation_dates(weekly[:12])


def test_read_truth_names_the_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "escalation.csv"
    path.write_text(
        "as_of,case_id,p_escalation,escalated\n2025-02-01,007,0.1,False\n2025-02-01,8,0.2,maybe\n"
    )
    with pytest.raises(ValueError, match=r"escalation.csv: line 3: field escalated"):
        read_truth(path)
    path.write_text("as_of,case_id,p_escalation\n2025-02-01,007,0.1\n")
    with pytest.raises(ValueError, match=r"lacks the columns \['escalated'\]"):
        read_truth(path)
    path.write_text("as_of,case_id,p_escalation,escalated\n2025-02-01,007,0.1,True\n")
    truth = read_truth(path)
    assert truth.to_dict(orient="records") == [
        {"as_of": date(2025, 2, 1), "case_id": "007", "p_escalation": 0.1, "escalated": True}
    ]


def test_render_writes_one_row_per_scenario_then_the_mean_and_the_worst() -> None:
    scenarios = [_scenario("a", 0.36, 0.40, 0.20), _scenario("b", 0.30, 0.40, 0.15)]
    results = {
        "command": "python -m bench.generalization --cases 1000",
        "date": "2026-01-02",
        "settings": {
            "cases": 1000,
            "days": 400,
            "score_dates": 7,
            "step_days": 14,
            "top_fraction": 0.05,
            "horizon_days": 30,
        },
        "notes": ["the `cities` generator is not importable"],
        "scenarios": scenarios,
        "summary": overall(scenarios),
        "machine": {"cpu_model": "cpu", "usable_cores": 2},
        "code": {"commit": "abc1234", "fingerprint": "f" * 16, "uncommitted": []},
    }
    text = render(results)
    assert (
        "| a | demo simulator | 1,000 | 0.060 | **0.360** | 0.400 | 0.200 | 0.90× | 1.80× | trees | 2.0 |"
        in text
    )
    assert "| **mean of 2** | | 1,000 | 0.060 | **0.330** | 0.400 | 0.175 | 0.82× | 1.90× | | |" in text
    assert "against the truth: **b** (0.75×)" in text
    assert "every scenario ≥ 0.85× the truth: **not met**" in text
    assert "every scenario ≥ 1.6× the rule: met" in text
    assert "- the `cities` generator is not importable" in text
    assert "| 2026-01-01 | 1,000 | 50 | 0.060 | 0.360 | 0.400 | 0.200 | 990 | 0 |" in text
    assert "score 42 s. Ingest: cases 1,010 read, 10 quarantined." in text


@dataclass(frozen=True)
class _Config:
    name: str = "x"
    signal: str = "calls"
    seed: int = 1
    n_cases: int = 100
    days: int = 200
    noise: float = 0.1


def test_a_generated_city_is_sized_like_the_others_and_described_by_what_differs() -> None:
    config = sized_config(_Config(seed=2), cases=4000, days=400)
    assert (config.n_cases, config.days, config.seed) == (4000, 400, 2)
    assert describe_config(config) == "_Config: signal=calls; seed=2"
    assert describe_config(_Config(noise=0.5, signal="notes")) == "_Config: signal=notes; noise=0.5"
