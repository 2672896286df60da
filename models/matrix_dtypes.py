"""Compact dtypes for the training matrix: the same values in less memory."""

from __future__ import annotations

import numpy as np
import pandas as pd


def exact_in_float32(values: np.ndarray) -> bool:
    """Whether float64 values are all held exactly by float32 (counts, flags, days; missing values too)."""
    narrow = values.astype(np.float32)
    return bool(np.array_equal(narrow.astype(np.float64), values, equal_nan=True))


def compact_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each float64 column whose values float32 holds exactly stored as float32 (a model
    reads it back as the same float64 values); the other columns as they were."""
    narrowed = {
        name: frame[name].astype(np.float32)
        for name, dtype in frame.dtypes.items()
        if dtype == np.float64 and exact_in_float32(frame[name].to_numpy())
    }
    return frame.assign(**narrowed) if narrowed else frame
