"""The champion in the registry: loaded for scoring (it must exist) or for training (None before the first),
its features checked against this code and its target against the settings."""

from __future__ import annotations

from typing import Any

from prefect import task

from contracts.settings import Settings
from features.dictionary import FeatureDoc
from features.matrix import ALL_FAMILIES, feature_docs
from models.registry import Champion
from pipelines.runtime import registry
from pipelines.tasks import IO_TASK


@task(name="load-champion", **IO_TASK)
def champion(settings: Settings) -> Champion:
    """The current champion model from the registry."""
    return registry(settings).load()


@task(name="load-champion", **IO_TASK)
def current_champion(settings: Settings) -> Champion | None:
    """The champion now, or None before the first one."""
    try:
        return registry(settings).load()
    except LookupError:
        return None


def predicts_configured_target(metadata: dict[str, Any], settings: Settings) -> bool:
    """Whether a model's metadata says it predicts the escalation types and horizon the settings ask for."""
    wanted = (settings.horizon_days, [str(t) for t in settings.escalation_events])
    return (metadata.get("horizon_days"), metadata.get("escalation_events")) == wanted


def champion_features(model: Champion, settings: Settings) -> tuple[FeatureDoc, ...]:
    """The champion's features, after checking this code builds them and it predicts the configured target."""
    built = {d.name: d for d in feature_docs(ALL_FAMILIES)}
    missing = [name for name in model.metadata.get("features", []) if name not in built]
    if missing or not model.metadata.get("features"):
        raise RuntimeError(
            f"champion {model.version} uses features this code no longer builds ({missing[:5]}); retrain it"
        )
    if not predicts_configured_target(model.metadata, settings):
        target = (model.metadata.get("horizon_days"), model.metadata.get("escalation_events"))
        raise RuntimeError(
            f"champion {model.version} predicts escalation ({target[1]}) within {target[0]} days, but the "
            f"settings ask for {list(settings.escalation_events)} within {settings.horizon_days}: retrain it"
        )
    return tuple(built[name] for name in model.metadata["features"])
