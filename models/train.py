"""Training with a temporal hold-out: fit on matured snapshots, validate on later dates, refit on all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from features.dictionary import FeatureDoc
from models.estimator import make_estimator
from models.metrics import calibration_table, list_metrics, probability_metrics
from models.rules import RULE_NAME, rule_scores

LABEL = "label_any"
MODEL_NAME = "model"


@dataclass(frozen=True)
class TrainingResult:
    """A fitted model with how it did on held-out later dates, against the rule baseline."""

    model: Pipeline
    feature_names: tuple[str, ...]
    fit_dates: tuple[date, ...]
    validation_fit_dates: tuple[date, ...]
    validation_dates: tuple[date, ...]
    validation: pd.DataFrame
    calibration: pd.DataFrame
    summary: dict[str, float]


def holdout_dates(
    dates: list[date], horizon_days: int, validation_share: float
) -> tuple[list[date], list[date]]:
    """The latest share of dates for validation, and the earlier dates whose labels matured before them."""
    ordered = sorted(set(dates))
    n_valid = max(1, round(len(ordered) * validation_share))
    validation = ordered[-n_valid:]
    cutoff = validation[0] - timedelta(days=horizon_days)
    fitting = [d for d in ordered if d <= cutoff]
    if not fitting:
        raise ValueError(
            f"not enough history: no snapshot's {horizon_days}-day label window closes before "
            f"the first validation date {validation[0]}; simulate or ingest a longer period"
        )
    return fitting, validation


def evaluate_by_date(
    model: Pipeline, frame: pd.DataFrame, feature_names: tuple[str, ...], top_fraction: float, list_k: int
) -> pd.DataFrame:
    """Per as-of date: list metrics of the model and of the rule baseline on the same cases."""
    rows = []
    probabilities = model.predict_proba(frame[list(feature_names)])[:, 1]
    rules = rule_scores(frame)
    for as_of, index in frame.groupby("as_of").indices.items():
        labels = frame[LABEL].to_numpy()[index]
        for scorer, scores in ((MODEL_NAME, probabilities[index]), (RULE_NAME, rules[index])):
            rows.append(
                {"as_of": as_of, "scorer": scorer, **list_metrics(labels, scores, top_fraction, list_k)}
            )
        rows[-2].update(probability_metrics(labels, probabilities[index]))
    return pd.DataFrame(rows)


def summarise(validation: pd.DataFrame) -> dict[str, float]:
    """Mean and spread over dates of each scorer's metrics, flattened to `scorer.metric[_std]` keys."""
    summary: dict[str, float] = {}
    numeric = validation.drop(columns=["as_of"]).groupby("scorer")
    for scorer, group in numeric:
        for metric in group.columns.drop("scorer"):
            values = group[metric].dropna()
            if len(values):
                summary[f"{scorer}.{metric}"] = float(values.mean())
                summary[f"{scorer}.{metric}_std"] = float(values.std(ddof=0))
    model_p, rule_p = summary.get(f"{MODEL_NAME}.precision_at_k"), summary.get(f"{RULE_NAME}.precision_at_k")
    if model_p is not None and rule_p:
        summary["lift_precision_at_k_over_rule"] = model_p / rule_p
    return summary


def fit(matrix: pd.DataFrame, docs: tuple[FeatureDoc, ...], seed: int) -> Pipeline:
    """The estimator fitted on a training matrix."""
    if matrix[LABEL].nunique() < 2:
        raise ValueError(
            "the training snapshots hold no escalations (or only escalations): cannot fit a model"
        )
    model = make_estimator(docs, seed)
    model.fit(matrix[[d.name for d in docs]], matrix[LABEL].to_numpy())
    return model


def train(
    matrix: pd.DataFrame,
    docs: tuple[FeatureDoc, ...],
    horizon_days: int,
    validation_share: float,
    top_fraction: float,
    list_k: int,
    seed: int,
) -> TrainingResult:
    """Validate on the latest dates against the rule, then refit on every matured snapshot."""
    names = tuple(d.name for d in docs)
    dates = sorted(set(matrix["as_of"]))
    fitting, validation_dates = holdout_dates(dates, horizon_days, validation_share)
    held_model = fit(matrix[matrix["as_of"].isin(fitting)], docs, seed)
    held_out = matrix[matrix["as_of"].isin(validation_dates)]
    validation = evaluate_by_date(held_model, held_out, names, top_fraction, list_k)
    calibration = calibration_table(held_out[LABEL], held_model.predict_proba(held_out[list(names)])[:, 1])
    final = fit(matrix, docs, seed)
    return TrainingResult(
        model=final,
        feature_names=names,
        fit_dates=tuple(dates),
        validation_fit_dates=tuple(fitting),
        validation_dates=tuple(validation_dates),
        validation=validation,
        calibration=calibration,
        summary=summarise(validation),
    )


def select_feature_set(
    matrix: pd.DataFrame,
    candidates: dict[str, tuple[FeatureDoc, ...]],
    horizon_days: int,
    validation_share: float,
    top_fraction: float,
    list_k: int,
    seed: int,
) -> tuple[str, TrainingResult, dict[str, float]]:
    """Train every candidate feature set on the same dates; keep the best held-out precision at the top.

    Ties go to the smaller set. Returns the winner's name, its result, and each candidate's precision.
    """
    results = {
        name: train(matrix, docs, horizon_days, validation_share, top_fraction, list_k, seed)
        for name, docs in candidates.items()
    }
    scores = {name: r.summary[f"{MODEL_NAME}.precision_at_k"] for name, r in results.items()}
    best = max(results, key=lambda name: (round(scores[name], 6), -len(candidates[name])))
    return best, results[best], scores


def base_rate(matrix: pd.DataFrame) -> float:
    """Share of snapshot cases that escalated within the horizon."""
    return float(np.mean(matrix[LABEL])) if len(matrix) else float("nan")
