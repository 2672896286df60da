"""Training with rolling-origin validation: compare the model grid on later dates, refit the chosen one."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any, get_args

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from contracts.evaluation import LIFT_KEY, MODEL_NAME, NEW_CASE_DAYS, RULE_NAME
from contracts.settings import CandidateName
from contracts.timeparse import as_of_instant
from models.date_policy import DatePolicy, final_split, training_folds
from models.estimator import (
    Blend,
    Candidate,
    base_model,
    calibrate,
    make_estimator,
    preparation_key,
    refitted,
    weighted_fit_params,
)
from models.fold_fits import (
    current_work,
    prepared_rows,
    shared_work,
    submit_fit,
    submit_folds,
    test_rows,
    weighted_scaling,
)
from models.folds import Fold
from models.metrics import (
    calibration_table,
    dated_precision,
    list_metrics,
    listed_flags,
    probability_metrics,
    subset_metrics,
)
from models.rules import RULE_FEATURE, RULE_TIEBREAK, rule_scores
from models.sampling import WEIGHT, escalation_rate_of, rate_of, subsampled, weights_of
from models.search import Search, grid_points, search

LABEL = "label_any"
PREDICTION_COLUMNS = ("as_of", "case_id", "district", "category", "case_age", LABEL)
# Simplest first: within one standard error of the best, the earliest of these wins (others come after).
SIMPLICITY: tuple[str, ...] = get_args(CandidateName)


class CannotFit(ValueError):
    """This data cannot fit this model (e.g. no escalations in a block, or no text to weigh)."""


@dataclass(frozen=True)
class TrainingPlan:
    """How models are fitted, calibrated and judged.

    Above `max_training_rows` matrix rows, the matrix holds a share `escalation_rate` of the escalations
    (every one unless they would fill more than half) and a share `negative_rate` of the other rows, each
    weighted back (`models.sampling`; the flow's matrix comes so, else `train`
    subsamples it); the fits, the probability maps and every metric take the weights. `threads`:
    the OpenMP and BLAS threads the fits may use (None: the libraries' default); `jobs`: the processes
    the folds of a candidate are fitted in at once while the grid is compared (`models.fold_fits`).
    """

    date_policy: DatePolicy  # the folds and the final fit/calibration split: the policy logged with the model
    calibration_method: str
    refit_final: bool
    top_fraction: float
    list_k: int
    seed: int
    max_training_rows: int | None = None
    negative_rate: float = 1.0
    escalation_rate: float = 1.0
    threads: int | None = None
    jobs: int = 1


def sampled(matrix: pd.DataFrame, plan: TrainingPlan) -> tuple[pd.DataFrame, TrainingPlan]:
    """The matrix subsampled to about `max_training_rows` (`models.sampling.subsampled`; as it is when it
    is no larger or already subsampled) and the plan with the shares of non-escalations and escalations
    it kept."""
    if WEIGHT not in matrix:
        matrix = subsampled(matrix, LABEL, plan.max_training_rows, plan.seed)
    rates = {"negative_rate": rate_of(matrix), "escalation_rate": escalation_rate_of(matrix)}
    return matrix, replace(plan, **rates)


@dataclass(frozen=True)
class Evaluation:
    """A candidate's calibrated scores on every fold's test dates, with per-date list metrics, its
    calibrated model of each fold and, for a searched candidate, the search."""

    candidate: Candidate
    folds: tuple[Fold, ...]
    validation: pd.DataFrame
    predictions: pd.DataFrame
    models: tuple[Any, ...] = ()
    search: Search | None = None

    def fold_precision(self) -> pd.Series:
        """Mean precision at the top share over each fold's test dates."""
        rows = self.validation[self.validation["scorer"] == MODEL_NAME]
        return rows.groupby("fold")["precision_at_k"].mean()


@dataclass(frozen=True)
class Standing:
    """How a candidate did over the folds and where that puts it under the one-standard-error rule."""

    name: str
    mean: float
    std: float
    standard_error: float
    chosen: bool
    why: str


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
    evaluations: tuple[Evaluation, ...] = ()
    negative_rate: float = 1.0
    escalation_rate: float = 1.0

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


def _on(matrix: pd.DataFrame, dates: Iterable[date]) -> np.ndarray:
    """Where the snapshots of the dates lie in the matrix (row positions, in order)."""
    return np.flatnonzero(matrix["as_of"].isin(set(dates)).to_numpy())


def _positions(matrix: pd.DataFrame, dates: Iterable[date], what: str) -> np.ndarray:
    """Where the snapshots of the dates lie in the matrix, refused when they do not hold both escalations
    and non-escalations."""
    positions = _on(matrix, dates)
    if pd.unique(matrix[LABEL].to_numpy()[positions]).size < 2:
        raise CannotFit(
            f"the {what} snapshots hold no escalations (or only escalations): cannot fit a model; "
            "ingest a longer period or lower the share of dates held out"
        )
    return positions


def _take(matrix: pd.DataFrame, positions: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    """Those rows of only those columns: no copy of the columns a step does not read."""
    return matrix.iloc[positions, matrix.columns.get_indexer(list(dict.fromkeys(columns)))]


def _labelled(
    matrix: pd.DataFrame, positions: np.ndarray, candidate: Candidate
) -> tuple[pd.DataFrame, np.ndarray]:
    """The candidate's features and the labels of those rows."""
    return _take(matrix, positions, candidate.feature_names), matrix[LABEL].to_numpy()[positions]


def _weights(matrix: pd.DataFrame, positions: np.ndarray) -> np.ndarray | None:
    """The weights of those rows of a subsampled matrix (None when it holds every row)."""
    return matrix[WEIGHT].to_numpy(dtype=float)[positions] if WEIGHT in matrix else None


def _tested(matrix: pd.DataFrame, dates: Iterable[date], columns: Sequence[str]) -> pd.DataFrame:
    """The columns and labels of every snapshot of the test dates, with what the held-out lists need."""
    listed = [
        c for c in (*PREDICTION_COLUMNS, "opened_at", RULE_FEATURE, RULE_TIEBREAK, WEIGHT) if c in matrix
    ]
    return _take(matrix, _on(matrix, dates), [*columns, *listed]).reset_index(drop=True)


def fitting_rows(
    matrix: pd.DataFrame, candidate: Candidate, fit_dates: Iterable[date], plan: TrainingPlan
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """The candidate's features, labels and weights of the rows it is fitted on: the fitting dates' (their
    weights None when the matrix holds every row)."""
    positions = _positions(matrix, fit_dates, "fitting")
    texts = [d.name for d in candidate.docs if d.kind == "text"]
    if (
        texts
        and not _take(matrix, positions, texts)
        .fillna("")
        .astype(str)
        .apply(lambda column: column.str.strip().ne(""))
        .any()
        .any()
    ):
        raise CannotFit("the cases carry no text (descriptions, notes, linked calls) to weigh")
    features, labels = _labelled(matrix, positions, candidate)
    return features, labels, _weights(matrix, positions)


def fit_base(
    matrix: pd.DataFrame, candidate: Candidate, fit_dates: Iterable[date], plan: TrainingPlan
) -> Pipeline:
    """The candidate's uncalibrated pipeline fitted on the fitting dates (weighted when the matrix is
    subsampled)."""
    features, labels, weights = fitting_rows(matrix, candidate, fit_dates, plan)
    with weighted_scaling(weights):
        return make_estimator(candidate, plan.seed).fit(features, labels, **weighted_fit_params(weights))


def started_base(
    matrix: pd.DataFrame, candidate: Candidate, fit_dates: Iterable[date], plan: TrainingPlan
) -> Callable[[], Pipeline]:
    """`fit_base`, its fit started now in the shared work's processes (if any: its rows prepared once with
    a fold's on the same dates); the returned call waits for it and gives the fitted pipeline."""
    fit_dates = tuple(fit_dates)
    work = current_work()
    if work is None:
        return lambda: fit_base(matrix, candidate, fit_dates, plan)
    rows = partial(fitting_rows, matrix, candidate, fit_dates, plan)
    return submit_fit(
        work,
        candidate,
        prepared_rows(work, _rows_key(candidate, fit_dates, plan), candidate, rows),
        plan.seed,
    )


def _rows_key(candidate: Candidate, fit_dates: tuple[date, ...], plan: TrainingPlan) -> tuple[Any, ...]:
    """What decides a candidate's prepared fitting rows on some dates (`models.fold_fits.prepared_rows`)."""
    return (preparation_key(candidate), fit_dates, plan.negative_rate, plan.escalation_rate, plan.seed)


def fold_bases(
    matrix: pd.DataFrame, candidate: Candidate, folds: Sequence[Fold], plan: TrainingPlan
) -> list[tuple[Any, float]]:
    """Per fold: the candidate's uncalibrated pipeline fitted on the fold's fitting dates, and its mean
    precision at the top share over the fold's test dates (`held_out_precision`). Within a training
    run's shared work (`models.fold_fits`), the folds' prepared rows are shared and the folds fitted in
    parallel; the same models and figures either way."""
    return started_fold_bases(matrix, candidate, folds, plan)()


def started_fold_bases(
    matrix: pd.DataFrame, candidate: Candidate, folds: Sequence[Fold], plan: TrainingPlan
) -> Callable[[], list[tuple[Any, float]]]:
    """`fold_bases`, its fits started now in the shared work's processes (if any); the returned call
    waits for them and gives what `fold_bases` gives."""
    work = current_work()
    if work is None:
        return lambda: [
            (b, held_out_precision(matrix, b, candidate, f, plan))
            for b, f in ((fit_base(matrix, candidate, f.fit_dates, plan), f) for f in folds)
        ]
    prepared = []
    for fold in folds:
        key = _rows_key(candidate, fold.fit_dates, plan)
        done = prepared_rows(
            work, key, candidate, partial(fitting_rows, matrix, candidate, fold.fit_dates, plan)
        )
        prepared.append(
            (
                done,
                test_rows(work, (*key, fold.test_dates), done, partial(_test_rows, matrix, candidate, fold)),
            )
        )
    return submit_folds(work, candidate, prepared, plan.seed, plan.top_fraction)


def _test_rows(
    matrix: pd.DataFrame, candidate: Candidate, fold: Fold
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray | None]:
    """The candidate's features, the labels, the as-of dates and the weights of the fold's test rows."""
    positions = _on(matrix, fold.test_dates)
    features, labels = _labelled(matrix, positions, candidate)
    return features, labels, matrix["as_of"].to_numpy()[positions], _weights(matrix, positions)


def calibrated(
    matrix: pd.DataFrame,
    base: Any,
    candidate: Candidate,
    calibration_dates: Iterable[date],
    plan: TrainingPlan,
) -> CalibratedClassifierCV:
    """A fitted base model, frozen, with a probability map fitted on the rows of the later calibration
    dates (weighted when the matrix is subsampled, so that the map learns the true escalation rate)."""
    positions = _positions(matrix, calibration_dates, "calibration")
    features, labels = _labelled(matrix, positions, candidate)
    weights = _weights(matrix, positions)
    return calibrate(base, features, labels, plan.calibration_method, weights)  # type: ignore[arg-type]


def blend_of(blend: Candidate, members: Sequence[Any]) -> Blend:
    """The blend of its parts' fitted (calibrated) models."""
    return Blend(list(members), [list(part.feature_names) for part in blend.parts]).fit()


def refit_calibrated(
    matrix: pd.DataFrame,
    model: CalibratedClassifierCV,
    candidate: Candidate,
    dates: Iterable[date],
    calibration_dates: Iterable[date],
    plan: TrainingPlan,
) -> CalibratedClassifierCV:
    """The calibrated model (of `fit_calibrated`) fitted again on `dates` (its fitting and calibration
    dates), its probability maps kept with their level set on the calibration dates (`refitted`); a blend's
    parts each so, then the blend's own map."""
    return started_refit(matrix, candidate, dates, calibration_dates, plan)(model)


def started_refit(
    matrix: pd.DataFrame,
    candidate: Candidate,
    dates: Iterable[date],
    calibration_dates: Iterable[date],
    plan: TrainingPlan,
) -> Callable[[CalibratedClassifierCV], CalibratedClassifierCV]:
    """`refit_calibrated`, every base fit it needs started now (`started_base`); the returned call takes the
    calibrated model to fit again and gives what `refit_calibrated` gives."""
    dates, calibration_dates = tuple(dates), list(calibration_dates)
    if candidate.kind == "blend":
        parts = [started_refit(matrix, part, dates, calibration_dates, plan) for part in candidate.parts]

        def base_of(model: CalibratedClassifierCV) -> Any:
            members = base_model(model).members
            return blend_of(candidate, [refit(m) for refit, m in zip(parts, members, strict=True)])
    else:
        fitted = started_base(matrix, candidate, dates, plan)

        def base_of(model: CalibratedClassifierCV) -> Any:
            return fitted()

    def finish(model: CalibratedClassifierCV) -> CalibratedClassifierCV:
        positions = _positions(matrix, calibration_dates, "calibration")
        features, labels = _labelled(matrix, positions, candidate)
        return refitted(model, base_of(model), features, labels, _weights(matrix, positions))

    return finish


def fit_calibrated(
    matrix: pd.DataFrame,
    candidate: Candidate,
    fit_dates: Iterable[date],
    calibration_dates: Iterable[date],
    plan: TrainingPlan,
) -> CalibratedClassifierCV:
    """The candidate fitted on the fitting dates and calibrated on the later calibration dates.

    A blend's parts are each fitted and calibrated so, then averaged, and the average calibrated again
    (averaging calibrated probabilities pulls them towards the mean). A candidate still to be searched
    is fitted with its starting hyperparameters.
    """
    return started_calibrated(matrix, candidate, fit_dates, calibration_dates, plan)()


def started_calibrated(
    matrix: pd.DataFrame,
    candidate: Candidate,
    fit_dates: Iterable[date],
    calibration_dates: Iterable[date],
    plan: TrainingPlan,
) -> Callable[[], CalibratedClassifierCV]:
    """`fit_calibrated`, every base fit it needs (a blend's parts') started now (`started_base`); the
    returned call waits for them, calibrates and gives what `fit_calibrated` gives."""
    fit_dates, calibration_dates = tuple(fit_dates), list(calibration_dates)
    if candidate.kind == "blend":
        parts = [
            started_calibrated(matrix, part, fit_dates, calibration_dates, plan) for part in candidate.parts
        ]

        def base() -> Any:
            return blend_of(candidate, [part() for part in parts])
    else:
        base = started_base(matrix, candidate, fit_dates, plan)
    return lambda: calibrated(matrix, base(), candidate, calibration_dates, plan)


def metrics_by_date(frame: pd.DataFrame, scores: dict[str, np.ndarray], plan: TrainingPlan) -> pd.DataFrame:
    """Per as-of date and scorer: list metrics; probability metrics for the model's calibrated scores."""
    rows = []
    labels, weights = frame[LABEL].to_numpy(), weights_of(frame)
    for as_of, index in frame.groupby("as_of").indices.items():
        w = None if weights is None else weights[index]
        for scorer, values in scores.items():
            row = {"as_of": as_of, "scorer": scorer}
            row.update(list_metrics(labels[index], values[index], plan.top_fraction, plan.list_k, w))
            if scorer == MODEL_NAME:
                row.update(probability_metrics(labels[index], values[index], weights=w))
            rows.append(row)
    return pd.DataFrame(rows)


def held_out_predictions(
    frame: pd.DataFrame, scores: np.ndarray, rules: np.ndarray, plan: TrainingPlan
) -> pd.DataFrame:
    """Held-out rows with calibrated and rule scores, and whether they made the top of the day's list
    (with their weights, `WEIGHT`, when the matrix is subsampled)."""
    out = frame[[c for c in PREDICTION_COLUMNS if c != "case_age"]].reset_index(drop=True)
    out.insert(4, "case_age", with_case_age(frame).to_numpy())
    out = out.rename(columns={LABEL: "label"})
    out["score"] = scores
    out["rule_score"] = rules
    weighted = WEIGHT in frame
    if weighted:
        out[WEIGHT] = frame[WEIGHT].to_numpy(dtype=float)
    out["listed"] = listed_flags(out, plan.top_fraction, WEIGHT if weighted else None)
    return out


def cross_validate(
    matrix: pd.DataFrame,
    candidate: Candidate,
    folds: Sequence[Fold],
    plan: TrainingPlan,
    models: Sequence[Any] | None = None,
) -> Evaluation:
    """Fit and calibrate the candidate per fold (or take its given calibrated fold `models`); score its
    test dates with it and with the rule."""
    tables, predictions, fitted = [], [], []
    if models is None and candidate.kind != "blend" and current_work() is not None:
        models = [
            calibrated(matrix, base, candidate, fold.calibration_dates, plan)
            for (base, _), fold in zip(fold_bases(matrix, candidate, folds, plan), folds, strict=True)
        ]
    for number, fold in enumerate(folds, start=1):
        model = (
            models[number - 1]
            if models is not None
            else fit_calibrated(matrix, candidate, fold.fit_dates, fold.calibration_dates, plan)
        )
        fitted.append(model)
        tested = _tested(matrix, fold.test_dates, candidate.feature_names)
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
        tuple(fitted),
    )


def held_out_precision(
    matrix: pd.DataFrame, base: Any, candidate: Candidate, fold: Fold, plan: TrainingPlan
) -> float:
    """Mean precision at the top share over the fold's test dates of a fitted (uncalibrated) model: sigmoid
    calibration keeps the order, so this is the figure cross-validation gives it."""
    positions = _on(matrix, fold.test_dates)
    tested = _take(matrix, positions, [*candidate.feature_names, "as_of", LABEL])
    scores = base.predict_proba(tested[list(candidate.feature_names)])[:, 1]
    return dated_precision(
        tested[LABEL].to_numpy(),
        scores,
        tuple(tested.groupby("as_of").indices.values()),
        plan.top_fraction,
        _weights(matrix, positions),
    )


def _same_model(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates fit the same model (kind, features, hyperparameters and parts)."""

    def key(c: Candidate) -> tuple[Any, ...]:
        return (c.kind, c.feature_names, c.params, c.parts)

    return key(a) == key(b)


def tuned(
    matrix: pd.DataFrame,
    candidate: Candidate,
    folds: Sequence[Fold],
    plan: TrainingPlan,
    earlier: Sequence[Evaluation] = (),
    started: dict[tuple[tuple[str, Any], ...], Callable[[], list[tuple[Any, float]]]] | None = None,
) -> Evaluation:
    """Search the candidate's hyperparameters on the folds (fitted on each fold's fitting dates, judged on
    its test dates), then validate the best like any candidate, reusing the search's fitted models.

    A trial that fits the same model as an earlier evaluation on the same folds (the first trial, when
    the `trees` candidate came before) reuses its fold models. The points of a grid (which do not depend
    on each other's results) have their fold fits started together in the shared work's processes, so
    that the processes are kept busy; the search still takes them in order and chooses as without
    (`started`: those fits, when the caller started them earlier: `blended`).
    """
    assert candidate.tuning is not None
    reusable = _reusable(earlier, folds)
    started = _started_grid(matrix, candidate, folds, plan, reusable) if started is None else started

    def objective(params: dict[str, Any]) -> tuple[float, tuple[float, ...], tuple[Any, ...]]:
        trial = replace(candidate, params=params, tuning=None)
        same = next((e for e in reusable if _same_model(e.candidate, trial)), None)
        if same:
            bases = tuple(base_model(m) for m in same.models)
            precision = tuple(
                held_out_precision(matrix, b, trial, f, plan) for b, f in zip(bases, folds, strict=True)
            )
            return float(np.mean(precision)), precision, bases
        waiting = started.pop(_params_key(params), None)
        fitted = waiting() if waiting else fold_bases(matrix, trial, folds, plan)
        precision = tuple(p for _, p in fitted)
        return float(np.mean(precision)), precision, tuple(b for b, _ in fitted)

    found = search(candidate.params, objective, candidate.tuning, plan.seed)
    best = replace(candidate, params=found.params, tuning=None)
    models = [
        calibrated(matrix, b, best, f.calibration_dates, plan)
        for b, f in zip(found.fitted, folds, strict=True)
    ]
    return replace(cross_validate(matrix, best, folds, plan, models), search=found)


def _params_key(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(params.items()))


def _reusable(earlier: Sequence[Evaluation], folds: Sequence[Fold]) -> list[Evaluation]:
    """The earlier evaluations whose fold models a search on these folds may reuse."""
    return [e for e in earlier if e.models and e.folds == tuple(folds)]


def _started_grid(
    matrix: pd.DataFrame,
    candidate: Candidate,
    folds: Sequence[Fold],
    plan: TrainingPlan,
    reusable: Sequence[Evaluation],
) -> dict[tuple[tuple[str, Any], ...], Callable[[], list[tuple[Any, float]]]]:
    """For a grid search within shared work that has processes: every point's fold fits (but those an
    earlier evaluation already holds) started now, by the point's hyperparameters; else nothing."""
    budget, work = candidate.tuning, current_work()
    if budget is None or not budget.grid or work is None or work.pool is None:
        return {}
    started = {}
    for params in grid_points(candidate.params, budget):
        trial = replace(candidate, params=params, tuning=None)
        if not any(_same_model(e.candidate, trial) for e in reusable):
            started[_params_key(trial.params)] = started_fold_bases(matrix, trial, folds, plan)
    return started


def blended(
    matrix: pd.DataFrame,
    candidate: Candidate,
    folds: Sequence[Fold],
    plan: TrainingPlan,
    earlier: Sequence[Evaluation] = (),
) -> Evaluation:
    """Validate a blend: per fold, its parts' calibrated models (from their earlier evaluations by name,
    else evaluated here) averaged and calibrated again on the fold's calibration dates. The fold fits of
    every part's grid are started first, so that the processes fit a later part's while this one
    prepares, searches and calibrates an earlier (the same models: each fit depends on its own inputs)."""
    done = {e.candidate.name for e in earlier}
    grids = {
        part.name: _started_grid(matrix, part, folds, plan, _reusable(earlier, folds))
        for part in candidate.parts
        if part.tuning is not None and part.name not in done
    }
    parts = [
        tuned(matrix, part, folds, plan, earlier, grids[part.name])
        if part.name in grids
        else evaluate(matrix, part, folds, plan, earlier)
        for part in candidate.parts
    ]
    blend = replace(candidate, parts=tuple(p.candidate for p in parts))
    models = [
        calibrated(matrix, blend_of(blend, [p.models[k] for p in parts]), blend, fold.calibration_dates, plan)
        for k, fold in enumerate(folds)
    ]
    return cross_validate(matrix, blend, folds, plan, models)


def evaluate(
    matrix: pd.DataFrame,
    candidate: Candidate,
    folds: Sequence[Fold],
    plan: TrainingPlan,
    earlier: Sequence[Evaluation] = (),
) -> Evaluation:
    """Cross-validate a candidate: searched first when it has a tuning budget, a blend from its parts;
    an earlier evaluation of the same name is reused."""
    done = {e.candidate.name: e for e in earlier}
    if candidate.name in done:
        return done[candidate.name]
    if candidate.tuning is not None:
        return tuned(matrix, candidate, folds, plan, earlier)
    if candidate.kind == "blend":
        return blended(matrix, candidate, folds, plan, earlier)
    return cross_validate(matrix, candidate, folds, plan)


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
        summary[LIFT_KEY] = model_p / rule_p
    if fold_precision is not None and len(fold_precision):
        summary["folds.precision_at_k_mean"] = float(fold_precision.mean())
        summary["folds.precision_at_k_std"] = float(fold_precision.std(ddof=0))
    return summary


def standings(evaluations: Sequence[Evaluation]) -> list[Standing]:
    """Each candidate's mean, spread and standard error of precision at the top over folds, and the choice.

    The one-standard-error rule: the simplest candidate (SIMPLICITY order, then grid order) whose mean
    is within one standard error of the best mean wins. The standard error is the best candidate's
    sample standard deviation over folds / sqrt(folds): each fold is a model fitted and judged on its
    own block of dates, whereas dates inside a fold share the model and, a week apart with a 30-day
    horizon, much of their cases and outcomes, so a spread over dates would overstate the certainty.
    With one fold there is no spread to measure and the best mean wins (the simpler on ties).
    """
    figures = []
    for evaluation in evaluations:
        per_fold = evaluation.fold_precision()
        std = float(per_fold.std(ddof=1)) if len(per_fold) > 1 else 0.0
        figures.append(
            (evaluation.candidate.name, float(per_fold.mean()), std, std / math.sqrt(len(per_fold)))
        )
    if not figures:
        return []
    best = min(range(len(figures)), key=lambda i: (-round(figures[i][1], 6), _simplicity(figures, i)))
    best_name, best_mean, _, margin = figures[best]
    close = [i for i, f in enumerate(figures) if round(f[1], 6) >= round(best_mean - margin, 6)]
    chosen = min(close, key=lambda i: _simplicity(figures, i))
    out = []
    for i, (name, mean, std, error) in enumerate(figures):
        if i == chosen and i == best:
            why = "best mean"
        elif i == chosen:
            why = f"simplest within 1 SE of the best ({best_name} {best_mean:.3f} - {margin:.3f})"
        elif i == best:
            why = f"best mean, but {figures[chosen][0]} is simpler and within 1 SE ({margin:.3f})"
        elif i in close:
            why = f"within 1 SE of the best, but {figures[chosen][0]} is simpler"
        else:
            why = f"more than 1 SE ({margin:.3f}) below the best"
        out.append(Standing(name, mean, std, error, i == chosen, why))
    return out


def _simplicity(figures: Sequence[tuple[str, float, float, float]], i: int) -> tuple[int, int]:
    """Sort key of the i-th candidate by simplicity: its place in SIMPLICITY (unknown names after), then
    its place in the grid."""
    name = figures[i][0]
    return (SIMPLICITY.index(name) if name in SIMPLICITY else len(SIMPLICITY), i)


def grid_table(
    evaluations: Sequence[Evaluation], chosen: str, failures: dict[str, str] | None = None
) -> pd.DataFrame:
    """Each candidate's mean, spread (sample standard deviation) and standard error over folds of
    precision at the top, which one was chosen and why, and the candidates that could not be fitted
    (NaN precision) with why."""
    rows = []
    for evaluation, standing in zip(evaluations, standings(evaluations), strict=True):
        estimator = evaluation.candidate.describe()
        if evaluation.search is not None:
            capped = ", stopped by the time cap" if evaluation.search.timed_out else ""
            estimator += f"; best of {evaluation.search.trials} searched settings{capped}"
        rows.append(
            {
                "candidate": standing.name,
                "estimator": estimator,
                "precision_at_k": standing.mean,
                "precision_at_k_std": standing.std,
                "precision_at_k_se": standing.standard_error,
                "chosen": standing.name == chosen,
                "why": standing.why,
            }
        )
    for name, error in (failures or {}).items():
        rows.append(
            {
                "candidate": name,
                "estimator": f"not fitted: {error}",
                "precision_at_k": float("nan"),
                "precision_at_k_std": float("nan"),
                "precision_at_k_se": float("nan"),
                "chosen": False,
                "why": "could not be fitted on this data",
            }
        )
    return pd.DataFrame(rows)


def choose(evaluations: Sequence[Evaluation]) -> Evaluation:
    """The simplest candidate within one standard error of the best mean precision at the top over folds
    (see `standings`)."""
    chosen = [s.chosen for s in standings(evaluations)]
    return evaluations[chosen.index(True)]


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
    """Cross-validate every candidate on rolling folds (searching and blending as they ask), choose by the
    one-standard-error rule, refit and calibrate the chosen one (fitting on subsampled non-escalations
    when the matrix exceeds the plan's `max_training_rows`)."""
    with threadpool_limits(plan.threads):
        return _train(*sampled(matrix, plan), candidates, progress)


def _train(
    matrix: pd.DataFrame,
    plan: TrainingPlan,
    candidates: Sequence[Candidate],
    progress: Callable[[Iterable[Candidate]], Iterable[Candidate]],
) -> TrainingResult:
    """`train` with the plan's negative rate set, within its thread limit."""
    dates = sorted(set(matrix["as_of"]))
    folds = usable_folds(matrix, training_folds(dates, plan.date_policy))
    evaluations: list[Evaluation] = []
    failures = {}
    with shared_work(plan.jobs, plan.threads):
        for candidate in progress(candidates):
            try:
                evaluations.append(evaluate(matrix, candidate, folds, plan, evaluations))
            except CannotFit as error:  # e.g. no text to weigh in this data: the other candidates go on
                failures[candidate.name] = str(error)
        if not evaluations:
            raise ValueError(f"no candidate model could be fitted: {failures}")
        best = choose(evaluations)
        fitting, calibrating = final_split(dates, plan.date_policy)
        # the final model's base fits (and the refit's) all started before the first is waited for
        fitted = started_calibrated(matrix, best.candidate, fitting, calibrating, plan)
        refit = started_refit(matrix, best.candidate, dates, calibrating, plan) if plan.refit_final else None
        final = fitted()
        if refit is not None:  # every snapshot's label window has closed by the training date
            fitting, final = dates, refit(final)
    predictions = best.predictions
    return TrainingResult(
        model=final,
        candidate=best.candidate,
        snapshot_dates=tuple(dates),
        fit_dates=tuple(fitting),
        calibration_dates=tuple(calibrating),
        evaluation=best,
        grid=grid_table(evaluations, best.candidate.name, failures),
        calibration=calibration_table(
            predictions["label"], predictions["score"], weights=weights_of(predictions)
        ),
        subsets=subset_metrics(predictions),
        summary=summarise(best.validation, best.fold_precision()),
        evaluations=tuple(evaluations),
        negative_rate=plan.negative_rate,
        escalation_rate=plan.escalation_rate,
    )


def base_rate(matrix: pd.DataFrame) -> float:
    """Share of snapshot cases that escalated within the horizon (Σ w·y / Σ w of a subsampled matrix)."""
    if not len(matrix):
        return float("nan")
    weights = weights_of(matrix)
    return (
        float(np.mean(matrix[LABEL]))
        if weights is None
        else float(np.average(matrix[LABEL], weights=weights))
    )


def snapshot_rows(matrix: pd.DataFrame) -> int:
    """How many snapshot rows the matrix stands for (the sum of the weights of a subsampled one)."""
    weights = weights_of(matrix)
    return len(matrix) if weights is None else round(float(weights.sum()))
