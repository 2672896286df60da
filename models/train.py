"""Training with rolling-origin validation: compare the model grid on later dates, refit the best."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV

from contracts.timeparse import as_of_instant
from models.estimator import Candidate, calibrate, make_estimator
from models.folds import Fold, rolling_origin_folds, split_fit_calibration
from models.metrics import calibration_table, list_metrics, listed_flags, probability_metrics, subset_metrics
from models.rules import RULE_NAME, rule_scores

LABEL = "label_any"
MODEL_NAME = "model"
NEW_CASE_DAYS = 7
PREDICTION_COLUMNS = ("as_of", "case_id", "district", "category", "case_age", LABEL)


class CannotFit(ValueError):
    """This data cannot fit this model (e.g. no escalations in a block, or no text to weigh)."""


@dataclass(frozen=True)
class TrainingPlan:
    """How models are fitted, calibrated and judged."""

    horizon_days: int
    validation_share: float
    n_folds: int
    calibration_share: float
    calibration_method: str
    top_fraction: float
    list_k: int
    seed: int


@dataclass(frozen=True)
class Evaluation:
    """A candidate's calibrated scores on every fold's test dates, with per-date list metrics."""

    candidate: Candidate
    folds: tuple[Fold, ...]
    validation: pd.DataFrame
    predictions: pd.DataFrame

    def fold_precision(self) -> pd.Series:
        """Mean precision at the top share over each fold's test dates."""
        rows = self.validation[self.validation["scorer"] == MODEL_NAME]
        return rows.groupby("fold")["precision_at_k"].mean()


@dataclass(frozen=True)
class TrainingResult:
    """The chosen model refitted on every matured snapshot, with how every candidate did on later dates."""

    model: CalibratedClassifierCV
    candidate: Candidate
    snapshot_dates: tuple[date, ...]
    fit_dates: tuple[date, ...]
    calibration_dates: tuple[date, ...]
    evaluation: Evaluation
    grid: pd.DataFrame
    calibration: pd.DataFrame
    subsets: pd.DataFrame
    summary: dict[str, float]

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features the model reads."""
        return self.candidate.feature_names

    @property
    def validation(self) -> pd.DataFrame:
        """Per held-out date: list metrics of the model and of the rule."""
        return self.evaluation.validation

    @property
    def validation_dates(self) -> tuple[date, ...]:
        """Every fold's test dates."""
        return tuple(d for fold in self.evaluation.folds for d in fold.test_dates)


def with_case_age(frame: pd.DataFrame) -> pd.Series:
    """'new' for cases opened in the last 7 days before the as-of instant, else 'ongoing'."""
    instants = pd.Series([as_of_instant(d) for d in frame["as_of"]], index=frame.index)
    opened = pd.to_datetime(frame["opened_at"])
    new = (instants - opened) < pd.Timedelta(days=NEW_CASE_DAYS)
    return pd.Series(np.where(new, "new", "ongoing"), index=frame.index, name="case_age")


def fit_calibrated(
    matrix: pd.DataFrame,
    candidate: Candidate,
    fit_dates: Iterable[date],
    calibration_dates: Iterable[date],
    plan: TrainingPlan,
) -> CalibratedClassifierCV:
    """The candidate fitted on the fitting dates and calibrated on the later calibration dates."""
    names = list(candidate.feature_names)
    fitting = matrix[matrix["as_of"].isin(set(fit_dates))]
    later = matrix[matrix["as_of"].isin(set(calibration_dates))]
    for part, what in ((fitting, "fitting"), (later, "calibration")):
        if part[LABEL].nunique() < 2:
            raise CannotFit(
                f"the {what} snapshots hold no escalations (or only escalations): cannot fit a model; "
                "ingest a longer period or lower the share of dates held out"
            )
    texts = [d.name for d in candidate.docs if d.kind == "text"]
    if (
        texts
        and not fitting[texts]
        .fillna("")
        .astype(str)
        .apply(lambda column: column.str.strip().ne(""))
        .any()
        .any()
    ):
        raise CannotFit("the cases carry no text (descriptions, notes, linked calls) to weigh")
    base = make_estimator(candidate, plan.seed).fit(fitting[names], fitting[LABEL].to_numpy())
    return calibrate(base, later[names], later[LABEL].to_numpy(), plan.calibration_method)  # type: ignore[arg-type]


def metrics_by_date(frame: pd.DataFrame, scores: dict[str, np.ndarray], plan: TrainingPlan) -> pd.DataFrame:
    """Per as-of date and scorer: list metrics; probability metrics for the model's calibrated scores."""
    rows = []
    labels = frame[LABEL].to_numpy()
    for as_of, index in frame.groupby("as_of").indices.items():
        for scorer, values in scores.items():
            row = {"as_of": as_of, "scorer": scorer}
            row.update(list_metrics(labels[index], values[index], plan.top_fraction, plan.list_k))
            if scorer == MODEL_NAME:
                row.update(probability_metrics(labels[index], values[index]))
            rows.append(row)
    return pd.DataFrame(rows)


def held_out_predictions(
    frame: pd.DataFrame, scores: np.ndarray, rules: np.ndarray, plan: TrainingPlan
) -> pd.DataFrame:
    """Held-out rows with calibrated and rule scores, and whether they made the top of the day's list."""
    out = frame[[c for c in PREDICTION_COLUMNS if c != "case_age"]].reset_index(drop=True)
    out.insert(4, "case_age", with_case_age(frame).to_numpy())
    out = out.rename(columns={LABEL: "label"})
    out["score"] = scores
    out["rule_score"] = rules
    out["listed"] = listed_flags(out, plan.top_fraction)
    return out


def cross_validate(
    matrix: pd.DataFrame, candidate: Candidate, folds: Sequence[Fold], plan: TrainingPlan
) -> Evaluation:
    """Fit and calibrate the candidate per fold; score its test dates with it and with the rule."""
    tables, predictions = [], []
    for number, fold in enumerate(folds, start=1):
        model = fit_calibrated(matrix, candidate, fold.fit_dates, fold.calibration_dates, plan)
        tested = matrix[matrix["as_of"].isin(set(fold.test_dates))].reset_index(drop=True)
        scores = model.predict_proba(tested[list(candidate.feature_names)])[:, 1]
        rules = rule_scores(tested)
        table = metrics_by_date(tested, {MODEL_NAME: scores, RULE_NAME: rules}, plan)
        table.insert(0, "fold", number)
        tables.append(table)
        predicted = held_out_predictions(tested, scores, rules, plan)
        predicted.insert(0, "fold", number)
        predictions.append(predicted)
    return Evaluation(
        candidate,
        tuple(folds),
        pd.concat(tables, ignore_index=True),
        pd.concat(predictions, ignore_index=True),
    )


def summarise(validation: pd.DataFrame, fold_precision: pd.Series | None = None) -> dict[str, float]:
    """Mean and spread over dates of each scorer's metrics, flattened to `scorer.metric[_std]` keys."""
    summary: dict[str, float] = {}
    numeric = validation.drop(columns=["as_of", "fold"], errors="ignore").groupby("scorer")
    for scorer, group in numeric:
        for metric in group.columns.drop("scorer"):
            values = group[metric].dropna()
            if len(values):
                summary[f"{scorer}.{metric}"] = float(values.mean())
                summary[f"{scorer}.{metric}_std"] = float(values.std(ddof=0))
    model_p, rule_p = summary.get(f"{MODEL_NAME}.precision_at_k"), summary.get(f"{RULE_NAME}.precision_at_k")
    if model_p is not None and rule_p:
        summary["lift_precision_at_k_over_rule"] = model_p / rule_p
    if fold_precision is not None and len(fold_precision):
        summary["folds.precision_at_k_mean"] = float(fold_precision.mean())
        summary["folds.precision_at_k_std"] = float(fold_precision.std(ddof=0))
    return summary


def grid_table(
    evaluations: Sequence[Evaluation], chosen: str, failures: dict[str, str] | None = None
) -> pd.DataFrame:
    """Each candidate's mean and spread over folds of precision at the top, which one was chosen, and
    the candidates that could not be fitted (NaN precision) with why."""
    rows = []
    for evaluation in evaluations:
        per_fold = evaluation.fold_precision()
        rows.append(
            {
                "candidate": evaluation.candidate.name,
                "estimator": evaluation.candidate.describe(),
                "precision_at_k": float(per_fold.mean()),
                "precision_at_k_std": float(per_fold.std(ddof=0)),
                "chosen": evaluation.candidate.name == chosen,
            }
        )
    for name, error in (failures or {}).items():
        rows.append(
            {
                "candidate": name,
                "estimator": f"not fitted: {error}",
                "precision_at_k": float("nan"),
                "precision_at_k_std": float("nan"),
                "chosen": False,
            }
        )
    return pd.DataFrame(rows)


def choose(evaluations: Sequence[Evaluation]) -> Evaluation:
    """The candidate with the best mean precision at the top over folds; ties go to the earlier one."""
    return max(evaluations, key=lambda e: (round(float(e.fold_precision().mean()), 6), -evaluations.index(e)))


def training_folds(dates: Sequence[date], plan: TrainingPlan) -> list[Fold]:
    """The rolling-origin folds of the plan over the snapshot dates."""
    return rolling_origin_folds(
        dates, plan.horizon_days, plan.validation_share, plan.n_folds, plan.calibration_share
    )


def usable_folds(matrix: pd.DataFrame, folds: Sequence[Fold]) -> list[Fold]:
    """The folds whose fitting and calibration blocks both hold escalations and non-escalations.

    A rare outcome in a small city can leave an early block without escalations; that fold is left
    out (its test dates are then not validated) rather than stopping training.
    """

    def both_classes(dates: tuple[date, ...]) -> bool:
        return matrix.loc[matrix["as_of"].isin(set(dates)), LABEL].nunique() == 2

    kept = [f for f in folds if both_classes(f.fit_dates) and both_classes(f.calibration_dates)]
    if not kept:
        raise CannotFit(
            "no validation fold has escalations both in its fitting and its calibration snapshots: "
            "ingest a longer period, lower n_folds, or widen the training window"
        )
    return kept


def train(
    matrix: pd.DataFrame,
    candidates: Sequence[Candidate],
    plan: TrainingPlan,
    progress: Callable[[Iterable[Candidate]], Iterable[Candidate]] = iter,
) -> TrainingResult:
    """Cross-validate every candidate on rolling folds, choose the best, refit and calibrate it."""
    dates = sorted(set(matrix["as_of"]))
    folds = usable_folds(matrix, training_folds(dates, plan))
    evaluations, failures = [], {}
    for candidate in progress(candidates):
        try:
            evaluations.append(cross_validate(matrix, candidate, folds, plan))
        except CannotFit as error:  # e.g. no text to weigh in this data: the other candidates go on
            failures[candidate.name] = str(error)
    if not evaluations:
        raise ValueError(f"no candidate model could be fitted: {failures}")
    best = choose(evaluations)
    fitting, calibrating = split_fit_calibration(dates, plan.horizon_days, plan.calibration_share)
    final = fit_calibrated(matrix, best.candidate, fitting, calibrating, plan)
    predictions = best.predictions
    return TrainingResult(
        model=final,
        candidate=best.candidate,
        snapshot_dates=tuple(dates),
        fit_dates=tuple(fitting),
        calibration_dates=tuple(calibrating),
        evaluation=best,
        grid=grid_table(evaluations, best.candidate.name, failures),
        calibration=calibration_table(predictions["label"], predictions["score"]),
        subsets=subset_metrics(predictions),
        summary=summarise(best.validation, best.fold_precision()),
    )


def base_rate(matrix: pd.DataFrame) -> float:
    """Share of snapshot cases that escalated within the horizon."""
    return float(np.mean(matrix[LABEL])) if len(matrix) else float("nan")
