"""Weighted rows (a subsampled matrix's `WEIGHT`) count as that many cases: with whole-number weights, every
weighted figure (list metrics, probability metrics, subsets, fairness audit, drift reference) is the
unweighted figure of the rows repeated that many times."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.drift import reference_profile
from models.fairness import COLUMNS, fairness_audit
from models.metrics import (
    calibration_table,
    dated_precision,
    list_metrics,
    listed_flags,
    precision_curve,
    probability_metrics,
    subset_metrics,
)
from models.sampling import WEIGHT

DAYS = [date(2025, 3, 3), date(2025, 3, 10)]


def _rows(n: int = 300, seed: int = 2) -> pd.DataFrame:
    """Held-out predictions of two dates with whole-number weights, tied scores and two districts."""
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.15).astype(int)
    return pd.DataFrame(
        {
            "as_of": np.repeat(DAYS, n // 2),
            "case_id": [f"C{i:04d}" for i in range(n)],
            "district": rng.choice(["东湖区", "西湖区"], n),
            "category": rng.choice(["劳资纠纷", "邻里纠纷", "物业纠纷"], n),
            "case_age": rng.choice(["new", "ongoing"], n),
            "label": label,
            "score": np.round(np.clip(rng.normal(0.1 + 0.3 * label, 0.15), 0.001, 0.999), 2),
            "rule_score": rng.integers(0, 5, n).astype(float),
            "calls": np.where(rng.random(n) < 0.1, np.nan, rng.poisson(2, n).astype(float)),
            WEIGHT: rng.integers(1, 6, n).astype(float),
        }
    )


def _repeated(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row repeated its weight's times, without the weights."""
    return (
        frame.loc[frame.index.repeat(frame[WEIGHT].astype(int))].drop(columns=WEIGHT).reset_index(drop=True)
    )


def test_list_and_probability_metrics_of_weighted_rows_are_those_of_the_rows_repeated() -> None:
    frame = _rows()
    copies = _repeated(frame)
    for day in DAYS:
        one, many = frame[frame["as_of"] == day], copies[copies["as_of"] == day]
        args = (one["label"].to_numpy(), one["score"].to_numpy())
        weighted = list_metrics(*args, 0.05, 10, one[WEIGHT].to_numpy())
        plain = list_metrics(many["label"].to_numpy(), many["score"].to_numpy(), 0.05, 10)
        assert weighted == pytest.approx(plain, rel=1e-12)
        assert weighted["n"] == len(many) and weighted["k"] == plain["k"]
        brier = probability_metrics(*args, weights=one[WEIGHT].to_numpy())["brier"]
        assert brier == pytest.approx(probability_metrics(many["label"], many["score"])["brier"], rel=1e-12)
    dates = tuple(frame.groupby("as_of").indices.values())
    repeated_dates = tuple(copies.groupby("as_of").indices.values())
    assert dated_precision(
        frame["label"].to_numpy(), frame["score"].to_numpy(), dates, 0.1, frame[WEIGHT].to_numpy()
    ) == pytest.approx(
        dated_precision(copies["label"].to_numpy(), copies["score"].to_numpy(), repeated_dates, 0.1)
    )
    curve = precision_curve(frame, np.array([0.05, 0.1]), {"model": "score"})
    pd.testing.assert_frame_equal(curve, precision_curve(copies, np.array([0.05, 0.1]), {"model": "score"}))


def test_the_weighted_calibration_table_has_bins_of_equal_weight_and_weighted_means() -> None:
    frame = _rows()
    table = calibration_table(frame["label"], frame["score"], 5, frame[WEIGHT].to_numpy())
    assert table["n"].sum() == frame[WEIGHT].sum() and len(table) == 5
    assert (table["n"] - frame[WEIGHT].sum() / 5).abs().max() <= frame[WEIGHT].max()
    mean = float((table["observed"] * table["n"]).sum() / table["n"].sum())
    assert mean == pytest.approx(np.average(frame["label"], weights=frame[WEIGHT]))


def test_weighted_listing_cuts_the_top_share_of_each_date_by_weight() -> None:
    frame = _rows()
    listed = listed_flags(frame, 0.1, WEIGHT)
    for day in DAYS:
        on = (frame["as_of"] == day).to_numpy()
        top = frame.loc[on & listed]
        size = frame.loc[on, WEIGHT].sum()
        assert top[WEIGHT].sum() - top[WEIGHT].iloc[-1] < np.ceil(0.1 * size) <= top[WEIGHT].sum()
        assert top["score"].min() >= frame.loc[on & ~listed, "score"].max()


def test_subsets_and_the_fairness_audit_of_weighted_rows_are_those_of_the_rows_repeated() -> None:
    frame = _rows()
    frame["listed"] = listed_flags(frame, 0.1, WEIGHT)
    copies = _repeated(frame)
    pd.testing.assert_frame_equal(subset_metrics(frame), subset_metrics(copies))
    points = [c for c in COLUMNS if not c.endswith(("_lo", "_hi"))]  # the bootstraps resample differently
    weighted = fairness_audit(frame, min_cases=20, min_positives=3)[points]
    pd.testing.assert_frame_equal(weighted, fairness_audit(copies, min_cases=20, min_positives=3)[points])
    assert weighted.loc[0, "n"] == len(copies)
    # whether a group is large enough to judge counts the rows held, not what they weigh
    by_held = fairness_audit(frame, min_cases=150, min_positives=3).set_index(["attribute", "group"])
    by_copies = fairness_audit(copies, min_cases=150, min_positives=3).set_index(["attribute", "group"])
    assert by_held.loc[("district", "东湖区"), "n"] > 150  # weighs more than the limit, holds 140 rows
    assert by_held.loc[("district", "东湖区"), "status"] == "insufficient"
    assert by_copies.loc[("district", "东湖区"), "status"] != "insufficient"


def test_the_weighted_drift_reference_is_that_of_the_rows_repeated_with_its_effective_size() -> None:
    frame = _rows()
    kinds = {"calls": "numeric", "district": "categorical", "score": "numeric"}
    weights = frame[WEIGHT].to_numpy()
    weighted = reference_profile(frame, kinds, weights=weights)
    plain = reference_profile(_repeated(frame), kinds)
    assert weighted["columns"] == plain["columns"]
    assert weighted["n"] == round(weights.sum() ** 2 / (weights**2).sum()) < len(frame)
