"""A registered model as scoring holds it, and how its versions are named: what code that scores needs of
the registry without importing MLflow (`models.registry` imports it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Champion:
    """A registered model with its version label and training metadata."""

    model: Any
    version: str
    run_id: str
    metadata: dict[str, Any]


def version_label(model_name: str, version: str) -> str:
    """How a model version is named on lists and reports."""
    return f"{model_name}/v{version}"


def version_of(label: str) -> str:
    """The version number a label of `version_label` names."""
    return label.rsplit("/v", 1)[-1]
