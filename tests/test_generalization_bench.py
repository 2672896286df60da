"""The generalization benchmark's metrics, date choice and table, on hand-made figures (no training)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.generalization import _chosen, exported_openings, read_truth, refigured
from bench.generalization_figures import (
    case_ages,
    date_figures,
    evaluation_dates,
    in_top_share,
    list_scores,
    opening_times,
    overall,
    pooled,
    precision_at_share,
    ratio,
    recall_among,
    scenario_figures,
    tie_order,
)
from bench.generalization_report import render
from bench.generalization_scenarios import _seeded, describe_config, redrawn, sized_config
from tests.builders import generalization_results


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
    assert date_figures(day) == {
        "n": 20,
        "k": 1,
        "base_rate": 0.1,
        "product": 1.0,
        "truth": 1.0,
        "rule": 0.0,
        # the mean true probability of each ranking's top case: c0 (0.0), c19 (0.95), c1 (0.05)
        "expected_product": 0.0,
        "expected_truth": 0.95,
        "expected_rule": 0.05,
    }


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
    assert "expected_ratio_to_truth" not in figures  # dates written before it was measured


def test_expected_ratios_are_ratios_of_the_mean_true_probabilities_of_the_tops() -> None:
    dates = [
        {"n": 100, "base_rate": 0.05, "product": 0.2, "truth": 0.4, "rule": 0.1}
        | {"expected_product": 0.2, "expected_truth": 0.4, "expected_rule": 0.1},
        {"n": 100, "base_rate": 0.05, "product": 0.2, "truth": 0.4, "rule": 0.1}
        | {"expected_product": 0.4, "expected_truth": 0.4, "expected_rule": 0.3},
    ]
    figures = scenario_figures(dates)
    assert figures["expected_ratio_to_truth"] == pytest.approx(0.75)
    assert figures["expected_ratio_to_rule"] == pytest.approx(1.5)
    assert figures["truth_top_calibration"] == pytest.approx(1.0)  # the truth's top: p 0.4, realised 0.4
    overstated = scenario_figures([{**d, "truth": 0.32} for d in dates])
    assert overstated["truth_top_calibration"] == pytest.approx(1.25)
    summary = overall([{**figures, "name": "a"}])
    assert summary["mean"]["expected_ratio_to_truth"] == pytest.approx(0.75)


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
        "every_recall_gap": None,  # these scenarios lack the recalls
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
    results = _results(scenarios, overall(scenarios)) | {
        "notes": ["the `cities` generator is not importable"]
    }
    text = render(results)
    assert (
        "| a | demo simulator | 1,000 | 0.060 | **0.360** | 0.400 | 0.200 | 0.90× | 1.80× | n/a | n/a | n/a "
        "| trees | 2.0 |" in text
    )
    assert (
        "| **mean of 2** | | 1,000 | 0.060 | **0.330** | 0.400 | 0.175 | 0.82× | 1.90× | n/a | n/a | n/a "
        "| | |" in text
    )
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


# ---------------------------------------------------------------- recall among new and ongoing cases


def test_case_ages_split_at_the_products_seven_days_before_the_as_of_midnight() -> None:
    stamps = [
        "2026-03-09 23:59:59",
        "2026-03-03 00:00:01",
        "2026-03-03 00:00:00",
        "2026-01-01 08:00:00",
        None,
    ]
    opened = pd.Series(pd.to_datetime(stamps))
    ages = case_ages(date(2026, 3, 10), opened)
    assert ages.tolist() == ["new", "new", "ongoing", "ongoing", "unknown"]


def test_opening_times_prefer_the_store_and_fill_in_quarantined_cases_from_the_export() -> None:
    stored = pd.DataFrame({"case_id": ["a", "b"], "opened_at": pd.to_datetime(["2026-01-02", "2026-01-03"])})
    exported = pd.DataFrame(
        {
            "case_id": ["a", "c", "c", "d"],
            "opened_at": ["2025-12-31 10:00:00", "not a date", "2026年1月4日 09:30", ""],
        }
    )
    opened = opening_times(stored, exported)
    assert opened.to_dict() == {
        "a": pd.Timestamp("2026-01-02"),
        "b": pd.Timestamp("2026-01-03"),
        "c": pd.Timestamp("2026-01-04 09:30"),
    }


def test_exported_openings_read_the_two_columns_or_nothing(tmp_path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_id,district,opened_at\n007,东区,2026-01-02 10:00:00\n")
    assert exported_openings(path).to_dict(orient="records") == [
        {"case_id": "007", "opened_at": "2026-01-02 10:00:00"}
    ]
    path.write_text("编号,立案时间\n007,2026-01-02\n")
    assert exported_openings(path).empty


def test_in_top_share_and_recall_among_a_group() -> None:
    ids = [f"c{i}" for i in range(20)]
    top = in_top_share(np.arange(20, 0, -1, dtype=float), ids, 0.10)  # c0 and c1
    assert top.nonzero()[0].tolist() == [0, 1]
    labels = np.zeros(20)
    labels[[0, 5, 6, 7]] = 1
    group = np.zeros(20, dtype=bool)
    group[[0, 1, 5]] = True  # escalating in the group: c0 (top), c5 (not)
    assert recall_among(labels, top, group) == 0.5
    assert recall_among(labels, top, ~group) == 0.0  # c6, c7
    assert recall_among(labels, top, np.zeros(20, dtype=bool)) is None


def _aged_day() -> pd.DataFrame:
    """40 open cases, k = 2: 3 escalating new cases (c0, c1, c2) and 2 escalating ongoing ones (c3, c4)
    and one of unknown age (c5). The product's top 2 are c0 and c3; the truth's c0 and c1."""
    product = np.zeros(40)
    product[[0, 3]] = [2.0, 1.0]
    truth = np.zeros(40)
    truth[[0, 1]] = [0.9, 0.8]
    return pd.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(40)],
            "escalated": [True] * 6 + [False] * 34,
            "product": product,
            "truth": truth,
            "rule": np.zeros(40),
            "case_age": ["new"] * 3 + ["ongoing"] * 2 + ["unknown"] + ["new"] * 4 + ["ongoing"] * 30,
        }
    )


def test_date_figures_give_the_recalls_among_new_and_ongoing_escalations_and_their_counts() -> None:
    row = date_figures(_aged_day())
    assert (row["k"], row["product"], row["truth"]) == (2, 1.0, 1.0)
    assert row["product_recall_new"] == pytest.approx(1 / 3)
    assert row["product_recall_ongoing"] == 0.5
    assert row["truth_recall_new"] == pytest.approx(2 / 3)
    assert row["truth_recall_ongoing"] == 0.0
    assert (row["escalated_new"], row["escalated_ongoing"], row["escalated_unknown"]) == (3, 2, 1)


def test_scenario_recalls_are_means_over_the_dates_that_have_such_escalations() -> None:
    first = date_figures(_aged_day())
    later = date_figures(_aged_day().assign(escalated=lambda d: d["case_age"].eq("ongoing") & d["escalated"]))
    assert later["product_recall_new"] is None and later["escalated_new"] == 0
    figures = scenario_figures([first, later])
    assert figures["product_recall_new"] == pytest.approx(1 / 3)  # the later date has no escalating new case
    assert figures["product_recall_ongoing"] == 0.5
    assert figures["recall_gap"] == pytest.approx(0.5 - 1 / 3)
    assert figures["truth_recall_gap"] == pytest.approx(
        0.0 - 2 / 3
    )  # the truth's own top: 2/3 new, 0 ongoing
    assert (figures["escalated_new"], figures["escalated_ongoing"]) == (1.5, 2.0)
    assert "recall_gap" not in scenario_figures([{k: v for k, v in first.items() if "recall" not in k}])


def _with_recalls(
    name: str, new: float | None, ongoing: float | None, truth_gap: float | None = None
) -> dict:
    scenario = _scenario(name, 0.36, 0.40, 0.20)
    gap = None if new is None or ongoing is None else ongoing - new
    return {
        **scenario,
        "product_recall_new": new,
        "product_recall_ongoing": ongoing,
        "recall_gap": gap,
        "truth_recall_gap": truth_gap,
        "escalated_new": 2.0,
        "escalated_ongoing": 40.0,
    }


def test_overall_recall_target_is_the_worst_absolute_gap_over_scenarios() -> None:
    close = [_with_recalls("a", 0.30, 0.35), _with_recalls("b", 0.50, 0.42)]
    summary = overall(close)
    assert summary["worst_recall_gap"] == {
        "scenario": "b",
        "recall_gap": pytest.approx(-0.08),
        "truth_recall_gap": None,
        "lacking": [],
    }
    assert summary["met"]["every_recall_gap"] is True
    assert summary["mean"]["product_recall_new"] == pytest.approx(0.40)
    apart = overall([*close, _with_recalls("c", 0.0, 0.12, truth_gap=0.2)])
    assert apart["worst_recall_gap"]["scenario"] == "c"
    assert apart["worst_recall_gap"]["truth_recall_gap"] == 0.2
    assert apart["met"]["every_recall_gap"] is False
    unknown = overall([*close, _with_recalls("d", None, 0.4)])
    assert unknown["worst_recall_gap"]["lacking"] == ["d"]
    assert unknown["met"]["every_recall_gap"] is None
    old = overall([_scenario("e", 0.36, 0.40, 0.20)])
    assert old["worst_recall_gap"] == {"scenario": None, "recall_gap": None, "lacking": ["e"]}  # no truth gap
    assert old["met"]["every_recall_gap"] is None


def _results(scenarios: list[dict], summary: dict) -> dict:
    return generalization_results(scenarios, summary)


def test_render_shows_the_recalls_and_the_target_and_n_a_for_results_without_them() -> None:
    a = _with_recalls("a", 0.30, 0.45)
    a["dates"] = [
        {
            **a["dates"][0],
            "product_recall_new": 0.25,
            "product_recall_ongoing": 0.5,
            "truth_recall_new": None,
            "truth_recall_ongoing": 0.625,
            "escalated_new": 0,
            "escalated_ongoing": 8,
        }
    ]
    text = render(_results([a], overall([a])))
    assert "| 0.90× | 1.80× | n/a | 0.30 | 0.45 | trees | 2.0 |" in text
    assert "| 0.90× | 1.80× | n/a | 0.30 | 0.45 | | |" in text
    assert "within 0.1 of ongoing: **not met** (worst gap (ongoing − new) +0.15 on **a**)." in text
    assert "Truth check (" in text and "): a n/a." in text  # a scenario measured before the check
    ceiling = _with_recalls("c", 0.0, 0.31, truth_gap=0.354)
    text_ceiling = render(_results([ceiling], overall([ceiling])))
    assert "(worst gap (ongoing − new) +0.31 on **c**, where the truth's own top has +0.35)." in text_ceiling
    assert "| 990 | 0 | 0.25 / 0.50 | – / 0.62 | 0 / 8 |" in text
    assert "escalating new / ongoing cases per date 2.0 / 40.0." in text
    # results written before recalls were measured: every new figure is n/a, nothing fails
    old = _scenario("b", 0.36, 0.40, 0.20)
    summary = overall([old])
    del summary["worst_recall_gap"], summary["met"]["every_recall_gap"]
    assert "product_recall_new" not in summary["mean"]
    text = render(_results([old], summary))
    assert "| 0.90× | 1.80× | n/a | n/a | n/a | trees | 2.0 |" in text
    assert "within 0.1 of ongoing: n/a (not measured here)." in text
    assert "| 990 | 0 | n/a / n/a | n/a / n/a | n/a / n/a |" in text


def test_refigured_results_gain_new_figures_from_their_stored_dates_and_keep_the_measured_ones() -> None:
    dates = [{**date_figures(_aged_day()), "as_of": "2025-01-01", "on_list": 40, "listed_without_truth": 0}]
    stored = {**_scenario("a", 0.36, 0.40, 0.20), **scenario_figures(dates), "dates": dates}
    del stored["truth_recall_gap"]
    again = refigured(_results([stored], {}))
    assert again["scenarios"][0]["truth_recall_gap"] == pytest.approx(-2 / 3)
    assert again["scenarios"][0]["product"] == stored["product"] == 1.0
    assert again["summary"]["worst_recall_gap"]["truth_recall_gap"] == pytest.approx(-2 / 3)


# ---------------------------------------------------------------- several draws of one city


def test_draws_of_a_city_are_pooled_over_their_dates_for_the_mean_worst_and_targets() -> None:
    first, second = _scenario("a", 0.36, 0.40, 0.20), _scenario("a~1", 0.28, 0.40, 0.20)
    second["dates"][0]["as_of"] = "2026-01-15"
    second["candidate"] = "logistic"
    scenarios = [first, second, _scenario("b", 0.30, 0.40, 0.15)]
    (a, b) = pooled(scenarios)
    assert (a["name"], a["draws"], a["candidate"]) == ("a", 2, "logistic, trees")
    assert a["product"] == pytest.approx(0.32) and a["ratio_to_truth"] == pytest.approx(0.8)
    assert a["seconds"] == {"total": 240.0}
    assert b is scenarios[2]
    summary = overall(scenarios)
    assert summary["scenarios"] == 2
    assert summary["mean"]["ratio_to_truth"] == pytest.approx((0.8 + 0.75) / 2)
    text = render(_results(scenarios, summary))
    assert "| a~1 | demo simulator |" in text
    assert (
        "| a, 2 draws pooled | demo simulator | 1,000 | 0.060 | **0.320** | 0.400 | 0.200 | 0.80× |" in text
    )
    assert "| **mean of 2** |" in text


def test_a_draw_is_the_same_city_with_its_seed_moved() -> None:
    scenario = _seeded("c", "cities generator", "c city", _Config(seed=3), lambda config, out: config)
    again = redrawn(scenario, 2)
    assert (again.name, again.config["seed"]) == ("c~2", 2003)
    assert again.description == "c city; draw 2 (seed 2003)"
    assert again.write(Path("unused")) == _Config(seed=2003)
    assert again.redraw is None  # a draw is not drawn again
    with pytest.raises(SystemExit, match="cannot be drawn again as draw 0"):
        redrawn(scenario, 0)
    assert _chosen([scenario], "c,c~1")[1].config["seed"] == 1003
    with pytest.raises(SystemExit, match="unknown scenario"):
        _chosen([scenario], "d~1")
