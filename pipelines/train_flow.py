"""The training flow: snapshots known before T, temporal validation against the rule, champion in MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import matplotlib.pyplot as plt
import pandas as pd
from prefect import flow, get_run_logger, task
from rich.progress import track

from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from features.matrix import FAMILIES, FOUNDATION_FEATURES, feature_docs, snapshot_dates, training_matrix
from features.sources import Sources
from models.ablation import ablation_table, family_sets
from models.plots import calibration_figure, precision_by_date_figure
from models.registry import register_champion
from models.train import TrainingResult, base_rate, select_feature_set
from pipelines.tasks import IO_TASK, PURE_TASK, load_store


@dataclass(frozen=True)
class TrainReport:
    """What a training run produced."""

    model_version: str
    summary: dict[str, float]
    n_snapshots: int
    n_rows: int
    base_rate: float
    feature_set: str
    feature_set_scores: dict[str, float]


def training_dates(sources: Sources, as_of: date, settings: Settings) -> list[date]:
    """Snapshot dates whose label window closed by `as_of`, within the window and after the burn-in."""
    last = as_of - timedelta(days=settings.horizon_days)
    first_case = sources.cases["opened_at"].min()
    if pd.isna(first_case):
        raise ValueError("the store holds no cases known before the training date: ingest data first")
    first = max(
        first_case.date() + timedelta(days=settings.burn_in_days),
        as_of - timedelta(days=settings.training_window_days),
    )
    if first > last:
        raise ValueError(
            f"not enough history to train as of {as_of}: need {settings.burn_in_days} days of burn-in plus "
            f"a {settings.horizon_days}-day label window after the first case ({first_case.date()})"
        )
    return snapshot_dates(first, last, settings.snapshot_every_days)


@task(name="build-training-matrix", **PURE_TASK)
def build_matrix(known: Sources, dates: list[date], settings: Settings) -> pd.DataFrame:
    """Features and labels over the snapshot dates."""
    return training_matrix(
        known,
        dates,
        settings.horizon_days,
        [str(t) for t in settings.escalation_events],
        progress=lambda items: track(items, description="Building training snapshots"),
    )


@task(name="register-model", **IO_TASK)
def register(
    result: TrainingResult,
    settings: Settings,
    as_of: date,
    rows: int,
    rate: float,
    feature_set: str,
    candidates: dict[str, float],
) -> str:
    """Log the run and its pictures to MLflow and make the model champion."""
    figures = {
        "precision_by_date": precision_by_date_figure(result.validation, settings.list_top_fraction),
        "calibration": calibration_figure(result.calibration),
    }
    params = {
        "as_of": as_of.isoformat(),
        "horizon_days": settings.horizon_days,
        "escalation_events": ",".join(settings.escalation_events),
        "snapshot_every_days": settings.snapshot_every_days,
        "training_window_days": settings.training_window_days,
        "validation_share": settings.validation_share,
        "list_top_fraction": settings.list_top_fraction,
        "list_k": settings.list_k,
        "seed": settings.seed,
        "n_snapshots": len(result.fit_dates),
        "n_rows": rows,
        "estimator": "standardised logistic regression",
        "feature_set": feature_set,
        "n_features": len(result.feature_names),
    }
    metadata = {
        "as_of": as_of.isoformat(),
        "features": list(result.feature_names),
        "horizon_days": settings.horizon_days,
        "escalation_events": [str(t) for t in settings.escalation_events],
        "fit_dates": [d.isoformat() for d in result.fit_dates],
        "validation_dates": [d.isoformat() for d in result.validation_dates],
        "base_rate": rate,
        "summary": result.summary,
        "feature_set": feature_set,
        "feature_set_precision_at_k": candidates,
    }
    try:
        return register_champion(
            result,
            tracking_uri=settings.mlflow_tracking_uri,
            artifacts_dir=settings.mlflow_artifacts_dir,
            experiment=settings.experiment_name,
            model_name=settings.model_name,
            params=params,
            metadata=metadata,
            figures=figures,
        )
    finally:
        for figure in figures.values():
            plt.close(figure)


def _matrix_as_of(as_of: date, settings: Settings) -> tuple[list[date], pd.DataFrame]:
    """Snapshot dates and the training matrix from what was known before `as_of`."""
    known = load_store(settings).known_before(as_of_instant(as_of))
    dates = training_dates(known, as_of, settings)
    return dates, build_matrix(known, dates, settings)


@flow(name="ablation")
def ablation_flow(as_of: date, settings: Settings | None = None) -> pd.DataFrame:
    """Held-out list quality of the foundation features, foundation + each family, and all families."""
    settings = settings or Settings()
    _, matrix = _matrix_as_of(as_of, settings)
    families = {family.__name__.rsplit(".", 1)[-1]: family.FEATURES for family in FAMILIES}
    return ablation_table(
        matrix,
        family_sets(families, FOUNDATION_FEATURES),
        horizon_days=settings.horizon_days,
        validation_share=settings.validation_share,
        top_fraction=settings.list_top_fraction,
        list_k=settings.list_k,
        seed=settings.seed,
    )


@flow(name="train")
def train_flow(as_of: date, settings: Settings | None = None) -> TrainReport:
    """Train on what was known before `as_of`, validate on the latest matured dates, register the champion."""
    settings = settings or Settings()
    logger = get_run_logger()
    dates, matrix = _matrix_as_of(as_of, settings)
    rate = base_rate(matrix)
    logger.info("training matrix: %d snapshots, %d rows, base rate %.3f", len(dates), len(matrix), rate)
    every = feature_docs()
    candidates = {
        "foundation": tuple(d for d in every if d.name in FOUNDATION_FEATURES),
        "all families": every,
    }
    chosen, result, scores = select_feature_set(
        matrix,
        candidates,
        settings.horizon_days,
        settings.validation_share,
        settings.list_top_fraction,
        settings.list_k,
        settings.seed,
    )
    logger.info("held-out precision at the top by feature set: %s; chose %s", scores, chosen)
    version = register(result, settings, as_of, len(matrix), rate, chosen, scores)
    logger.info("registered %s as champion", version)
    return TrainReport(version, result.summary, len(dates), len(matrix), rate, chosen, scores)
