"""Drift and health watch on small synthetic frames whose shares and PSI can be worked out on paper."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from models.drift import (
    HOLD_PSI,
    WARN_PSI,
    HealthVerdict,
    drift_figure,
    drift_table,
    health_verdict,
    psi,
    quarantine_abnormal,
    reference_profile,
    volume_abnormal,
)

NORMAL_VOLUME = (False, "Input volume of 100 is normal.")
NORMAL_QUARANTINE = (False, "Quarantine rate of 1.0% is normal.")


@pytest.fixture
def counts() -> pd.Series:
    """A count that is mostly 0: 70 zeros, 20 ones, 5 twos, 5 fives."""
    return pd.Series([0] * 70 + [1] * 20 + [2] * 5 + [5] * 5, name="calls")


@pytest.fixture
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 5000
    return pd.DataFrame(
        {
            "amount": rng.normal(0.0, 1.0, n),
            "calls": rng.poisson(0.4, n),
            "urgent": rng.integers(0, 2, n).astype(bool),
            "district": rng.choice(["东城", "西城", "南区"], n),
            "score": rng.beta(2, 8, n),
        }
    )


KINDS = {
    "amount": "numeric",
    "calls": "numeric",
    "urgent": "flag",
    "district": "categorical",
    "score": "numeric",
}


def _status(value: float) -> str:
    return "alert" if value >= HOLD_PSI else "warn" if value >= WARN_PSI else "ok"


def _drift(score: float, features: list[float], missing: int = 0) -> pd.DataFrame:
    """A drift table by hand: the score row, features f0, f1, ... and `missing` absent columns."""
    rows = [("score", "numeric", score, _status(score), "(0.1, 0.2]: 10.0% -> 30.0%")]
    rows += [(f"f{i}", "numeric", v, _status(v), "(2, 5]: 10.0% -> 20.0%") for i, v in enumerate(features)]
    rows += [
        (f"gone{i}", "numeric", math.nan, "missing", "column not in today's data") for i in range(missing)
    ]
    return pd.DataFrame(rows, columns=["column", "kind", "psi", "status", "top_shift"])


# --- psi -------------------------------------------------------------------------------------------


def test_psi_two_bins_by_hand() -> None:
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 (ln 2 + ln 1.5) = 0.25 ln 3
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(3), rel=1e-12)


def test_psi_is_zero_for_identical_distributions() -> None:
    assert psi([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert psi([0.5, 0.0, 0.5], [0.5, 0.0, 0.5]) == 0.0


def test_psi_floors_empty_bins_at_epsilon() -> None:
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(expected, rel=1e-12)


def test_psi_accepts_counts_and_rejects_mismatched_bins() -> None:
    assert psi([50, 50], [25, 75]) == pytest.approx(0.25 * math.log(3), rel=1e-12)
    assert math.isnan(psi([1, 1], [0, 0]))
    with pytest.raises(ValueError, match="same length"):
        psi([0.5, 0.5], [1.0])


# --- reference profile -----------------------------------------------------------------------------


def test_counts_with_many_zeros_get_deduplicated_edges(counts: pd.Series) -> None:
    profile = reference_profile(counts.to_frame(), {"calls": "numeric"})
    entry = profile["columns"]["calls"]
    # deciles 0.1-0.7 are 0 and 0.8-0.9 are 1: two distinct cut points, not nine
    assert entry["edges"] == [0.0, 1.0]
    assert entry["levels"] == ["(-inf, 0]", "(0, 1]", "(1, inf)", "(missing)"]
    assert entry["shares"] == pytest.approx([0.7, 0.2, 0.1, 0.0])
    assert sum(entry["shares"]) == pytest.approx(1.0)
    assert profile["n"] == 100


def test_numeric_profile_counts_missing_values_in_their_own_bin() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, np.nan, np.nan, 5.0, 6.0, 7.0, 8.0]})
    entry = reference_profile(frame, {"x": "numeric"}, bins=4)["columns"]["x"]
    assert entry["edges"] == [2.0, 4.0, 6.0]
    assert entry["shares"] == pytest.approx([0.2, 0.2, 0.2, 0.2, 0.2])
    assert entry["levels"][-1] == "(missing)"


def test_categorical_levels_beyond_thirty_are_pooled() -> None:
    values = [f"L{i:02d}" for i in range(30) for _ in range(3)] + [f"L{i}" for i in range(30, 35)]
    frame = pd.DataFrame({"town": [*values, *[None] * 5]})
    entry = reference_profile(frame, {"town": "categorical"})["columns"]["town"]
    assert entry["levels"] == [*(f"L{i:02d}" for i in range(30)), "(other)", "(missing)"]
    assert entry["shares"] == pytest.approx([0.03] * 30 + [0.05, 0.05])


def test_flags_from_bools_and_integers_share_levels() -> None:
    as_bool = reference_profile(pd.DataFrame({"f": [True, False, False, True]}), {"f": "flag"})
    as_int = reference_profile(pd.DataFrame({"f": [1, 0, 0, None]}), {"f": "flag"})
    assert as_bool["columns"]["f"]["levels"] == ["0", "1", "(other)", "(missing)"]
    assert as_bool["columns"]["f"]["shares"] == pytest.approx([0.5, 0.5, 0.0, 0.0])
    assert as_int["columns"]["f"]["shares"] == pytest.approx([0.5, 0.25, 0.0, 0.25])


def test_reference_profile_rejects_bad_input(reference: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="not in the frame"):
        reference_profile(reference, {"nope": "numeric"})
    with pytest.raises(ValueError, match="kind"):
        reference_profile(reference, {"amount": "text"})
    with pytest.raises(ValueError, match="empty"):
        reference_profile(reference.iloc[:0], KINDS)


# --- drift table -----------------------------------------------------------------------------------


def test_shifted_normal_alerts_and_resample_is_ok(reference: pd.DataFrame) -> None:
    profile = reference_profile(reference, KINDS)
    rng = np.random.default_rng(2)
    same = pd.DataFrame({"amount": rng.normal(0.0, 1.0, 5000)})
    shifted = pd.DataFrame({"amount": rng.normal(1.0, 1.0, 5000)})
    calm = drift_table(profile, same).set_index("column").loc["amount"]
    moved = drift_table(profile, shifted).set_index("column").loc["amount"]
    assert calm["psi"] < WARN_PSI
    assert calm["status"] == "ok"
    assert moved["psi"] > HOLD_PSI
    assert moved["status"] == "alert"
    assert moved["top_shift"].startswith("(")
    assert "% -> " in moved["top_shift"]


def test_new_categorical_level_goes_to_other() -> None:
    profile = reference_profile(pd.DataFrame({"d": ["a"] * 50 + ["b"] * 50}), {"d": "categorical"})
    current = pd.DataFrame({"d": ["a"] * 40 + ["b"] * 40 + ["c"] * 20})
    row = drift_table(profile, current).iloc[0]
    # a, b: 0.5 -> 0.4; (other): 0 (floored at 1e-4) -> 0.2; (missing): 0 -> 0
    expected = 2 * (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.2 - 1e-4) * math.log(0.2 / 1e-4)
    assert row["psi"] == pytest.approx(expected, rel=1e-9)
    assert row["status"] == "alert"
    assert row["top_shift"] == "(other): 0.0% -> 20.0%"


def test_missing_column_is_reported_last(reference: pd.DataFrame) -> None:
    profile = reference_profile(reference, KINDS)
    table = drift_table(profile, reference.drop(columns=["district"]))
    assert list(table.columns) == ["column", "kind", "psi", "noise", "status", "top_shift"]
    last = table.iloc[-1]
    assert last["column"] == "district"
    assert last["status"] == "missing"
    assert math.isnan(last["psi"])
    assert (table["psi"].iloc[:-1] == 0.0).all()  # the reference against itself
    assert (table["status"].iloc[:-1] == "ok").all()


def test_no_rows_today_is_missing_not_ok(reference: pd.DataFrame) -> None:
    table = drift_table(reference_profile(reference, KINDS), reference.iloc[:0])
    assert (table["status"] == "missing").all()


def test_table_is_sorted_by_psi(reference: pd.DataFrame) -> None:
    profile = reference_profile(reference, KINDS)
    current = reference.assign(calls=reference["calls"] + 3, amount=reference["amount"] + 0.3)
    table = drift_table(profile, current)
    assert table["column"].iloc[0] == "calls"
    assert table["psi"].is_monotonic_decreasing


def test_profile_round_trips_through_json(reference: pd.DataFrame) -> None:
    profile = reference_profile(reference, KINDS)
    loaded = json.loads(json.dumps(profile, allow_nan=False, ensure_ascii=False))
    current = reference.sample(frac=0.5, random_state=3).assign(amount=lambda f: f["amount"] * 1.5)
    pd.testing.assert_frame_equal(drift_table(loaded, current), drift_table(profile, current))


# --- volume and quarantine -------------------------------------------------------------------------

# median 100; |deviations| 0,2,2,1,1,0,3,3 -> MAD 1.5, x 1.4826 = 2.22 < 10% of median = 10 -> allowed 40
HISTORY = [100, 102, 98, 101, 99, 100, 103, 97]


def test_volume_not_enough_history() -> None:
    abnormal, reason = volume_abnormal([100, 100, 100], 0)
    assert not abnormal
    assert "not enough history (3 runs" in reason


def test_volume_normal_day() -> None:
    abnormal, reason = volume_abnormal(HISTORY, 139)
    assert not abnormal
    assert reason.startswith("Input volume of 139 is normal")
    assert not volume_abnormal(HISTORY, 61)[0]
    assert volume_abnormal(HISTORY, 141)[0]


def test_volume_three_times_median() -> None:
    abnormal, reason = volume_abnormal(HISTORY, 300)
    assert abnormal
    assert "300" in reason and "100" in reason and "40" in reason


def test_volume_zero_day() -> None:
    # median 2, MAD 0 -> allowed 4 * 1 = 4: only the zero rule catches a day with no input
    abnormal, reason = volume_abnormal([2, 3, 2, 1, 2, 2, 3], 0)
    assert abnormal
    assert reason.startswith("No input today")


def test_volume_ignores_runs_older_than_28() -> None:
    assert not volume_abnormal([10_000] * 50 + [100] * 28, 100)[0]


def test_quarantine_above_ceiling() -> None:
    assert quarantine_abnormal([], 0.06)[0]
    assert not quarantine_abnormal([], 0.04)[0]
    abnormal, reason = quarantine_abnormal([0.01] * 10, 0.06)
    assert abnormal
    assert "6.0%" in reason and "5.0%" in reason


def test_quarantine_uses_history_above_the_ceiling() -> None:
    # median 0.10; |deviations| -> MAD 0.01; limit 0.10 + 4 * 1.4826 * 0.01 = 0.1593
    rates = [0.08, 0.10, 0.12, 0.09, 0.11, 0.10, 0.10]
    assert not quarantine_abnormal(rates, 0.15)[0]
    assert quarantine_abnormal(rates, 0.16)[0]


# --- verdict ---------------------------------------------------------------------------------------


def test_holds_on_score_psi() -> None:
    verdict = health_verdict(_drift(0.25, [0.01] * 10), "score", NORMAL_VOLUME, NORMAL_QUARANTINE)
    assert verdict.hold
    assert len(verdict.reasons) == 1
    assert "score" in verdict.reasons[0] and "0.25" in verdict.reasons[0]


def test_holds_on_thirty_percent_of_features() -> None:
    verdict = health_verdict(
        _drift(0.01, [0.3, 0.25, 0.21] + [0.01] * 7, missing=5), "score", NORMAL_VOLUME, NORMAL_QUARANTINE
    )
    assert verdict.hold
    assert verdict.reasons[0].startswith("3 of 10 features (30%)")
    assert "f0 (0.30), f1 (0.25), f2 (0.21)" in verdict.reasons[0]
    assert any("gone0" in w for w in verdict.warnings)  # missing columns: a warning, not a feature


def test_does_not_hold_on_a_single_feature() -> None:
    verdict = health_verdict(_drift(0.01, [0.25] + [0.01] * 9), "score", NORMAL_VOLUME, NORMAL_QUARANTINE)
    assert not verdict.hold
    assert verdict.reasons == ()
    assert len(verdict.warnings) == 1
    assert "f0" in verdict.warnings[0] and "0.25" in verdict.warnings[0]


def test_warns_on_warn_level_columns() -> None:
    verdict = health_verdict(_drift(0.15, [0.12] + [0.01] * 9), "score", NORMAL_VOLUME, NORMAL_QUARANTINE)
    assert not verdict.hold
    assert len(verdict.warnings) == 2


def test_holds_on_volume_and_quarantine() -> None:
    volume = volume_abnormal(HISTORY, 300)
    verdict = health_verdict(_drift(0.01, [0.01] * 10), "score", volume, NORMAL_QUARANTINE)
    assert verdict.hold
    assert verdict.reasons == (volume[1],)
    quarantine = quarantine_abnormal([], 0.2)
    assert health_verdict(_drift(0.01, [0.01] * 10), "score", NORMAL_VOLUME, quarantine).hold


def test_override_moves_reasons_to_warnings() -> None:
    drift = _drift(0.25, [0.25] + [0.01] * 9)
    volume = volume_abnormal(HISTORY, 300)
    held = health_verdict(drift, "score", volume, NORMAL_QUARANTINE)
    overridden = health_verdict(drift, "score", volume, NORMAL_QUARANTINE, override=True)
    assert held.hold and len(held.reasons) == 2
    assert overridden == HealthVerdict(
        hold=False,
        reasons=(),
        warnings=(*(f"overridden: {r}" for r in held.reasons), *held.warnings),
    )
    assert json.loads(json.dumps(overridden.as_dict())) == {
        "hold": False,
        "reasons": [],
        "warnings": list(overridden.warnings),
    }


def test_end_to_end_on_a_shifted_day(reference: pd.DataFrame) -> None:
    profile = reference_profile(reference, KINDS)
    today = reference.assign(score=reference["score"] * 2)
    verdict = health_verdict(drift_table(profile, today), "score", NORMAL_VOLUME, NORMAL_QUARANTINE)
    assert verdict.hold
    assert "score" in verdict.reasons[0]


# --- figure ----------------------------------------------------------------------------------------


def test_figure_is_a_figure() -> None:
    figure = drift_figure(_drift(0.25, [0.15, 0.05, 0.3], missing=1), top=3)
    assert isinstance(figure, Figure)
    assert len(figure.axes[0].patches) == 3
    figure.savefig(io.BytesIO(), format="png")
    empty = drift_figure(_drift(0.0, [])[:0])
    empty.savefig(io.BytesIO(), format="png")


def test_profile_is_strict_json_with_infinite_values_and_empty_columns() -> None:
    frame = pd.DataFrame({"x": [np.inf] * 5 + [1.0] * 5, "y": [np.nan] * 10})
    profile = reference_profile(frame, {"x": "numeric", "y": "numeric"})
    json.dumps(profile, allow_nan=False)
    assert profile["columns"]["x"]["edges"] == [1.0]
    assert profile["columns"]["y"]["levels"] == ["(-inf, inf)", "(missing)"]
    assert profile["columns"]["y"]["shares"] == [0.0, 1.0]


def test_a_small_day_drawn_from_the_reference_is_not_drift() -> None:
    from models.drift import drift_table, reference_profile

    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"score": rng.beta(1, 12, 50_000)})
    profile = reference_profile(reference, {"score": "numeric"})
    statuses = [
        drift_table(profile, pd.DataFrame({"score": rng.beta(1, 12, 60)}))["status"].iloc[0]
        for _ in range(40)
    ]
    assert statuses.count("alert") == 0
    assert statuses.count("ok") >= 36
