"""The champion in the registry: loaded for scoring (it must exist) or for training (None before the first),
its features checked against this code and its target against the settings. A loaded version is kept as a
signed local copy (`models.model_seal`), so later commands skip MLflow's deserialisation; with a local
registry (a SQLite file), which version the alias named is remembered with the state of the registry's
files, so a later command whose registry files are unchanged does not even import MLflow
(docs/design/model-cache.md)."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import task

from contracts.settings import Settings
from features.dictionary import FeatureDoc
from features.matrix import ALL_FAMILIES, feature_docs
from models.champion import Champion, version_label, version_of
from models.model_seal import cache_key, copy_name, runtime_versions, seal, unseal
from pipelines.runtime import existing_key, registry
from pipelines.tasks import IO_TASK
from warehouse.atomic_files import remove_leftovers, write_atomic
from warehouse.store import PRIVATE_FILE, PRIVATE_FOLDER, sqlite_path

if TYPE_CHECKING:
    from models.registry import Registry

KEPT_COPIES = 3  # the newest copies kept in the cache folder (the champion and those before it)
MEMO_NAME = "champion.memo"  # which version the alias named, and the registry files' state then
RACY_SECONDS = 2.0  # a file changed this recently may change again unseen within its clock's tick

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
    kept = _kept(path, key, place.label(number), run_id)
    if kept is not None:
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


def _kept(path: Path, key: bytes, label: str, run_id: str) -> Champion | None:
    """The copy at `path` when it is intact and holds that version of that run (its use noted), else None."""
    kept = _opened(path, key) if path.exists() else None
    if isinstance(kept, Champion) and (kept.version, kept.run_id) == (label, run_id):
        path.touch()
        return kept
    return None


@dataclass(frozen=True)
class RegistryState:
    """A local registry's files as they were read at `read_at` (epoch seconds): per file (the SQLite
    database, its WAL, its rollback journal; not the readers' shared memory) its inode, size, last change
    and status change in nanoseconds (zeros when absent), the database header's change counter and the
    WAL's header."""

    files: tuple[tuple[int, int, int, int], ...]
    counter: bytes
    wal_header: bytes
    read_at: float

    @property
    def identity(self) -> tuple[object, ...]:
        """What a memo compares."""
        return (self.files, self.counter, self.wal_header)

    @property
    def trusted(self) -> bool:
        """Whether the next write to the registry is sure to change this state: without a WAL the change
        counter counts every write (a WAL that appears is a change too); with one, only once every file
        was last changed RACY_SECONDS before the state was read (a later write then falls in a later tick
        of the file system's clock, which may be coarse)."""
        if not self.wal_header:
            return True
        newest = max(mtime for _, _, mtime, _ in self.files) / 1e9
        return self.read_at - newest >= RACY_SECONDS


def registry_state(tracking_uri: str) -> RegistryState | None:
    """The state of a local registry's files, which any write to the registry changes; None for a registry
    elsewhere (a tracking server, a database server), whose state is unseen."""
    path = sqlite_path(tracking_uri)
    if path is None or not path.exists():
        return None
    read_at = time.time()
    wal = path.with_name(path.name + "-wal")
    files = []
    for name in (path, wal, path.with_name(path.name + "-journal")):
        try:
            found = os.stat(name)
        except FileNotFoundError:
            files.append((0, 0, 0, 0))
        else:
            files.append((found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns))
    return RegistryState(tuple(files), _head(path, 100)[24:28], _head(wal, 32), read_at)


def _head(path: Path, size: int) -> bytes:
    """The first bytes of a file (none when it is absent)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except FileNotFoundError:
        return b""


def remembered_champion(settings: Settings, key: bytes) -> Champion | None:
    """The champion the memo names when the registry's files are as they were when it was written and the
    version's copy is intact (nothing of MLflow imported), else None."""
    state = registry_state(settings.mlflow_tracking_uri)
    memo = _opened(settings.model_cache_dir / MEMO_NAME, key) if state is not None else None
    identity = (settings.mlflow_tracking_uri, settings.model_name, state and state.identity)
    if not isinstance(memo, dict) or memo.get("identity") != identity:
        return None
    number, run_id = memo["version"], memo["run_id"]
    name = copy_name(settings.mlflow_tracking_uri, settings.model_name, number, run_id, runtime_versions())
    return _kept(settings.model_cache_dir / name, key, version_label(settings.model_name, number), run_id)


def _remember(settings: Settings, key: bytes, state: RegistryState, loaded: Champion) -> None:
    """Write the memo: the champion `loaded` was the alias's version while the registry's files were in
    `state` (read before the registry was asked); none for a state a write could leave unchanged."""
    if not state.trusted:
        return
    memo = {
        "identity": (settings.mlflow_tracking_uri, settings.model_name, state.identity),
        "version": version_of(loaded.version),
        "run_id": loaded.run_id,
    }
    try:
        write_atomic(settings.model_cache_dir / MEMO_NAME, seal(memo, key))
    except OSError as error:
        log.warning("could not remember the champion's version (%s)", error)


def keep_registered(
    settings: Settings, model: Any, number: str, run_id: str, metadata: dict[str, Any]
) -> None:
    """Keep the copy of a version this process has just registered, as loading it from the registry would
    give it (the metadata as its JSON file holds it), so that the first command loading it skips MLflow's
    deserialisation; nothing without a key."""
    secret = existing_key(settings)
    if secret is None:
        return
    as_logged = json.loads(json.dumps(metadata, default=str))  # as MLflow's log_dict writes it
    kept = Champion(model, version_label(settings.model_name, number), run_id, as_logged)
    name = copy_name(settings.mlflow_tracking_uri, settings.model_name, number, run_id, runtime_versions())
    try:
        _keep(settings.model_cache_dir / name, seal(kept, cache_key(secret)))
    except OSError as error:
        log.warning("could not keep a local copy of model version %s (%s)", number, error)


def remember_champion(settings: Settings) -> None:
    """Ask the registry which version is champion now and remember it (`champion.memo`), where a key can
    sign the memo: for a process that has just moved the alias to a version whose copy it kept."""
    if existing_key(settings) is None:
        return
    try:
        _loaded(settings)
    except Exception as error:  # a speed-up only: the promotion is done whatever happens here
        log.warning("could not remember the new champion (%s): the next command asks the registry", error)


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
    """The champion, through the local copy where a key can sign one (and, with a local registry whose
    files are unchanged, the memo of which version its alias named)."""
    secret = existing_key(settings)
    if secret is None:
        return registry(settings).load()
    key = cache_key(secret)
    if (remembered := remembered_champion(settings, key)) is not None:
        return remembered
    place = registry(settings)  # the home's files made private first (which changes their state)
    state = registry_state(settings.mlflow_tracking_uri)  # before the registry is asked
    loaded = cached_load(place, settings.model_cache_dir, key)
    if state is not None:
        _remember(settings, key, state, loaded)
    return loaded


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
