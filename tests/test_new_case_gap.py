"""The new-case gap check: the truth's expected recalls and the cheapest top meeting the gap target."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.new_case_gap import date_gap_figures, summary


def _day() -> pd.DataFrame:
    # 40 cases, top 5% = 2: the two riskiest are ongoing; the new cases are less risky
    p = [0.9, 0.8] + [0.1] * 30 + [0.3, 0.2] + [0.05] * 6
    new = [False] * 32 + [True] * 8
    escalated = [True, False] + [False] * 30 + [True, False] + [False] * 6
    return pd.DataFrame({"p_escalation": p, "new": new, "escalated": escalated})


def test_the_truths_top_holds_no_new_case_and_its_expected_recalls_follow() -> None:
    got = date_gap_figures(_day())
    assert (got["k"], got["new_cases"], got["new_in_truth_top"]) == (2, 8, 0)
    assert got["cut_off"] == 0.8
    assert got["truth_expected_recall_new"] == 0.0
    assert got["truth_expected_recall_ongoing"] == pytest.approx(1.7 / (1.7 + 3.0))
    assert (got["escalated_new"], got["escalated_ongoing"]) == (1, 1)
    assert got["truth_realised_p_at_k"] == 0.5
    assert (got["truth_realised_recall_new"], got["truth_realised_recall_ongoing"]) == (0.0, 1.0)


def test_the_constrained_top_takes_the_fewest_new_cases_that_close_the_gap() -> None:
    got = date_gap_figures(_day())["constrained"]
    # m = 1: new 0.3 / 0.8 = 0.375, ongoing 0.9 / 4.7 = 0.19: gap below 0.1; m = 0 has gap 0.36
    assert got["m"] == 1
    assert got["expected_recall_new"] == pytest.approx(0.375)
    assert got["expected_recall_ongoing"] == pytest.approx(0.9 / 4.7)
    assert got["expected_p_at_k"] == pytest.approx(0.6)
    assert got["realised_p_at_k"] == 1.0
    assert (got["new_expected_escalations"], got["new_escalated"]) == (0.3, 1)
    assert (got["realised_recall_new"], got["realised_recall_ongoing"]) == (1.0, 1.0)
    totals = summary([date_gap_figures(_day())])
    assert totals["constrained_expected_ratio"] == pytest.approx(0.6 / 0.85)
    assert totals["new_share_of_escalations"] == 0.5
