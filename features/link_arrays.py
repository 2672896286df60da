"""Vectorised helpers of the call linker: blank texts, shared integer codes, datetimes as
datetime64[us], concatenated ranges, equality joins and row hashes."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd


def blank(values: pd.Series) -> np.ndarray:
    """True where a text value is missing or only whitespace."""
    empty = values.isna().to_numpy().copy()
    present = ~empty
    if present.any():
        empty[present] = (values[present].astype("string").str.strip() == "").to_numpy(dtype=bool)
    return empty


def shared_codes(*columns: pd.Series) -> list[np.ndarray]:
    """Shared integer codes of the values of several text columns (-1 where blank)."""
    values = pd.concat([c.astype("string").where(~blank(c)) for c in columns], ignore_index=True)
    codes, _ = pd.factorize(values)
    bounds = np.cumsum([0, *(len(c) for c in columns)])
    return [codes[a:b] for a, b in itertools.pairwise(bounds)]


def as_us(values: pd.Series) -> np.ndarray:
    """Datetimes as datetime64[us]."""
    return values.to_numpy(dtype="datetime64[us]")


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenation of range(start, start + count) for each pair."""
    total = int(counts.sum())
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)


def equal_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with left[i] == right[j], by i then j."""
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    low = np.searchsorted(ordered, left, side="left")
    count = np.searchsorted(ordered, left, side="right") - low
    return np.repeat(np.arange(len(left)), count), order[ranges(low, count)]


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's values (text columns hashed by value, whatever their dtype)."""
    texts = {
        c: frame[c].astype("string") for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
    }
    texts = {c: v for c, v in texts.items() if not pd.api.types.is_datetime64_any_dtype(frame[c])}
    return pd.util.hash_pandas_object(frame.assign(**texts), index=False).to_numpy()
