"""The date policy: snapshot dates of a training date, folds and the final split, and its logged record."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from models.date_policy import (
    DatePolicy,
    date_record,
    final_split,
    snapshot_dates,
    training_dates,
    training_folds,
)
from tests.builders import SMALL_DATE_POLICY

POLICY = SMALL_DATE_POLICY  # horizon 30 days, weekly, a 120-day window, 30 days' burn-in, two folds
AS_OF = date(2025, 7, 1)


def test_snapshots_end_a_horizon_before_the_training_date_and_start_after_the_burn_in() -> None:
    dates = training_dates(date(2025, 3, 1), AS_OF, POLICY)
    assert dates[-1] == AS_OF - timedelta(days=30)
    assert dates[0] >= date(2025, 3, 31) and dates[0] - timedelta(days=7) < date(2025, 3, 31)
    assert dates == snapshot_dates(date(2025, 3, 31), date(2025, 6, 1), 7)


def test_the_training_window_bounds_the_first_snapshot_of_an_old_store() -> None:
    dates = training_dates(date(2020, 1, 1), AS_OF, POLICY)
    assert dates[0] >= AS_OF - timedelta(days=120) and dates[-1] == date(2025, 6, 1)


def test_too_little_history_is_refused_with_the_need() -> None:
    with pytest.raises(ValueError, match="30 days of burn-in plus a 30-day label window"):
        training_dates(date(2025, 5, 15), AS_OF, POLICY)


def test_the_record_holds_the_policy_every_fold_and_the_final_split() -> None:
    policy = replace(POLICY, training_window_days=365)
    dates = training_dates(date(2024, 11, 1), AS_OF, policy)
    folds = training_folds(dates, policy)
    fitting, calibrating = final_split(dates, policy)
    record = date_record(policy, AS_OF, folds, fitting, calibrating)
    assert record["horizon_days"] == 30 and record["burn_in_days"] == 30 and record["as_of"] == "2025-07-01"
    assert len(record["folds"]) == 2
    tested = [d for fold in record["folds"] for d in fold["test"]]
    assert tested == [d.isoformat() for d in dates[-len(tested) :]]
    for fold in record["folds"]:  # every fitting and calibration label window closed before the tests
        first_test = date.fromisoformat(fold["test"][0])
        assert all(date.fromisoformat(d) + timedelta(days=30) <= first_test for d in fold["calibration"])
    assert record["final_calibration"][-1] == dates[-1].isoformat()
    assert record["final_fit"] == [d.isoformat() for d in fitting]


def test_the_training_plan_cuts_its_folds_by_the_date_policy_logged_with_the_model() -> None:
    from contracts.settings import Settings
    from pipelines.configuration import date_policy, training_plan

    chosen = {"horizon_days": 45, "n_folds": 4, "validation_share": 0.4, "calibration_share": 0.3}
    settings = Settings(**chosen, burn_in_days=9)
    assert training_plan(settings).date_policy == date_policy(settings)
    assert date_policy(settings) == DatePolicy(
        horizon_days=45,
        snapshot_every_days=settings.snapshot_every_days,
        training_window_days=settings.training_window_days,
        burn_in_days=9,
        validation_share=0.4,
        n_folds=4,
        calibration_share=0.3,
    )
