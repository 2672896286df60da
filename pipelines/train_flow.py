"""The training flow: snapshots known before T, temporal validation against the rule, champion in MLflow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import ModuleType
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from prefect import flow, get_run_logger, task
from rich.progress import track

from contracts.evaluation import MODEL_NAME, RULE_NAME
from contracts.settings import Settings
from contracts.timeparse import local_now
from features import linked_activity
from features.known import cut
from features.matrix import (
    ALL_FAMILIES,
    FOUNDATION_FEATURES,
    OPTIONAL_FAMILIES,
    families_with,
    feature_docs,
)
from features.sources import Sources
from models.ablation import ablation_table, family_sets
from models.champion import Champion, version_label
from models.compare import precision_by_date
from models.date_policy import date_record
from models.date_policy import training_dates as policy_dates
from models.drift import reference_profile
from models.explain import importance
from models.fairness import fairness_audit, fairness_passes
from models.fairness_figure import fairness_figure
from models.metrics import precision_curve
from models.model_card import ModelCardFacts, model_card_markdown
from models.plots import (
    calibration_figure,
    importance_figure,
    precision_by_date_figure,
    precision_curve_figure,
)
from models.promotion import Decision, decide
from models.rules import rule_scores
from models.sampling import WEIGHT, subsampled, weights_of
from models.search import trials_frame
from models.train import (
    LABEL,
    TrainingResult,
    base_rate,
    held_out_predictions,
    metrics_by_date,
    snapshot_rows,
    train,
)
from pipelines.champions import (
    current_champion,
    keep_registered,
    predicts_configured_target,
    remember_champion,
)
from pipelines.configuration import date_policy, hyperparameters, model_grid, training_plan
from pipelines.link_backfill import backfill_links
from pipelines.runners import parts_of, task_runner
from pipelines.runtime import registry, registry_warming
from pipelines.snapshot_helpers import SharedSnapshots, helper_count, snapshots
from pipelines.stored_links import LINK_WINDOW, recall_links
from pipelines.tasks import IO_TASK, PURE_TASK, load_store
from pipelines.train_parts import matrix_by_parts

__all__ = ["TrainReport", "ablation_flow", "train_flow"]

Families = tuple[ModuleType, ...]
IMPORTANCE_SAMPLE = 5000
CURVE_FRACTIONS = np.round(np.arange(0.01, 0.2001, 0.01), 2)


@dataclass(frozen=True)
class TrainReport:
    """What a training run produced and decided."""

    model_version: str
    promoted: bool
    decision: str
    champion_version: str | None
    summary: dict[str, float]
    n_snapshots: int
    n_rows: int
    base_rate: float
    candidate: str
    grid: pd.DataFrame
    fairness: pd.DataFrame
    trials: pd.DataFrame  # every trial of the grid's searches (`models.search.trials_frame`)


def training_dates(sources: Sources, as_of: date, settings: Settings) -> list[date]:
    """The snapshot dates of the date policy (`models.date_policy`) for training on `sources` at `as_of`."""
    first_case = sources.cases["opened_at"].min()
    if pd.isna(first_case):
        raise ValueError("the store holds no cases known before the training date: ingest data first")
    return policy_dates(first_case.date(), as_of, date_policy(settings))


@task(name="build-training-snapshots", **PURE_TASK)
def build_snapshots(
    known: Sources, dates: list[date], settings: Settings, families: Families, show_progress: bool
) -> pd.DataFrame:
    """Features and labels over some snapshot dates, in compact dtypes (`models.matrix_dtypes`)."""
    progress = (
        (lambda items: track(items, description="Building training snapshots")) if show_progress else iter
    )
    return snapshots(known, dates, settings, families, progress)


def training_families(settings: Settings) -> Families:
    """The feature families training builds: the default ones, and the configured optional ones."""
    chosen = [
        f for f in OPTIONAL_FAMILIES if f.__name__.rsplit(".", 1)[-1] in settings.extra_feature_families
    ]
    return families_with([linked_activity] * settings.linked_call_features + chosen)


def build_matrix(known: Sources, dates: list[date], settings: Settings, families: Families) -> pd.DataFrame:
    """Features and labels over the snapshot dates, in date order, built by the configured task runner.

    The dates are cut into consecutive parts, one task each (one part in this process; `dask_parts`
    tasks on a Dask cluster); the parts are stacked in date order, so the matrix is the same either way.
    """
    parts = parts_of(dates, settings)
    with task_runner(settings) as runner:
        futures = [
            runner.submit(
                build_snapshots,
                {
                    "known": known,
                    "dates": part,
                    "settings": settings,
                    "families": families,
                    "show_progress": len(parts) == 1,
                },
            )
            for part in parts
        ]
        steps = futures if len(parts) == 1 else track(futures, description="Building training snapshots")
        frames = [future.result() for future in steps]
    return pd.concat(frames, ignore_index=True)


def matrix_as_of(as_of: date, settings: Settings, families: Families) -> tuple[list[date], pd.DataFrame]:
    """Snapshot dates and the training matrix of the families from what was known before `as_of` (each
    snapshot cut again from that cut, at its own earlier date; the call links of the days read, from 30
    days before the first snapshot to the day before `as_of`, are first decided and stored where the store
    has none, `pipelines.link_backfill`, then reused where their inputs are unchanged); by district parts
    (`district_parts` > 1, `pipelines.train_parts`) without reading any table whole, the same matrix. Above
    `training_max_rows` rows, its escalations and a weighted sample of the other rows
    (`models.sampling.subsampled`; by parts, the dropped rows are never stacked), the same rows either way."""
    if settings.district_parts > 1:
        return matrix_by_parts(
            settings, as_of, families, progress=lambda items: track(items, description="Training by parts")
        )
    known = cut(load_store(settings), as_of)
    dates = training_dates(known.sources, as_of, settings)
    helpers = helper_count(settings, known.sources, training_plan(settings).jobs)
    with SharedSnapshots(settings, as_of, known.sources, dates, families, helpers) as shared:
        if linked_activity in families and dates:
            first, last = dates[0] - LINK_WINDOW, as_of - timedelta(days=1)
            backfill_links(settings, first, last, loaded=known.sources, decide=shared.decide_links)
            shared.start()  # the helpers' snapshots, while this process recalls the stored links
            recall_links(settings, first, as_of, known.hotline)
        if helpers:
            matrix = shared.stack(lambda chunks: track(chunks, description="Building training snapshots"))
        else:
            matrix = build_matrix(known.sources, dates, settings, families)
    return dates, subsampled(matrix, LABEL, settings.training_max_rows or None, settings.seed)


@flow(name="ablation")
def ablation_flow(as_of: date, settings: Settings | None = None) -> pd.DataFrame:
    """Held-out list quality of the foundation features, foundation + each family (the optional ones
    too), and all families."""
    settings = settings or Settings()
    _, matrix = matrix_as_of(as_of, settings, ALL_FAMILIES)
    families = {family.__name__.rsplit(".", 1)[-1]: family.FEATURES for family in ALL_FAMILIES}
    return ablation_table(
        matrix,
        family_sets(families, FOUNDATION_FEATURES),
        training_plan(settings),
        hyperparameters(settings)["logistic"],
    )


@task(name="fit-and-validate-models", **PURE_TASK)
def fit_models(matrix: pd.DataFrame, settings: Settings) -> TrainingResult:
    """Cross-validate the model grid on rolling folds and refit the best."""
    return train(
        matrix,
        model_grid(settings, feature_docs(training_families(settings))),
        training_plan(settings),
        progress=lambda items: track(list(items), description="Validating candidate models"),
    )


def champion_precision(
    champion: Champion | None, matrix: pd.DataFrame, result: TrainingResult, settings: Settings
) -> tuple[pd.Series | None, pd.DataFrame | None]:
    """The champion's precision at the top per held-out date of the new model, and its fairness audit.

    None when there is no champion, or when it predicts a different target or reads features this
    code no longer builds (then only a deliberate `fengqiao promote` replaces it).
    """
    if champion is None or not predicts_configured_target(champion.metadata, settings):
        return None, None
    names = champion.metadata.get("features", [])
    if not names or any(name not in matrix for name in names):
        return None, None
    held = matrix[matrix["as_of"].isin(set(result.validation_dates))].reset_index(drop=True)
    scores = champion.model.predict_proba(held[names])[:, 1]
    plan = training_plan(settings)
    per_date = metrics_by_date(held, {MODEL_NAME: scores}, plan).set_index("as_of")["precision_at_k"]
    return per_date, audit(held_out_predictions(held, scores, rule_scores(held), plan), settings)


def challenger_precision(result: TrainingResult) -> pd.Series:
    """The new model's precision at the top per held-out date (from its folds)."""
    return precision_by_date(result.validation, MODEL_NAME)


def audit(predictions: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The fairness audit by district and category of held-out lists."""
    return fairness_audit(
        predictions,
        min_cases=settings.fairness_min_cases,
        min_positives=settings.fairness_min_positives,
        seed=settings.seed,
    )


def card_facts(
    result: TrainingResult,
    settings: Settings,
    as_of: date,
    rows: int,
    rate: float,
    fairness: pd.DataFrame,
    verdict: str,
    top_features: pd.DataFrame,
    version: str | None,
) -> ModelCardFacts:
    """What the model card says, from the training result and the settings."""
    return ModelCardFacts(
        model_name=settings.model_name,
        version=version,
        as_of=as_of,
        estimator=result.candidate.describe(),
        calibration=settings.calibration_method,
        horizon_days=settings.horizon_days,
        escalation_events=tuple(str(t) for t in settings.escalation_events),
        first_snapshot=result.snapshot_dates[0],
        last_snapshot=result.snapshot_dates[-1],
        n_snapshots=len(result.snapshot_dates),
        n_rows=rows,
        base_rate=rate,
        n_folds=len(result.evaluation.folds),
        validation_dates=result.validation_dates,
        list_top_fraction=settings.list_top_fraction,
        list_k=settings.list_k,
        band_high=settings.band_high,
        band_medium=settings.band_medium,
        summary=result.summary,
        grid=result.grid,
        subsets=result.subsets,
        fairness=fairness,
        fairness_verdict=verdict,
        features=result.candidate.docs,
        top_features=top_features,
    )


def training_reference(result: TrainingResult, matrix: pd.DataFrame) -> dict[str, Any]:
    """What the model's features and calibrated scores looked like in training, for the drift watch (a
    subsampled matrix's rows weighted)."""
    names = list(result.feature_names)
    kinds = {d.name: d.kind for d in result.candidate.docs if d.kind != "text"}  # text: not profiled
    score = pd.Series(result.model.predict_proba(matrix[names])[:, 1], index=matrix.index, name="score")
    frame = pd.concat([matrix[list(kinds)], score], axis=1)  # one step: the wide matrix is not fragmented
    return reference_profile(frame, kinds | {"score": "numeric"}, weights=weights_of(matrix))


def held_out_importance(result: TrainingResult, matrix: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Mean absolute contribution per feature over (a sample of) the held-out cases (drawn by their weights
    from a subsampled matrix)."""
    held = matrix[matrix["as_of"].isin(set(result.validation_dates))]
    weights = held.get(WEIGHT)
    sample = held.sample(n=min(IMPORTANCE_SAMPLE, len(held)), random_state=seed, weights=weights)
    return importance(result.model, sample[list(result.feature_names)])


FEATURE_DICTIONARY_COLUMNS = ("name", "meaning", "reason_zh", "reason_en")


def feature_dictionary(names: Sequence[str]) -> pd.DataFrame:
    """The dictionary entries of the named features (what each means, how it reads as a reason), logged with
    the model so that its readers (the dashboard's drift table) can name its features."""
    docs = {doc.name: doc for doc in feature_docs(ALL_FAMILIES)}
    rows = [[getattr(docs[name], column) for column in FEATURE_DICTIONARY_COLUMNS] for name in names]
    return pd.DataFrame(rows, columns=list(FEATURE_DICTIONARY_COLUMNS))


def searched(result: TrainingResult) -> dict[str, Any]:
    """Per searched candidate: the trials it ran and whether the time cap stopped it (a rerun with
    `tuning_trials` set to those trials repeats the search)."""
    params: dict[str, Any] = {}
    for evaluation in result.evaluations:
        if evaluation.search is not None:
            params[f"search.{evaluation.candidate.name}.trials"] = evaluation.search.trials
            params[f"search.{evaluation.candidate.name}.timed_out"] = evaluation.search.timed_out
    return params


def search_trials(result: TrainingResult) -> pd.DataFrame:
    """Every trial of the searched candidates (`models.search.trials_frame`): from a search of n trials,
    what any shorter one would have chosen."""
    return trials_frame({e.candidate.name: e.search for e in result.evaluations if e.search is not None})


def cut_searches(result: TrainingResult, timeout_seconds: float) -> list[str]:
    """A warning per search the time cap stopped before its trials: the model then depends on the
    machine's speed, and the warning says how to repeat it."""
    warnings = []
    for evaluation in result.evaluations:
        found, budget = evaluation.search, evaluation.candidate.tuning
        if found is not None and found.timed_out and budget is not None:
            warnings.append(
                f"{evaluation.candidate.name}: the time cap ({timeout_seconds:g} s, tuning_timeout_seconds) "
                f"stopped its search after {found.trials} of {budget.trials} trials, so this model depends "
                f"on the machine's speed; FENGQIAO_TUNING_TRIALS={found.trials} repeats it"
            )
    return warnings


@task(name="log-and-register-model", **IO_TASK)
def register(
    result: TrainingResult,
    matrix: pd.DataFrame,
    settings: Settings,
    as_of: date,
    fairness: pd.DataFrame,
    verdict: str,
    top_features: pd.DataFrame,
    trials: pd.DataFrame | None = None,
) -> str:
    """Log the run, its tables (`trials`: `search_trials`, built here when not given), pictures and model
    card to MLflow and register a new version (its local copy kept: `keep_registered`)."""
    rows, rate = snapshot_rows(matrix), base_rate(matrix)
    place = registry(settings)
    curve = precision_curve(
        result.evaluation.predictions, CURVE_FRACTIONS, {MODEL_NAME: "score", RULE_NAME: "rule_score"}
    )
    figures = {
        "precision_by_date": precision_by_date_figure(result.validation, settings.list_top_fraction),
        "precision_by_depth": precision_curve_figure(curve, rate),
        "calibration": calibration_figure(result.calibration),
        "feature_importance": importance_figure(top_features),
        "fairness": fairness_figure(fairness),
    }
    params: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "estimator": result.candidate.describe(),
        "candidate": result.candidate.name,
        "calibration_method": settings.calibration_method,
        "refit_final": settings.refit_final,
        "horizon_days": settings.horizon_days,
        "escalation_events": ",".join(settings.escalation_events),
        "snapshot_every_days": settings.snapshot_every_days,
        "training_window_days": settings.training_window_days,
        "burn_in_days": settings.burn_in_days,
        "calibration_share": settings.calibration_share,
        "first_snapshot": result.snapshot_dates[0].isoformat(),
        "last_snapshot": result.snapshot_dates[-1].isoformat(),
        "validation_share": settings.validation_share,
        "n_folds": len(result.evaluation.folds),
        "list_top_fraction": settings.list_top_fraction,
        "list_k": settings.list_k,
        "seed": settings.seed,
        "n_snapshots": len(result.snapshot_dates),
        "n_rows": rows,
        "n_rows_kept": len(matrix),
        "n_features": len(result.feature_names),
        "training_max_rows": settings.training_max_rows,
        "negative_rate": result.negative_rate,
        "escalation_rate": result.escalation_rate,
        **searched(result),
    }
    metadata = {
        "as_of": as_of.isoformat(),
        "candidate": result.candidate.name,
        "features": list(result.feature_names),
        "horizon_days": settings.horizon_days,
        "escalation_events": [str(t) for t in settings.escalation_events],
        "snapshot_dates": [d.isoformat() for d in result.snapshot_dates],
        "fit_dates": [d.isoformat() for d in result.fit_dates],
        "calibration_dates": [d.isoformat() for d in result.calibration_dates],
        "validation_dates": [d.isoformat() for d in result.validation_dates],
        "date_policy": date_record(
            date_policy(settings), as_of, result.evaluation.folds, result.fit_dates, result.calibration_dates
        ),
        "base_rate": rate,
        "negative_rate": result.negative_rate,
        "escalation_rate": result.escalation_rate,
        "summary": result.summary,
        "reference": training_reference(result, matrix),
    }
    held = matrix[matrix["as_of"].isin(set(result.validation_dates))]
    try:
        number, run_id = place.log_model(
            result,
            held[list(result.feature_names)].head(50),
            params=params,
            metadata=metadata,
            figures=figures,
            tables={
                "validation_by_date": result.validation,
                "model_grid": result.grid,
                "search_trials": search_trials(result) if trials is None else trials,
                "subsets": result.subsets,
                "fairness": fairness,
                "calibration": result.calibration.reset_index(),
                "precision_by_depth": curve,
                "feature_importance": top_features,
                "feature_dictionary": feature_dictionary(result.feature_names),
            },
        )
        keep_registered(settings, result.model, number, run_id, metadata)
        version = version_label(settings.model_name, number)
        facts = card_facts(result, settings, as_of, rows, rate, fairness, verdict, top_features, version)
        place.attach_texts(
            run_id,
            {
                "model_card.md": model_card_markdown(facts, "zh"),
                "model_card.en.md": model_card_markdown(facts, "en"),
            },
        )
        return number
    finally:
        for figure in figures.values():
            plt.close(figure)


@task(name="decide-promotion", **IO_TASK)
def settle(version: str, decision: Decision, settings: Settings) -> None:
    """Record the decision on the new version and move the champion alias when it was promoted."""
    place = registry(settings)
    place.tag_version(
        version, {"fengqiao.decision": decision.reason, "fengqiao.promoted": str(decision.promote)}
    )
    if decision.promote:
        place.promote(version)
        remember_champion(settings)  # the next command takes the copy `register` kept, without MLflow


@flow(name="train")
def train_flow(as_of: date | None = None, settings: Settings | None = None) -> TrainReport:
    """Train on what was known before `as_of` (default today), compare with the champion, gate, register."""
    settings = settings or Settings()
    as_of = as_of or local_now().date()
    logger = get_run_logger()
    dates, matrix = matrix_as_of(as_of, settings, training_families(settings))
    rate = base_rate(matrix)
    logger.info(
        "training matrix: %d snapshots, %d rows (%d kept), base rate %.3f",
        len(dates),
        snapshot_rows(matrix),
        len(matrix),
        rate,
    )
    registry_warmed = registry_warming(settings)  # while the grid's processes fit, for the champion
    result = fit_models(matrix, settings)
    logger.info("model grid (mean precision at the top over folds):\n%s", result.grid.to_string(index=False))
    for warning in cut_searches(result, settings.tuning_timeout_seconds):
        logger.warning(warning)
    fairness = audit(result.evaluation.predictions, settings)
    registry_warmed()
    champion = current_champion(settings)
    champion_p, champion_fairness = champion_precision(champion, matrix, result, settings)
    fair, verdict = fairness_passes(fairness, champion_fairness)
    if champion is not None and champion_p is None:
        decision = Decision(
            False,
            f"kept the champion: {champion.version} predicts another target or reads features no "
            "longer built, so the two cannot be compared on the same dates; compare them and "
            "`fengqiao promote` by hand",
        )
    else:
        decision = decide(challenger_precision(result), champion_p, settings.promotion_margin, fair, verdict)
    top_features = held_out_importance(result, matrix, settings.seed)
    trials = search_trials(result)
    number = register(result, matrix, settings, as_of, fairness, verdict, top_features, trials)
    settle(number, decision, settings)
    version = version_label(settings.model_name, number)
    logger.info("registered %s: %s", version, decision.reason)
    return TrainReport(
        model_version=version,
        promoted=decision.promote,
        decision=decision.reason,
        champion_version=champion.version if champion else None,
        summary=result.summary,
        n_snapshots=len(dates),
        n_rows=snapshot_rows(matrix),
        base_rate=rate,
        candidate=result.candidate.name,
        grid=result.grid,
        fairness=fairness,
        trials=trials,
    )
