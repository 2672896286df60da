"""List metrics: precision and recall at the top of the list (tie-aware), and probability metrics.

Each takes optional row weights (a subsampled matrix's `models.sampling.WEIGHT`): a weighted row stands
for that many cases, so a date's list is its highest-scored rows until their weights fill the top share of
the date's weighted size (the last row's weight split), and every count is a sum of weights. Without
weights, each is the unweighted figure exactly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from models.sampling import WEIGHT


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


def _weighted_cut(
    labels: np.ndarray, scores: np.ndarray, weights: np.ndarray, k: float
) -> tuple[float, float, float, float]:
    """`_cut` with row weights: the cut is the score at which the weights of the rows scored at least it
    first reach k."""
    labels, scores, weights = (np.asarray(a, dtype=float) for a in (labels, scores, weights))
    ranked = np.sort(scores)[::-1]
    filled = np.cumsum(weights[np.argsort(-scores, kind="stable")])
    threshold = ranked[min(int(np.searchsorted(filled, k * (1 - 1e-12), side="left")), len(ranked) - 1)]
    above = scores > threshold
    tied = scores == threshold
    return (
        float((weights * labels)[above].sum()),
        k - float(weights[above].sum()),
        float(weights[tied].sum()),
        float((weights * labels)[tied].sum()),
    )


def _size(scores: np.ndarray, weights: np.ndarray | None) -> float:
    """How many cases the rows stand for."""
    return float(len(scores)) if weights is None else float(np.sum(weights))


def expected_hits_at_k(
    labels: np.ndarray, scores: np.ndarray, k: int, weights: np.ndarray | None = None
) -> float:
    """Expected positives among the top k when ties at the cut are broken at random."""
    if weights is None:
        k = min(k, len(scores))
        if k == 0:
            return 0.0
        hits, slots, tied, tied_positives = _cut(labels, scores, k)
    else:
        size = min(float(k), _size(scores, weights))
        if size <= 0:
            return 0.0
        hits, slots, tied, tied_positives = _weighted_cut(labels, scores, weights, size)
    return hits + slots * tied_positives / tied


def hits_bounds_at_k(
    labels: np.ndarray, scores: np.ndarray, k: int, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Fewest and most positives the top k can hold, depending on how ties at the cut are broken."""
    if weights is None:
        k = min(k, len(scores))
        if k == 0:
            return 0.0, 0.0
        hits, slots, tied, tied_positives = _cut(labels, scores, k)
    else:
        size = min(float(k), _size(scores, weights))
        if size <= 0:
            return 0.0, 0.0
        hits, slots, tied, tied_positives = _weighted_cut(labels, scores, weights, size)
    return hits + max(0, slots - (tied - tied_positives)), hits + min(slots, tied_positives)


def precision_at_k(
    labels: np.ndarray, scores: np.ndarray, k: int, weights: np.ndarray | None = None
) -> float:
    """Expected share of escalating cases among the top k (random tie-breaking)."""
    if weights is None:
        k = min(k, len(scores))
        return expected_hits_at_k(labels, scores, k) / k if k else float("nan")
    size = min(float(k), _size(scores, weights))
    return expected_hits_at_k(labels, scores, k, weights) / size if size > 0 else float("nan")


def recall_at_k(labels: np.ndarray, scores: np.ndarray, k: int, weights: np.ndarray | None = None) -> float:
    """Expected share of all escalating cases that the top k holds (random tie-breaking)."""
    positives = float(np.sum(labels) if weights is None else np.sum(np.asarray(weights) * labels))
    return expected_hits_at_k(labels, scores, k, weights) / positives if positives else float("nan")


def dated_precision(
    labels: np.ndarray,
    scores: np.ndarray,
    dates: tuple[np.ndarray, ...],
    top_fraction: float,
    weights: np.ndarray | None = None,
) -> float:
    """Mean over dates (each the row positions of one date) of precision at the date's top share."""
    figures = []
    for index in dates:
        w = None if weights is None else weights[index]
        k = top_k(len(index) if w is None else round(float(w.sum())), top_fraction)
        figures.append(precision_at_k(labels[index], scores[index], k, w))
    return float(np.mean(figures))


def list_metrics(
    labels: np.ndarray,
    scores: np.ndarray,
    top_fraction: float,
    list_k: int,
    weights: np.ndarray | None = None,
) -> dict[str, float]:
    """Precision/recall at the top share (with the range ties allow) and at the first `list_k` rows,
    ROC AUC and average precision."""
    labels = np.asarray(labels, dtype=int)
    size = _size(labels, weights)
    k = top_k(round(size), top_fraction)
    both_classes = 0 < labels.sum() < len(labels)
    low, high = hits_bounds_at_k(labels, scores, k, weights)
    shown = min(k, size)
    return {
        "n": size,
        "positives": float(labels.sum() if weights is None else np.sum(weights * labels)),
        "k": float(k),
        "precision_at_k": precision_at_k(labels, scores, k, weights),
        "precision_at_k_low": low / shown if len(labels) else float("nan"),
        "precision_at_k_high": high / shown if len(labels) else float("nan"),
        "recall_at_k": recall_at_k(labels, scores, k, weights),
        "precision_at_list_k": precision_at_k(labels, scores, list_k, weights),
        "recall_at_list_k": recall_at_k(labels, scores, list_k, weights),
        "roc_auc": float(roc_auc_score(labels, scores, sample_weight=weights))
        if both_classes
        else float("nan"),
        "average_precision": float(average_precision_score(labels, scores, sample_weight=weights))
        if both_classes
        else float("nan"),
    }


def calibration_table(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Mean predicted probability and observed rate in equal-count bins of the probabilities (weighted:
    bins of equal weight, weighted means, `n` the weight)."""
    frame = pd.DataFrame(
        {"observed": np.asarray(labels, float), "predicted": np.asarray(probabilities, float)}
    )
    if weights is None:
        frame["bin"] = pd.qcut(frame["predicted"].rank(method="first"), q=min(bins, len(frame)), labels=False)
        return frame.groupby("bin").agg(
            predicted=("predicted", "mean"), observed=("observed", "mean"), n=("observed", "size")
        )
    weight = np.asarray(weights, dtype=float)
    order = np.argsort(frame["predicted"].to_numpy(), kind="stable")
    before = np.empty(len(frame))
    before[order] = np.cumsum(weight[order]) - weight[order]
    count = min(bins, len(frame))
    frame["bin"] = np.minimum((before / weight.sum() * count).astype(int), count - 1)
    frame["n"] = weight
    frame[["observed", "predicted"]] = frame[["observed", "predicted"]].mul(weight, axis=0)
    sums = frame.groupby("bin")[["predicted", "observed", "n"]].sum()
    return sums.assign(predicted=sums["predicted"] / sums["n"], observed=sums["observed"] / sums["n"])


def probability_metrics(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Brier score and expected calibration error (equal-count bins) of probabilities."""
    table = calibration_table(labels, probabilities, bins, weights)
    ece = float((table["n"] * (table["observed"] - table["predicted"]).abs()).sum() / table["n"].sum())
    brier = brier_score_loss(labels, probabilities, sample_weight=weights)
    return {"brier": float(brier), "ece": ece}


def listed_flags(frame: pd.DataFrame, top_fraction: float, weight: str | None = None) -> np.ndarray:
    """Per row: whether the case is in the top share of its as-of date's list (ties by case id); with a
    `weight` column, the rows whose weights before them (in that order) are below the date's weighted
    top share."""
    order = frame.sort_values(["as_of", "score", "case_id"], ascending=[True, False, True])
    if weight is None:
        position = order.groupby("as_of").cumcount().to_numpy()
        size = order.groupby("as_of")["case_id"].transform("size").to_numpy()
        cut = np.array([top_k(int(n), top_fraction) for n in size])
    else:
        weights = order[weight].astype(float)
        position = (weights.groupby(order["as_of"]).cumsum() - weights).to_numpy()
        size = weights.groupby(order["as_of"]).transform("sum").to_numpy()
        cut = np.array([top_k(round(n), top_fraction) for n in size]) * (1 - 1e-12)
    flags = pd.Series(position < cut, index=order.index)
    return flags.reindex(frame.index).to_numpy()


SUBSET_KINDS = {"new_vs_ongoing": "case_age", "district": "district", "category": "category"}


def subset_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per subset (new vs ongoing cases, district, category): how the day's list did for its cases.

    precision_at_k is the share of the subset's listed cases that escalated, recall_at_k the share of
    its escalations that were listed, roc_auc the ranking quality within the subset (pooled dates).
    With a `WEIGHT` column every count is a sum of weights (rounded to whole cases).
    """
    rows = []
    weighted = WEIGHT in predictions
    for kind, column in SUBSET_KINDS.items():
        for subset, group in predictions.groupby(column, sort=True, dropna=False):
            labels, listed = group["label"].to_numpy(dtype=int), group["listed"].to_numpy(dtype=bool)
            weights = group[WEIGHT].to_numpy(dtype=float) if weighted else np.ones(len(group))
            hits, positives = float(weights[listed] @ labels[listed]), float(weights @ labels)
            shown = float(weights[listed].sum())
            rows.append(
                {
                    "subset_kind": kind,
                    "subset": "" if pd.isna(subset) else str(subset),
                    "n": round(weights.sum()),
                    "positives": round(positives),
                    "listed": round(shown),
                    "precision_at_k": hits / shown if listed.any() else float("nan"),
                    "recall_at_k": hits / positives if positives else float("nan"),
                    "roc_auc": float(
                        roc_auc_score(labels, group["score"], sample_weight=weights if weighted else None)
                    )
                    if 0 < labels.sum() < len(group)
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
        weights = day[WEIGHT].to_numpy(dtype=float) if WEIGHT in day else None
        for scorer, column in scorers.items():
            scores = day[column].to_numpy()
            for fraction in fractions:
                k = top_k(len(day) if weights is None else round(weights.sum()), float(fraction))
                rows.append(
                    {
                        "scorer": scorer,
                        "fraction": float(fraction),
                        "precision": precision_at_k(labels, scores, k, weights),
                    }
                )
    return pd.DataFrame(rows).groupby(["scorer", "fraction"], as_index=False)["precision"].mean()
