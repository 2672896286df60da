"""The champion in the registry: loaded for scoring (it must exist) or for training (None before the first),
its features checked against this code and its target against the settings. A loaded version is kept as a
signed local copy (`models.model_seal`), so later commands skip MLflow's deserialisation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefect import task

from contracts.settings import Settings
from features.dictionary import FeatureDoc
from features.matrix import ALL_FAMILIES, feature_docs
from models.model_seal import cache_key, copy_name, runtime_versions, seal, unseal
from models.registry import Champion, Registry
from pipelines.runtime import existing_key, registry
from pipelines.tasks import IO_TASK
from warehouse.atomic_files import remove_leftovers, write_atomic
from warehouse.store import PRIVATE_FILE, PRIVATE_FOLDER

KEPT_COPIES = 3  # the newest copies kept in the cache folder (the champion and those before it)

log = logging.getLogger(__name__)


@task(name="load-champion", **IO_TASK)
def champion(settings: Settings) -> Champion:
    """The current champion model from the registry (its local copy when one is there)."""
    return _loaded(settings)


def cached_load(place: Registry, folder: Path, key: bytes, version: str | None = None) -> Champion:
    """A registered version (default: the champion): its copy in `folder` signed under `key` when there and
    intact, else loaded from the registry and copied there."""
    number, run_id = place.resolve(version)
    path = folder / copy_name(place.tracking_uri, place.model_name, number, run_id, runtime_versions())
    kept = _opened(path, key) if path.exists() else None
    if isinstance(kept, Champion) and (kept.version, kept.run_id) == (place.label(number), run_id):
        path.touch()
        return kept
    if path.exists():
        log.warning(
            "local copy of model version %s is not this deployment's: loading it from the registry", number
        )
    loaded = place.load(number)
    try:
        _keep(path, seal(loaded, key))
    except OSError as error:
        log.warning("could not keep a local copy of model version %s (%s)", number, error)
    return loaded


def _opened(path: Path, key: bytes) -> Any | None:
    """What a copy holds, or None when it fails its check or cannot be read or unpickled (a class gone)."""
    try:
        return unseal(path.read_bytes(), key)
    except Exception:  # an unreadable copy is replaced, never fatal
        return None


def _keep(path: Path, sealed: bytes) -> None:
    """Write a copy (private folder and file) and remove all but the newest KEPT_COPIES."""
    for folder in (path.parent.parent, path.parent):
        folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    remove_leftovers(path.parent)
    write_atomic(path, sealed)
    path.chmod(PRIVATE_FILE)
    copies = sorted(path.parent.glob("*.model"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in copies[KEPT_COPIES:]:
        old.unlink(missing_ok=True)


@task(name="load-champion", **IO_TASK)
def current_champion(settings: Settings) -> Champion | None:
    """The champion now, or None before the first one."""
    try:
        return _loaded(settings)
    except LookupError:
        return None


def _loaded(settings: Settings) -> Champion:
    """The champion, through the local copy where a key can sign one."""
    secret = existing_key(settings)
    place = registry(settings)
    if secret is None:
        return place.load()
    return cached_load(place, settings.model_cache_dir, cache_key(secret))


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
