"""The model registry on MLflow: log trained models, move the champion alias, list, load, roll back.

The only module that imports MLflow. Tracking defaults to a SQLite file under the home folder, with
artifacts in a folder beside it; any MLflow tracking URI works by configuration. On a tracking server
(an http(s) URI), artifacts go through the server to its artifact store (`mlflow server
--artifacts-destination`), so every machine that trains or scores sees the same models.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature

from contracts.settings import Settings
from models.champion import Champion, version_label

if TYPE_CHECKING:
    from models.train import TrainingResult

CHAMPION_ALIAS = "champion"
METADATA_FILE = "fengqiao_model.json"
HISTORY_TAG = "fengqiao.champion_history"
TRUSTED_TYPES = [
    "models.estimator._signed_log1p",
    "models.estimator._one_hot_name",
    "models.estimator.DocumentTerms",
    "models.estimator.DocumentWords",
    "models.estimator.Blend",
    "features.text_words.words",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


@dataclass(frozen=True)
class Registry:
    """Where models are tracked and registered, under which experiment and model name.

    `artifacts_dir` is where a local tracking store keeps artifacts; a tracking server keeps them in
    its own artifact store instead, and the folder is not used.
    """

    tracking_uri: str
    artifacts_dir: Path
    experiment: str
    model_name: str

    @classmethod
    def of(cls, settings: Settings) -> Registry:
        """The registry the settings point at (nothing is opened until it is used)."""
        return cls(
            settings.mlflow_tracking_uri,
            settings.mlflow_artifacts_dir,
            settings.experiment_name,
            settings.model_name,
        )

    @property
    def on_server(self) -> bool:
        """Whether tracking goes to an MLflow tracking server (which then stores the artifacts)."""
        return urlparse(self.tracking_uri).scheme in ("http", "https")

    def connect(self) -> str:
        """Point MLflow at the tracking store and return the experiment's id (creating it if new)."""
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        mlflow.set_tracking_uri(self.tracking_uri)
        found = mlflow.get_experiment_by_name(self.experiment)
        if found is not None:
            if self.on_server and urlparse(found.artifact_location).scheme == "file":
                logging.getLogger(__name__).warning(
                    "experiment '%s' on %s keeps its artifacts on one machine's disk (%s): other machines "
                    "cannot load its models; use a new FENGQIAO_EXPERIMENT_NAME to store them on the server",
                    self.experiment,
                    self.tracking_uri,
                    found.artifact_location,
                )
            return found.experiment_id
        if self.on_server:
            return mlflow.create_experiment(self.experiment)
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        return mlflow.create_experiment(
            self.experiment, artifact_location=self.artifacts_dir.resolve().as_uri()
        )

    def log_model(
        self,
        result: TrainingResult,
        sample: pd.DataFrame,
        *,
        params: dict[str, Any],
        metadata: dict[str, Any],
        figures: dict[str, Any],
        tables: dict[str, pd.DataFrame],
    ) -> tuple[str, str]:
        """Log a training run (params, metrics, tables, figures, texts, model) and register a new version.

        `sample` holds a few feature rows used only to infer the model's signature (column names and
        types); no row is stored. Returns the new version number and the run's id; the champion
        does not move.
        """
        experiment_id = self.connect()
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{metadata.get('as_of')}"):
            mlflow.log_params(params)
            mlflow.log_metrics({k.replace("@", "_at_"): v for k, v in result.summary.items()})
            for name, table in tables.items():
                mlflow.log_table(_loggable(table), artifact_file=f"{name}.json")
            mlflow.log_dict(metadata, METADATA_FILE)
            for name, figure in figures.items():
                mlflow.log_figure(figure, f"{name}.png")
            signature = infer_signature(sample, result.model.predict_proba(sample)[:, 1])
            info = mlflow.sklearn.log_model(
                result.model,
                name="model",
                registered_model_name=self.model_name,
                serialization_format="skops",
                skops_trusted_types=TRUSTED_TYPES,
                pip_requirements=["scikit-learn", "skops", "numpy", "pandas"],
                signature=signature,
                input_example=None,
            )
        return str(info.registered_model_version), info.run_id

    def attach_texts(self, run_id: str, texts: dict[str, str]) -> None:
        """Add text artifacts (e.g. the model card naming its version) to a logged run."""
        self.connect()
        client = MlflowClient()
        for name, text in texts.items():
            client.log_text(run_id, text, name)

    def tag_version(self, version: str, tags: dict[str, str]) -> None:
        """Attach tags (e.g. the promotion decision) to a registered version."""
        self.connect()
        client = MlflowClient()
        for key, value in tags.items():
            client.set_model_version_tag(self.model_name, version, key, value)

    def champion_version(self) -> str | None:
        """The version number the champion alias points at, or None."""
        try:
            return str(self._version(None).version)
        except LookupError:
            return None

    def promote(self, version: str) -> None:
        """Make a version champion, remembering the one it replaces for a rollback."""
        self.connect()
        client = MlflowClient()
        try:
            client.get_model_version(self.model_name, version)
        except mlflow.exceptions.MlflowException as error:
            raise LookupError(
                f"'{self.model_name}' has no version {version}: see `fengqiao models`"
            ) from error
        history = self._history()
        current = self.champion_version()
        if current == version:
            return
        if current is not None:
            history.append(current)
        client.set_registered_model_tag(self.model_name, HISTORY_TAG, ",".join(history))
        client.set_registered_model_alias(self.model_name, CHAMPION_ALIAS, version)

    def rollback(self) -> str:
        """Move the champion back to the version it replaced; returns that version."""
        self.connect()
        history = self._history()
        if not history:
            raise LookupError(f"'{self.model_name}' has no earlier champion to roll back to")
        previous = history.pop()
        client = MlflowClient()
        client.set_registered_model_tag(self.model_name, HISTORY_TAG, ",".join(history))
        client.set_registered_model_alias(self.model_name, CHAMPION_ALIAS, previous)
        return previous

    def versions(self) -> pd.DataFrame:
        """Every registered version, newest first, with its aliases and recorded decision tags."""
        self.connect()
        client = MlflowClient()
        try:
            found = client.search_model_versions(f"name = '{self.model_name}'")
            aliases = client.get_registered_model(self.model_name).aliases
        except mlflow.exceptions.MlflowException:
            found, aliases = [], {}
        rows = [
            {
                "version": int(v.version),
                "created": pd.Timestamp(v.creation_timestamp, unit="ms", tz="UTC"),
                "aliases": ",".join(sorted(a for a, n in aliases.items() if str(n) == str(v.version))),
                **{k.removeprefix("fengqiao."): value for k, value in v.tags.items()},
                "run_id": v.run_id,
            }
            for v in found
        ]
        frame = pd.DataFrame(rows)
        return frame.sort_values("version", ascending=False, ignore_index=True) if rows else frame

    def resolve(self, version: str | None = None) -> tuple[str, str]:
        """A registered version's number (default: the champion's) and its training run's id; a LookupError
        saying how to get one when absent."""
        found = self._version(version)
        return str(found.version), found.run_id

    def load(self, version: str | None = None) -> Champion:
        """A registered version (default: the champion) with its metadata; a clear error when absent."""
        found = self._version(version)
        model = mlflow.sklearn.load_model(f"models:/{self.model_name}/{found.version}")
        metadata = mlflow.artifacts.load_dict(f"runs:/{found.run_id}/{METADATA_FILE}")
        return Champion(model, self.label(str(found.version)), found.run_id, metadata)

    def label(self, version: str) -> str:
        """How a version of this registry's model is named on lists and reports."""
        return version_label(self.model_name, version)

    def run_files(self, names: Iterable[str], version: str | None = None) -> tuple[str, dict[str, bytes]]:
        """A version's (default: the champion's) label and those of the named top-level files of its
        training run that exist (model cards, tables, figures), as bytes; LookupError when absent."""
        found = self._version(version)
        client = MlflowClient()
        present = {item.path for item in client.list_artifacts(found.run_id) if not item.is_dir}
        with tempfile.TemporaryDirectory() as folder:
            files = {
                name: Path(client.download_artifacts(found.run_id, name, folder)).read_bytes()
                for name in names
                if name in present
            }
        return self.label(str(found.version)), files

    def _version(self, version: str | None) -> Any:
        """The registered version (default: the champion's), or a LookupError saying how to get one."""
        self.connect()
        client = MlflowClient()
        try:
            if version:
                return client.get_model_version(self.model_name, version)
            return client.get_model_version_by_alias(self.model_name, CHAMPION_ALIAS)
        except mlflow.exceptions.MlflowException as error:
            what = (
                f"version {version} of '{self.model_name}'"
                if version
                else f"champion model '{self.model_name}'"
            )
            raise LookupError(f"no {what} yet: run `fengqiao train --as-of DATE` first") from error

    def _history(self) -> list[str]:
        """Former champions, oldest first."""
        try:
            tags = MlflowClient().get_registered_model(self.model_name).tags
        except mlflow.exceptions.MlflowException:
            return []
        return [v for v in tags.get(HISTORY_TAG, "").split(",") if v]


def _loggable(table: pd.DataFrame) -> pd.DataFrame:
    """A table with dates and other objects as text, so MLflow can store it as JSON."""
    return table.astype(
        {c: str for c in table.columns if table[c].dtype == object or "date" in str(table[c].dtype)}
    )
