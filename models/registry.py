"""The model registry on MLflow: log a trained model with its metrics, make it champion, load it back.

The only module that imports MLflow. Tracking defaults to a SQLite file under the home folder;
any MLflow tracking URI (a tracking server) works by configuration.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from sklearn.pipeline import Pipeline

from models.train import TrainingResult

CHAMPION_ALIAS = "champion"
METADATA_FILE = "fengqiao_model.json"
TRUSTED_TYPES = ["models.estimator._signed_log1p", "models.estimator._one_hot_name"]


@dataclass(frozen=True)
class Champion:
    """The model that scores lists now, with its version label and training metadata."""

    model: Pipeline
    version: str
    run_id: str
    metadata: dict[str, Any]


def _connect(tracking_uri: str, artifacts_dir: Path, experiment: str) -> str:
    """Point MLflow at the tracking store and return the experiment's id (creating it if new)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    return mlflow.create_experiment(experiment, artifact_location=artifacts_dir.resolve().as_uri())


def register_champion(
    result: TrainingResult,
    *,
    tracking_uri: str,
    artifacts_dir: Path,
    experiment: str,
    model_name: str,
    params: dict[str, Any],
    metadata: dict[str, Any],
    figures: dict[str, Any] | None = None,
) -> str:
    """Log params, metrics, validation table, figures and model; register it and make it champion."""
    experiment_id = _connect(tracking_uri, artifacts_dir, experiment)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{metadata.get('as_of')}"):
        mlflow.log_params(params)
        mlflow.log_metrics({k.replace("@", "_at_"): v for k, v in result.summary.items()})
        mlflow.log_table(result.validation.astype({"as_of": str}), artifact_file="validation_by_date.json")
        mlflow.log_dict(metadata, METADATA_FILE)
        for name, figure in (figures or {}).items():
            mlflow.log_figure(figure, f"{name}.png")
        info = mlflow.sklearn.log_model(
            result.model,
            name="model",
            registered_model_name=model_name,
            serialization_format="skops",
            skops_trusted_types=TRUSTED_TYPES,
            pip_requirements=["scikit-learn", "skops", "numpy", "pandas"],
            input_example=None,
        )
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
    return version_label(model_name, version)


def version_label(model_name: str, version: str) -> str:
    """How a model version is named on lists and reports."""
    return f"{model_name}/v{version}"


def load_champion(*, tracking_uri: str, artifacts_dir: Path, experiment: str, model_name: str) -> Champion:
    """The current champion model with its metadata; a clear error when none was trained yet."""
    _connect(tracking_uri, artifacts_dir, experiment)
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except mlflow.exceptions.MlflowException as error:
        raise LookupError(
            f"no champion model '{model_name}' yet: run `fengqiao train --as-of DATE` first"
        ) from error
    model = mlflow.sklearn.load_model(f"models:/{model_name}@{CHAMPION_ALIAS}")
    metadata = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/{METADATA_FILE}")
    return Champion(model, version_label(model_name, version.version), version.run_id, metadata)
