"""How published lists did once their outcomes are known: realised precision at the top and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.metrics import precision_at_k, probability_metrics, recall_at_k, top_k


def realised_quality(listed: pd.DataFrame, labels: pd.Series, top_fraction: float) -> dict[str, float]:
    """A past list's precision and recall at the top share, ECE and mean score vs observed rate.

    `labels` holds 1 for each listed case that escalated within the horizon after the list's date,
    indexed by case_id.
    """
    observed = labels.reindex(listed["case_id"]).fillna(0).to_numpy(dtype=int)
    scores = listed["score"].to_numpy(dtype=float)
    k = top_k(len(listed), top_fraction)
    quality = {
        "n": float(len(listed)),
        "positives": float(observed.sum()),
        "k": float(k),
        "precision_at_k": precision_at_k(observed, scores, k),
        "recall_at_k": recall_at_k(observed, scores, k),
        "mean_score": float(np.mean(scores)),
        "observed_rate": float(np.mean(observed)),
    }
    if 0 < observed.sum() < len(observed):
        quality["ece"] = probability_metrics(observed, scores)["ece"]
    return quality
