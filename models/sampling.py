"""Negatives subsampled with weights: above a set size, the training matrix holds every escalation and a
seeded share of the other snapshot rows, each kept one weighing for the ones left out (a column `WEIGHT`).

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


def rate_for(rows: int, positives: int, max_rows: int | None) -> float:
    """The share of non-escalations to keep so that about `max_rows` of `rows` (of which `positives`
    escalations, all kept) remain; 1.0 when there are no more rows than that (or no limit is set)."""
    if max_rows is None or rows <= max_rows:
        return 1.0
    negatives = rows - positives
    return max(0.0, min(1.0, (max_rows - positives) / negatives)) if negatives else 1.0


def negative_rate(labels: pd.Series, max_rows: int | None) -> float:
    """`rate_for` of a label column."""
    return rate_for(len(labels), int(np.count_nonzero(labels.to_numpy())), max_rows)


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
    days: np.ndarray, escalated: np.ndarray, u: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows are kept and the weights of those kept: every escalation, every non-escalation whose
    draw `u` is below `rate` and, on a date where none is, the date's non-escalation of the smallest draw
    (so each date keeps at least one). Weight 1 for an escalation, n_d / k_d for a kept non-escalation of
    date d (its non-escalations over those kept)."""
    escalated = np.asarray(escalated, dtype=bool)
    keep = escalated | (np.asarray(u) < rate)
    codes, _ = pd.factorize(np.asarray(days))
    negatives = np.flatnonzero(~escalated)
    dates = int(codes.max()) + 1 if len(codes) else 0
    n = np.bincount(codes[negatives], minlength=dates)
    k = np.bincount(codes[negatives[keep[negatives]]], minlength=dates)
    order = negatives[np.lexsort((u[negatives], codes[negatives]))]
    first = order[np.r_[True, codes[order][1:] != codes[order][:-1]]] if len(order) else order
    lacking = first[k[codes[first]] == 0]
    keep[lacking] = True
    k[codes[lacking]] += 1
    weights = np.where(escalated, 1.0, n[codes] / np.maximum(k[codes], 1))  # every date keeps one: k ≥ 1
    return keep, weights[keep]


def subsampled(matrix: pd.DataFrame, label: str, max_rows: int | None, seed: int) -> pd.DataFrame:
    """The matrix itself when it has at most `max_rows` rows; else its escalations and sampled other
    rows (`kept`, at `negative_rate`), in its order and compact dtypes over the kept rows
    (`models.matrix_dtypes`, as a matrix stacked from files is), with their weights in a last column
    `WEIGHT` and the rate in `attrs[RATE]`."""
    rate = negative_rate(matrix[label], max_rows)
    if rate >= 1.0:
        return matrix
    keep, weights = kept(
        day_numbers(matrix["as_of"]),
        matrix[label].to_numpy() != 0,
        draws(matrix["case_id"], matrix["as_of"], seed),
        rate,
    )
    out = compact_matrix(matrix.iloc[np.flatnonzero(keep)].reset_index(drop=True))
    out = pd.concat([out, pd.Series(weights, name=WEIGHT)], axis=1)  # one step: not fragmented
    out.attrs = {**matrix.attrs, RATE: rate}
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
