"""Fairness audit on small hand-made frames whose rates can be worked out on paper."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from models.fairness import (
    BOUNDS,
    fairness_audit,
    fairness_passes,
    significant_flags,
)
from models.fairness_figure import fairness_figure

EXPECTED_COLUMNS = [
    "attribute",
    "group",
    "n",
    "n_listed",
    "share_listed",
    "share_listed_ratio",
    "positives",
    "recall",
    "recall_ratio",
    "recall_ratio_lo",
    "recall_ratio_hi",
    "fpr",
    "fpr_ratio",
    "fpr_ratio_lo",
    "fpr_ratio_hi",
    "predicted",
    "observed",
    "calibration_ratio",
    "calibration_ratio_lo",
    "calibration_ratio_hi",
    "status",
    "flagged",
]
LABEL_COLUMNS = [
    "positives",
    "recall",
    "recall_ratio",
    "recall_ratio_lo",
    "recall_ratio_hi",
    "fpr",
    "fpr_ratio",
    "fpr_ratio_lo",
    "fpr_ratio_hi",
    "observed",
    "calibration_ratio",
    "calibration_ratio_lo",
    "calibration_ratio_hi",
]


def cases(
    district: str,
    n: int,
    positives: int,
    listed_positives: int,
    listed_negatives: int,
    score: float,
    category: str = "x",
) -> pd.DataFrame:
    """`n` cases of one district: `positives` escalated, of which `listed_positives` were listed,
    `listed_negatives` of the others listed, every case scored `score`."""
    label = np.r_[np.ones(positives, int), np.zeros(n - positives, int)]
    listed = np.zeros(n, bool)
    listed[:listed_positives] = True
    listed[positives : positives + listed_negatives] = True
    return pd.DataFrame(
        {"district": district, "category": category, "listed": listed, "score": score, "label": label}
    )


def frame_of(*parts: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def two_districts() -> pd.DataFrame:
    """A: 100 cases, 20 escalated, 10 of them and 4 others listed, all scored 0.2.
    B: 100 cases, 10 escalated, 8 of them and 18 others listed, all scored 0.2."""
    return frame_of(cases("A", 100, 20, 10, 4, 0.2), cases("B", 100, 10, 8, 18, 0.2))


def row(table: pd.DataFrame, attribute: str, group: str) -> pd.Series:
    found = table[(table["attribute"] == attribute) & (table["group"] == group)]
    assert len(found) == 1
    return found.iloc[0]


def test_columns_and_row_order(two_districts: pd.DataFrame) -> None:
    table = fairness_audit(two_districts, n_boot=20)
    assert list(table.columns) == EXPECTED_COLUMNS
    assert list(zip(table["attribute"], table["group"], strict=True)) == [
        ("overall", "all"),
        ("district", "A"),
        ("district", "B"),
        ("category", "x"),
    ]
    assert table["n"].dtype == np.int64 and table["n_listed"].dtype == np.int64
    assert table.attrs["bounds"] == BOUNDS


def test_overall_row(two_districts: pd.DataFrame) -> None:
    overall = row(fairness_audit(two_districts, n_boot=20), "overall", "all")
    assert overall["n"] == 200 and overall["n_listed"] == 40
    assert overall["share_listed"] == pytest.approx(40 / 200)
    assert overall["share_listed_ratio"] == pytest.approx(1.0)
    assert overall["positives"] == 30
    assert overall["recall"] == pytest.approx(18 / 30)
    assert overall["recall_ratio"] == pytest.approx(1.0)
    assert overall["fpr"] == pytest.approx(22 / 170)
    assert overall["fpr_ratio"] == pytest.approx(1.0)
    assert overall["predicted"] == pytest.approx(0.2)
    assert overall["observed"] == pytest.approx(30 / 200)
    assert overall["calibration_ratio"] == pytest.approx(0.15 / 0.2)
    # calibration 0.75 is outside [0.8, 1.25]: the overall row is judged like any other row
    assert overall["status"] == "flagged" and overall["flagged"] == "calibration_ratio"


def test_two_districts_exact_ratios(two_districts: pd.DataFrame) -> None:
    table = fairness_audit(two_districts, n_boot=20)
    a, b = row(table, "district", "A"), row(table, "district", "B")
    overall_share, overall_recall, overall_fpr = 40 / 200, 18 / 30, 22 / 170

    assert (a["n"], a["n_listed"], a["positives"]) == (100, 14, 20)
    assert a["share_listed"] == pytest.approx(0.14)
    assert a["share_listed_ratio"] == pytest.approx(0.14 / overall_share)  # 0.7
    assert a["recall"] == pytest.approx(0.5)
    assert a["recall_ratio"] == pytest.approx(0.5 / overall_recall)  # 0.833
    assert a["fpr"] == pytest.approx(4 / 80)
    assert a["fpr_ratio"] == pytest.approx((4 / 80) / overall_fpr)  # 0.386
    assert a["observed"] == pytest.approx(0.2) and a["predicted"] == pytest.approx(0.2)
    assert a["calibration_ratio"] == pytest.approx(1.0)
    assert (a["status"], a["flagged"]) == ("flagged", "share_listed_ratio,fpr_ratio")

    assert (b["n"], b["n_listed"], b["positives"]) == (100, 26, 10)
    assert b["share_listed_ratio"] == pytest.approx(0.26 / overall_share)  # 1.3
    assert b["recall"] == pytest.approx(0.8)
    assert b["recall_ratio"] == pytest.approx(0.8 / overall_recall)  # 1.333
    assert b["fpr"] == pytest.approx(18 / 90)
    assert b["fpr_ratio"] == pytest.approx((18 / 90) / overall_fpr)  # 1.545
    assert b["calibration_ratio"] == pytest.approx(0.1 / 0.2)  # 0.5
    # B has exactly min_positives (10) positives: judged
    assert (b["status"], b["flagged"]) == (
        "flagged",
        "share_listed_ratio,recall_ratio,fpr_ratio,calibration_ratio",
    )

    # one category holding everyone: the same rates as the overall row
    x = row(table, "category", "x")
    assert x["share_listed_ratio"] == pytest.approx(1.0) and x["recall_ratio"] == pytest.approx(1.0)
    assert x["flagged"] == "calibration_ratio"


def test_insufficient_by_min_cases(two_districts: pd.DataFrame) -> None:
    table = fairness_audit(two_districts, min_cases=101, n_boot=20)
    for district in ("A", "B"):
        judged = row(table, "district", district)
        assert judged["status"] == "insufficient" and judged["flagged"] == ""
    # ratios are still reported
    assert row(table, "district", "B")["calibration_ratio"] == pytest.approx(0.5)
    assert row(table, "overall", "all")["status"] == "flagged"


def test_insufficient_by_min_positives(two_districts: pd.DataFrame) -> None:
    table = fairness_audit(two_districts, min_positives=11, n_boot=20)
    b = row(table, "district", "B")
    assert (b["status"], b["flagged"]) == ("insufficient", "")
    assert b["recall_ratio"] == pytest.approx(0.8 / (18 / 30))
    assert row(table, "district", "A")["status"] == "flagged"


@pytest.mark.parametrize("drop", [True, False])
def test_without_labels_only_share_can_flag(two_districts: pd.DataFrame, drop: bool) -> None:
    if drop:
        table = fairness_audit(two_districts.drop(columns="label"))
    else:
        table = fairness_audit(two_districts, label=None)
    assert list(table.columns) == EXPECTED_COLUMNS
    assert table[LABEL_COLUMNS].isna().all().all()
    a, b = row(table, "district", "A"), row(table, "district", "B")
    assert a["share_listed_ratio"] == pytest.approx(0.7)
    assert a["predicted"] == pytest.approx(0.2)
    assert (a["status"], a["flagged"]) == ("flagged", "share_listed_ratio")
    assert (b["status"], b["flagged"]) == ("flagged", "share_listed_ratio")
    # few cases is still insufficient; positives are not required without labels
    assert row(fairness_audit(two_districts, label=None, min_cases=101), "district", "A")["status"] == (
        "insufficient"
    )
    assert significant_flags(table).empty
    assert fairness_passes(table, None)[0]


def test_bootstrap_is_seeded_and_covers_the_point(two_districts: pd.DataFrame) -> None:
    first = fairness_audit(two_districts, seed=7)
    again = fairness_audit(two_districts, seed=7)
    pd.testing.assert_frame_equal(first, again)
    other = fairness_audit(two_districts, seed=8)
    assert not np.allclose(first["recall_ratio_lo"], other["recall_ratio_lo"])
    # point values do not depend on the seed
    pd.testing.assert_series_equal(first["recall_ratio"], other["recall_ratio"])
    for metric in ("recall_ratio", "fpr_ratio", "calibration_ratio"):
        lo, point, hi = first[f"{metric}_lo"], first[metric], first[f"{metric}_hi"]
        assert (lo <= point).all() and (point <= hi).all() and (lo < hi).all(), metric
    assert first.loc[0, "recall_ratio_lo"] < 1.0 < first.loc[0, "recall_ratio_hi"]


def test_no_bootstrap_gives_nan_intervals(two_districts: pd.DataFrame) -> None:
    table = fairness_audit(two_districts, n_boot=0)
    assert table[["recall_ratio_lo", "fpr_ratio_hi", "calibration_ratio_lo"]].isna().all().all()
    assert table["recall_ratio"].notna().all()


def test_zero_division_gives_nan_not_inf() -> None:
    """Nobody listed; A has no positives and scores 0; B has no negatives."""
    frame = frame_of(cases("A", 5, 0, 0, 0, 0.0), cases("B", 5, 5, 0, 0, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = fairness_audit(frame, min_cases=1, min_positives=0, n_boot=50)
    numeric = table.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(numeric).any()
    a, b = row(table, "district", "A"), row(table, "district", "B")
    assert np.isnan(a["share_listed_ratio"]) and np.isnan(b["share_listed_ratio"])  # overall share 0
    assert np.isnan(a["recall"]) and np.isnan(a["recall_ratio"])  # no positives
    assert b["recall"] == 0.0 and np.isnan(b["recall_ratio"])  # overall recall 0
    assert np.isnan(b["fpr"]) and np.isnan(b["fpr_ratio"])  # no negatives
    assert np.isnan(a["calibration_ratio"]) and np.isnan(a["calibration_ratio_lo"])  # 0 / 0
    assert b["calibration_ratio"] == pytest.approx(2.0)
    assert b["calibration_ratio_lo"] == pytest.approx(2.0) and b["calibration_ratio_hi"] == pytest.approx(2.0)
    assert a["status"] == "ok" and b["flagged"] == "calibration_ratio"


@pytest.fixture
def flagged_frame() -> pd.DataFrame:
    """A: large and fair. B: recall and false-positive rate fine, but escalates half as often as
    scored (calibration 0.5). C: recall 0.1, a quarter of the overall recall. D: too small to judge,
    however badly off (calibration 2.5)."""
    return frame_of(
        cases("A", 1200, 240, 120, 96, 0.2),
        cases("B", 400, 40, 20, 36, 0.2),
        cases("C", 400, 80, 8, 32, 0.2),
        cases("D", 40, 20, 10, 2, 0.2),
    )


@pytest.fixture
def recall_only_frame() -> pd.DataFrame:
    """As `flagged_frame`, but B is scored 0.1 and so well calibrated: only C's recall is off."""
    return frame_of(
        cases("A", 1200, 240, 120, 96, 0.2),
        cases("B", 400, 40, 20, 36, 0.1),
        cases("C", 400, 80, 8, 32, 0.2),
        cases("D", 40, 20, 10, 2, 0.2),
    )


def test_significant_flags_picks_the_intended_rows(flagged_frame: pd.DataFrame) -> None:
    table = fairness_audit(flagged_frame)
    assert row(table, "district", "D")["status"] == "insufficient"
    flags = significant_flags(table)
    assert list(flags.columns) == ["attribute", "group", "metric", "ratio", "lo", "hi"]
    assert list(zip(flags["attribute"], flags["group"], flags["metric"], strict=True)) == [
        ("district", "B", "calibration_ratio"),
        ("district", "C", "recall_ratio"),
    ]
    assert flags["ratio"].tolist() == pytest.approx([40 / 400 / 0.2, 0.1 / (158 / 380)])
    assert (flags["hi"] < BOUNDS[0]).all()


def test_significant_flags_use_the_audit_bounds(flagged_frame: pd.DataFrame) -> None:
    wide = fairness_audit(flagged_frame, bounds=(0.1, 10.0))
    assert wide.attrs["bounds"] == (0.1, 10.0)
    assert significant_flags(wide).empty
    assert (wide["status"] != "flagged").all()


def test_passes_without_champion_needs_calibration(
    flagged_frame: pd.DataFrame, recall_only_frame: pd.DataFrame
) -> None:
    passed, reason = fairness_passes(fairness_audit(flagged_frame), None)
    assert not passed
    assert "calibration_ratio of district=B" in reason and "district=C" not in reason
    passed, reason = fairness_passes(fairness_audit(recall_only_frame), None)
    assert passed
    assert "recall_ratio of district=C" in reason


def test_passes_against_a_champion(flagged_frame: pd.DataFrame, recall_only_frame: pd.DataFrame) -> None:
    two = fairness_audit(flagged_frame)
    one = fairness_audit(recall_only_frame)
    passed, reason = fairness_passes(two, one)
    assert not passed
    assert reason.startswith("Fails") and "2 significant flag(s)" in reason and "district=B" in reason
    passed, reason = fairness_passes(one, two)
    assert passed and "1 significant flag(s)" in reason
    assert fairness_passes(two, two)[0]


def test_bad_input_is_refused(two_districts: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="town"):
        fairness_audit(two_districts, groups=("town",))
    bad = two_districts.assign(label=two_districts["label"].replace(1, 2))
    with pytest.raises(ValueError, match="0 or 1"):
        fairness_audit(bad)


@pytest.mark.parametrize("labelled", [True, False])
def test_figure_has_one_axis_per_attribute(flagged_frame: pd.DataFrame, labelled: bool) -> None:
    table = fairness_audit(flagged_frame, label="label" if labelled else None, n_boot=50)
    figure = fairness_figure(table)
    try:
        assert isinstance(figure, Figure)
        assert len(figure.axes) == 2
        assert [axes.get_title() for axes in figure.axes] == ["by district", "by category"]
        ticks = {tick.get_text(): tick.get_color() for tick in figure.axes[0].get_yticklabels()}
        assert ticks["D (n=40, too few)"] == "grey"
        figure.savefig(io.BytesIO(), format="png")
    finally:
        figure.clear()
