"""What every flow needs at its edge: settings, the store, the pseudonymisation key, the stored sources."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
from sqlalchemy.exc import OperationalError

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from features.sources import CATEGORICAL_COLUMNS, STORE_COLUMNS, Sources, compact
from warehouse.store import Warehouse

KEY_HELP = (
    'set FENGQIAO_PSEUDONYM_KEY to a long random secret (for example `python -c "import secrets; '
    'print(secrets.token_hex(32))"`), keep it out of the repository, and use the same key for every run'
)


class MissingKeyError(RuntimeError):
    """Ingest refuses to run without a pseudonymisation key."""


def pseudonym_key(settings: Settings, allow_local: bool = False) -> tuple[bytes, str]:
    """The HMAC key and where it came from; the demo may create a local key file under the home folder."""
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key.get_secret_value().encode(), "FENGQIAO_PSEUDONYM_KEY"
    if not allow_local:
        raise MissingKeyError(f"no pseudonymisation key: {KEY_HELP}")
    path = settings.local_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_hex(32))
    return path.read_text().strip().encode(), str(path)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def open_warehouse(settings: Settings) -> Warehouse:
    """The store named by the settings."""
    return Warehouse(settings.warehouse_url)


SOURCE_KINDS = {"cases": RecordKind.CASES, "events": RecordKind.CASE_EVENTS, "hotline": RecordKind.HOTLINE}


def load_sources(
    warehouse: Warehouse, columns: Mapping[str, Sequence[str]] | None = STORE_COLUMNS
) -> Sources:
    """Every stored case, event and hotline record, with the columns that features, labels, the call
    linker, the timeline and the list's input fingerprint read (`columns=None`: every column), repetitive
    text as categoricals (`Sources.compacted`), in knowledge-time order."""
    frames = {}
    for name, kind in SOURCE_KINDS.items():  # each table compacted before the next is read
        frame = warehouse.read_records(kind, None if columns is None else columns[name])
        frames[name] = compact(frame, CATEGORICAL_COLUMNS[name])
    sources = Sources.ordered(**frames)
    del frames
    release_memory()
    return sources


def release_memory() -> None:
    """Give the memory of dropped frames back to the system: collect reference cycles, empty Arrow's pool,
    and trim the C heap, whose allocator (glibc) otherwise keeps freed pages for later use (at city size
    about 0.6 GiB after a training matrix is built). Call it after dropping the loaded store."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def retry_transient(_task: object, _task_run: object, state: object) -> bool:
    """Prefect retry condition: retry I/O and database hiccups, never data errors that would fail again."""
    data = getattr(state, "data", None)
    error = data if isinstance(data, BaseException) else state.result(raise_on_failure=False)  # type: ignore[attr-defined]
    if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError):
        return False
    return isinstance(error, OSError | OperationalError)
