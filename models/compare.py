"""Challenger against champion on the same held-out dates: scores, list metrics side by side, list overlap.

Pure functions for the retraining notebook (`notebooks/01-retrain-and-compare.ipynb`): they take
held-out predictions (one row per as-of date and case, with `label` and a calibrated `score`, as
`models.train.held_out_predictions` makes them) and return tables; nothing here reads the store or
the registry, and nothing here promotes a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from contracts.evaluation import VALIDATION_METRICS
from models.metrics import list_metrics, listed_flags, probability_metrics, top_k
from models.promotion import Decision
from models.rules import rule_scores
from models.sampling import WEIGHT, weights_of
from models.train import TrainingPlan, held_out_predictions

KEY = ("as_of", "case_id")
COMPARED_METRICS = VALIDATION_METRICS
OVERLAP_COLUMNS = ("as_of", "k", "both", "only_first", "only_second", "overlap_share", "jaccard", "spearman")


def held_out_scores(
    model: Any, feature_names: Sequence[str], matrix: pd.DataFrame, dates: Sequence[date], plan: TrainingPlan
) -> pd.DataFrame:
    """A fitted model's held-out predictions on the matrix's rows at `dates` (the rule's score beside it).

    `model` is anything with `predict_proba` (e.g. the champion loaded from the registry) and
    `feature_names` the columns it reads; every one must be in the matrix. The result has the
    columns of `models.train.held_out_predictions`, so it lines up with a challenger's
    `TrainingResult.evaluation.predictions`.
    """
    missing = [name for name in feature_names if name not in matrix.columns]
    if missing:
        raise ValueError(f"the model reads features the matrix does not hold: {missing[:5]}")
    held = matrix[matrix["as_of"].isin(set(dates))].reset_index(drop=True)
    if held.empty:
        raise ValueError("the matrix holds no rows on the requested held-out dates")
    scores = model.predict_proba(held[list(feature_names)])[:, 1]
    return held_out_predictions(held, scores, rule_scores(held), plan)


def _aligned(scorings: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every scoring sorted by (as_of, case_id), after checking they hold exactly the same rows and labels."""
    if len(scorings) < 1:
        raise ValueError("nothing to compare: give at least one scoring")
    ordered = {
        name: frame.sort_values(list(KEY), ignore_index=True)[
            [*KEY, "label", "score", *([WEIGHT] if WEIGHT in frame else [])]
        ]
        for name, frame in scorings.items()
    }
    first_name, first = next(iter(ordered.items()))
    for name, frame in ordered.items():
        if not frame[list(KEY)].equals(first[list(KEY)]):
            raise ValueError(f"'{name}' and '{first_name}' do not score the same (as_of, case_id) rows")
        if not frame["label"].equals(first["label"]):
            raise ValueError(f"'{name}' and '{first_name}' disagree on the labels of the same rows")
    return ordered


def compare_by_date(scorings: Mapping[str, pd.DataFrame], plan: TrainingPlan) -> pd.DataFrame:
    """Per held-out date and scoring: precision and recall at the top share and at `list_k`, ROC AUC,
    average precision, Brier score and expected calibration error.

    `scorings` maps a name (e.g. "champion", "challenger") to held-out predictions of the same rows;
    a ValueError says when they differ. The result has the columns `as_of`, `scorer`, then those of
    `models.metrics.list_metrics` and `probability_metrics` (so `models.plots.precision_by_date_figure`
    and `models.train.summarise` read it as they read a training run's validation table). Held-out
    rows of a subsampled matrix (a `WEIGHT` column) are weighted.
    """
    rows = []
    for name, frame in _aligned(scorings).items():
        for as_of, day in frame.groupby("as_of", sort=True):
            labels, scores = day["label"].to_numpy(dtype=int), day["score"].to_numpy(dtype=float)
            weights = weights_of(day)
            rows.append(
                {
                    "as_of": as_of,
                    "scorer": name,
                    **list_metrics(labels, scores, plan.top_fraction, plan.list_k, weights),
                    **probability_metrics(labels, scores, weights=weights),
                }
            )
    return pd.DataFrame(rows)


def compare_summary(by_date: pd.DataFrame, metrics: Sequence[str] = COMPARED_METRICS) -> pd.DataFrame:
    """Mean and standard deviation over dates of each metric, one row per metric, one column pair per
    scorer (`<scorer>`, `<scorer>_std`), in the scorers' order of appearance."""
    scorers = list(dict.fromkeys(by_date["scorer"]))
    grouped = by_date.groupby("scorer")[list(metrics)]
    means, spreads = grouped.mean(), grouped.std(ddof=0)
    table = pd.DataFrame({"metric": list(metrics)})
    for scorer in scorers:
        table[scorer] = means.loc[scorer].to_numpy()
        table[f"{scorer}_std"] = spreads.loc[scorer].to_numpy()
    return table


def precision_by_date(by_date: pd.DataFrame, scorer: str) -> pd.Series:
    """One scorer's precision at the top per held-out date (index `as_of`), from `compare_by_date`'s
    table: what `models.promotion.decide` compares, date by date."""
    rows = by_date[by_date["scorer"] == scorer]
    if rows.empty:
        raise ValueError(f"no scorer {scorer!r} in the table; it has {sorted(set(by_date['scorer']))}")
    return rows.set_index("as_of")["precision_at_k"].rename(scorer)


def top_overlap(first: pd.DataFrame, second: pd.DataFrame, top_fraction: float) -> pd.DataFrame:
    """Per held-out date: how much the tops of two scorings' lists of the same cases agree.

    The top of a day's list is its first `top_k(n, top_fraction)` cases by score (ties by case id,
    as `models.metrics.listed_flags` cuts it). Columns: `k`, `both` (cases in both tops),
    `only_first`, `only_second`, `overlap_share` (both / k: 1 means the same cases are listed),
    `jaccard` (both / cases in either top) and `spearman` (rank correlation of the two scorings over
    all of the day's cases; NaN when either is constant). Held-out rows of a subsampled matrix (a
    `WEIGHT` column) count as their weights (rounded to whole cases).
    """
    aligned = _aligned({"first": first, "second": second})
    left, right = aligned["first"], aligned["second"]
    weight = WEIGHT if WEIGHT in left else None
    listed_left = listed_flags(left, top_fraction, weight)
    listed_right = listed_flags(right, top_fraction, weight)
    cases = np.ones(len(left)) if weight is None else left[WEIGHT].to_numpy(dtype=float)
    rows = []
    for as_of, index in left.groupby("as_of", sort=True).indices.items():
        a, b, w = listed_left[index], listed_right[index], cases[index]
        k = top_k(round(float(w.sum())), top_fraction)
        both, either = round(float(w[a & b].sum())), round(float(w[a | b].sum()))
        rows.append(
            {
                "as_of": as_of,
                "k": k,
                "both": both,
                "only_first": round(float(w[a & ~b].sum())),
                "only_second": round(float(w[b & ~a].sum())),
                "overlap_share": both / k,
                "jaccard": both / either if either else float("nan"),
                "spearman": _spearman(
                    left["score"].to_numpy(dtype=float)[index], right["score"].to_numpy(dtype=float)[index]
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(OVERLAP_COLUMNS))


def _spearman(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side is constant."""
    ranks_first = pd.Series(first).rank().to_numpy()
    ranks_second = pd.Series(second).rank().to_numpy()
    if len(first) < 2 or ranks_first.std() == 0 or ranks_second.std() == 0:
        return float("nan")
    return float(np.corrcoef(ranks_first, ranks_second)[0, 1])


def challenger_tags(version: str, gate: Decision, source: str) -> dict[str, str]:
    """Tags for a version registered by hand as a challenger: never promoted, with what the gate says.

    `gate` is what `models.promotion.decide` concludes on the same dates; it is recorded for the
    person who decides, not acted on. Promotion stays `fengqiao promote <version>`.
    """
    return {
        "fengqiao.promoted": "False",
        "fengqiao.decision": (
            f"challenger registered from {source}, not promoted (to make it champion: "
            f"`fengqiao promote {version}`); the automatic gate would have decided: {gate.reason}"
        ),
        "fengqiao.source": source,
    }
