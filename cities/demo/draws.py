"""Small random draws shared by the simulator: choices, times of day, the time of a call."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cities.demo.config import DAY

OFFICE_HOURS = np.array(
    [1, 1, 1, 1, 1, 2, 4, 10, 30, 40, 40, 35, 20, 30, 40, 40, 35, 25, 12, 8, 6, 4, 2, 1.0]
)
ANY_HOURS = np.array([3, 2, 2, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 9, 9, 10, 11, 12, 13, 12, 10, 7, 5.0])
_NIGHT_HOURS = np.array([8, 6, 4, 3, 2, 2] + [0.0] * 16 + [10, 9])


def choose(
    rng: np.random.Generator, options: Sequence[str], size: int, p: np.ndarray | None = None
) -> np.ndarray:
    """size strings drawn from options (with probabilities p), as an object array."""
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p)]


def choose_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of a (rows, k) probability matrix."""
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probs.shape[1] - 1)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def seconds_of_day(rng: np.random.Generator, hour_weights: np.ndarray, size: int) -> np.ndarray:
    """Random seconds within a day, hours weighted by hour_weights."""
    hours = rng.choice(24, size=size, p=hour_weights / hour_weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size)


def call_seconds(rng: np.random.Generator, day: np.ndarray, night_share: np.ndarray) -> np.ndarray:
    """Call times: night (22:00-06:00) with probability night_share, else daytime-weighted."""
    night = rng.random(len(day)) < night_share
    seconds = seconds_of_day(rng, OFFICE_HOURS, len(day))
    seconds[night] = seconds_of_day(rng, _NIGHT_HOURS, int(night.sum()))
    return day * DAY + seconds
