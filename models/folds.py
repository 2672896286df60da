"""Rolling-origin folds over as-of dates: fit on matured snapshots, calibrate later, test later still."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class Fold:
    """Dates to fit the model on, later dates to calibrate it on, and later dates to test it on.

    Every fitting snapshot's label window closes before the first calibration date, and every
    calibration snapshot's before the first test date: nothing a model learns from reaches past
    the dates it is judged on.
    """

    fit_dates: tuple[date, ...]
    calibration_dates: tuple[date, ...]
    test_dates: tuple[date, ...]


def matured_before(dates: Iterable[date], cutoff: date, horizon_days: int) -> list[date]:
    """The dates whose label window [d, d + horizon) closes by `cutoff`, oldest first."""
    return sorted(d for d in set(dates) if d + timedelta(days=horizon_days) <= cutoff)


def split_fit_calibration(
    dates: Iterable[date], horizon_days: int, calibration_share: float
) -> tuple[list[date], list[date]]:
    """The latest share of dates for calibration, and the earlier ones that matured before them."""
    ordered = sorted(set(dates))
    n_calibration = max(1, round(len(ordered) * calibration_share))
    calibration = ordered[-n_calibration:]
    fitting = matured_before(ordered, calibration[0], horizon_days)
    if not fitting:
        raise ValueError(
            f"not enough history: no snapshot's {horizon_days}-day label window closes before the "
            f"first calibration date {calibration[0]}; simulate or ingest a longer period"
        )
    return fitting, calibration


def rolling_origin_folds(
    dates: Iterable[date],
    horizon_days: int,
    validation_share: float,
    n_folds: int,
    calibration_share: float,
) -> list[Fold]:
    """Folds whose test blocks split the latest `validation_share` of dates, oldest block first.

    Each fold fits and calibrates on the dates that matured before its own test block, so the
    origin rolls forward with the blocks.
    """
    ordered = sorted(set(dates))
    n_test = max(1, round(len(ordered) * validation_share))
    blocks = [b for b in np.array_split(np.arange(len(ordered) - n_test, len(ordered)), n_folds) if len(b)]
    folds = []
    for block in blocks:
        tests = [ordered[i] for i in block]
        earlier = matured_before(ordered, tests[0], horizon_days)
        if len(earlier) < 2:
            raise ValueError(
                f"not enough history for fold testing from {tests[0]}: need at least two snapshots whose "
                f"{horizon_days}-day label windows close before it; use fewer folds or a longer period"
            )
        fitting, calibration = split_fit_calibration(earlier, horizon_days, calibration_share)
        folds.append(Fold(tuple(fitting), tuple(calibration), tuple(tests)))
    return folds
