"""Rows subsampled with weights: above a set size, the training matrix holds every escalation and a
seeded share of the other snapshot rows, each kept one weighing for the ones left out (a column `WEIGHT`);
where escalations alone would fill more than half the size (a province: half a million escalations
against 150,000 rows), escalations too are sampled, to half of it.

Which rows are kept depends on each row's own keys only (its label, and a keyed hash of the seed, its
case id and its date below the share), so a matrix built whole or by any number of parts keeps the same
rows (docs/design/partitions.md, "negatives subsampled while the parts write")."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.matrix_dtypes import compact_matrix

WEIGHT = "sample_weight"
RATE = "negative_rate"  # the key of a subsampled matrix's `attrs` holding the share of non-escalations kept
ESCALATION_RATE = "escalation_rate"  # ... and the share of escalations kept
ESCALATION_SHARE = 0.5  # of `max_rows`, the most escalations fill before they too are sampled


def rates_for(rows: int, positives: int, max_rows: int | None) -> tuple[float, float]:
    """The shares of escalations and of other rows to keep so that about `max_rows` of `rows` (of which
    `positives` escalations) remain: every escalation while they fill at most ESCALATION_SHARE of it, the
    other rows the rest; else each class about its half (a class smaller than its half kept whole, the
    other the rest). (1.0, 1.0) when there are no more rows than that (or no limit is set)."""
    if max_rows is None or rows <= max_rows:
        return 1.0, 1.0
    negatives = rows - positives
    half = ESCALATION_SHARE * max_rows
    if positives <= half:
        return 1.0, (max_rows - positives) / negatives
    if negatives <= max_rows - half:
        return (max_rows - negatives) / positives, 1.0
    return half / positives, (max_rows - half) / negatives


def sampling_rates(labels: pd.Series, max_rows: int | None) -> tuple[float, float]:
    """`rates_for` of a label column."""
    return rates_for(len(labels), int(np.count_nonzero(labels.to_numpy())), max_rows)


def _hash_key(seed: int) -> str:
    """The 16 characters keying the row hash for a seed."""
    return hashlib.blake2b(str(seed).encode(), digest_size=8).hexdigest()


def day_numbers(as_of: pd.Series | np.ndarray) -> np.ndarray:
    """The snapshot dates as days since 1970-01-01."""
    return pd.to_datetime(pd.Series(np.asarray(as_of))).to_numpy("datetime64[D]").astype("int64")


def draws(case_ids: pd.Series, as_of: pd.Series, seed: int) -> np.ndarray:
    """Per row, u(seed, case_id, as_of) in [0, 1): a keyed hash (SipHash, `pandas.util.hash_array`) of
    the case id and the date's day number; the same row gives the same draw wherever it is read."""
    days = day_numbers(as_of)
    text = pd.Series(np.asarray(case_ids)).astype(str).to_numpy(dtype=object) + "|" + days.astype(str)
    hashed = pd.util.hash_array(text, hash_key=_hash_key(seed), categorize=False)
    return (hashed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def kept(
    days: np.ndarray, escalated: np.ndarray, u: np.ndarray, rate: float, escalation_rate: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows are kept and the weights of those kept: every non-escalation whose draw `u` is below
    `rate`, every escalation whose draw is below `escalation_rate` and, on a date where a class has rows
    but none so drawn, that class's row of the smallest draw (so each date keeps at least one of each
    class it has). A kept row of date d weighs its class's rows of d over those kept (1 for a class kept
    whole)."""
    escalated = np.asarray(escalated, dtype=bool)
    u = np.asarray(u)
    keep = np.where(escalated, u < escalation_rate, u < rate)
    codes, _ = pd.factorize(np.asarray(days))
    dates = int(codes.max()) + 1 if len(codes) else 0
    weights = np.ones(len(keep))
    for rows in (np.flatnonzero(~escalated), np.flatnonzero(escalated)):
        n = np.bincount(codes[rows], minlength=dates)
        k = np.bincount(codes[rows[keep[rows]]], minlength=dates)
        order = rows[np.lexsort((u[rows], codes[rows]))]
        first = order[np.r_[True, codes[order][1:] != codes[order][:-1]]] if len(order) else order
        lacking = first[k[codes[first]] == 0]
        keep[lacking] = True
        k[codes[lacking]] += 1
        weights[rows] = n[codes[rows]] / np.maximum(k[codes[rows]], 1)  # a date with rows keeps one: k ≥ 1
    return keep, weights[keep]


def subsampled(matrix: pd.DataFrame, label: str, max_rows: int | None, seed: int) -> pd.DataFrame:
    """The matrix itself when it has at most `max_rows` rows; else its sampled rows (`kept`, at
    `sampling_rates`), in its order and compact dtypes over the kept rows (`models.matrix_dtypes`, as a
    matrix stacked from files is), with their weights in a last column `WEIGHT` and the rates in
    `attrs[RATE]` and `attrs[ESCALATION_RATE]`."""
    escalation_rate, rate = sampling_rates(matrix[label], max_rows)
    if min(rate, escalation_rate) >= 1.0:
        return matrix
    keep, weights = kept(
        day_numbers(matrix["as_of"]),
        matrix[label].to_numpy() != 0,
        draws(matrix["case_id"], matrix["as_of"], seed),
        rate,
        escalation_rate,
    )
    out = compact_matrix(matrix.iloc[np.flatnonzero(keep)].reset_index(drop=True))
    out = pd.concat([out, pd.Series(weights, name=WEIGHT)], axis=1)  # one step: not fragmented
    out.attrs = {**matrix.attrs, RATE: rate, ESCALATION_RATE: escalation_rate}
    return out


def split(values: np.ndarray, lengths: Sequence[int]) -> list[np.ndarray]:
    """An array cut into consecutive pieces of those lengths."""
    return np.split(values, np.cumsum(lengths)[:-1]) if len(lengths) else []


def weights_of(frame: pd.DataFrame) -> np.ndarray | None:
    """The rows' weights (`WEIGHT`), or None when the frame is not subsampled."""
    return frame[WEIGHT].to_numpy(dtype=float) if WEIGHT in frame else None


def rate_of(matrix: pd.DataFrame) -> float:
    """The share of non-escalations a subsampled matrix kept (1.0 when it holds every row)."""
    return float(matrix.attrs.get(RATE, 1.0)) if WEIGHT in matrix else 1.0


def escalation_rate_of(matrix: pd.DataFrame) -> float:
    """The share of escalations a subsampled matrix kept (1.0 when it holds every one)."""
    return float(matrix.attrs.get(ESCALATION_RATE, 1.0)) if WEIGHT in matrix else 1.0
