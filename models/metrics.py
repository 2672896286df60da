"""List metrics: precision and recall at the top of the list (tie-aware), and probability metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def top_k(n: int, fraction: float) -> int:
    """The list length for a top share of n cases (at least 1)."""
    return max(1, math.ceil(n * fraction))


def _cut(labels: np.ndarray, scores: np.ndarray, k: int) -> tuple[float, int, int, int]:
    """At the top-k cut: positives strictly above it, free slots, and tied cases and positives at it."""
    labels = np.asarray(labels, dtype=float)
    scores = np.asarray(scores, dtype=float)
    threshold = np.sort(scores)[::-1][k - 1]
    above = scores > threshold
    tied = scores == threshold
    return float(labels[above].sum()), k - int(above.sum()), int(tied.sum()), int(labels[tied].sum())


def expected_hits_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Expected positives among the top k when ties at the cut are broken at random."""
    k = min(k, len(scores))
    if k == 0:
        return 0.0
    hits, slots, tied, tied_positives = _cut(labels, scores, k)
    return hits + slots * tied_positives / tied


def hits_bounds_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> tuple[float, float]:
    """Fewest and most positives the top k can hold, depending on how ties at the cut are broken."""
    k = min(k, len(scores))
    if k == 0:
        return 0.0, 0.0
    hits, slots, tied, tied_positives = _cut(labels, scores, k)
    return hits + max(0, slots - (tied - tied_positives)), hits + min(slots, tied_positives)


def precision_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Expected share of escalating cases among the top k (random tie-breaking)."""
    k = min(k, len(scores))
    return expected_hits_at_k(labels, scores, k) / k if k else float("nan")


def recall_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Expected share of all escalating cases that the top k holds (random tie-breaking)."""
    positives = float(np.sum(labels))
    return expected_hits_at_k(labels, scores, k) / positives if positives else float("nan")


def list_metrics(
    labels: np.ndarray, scores: np.ndarray, top_fraction: float, list_k: int
) -> dict[str, float]:
    """Precision/recall at the top share (with the range ties allow) and at the first `list_k` rows,
    ROC AUC and average precision."""
    labels = np.asarray(labels, dtype=int)
    k = top_k(len(labels), top_fraction)
    both_classes = 0 < labels.sum() < len(labels)
    low, high = hits_bounds_at_k(labels, scores, k)
    return {
        "n": float(len(labels)),
        "positives": float(labels.sum()),
        "k": float(k),
        "precision_at_k": precision_at_k(labels, scores, k),
        "precision_at_k_low": low / min(k, len(labels)) if len(labels) else float("nan"),
        "precision_at_k_high": high / min(k, len(labels)) if len(labels) else float("nan"),
        "recall_at_k": recall_at_k(labels, scores, k),
        "precision_at_list_k": precision_at_k(labels, scores, list_k),
        "recall_at_list_k": recall_at_k(labels, scores, list_k),
        "roc_auc": float(roc_auc_score(labels, scores)) if both_classes else float("nan"),
        "average_precision": float(average_precision_score(labels, scores)) if both_classes else float("nan"),
    }


def calibration_table(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability and observed rate in equal-count bins of the probabilities."""
    frame = pd.DataFrame(
        {"observed": np.asarray(labels, float), "predicted": np.asarray(probabilities, float)}
    )
    frame["bin"] = pd.qcut(frame["predicted"].rank(method="first"), q=min(bins, len(frame)), labels=False)
    return frame.groupby("bin").agg(
        predicted=("predicted", "mean"), observed=("observed", "mean"), n=("observed", "size")
    )


def probability_metrics(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Brier score and expected calibration error (equal-count bins) of probabilities."""
    table = calibration_table(labels, probabilities, bins)
    ece = float((table["n"] * (table["observed"] - table["predicted"]).abs()).sum() / table["n"].sum())
    return {"brier": float(brier_score_loss(labels, probabilities)), "ece": ece}


def listed_flags(frame: pd.DataFrame, top_fraction: float) -> np.ndarray:
    """Per row: whether the case is in the top share of its as-of date's list (ties by case id)."""
    order = frame.sort_values(["as_of", "score", "case_id"], ascending=[True, False, True])
    position = order.groupby("as_of").cumcount().to_numpy()
    size = order.groupby("as_of")["case_id"].transform("size").to_numpy()
    cut = np.array([top_k(int(n), top_fraction) for n in size])
    flags = pd.Series(position < cut, index=order.index)
    return flags.reindex(frame.index).to_numpy()


SUBSET_KINDS = {"new_vs_ongoing": "case_age", "district": "district", "category": "category"}


def subset_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per subset (new vs ongoing cases, district, category): how the day's list did for its cases.

    precision_at_k is the share of the subset's listed cases that escalated, recall_at_k the share of
    its escalations that were listed, roc_auc the ranking quality within the subset (pooled dates).
    """
    rows = []
    for kind, column in SUBSET_KINDS.items():
        for subset, group in predictions.groupby(column, sort=True, dropna=False):
            labels, listed = group["label"].to_numpy(dtype=int), group["listed"].to_numpy(dtype=bool)
            hits, positives = int(labels[listed].sum()), int(labels.sum())
            rows.append(
                {
                    "subset_kind": kind,
                    "subset": "" if pd.isna(subset) else str(subset),
                    "n": len(group),
                    "positives": positives,
                    "listed": int(listed.sum()),
                    "precision_at_k": hits / listed.sum() if listed.any() else float("nan"),
                    "recall_at_k": hits / positives if positives else float("nan"),
                    "roc_auc": float(roc_auc_score(labels, group["score"]))
                    if 0 < positives < len(group)
                    else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def precision_curve(
    predictions: pd.DataFrame, fractions: np.ndarray, scorers: dict[str, str]
) -> pd.DataFrame:
    """Mean over as-of dates of precision at each top share of the list, per scorer (name -> column)."""
    rows = []
    for _, day in predictions.groupby("as_of"):
        labels = day["label"].to_numpy()
        for scorer, column in scorers.items():
            scores = day[column].to_numpy()
            for fraction in fractions:
                k = top_k(len(day), float(fraction))
                rows.append(
                    {
                        "scorer": scorer,
                        "fraction": float(fraction),
                        "precision": precision_at_k(labels, scores, k),
                    }
                )
    return pd.DataFrame(rows).groupby(["scorer", "fraction"], as_index=False)["precision"].mean()
