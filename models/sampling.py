"""Negatives subsampled with weights: on a large training matrix, models are fitted on every escalation and a
seeded share of the other snapshot rows, each kept one weighing for the ones left out."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd


def negative_rate(labels: pd.Series, max_rows: int | None) -> float:
    """The share of non-escalations to keep so that the rows fitted on are about `max_rows` (every
    escalation kept); 1.0 when the matrix is no larger (or no limit is set)."""
    rows = len(labels)
    if max_rows is None or rows <= max_rows:
        return 1.0
    positives = int(np.count_nonzero(labels.to_numpy()))
    negatives = rows - positives
    return max(0.0, min(1.0, (max_rows - positives) / negatives)) if negatives else 1.0


def kept_on_date(negatives: int, rate: float) -> int:
    """How many of a date's `negatives` non-escalations are kept at `rate` (at least one, if any)."""
    return min(negatives, max(1, round(negatives * rate))) if negatives else 0


def _date_seed(seed: int, as_of: date) -> np.random.Generator:
    """The generator of one snapshot date's draw: the same rows are kept whichever dates are fitted."""
    return np.random.default_rng([seed, as_of.toordinal()])


def sample_negatives(
    frame: pd.DataFrame, label: str, rate: float, seed: int
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Every escalation and, per snapshot date, `kept_on_date` of its non-escalations drawn at random
    (seeded by `seed` and the date), in the frame's order; and the weights to fit with: 1 for an
    escalation, the date's non-escalations over those kept for a kept one. At rate 1: the frame, no weights.
    """
    if rate >= 1.0:
        return frame, None
    labels = frame[label].to_numpy()
    keep = labels != 0
    weights = np.ones(len(frame))
    for as_of, index in frame.groupby("as_of", sort=True).indices.items():
        negatives = index[labels[index] == 0]
        count = kept_on_date(len(negatives), rate)
        if count == 0:
            continue
        chosen = negatives[np.sort(_date_seed(seed, as_of).choice(len(negatives), size=count, replace=False))]
        keep[chosen] = True
        weights[chosen] = len(negatives) / count
    return frame[keep], weights[keep]
