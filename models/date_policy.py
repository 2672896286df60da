"""The date policy of training: which as-of dates are snapshots, how they split into rolling-origin folds
and into the final fit and calibration, and the record of it logged with the model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from models.folds import Fold, rolling_origin_folds, split_fit_calibration


@dataclass(frozen=True)
class DatePolicy:
    """Which dates a model for a training date T learns and is judged on."""

    horizon_days: int  # label window [d, d + horizon); a snapshot is used once its window closed by T
    snapshot_every_days: int  # snapshots every this many days, back from T - horizon
    training_window_days: int  # no snapshot before T - this
    burn_in_days: int  # no snapshot before the first case + this
    validation_share: float  # the latest share of snapshots, held out in folds
    n_folds: int
    calibration_share: float  # the latest share of the dates a model is fitted on, for its calibration


def snapshot_dates(first: date, last: date, every_days: int) -> list[date]:
    """As-of dates from `last` back to `first`, every `every_days` days, oldest first."""
    dates = pd.date_range(start=pd.Timestamp(last), end=pd.Timestamp(first), freq=f"-{every_days}D")
    return sorted(d.date() for d in dates)


def training_dates(first_case: date, as_of: date, policy: DatePolicy) -> list[date]:
    """Snapshot dates whose label window closed by `as_of`, within the training window and after the
    burn-in that follows the first case."""
    last = as_of - timedelta(days=policy.horizon_days)
    first = max(
        first_case + timedelta(days=policy.burn_in_days),
        as_of - timedelta(days=policy.training_window_days),
    )
    if first > last:
        raise ValueError(
            f"not enough history to train as of {as_of}: need {policy.burn_in_days} days of burn-in plus "
            f"a {policy.horizon_days}-day label window after the first case ({first_case})"
        )
    return snapshot_dates(first, last, policy.snapshot_every_days)


def training_folds(dates: Sequence[date], policy: DatePolicy) -> list[Fold]:
    """The rolling-origin folds of the policy over the snapshot dates."""
    return rolling_origin_folds(
        dates, policy.horizon_days, policy.validation_share, policy.n_folds, policy.calibration_share
    )


def final_split(dates: Iterable[date], policy: DatePolicy) -> tuple[list[date], list[date]]:
    """The final model's fitting dates and its later calibration dates, over every snapshot."""
    return split_fit_calibration(dates, policy.horizon_days, policy.calibration_share)


def _iso(dates: Iterable[date]) -> list[str]:
    return [d.isoformat() for d in dates]


def date_record(
    policy: DatePolicy,
    as_of: date,
    folds: Sequence[Fold],
    fit_dates: Iterable[date],
    calibration_dates: Iterable[date],
) -> dict[str, Any]:
    """The policy and the dates it gave, as logged with the model (its `date_policy` metadata): the
    training date (the knowledge cut), each fold's fitting, calibration and test dates, and the final
    model's fitting and calibration dates."""
    return {
        **asdict(policy),
        "as_of": as_of.isoformat(),
        "knowledge_cut": "records known strictly before as_of 00:00 (Asia/Shanghai)",
        "folds": [
            {"fit": _iso(f.fit_dates), "calibration": _iso(f.calibration_dates), "test": _iso(f.test_dates)}
            for f in folds
        ],
        "final_fit": _iso(fit_dates),
        "final_calibration": _iso(calibration_dates),
    }
