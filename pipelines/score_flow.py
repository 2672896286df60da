"""The scoring flow: the champion scores every case open at the as-of date, and the list is published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task

from contracts.records import check_list
from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from features.matrix import build_features, feature_docs
from models.fairness import fairness_audit
from models.metrics import top_k
from models.registry import Champion
from models.scoring import rank_cases
from pipelines.publish import input_fingerprint, manifest, publish_list
from pipelines.runtime import open_warehouse
from pipelines.tasks import IO_TASK, load_store
from pipelines.train_flow import registry


@dataclass(frozen=True)
class ScoreReport:
    """A published list and where its files are."""

    listed: pd.DataFrame
    manifest: dict
    paths: dict[str, Path]


@task(name="load-champion", **IO_TASK)
def champion(settings: Settings) -> Champion:
    """The current champion model from the registry."""
    return registry(settings).load()


@task(name="publish-list", **IO_TASK)
def publish(listed: pd.DataFrame, description: dict, settings: Settings) -> dict[str, Path]:
    """Write the list's files and store rows atomically."""
    return publish_list(listed, description, settings.lists_dir, open_warehouse(settings))


def list_audit(listed: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Fairness audit of a published list (no outcomes yet): share of each district and category listed."""
    working = listed.assign(listed=listed["rank"] <= top_k(len(listed), settings.list_top_fraction))
    return fairness_audit(working, label=None, min_cases=settings.fairness_min_cases, seed=settings.seed)


@flow(name="score")
def score_flow(as_of: date, settings: Settings | None = None) -> ScoreReport:
    """Score the cases open at `as_of` with the champion and publish the ranked list."""
    settings = settings or Settings()
    logger = get_run_logger()
    model = champion(settings)
    built = {d.name: d for d in feature_docs()}
    missing = [name for name in model.metadata.get("features", []) if name not in built]
    if missing or not model.metadata.get("features"):
        raise RuntimeError(
            f"champion {model.version} uses features this code no longer builds ({missing[:5]}); retrain it"
        )
    docs = tuple(built[name] for name in model.metadata["features"])
    target = (model.metadata.get("horizon_days"), model.metadata.get("escalation_events"))
    if target != (settings.horizon_days, [str(t) for t in settings.escalation_events]):
        raise RuntimeError(
            f"champion {model.version} predicts escalation ({target[1]}) within {target[0]} days, but the "
            f"settings ask for {list(settings.escalation_events)} within {settings.horizon_days}: retrain it"
        )
    known = load_store(settings).known_before(as_of_instant(as_of))
    features = build_features(known, as_of)
    listed = rank_cases(
        model.model,
        features,
        docs,
        model_version=model.version,
        as_of=as_of,
        band_high=settings.band_high,
        band_medium=settings.band_medium,
        language=settings.language,
        high_capacity=settings.band_high_capacity,
    )
    check_list(listed)
    audit = list_audit(listed, settings)
    description = manifest(listed, as_of, model.version, input_fingerprint(known), settings, audit)
    paths = publish(listed, description, settings)
    logger.info(
        "published %d cases for %s (bands %s) with %s",
        len(listed),
        as_of,
        description["bands"],
        model.version,
    )
    flagged = audit[audit["status"] == "flagged"]
    if len(flagged):
        logger.warning(
            "fairness audit of the list: the share listed differs from the overall share for %s "
            "(can reflect different risk; see the manifest)",
            ", ".join(f"{a}={g}" for a, g in zip(flagged["attribute"], flagged["group"], strict=True)),
        )
    return ScoreReport(listed, description, paths)
