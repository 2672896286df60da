"""What every flow needs at its edge: settings, the store, the pseudonymisation key, the stored sources."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.exc import OperationalError

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from features.sources import Sources
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


def load_sources(warehouse: Warehouse) -> Sources:
    """Every stored case, event and hotline record."""
    return Sources.ordered(
        cases=warehouse.read_records(RecordKind.CASES),
        events=warehouse.read_records(RecordKind.CASE_EVENTS),
        hotline=warehouse.read_records(RecordKind.HOTLINE),
    )


def retry_transient(_task: object, _task_run: object, state: object) -> bool:
    """Prefect retry condition: retry I/O and database hiccups, never data errors that would fail again."""
    data = getattr(state, "data", None)
    error = data if isinstance(data, BaseException) else state.result(raise_on_failure=False)  # type: ignore[attr-defined]
    if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError):
        return False
    return isinstance(error, OSError | OperationalError)
