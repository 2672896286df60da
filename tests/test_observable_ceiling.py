"""The observable-ceiling benchmark's features: counts and decayed sums of a stream before each date."""

from __future__ import annotations

import numpy as np
import pytest

from bench.observable_ceiling import stream_features


def test_stream_features_count_and_decay_only_the_events_before_each_date() -> None:
    case = np.array([0, 0, 0, 1])
    day = np.array([3, 10, 17, 9])
    rows, at = np.array([0, 0, 1, 2]), np.array([10, 17, 10, 10])
    got = stream_features(case, day, rows, at, "call", cases=3)
    assert np.expm1(got["call_all"]).round(9).tolist() == [
        1.0,
        2.0,
        1.0,
        0.0,
    ]  # day 10 itself is not before 10
    assert np.expm1(got["call_h7"]).tolist() == pytest.approx([0.5, 0.25 + 0.5, 0.5 ** (1 / 7), 0.0])
    assert np.expm1(got["call_h3"])[0] == pytest.approx(0.5 ** (7 / 3))
