"""What every flow needs at its edge: settings, the store, the pseudonymisation key, the stored sources."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlalchemy import ColumnElement, Connection
from sqlalchemy.exc import OperationalError

from contracts.settings import Settings
from contracts.timeparse import InstantWindow, local_now
from contracts.vocabulary import RecordKind
from features.known import KnownBefore, cut
from features.sources import CATEGORICAL_COLUMNS, STORE_COLUMNS, Sources, compact
from pipelines.store_mirror import forget_copy, mirrored_sources
from warehouse import tables
from warehouse.fingerprints import records_fingerprint
from warehouse.store import (
    PRIVATE_FILE,
    PRIVATE_FOLDER,
    Warehouse,
    forget_pseudonymised,
    make_private,
    read_meta,
    sqlite_path,
    stored_keys,
    write_meta,
)

if TYPE_CHECKING:
    from ingest.run import ChunkCallback, IngestReport
    from models.registry import Registry

KEY_HELP = (
    'set FENGQIAO_PSEUDONYM_KEY to a long random secret (for example `python -c "import secrets; '
    'print(secrets.token_hex(32))"`), keep it out of the repository, and use the same key for every run'
)
MIN_KEY_BYTES = 32
KEY_FINGERPRINT = "pseudonym_key_fingerprint"
# The constant whose HMAC under the key tells keys apart without revealing them.
_FINGERPRINT_MESSAGE = b"fengqiao pseudonymisation key fingerprint v1"
SHOWN_FINGERPRINT = 12  # hex characters of a fingerprint shown in messages


class MissingKeyError(RuntimeError):
    """Ingest refuses to run without a pseudonymisation key, or with one too short to be secret."""


class KeyMismatchError(RuntimeError):
    """The key differs from the one the store was pseudonymised with."""


class RotationError(RuntimeError):
    """A key rotation that would lose records is refused (and nothing is changed)."""


def pseudonym_key(settings: Settings, allow_local: bool = False) -> tuple[bytes, str]:
    """The HMAC key and where it came from; the demo may create a local key file under the home folder.
    A key shorter than 32 bytes is refused: pseudonyms of phone numbers under a guessable key can be
    reversed by trying every number."""
    if settings.pseudonym_key is not None:
        origin = "FENGQIAO_PSEUDONYM_KEY"
        return _checked(settings.pseudonym_key.get_secret_value().encode(), origin), origin
    if not allow_local:
        raise MissingKeyError(f"no pseudonymisation key: {KEY_HELP}")
    path = settings.local_key_file
    if not path.exists():
        path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        _write_private(path, secrets.token_hex(32))
    path.chmod(PRIVATE_FILE)
    return _checked(path.read_text().strip().encode(), str(path)), str(path)


def existing_key(settings: Settings) -> bytes | None:
    """The pseudonymisation key when one is set or the demo's key file exists (and is long enough), else
    None; never creates one."""
    if settings.pseudonym_key is None and not settings.local_key_file.exists():
        return None
    try:
        return pseudonym_key(settings, allow_local=True)[0]
    except MissingKeyError:
        return None


def _checked(key: bytes, origin: str) -> bytes:
    """The key, if long enough to be a secret."""
    if not key.strip():
        raise MissingKeyError(f"the pseudonymisation key from {origin} is empty: {KEY_HELP}")
    if len(key) < MIN_KEY_BYTES:
        raise MissingKeyError(
            f"the pseudonymisation key from {origin} is {len(key)} bytes; at least {MIN_KEY_BYTES} are "
            f"needed: {KEY_HELP}"
        )
    return key


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def key_fingerprint(key: bytes) -> str:
    """What tells keys apart without revealing them: HMAC-SHA256 (hex) of a fixed constant under the key."""
    return hmac.new(key, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


def check_key(connection: Connection, key: bytes) -> None:
    """Refuse a key other than the one the store was pseudonymised with (a store without a recorded
    fingerprint accepts any key)."""
    stored = read_meta(connection, KEY_FINGERPRINT)
    if stored is not None and not hmac.compare_digest(stored, key_fingerprint(key)):
        raise KeyMismatchError(
            f"this store was pseudonymised with a different key (fingerprint {stored[:SHOWN_FINGERPRINT]}…); "
            "use the original key, or re-pseudonymise with --rotate-key (see the runbook, section 2)"
        )


def remember_key(connection: Connection, key: bytes) -> None:
    """Record the fingerprint of the key the store is pseudonymised with."""
    if read_meta(connection, KEY_FINGERPRINT) != key_fingerprint(key):
        write_meta(connection, KEY_FINGERPRINT, key_fingerprint(key))


@contextlib.contextmanager
def keyed_store(warehouse: Warehouse, key: bytes, rotate: bool = False) -> Iterator[Warehouse]:
    """The store for one run that pseudonymises with `key`, all in one transaction.

    First the key is checked against the store's fingerprint (a different key is refused before anything
    is read); with `rotate`, every row carrying an old pseudonym is removed instead, and what is run inside
    must store again every case and call the store held (the complete raw exports, under the new key), or
    the whole rotation is refused and rolled back. At the end the key's fingerprint is recorded.
    """
    with warehouse.within() as view, view.transaction() as connection:
        before: dict[RecordKind, set[str]] = {}
        if rotate:
            before = {kind: stored_keys(connection, kind) for kind in tables.PSEUDONYMISED_KINDS}
            forget_pseudonymised(connection)
        else:
            check_key(connection, key)
        yield view
        if rotate:
            _check_rotation(connection, before)
        remember_key(connection, key)


def _check_rotation(connection: Connection, before: Mapping[RecordKind, set[str]]) -> None:
    """Refuse a rotation whose exports stored no case, or left out records the store held."""
    if not stored_keys(connection, RecordKind.CASES):
        raise RotationError(
            "key rotation refused, nothing changed: the given paths stored no cases; give every raw export "
            "ever ingested (cases, and calls if you have them)"
        )
    for kind, keys in before.items():
        missing = sorted(keys - stored_keys(connection, kind))
        if missing:
            raise RotationError(
                f"key rotation refused, nothing changed: {len(missing)} stored {kind.value} records are not "
                f"in the given exports (e.g. {', '.join(missing[:3])}); give every raw export ever ingested"
            )


def ingest_keyed(
    paths: Sequence[Path],
    settings: Settings,
    key: bytes,
    *,
    rotate: bool = False,
    kind: RecordKind | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping_file: Path | None = None,
    on_chunk: ChunkCallback | None = None,
    before_commit: Callable[[], None] | None = None,
) -> IngestReport:
    """One ingest run into the configured store under `key` (checked against the store's fingerprint, or
    with `rotate` the store re-pseudonymised from the complete raw exports; see `keyed_store`), with the
    settings' plausible-instant window and size limits; `before_commit` is called last, inside the run's
    transaction (what it raises rolls the run back)."""
    from ingest.mapping import load_mapping
    from ingest.run import ingest_paths

    mapping = load_mapping(mapping_file) if mapping_file else None
    window = InstantWindow.ending_after(
        local_now().to_pydatetime(), settings.earliest_instant, settings.future_tolerance_days
    )
    if rotate:  # the store's copy of the old pseudonyms goes first (none stays on disk after a rotation)
        forget_copy(settings.store_mirror_dir)
    with keyed_store(open_warehouse(settings), key, rotate=rotate) as store:
        report = ingest_paths(
            list(paths),
            store,
            key,
            kind=kind,
            encoding=encoding,
            sheet=sheet,
            mapping=mapping,
            chunk_rows=settings.ingest_chunk_rows,
            on_chunk=on_chunk,
            window=window,
            max_unpacked_bytes=settings.max_unpacked_mib * 1024 * 1024,
        )
        if before_commit is not None:
            before_commit()
    if rotate:  # and again once committed: a read begun before it may have copied the old records
        forget_copy(settings.store_mirror_dir)
    return report


def rotate_pseudonyms(
    paths: Sequence[Path],
    settings: Settings,
    *,
    kind: RecordKind | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping_file: Path | None = None,
) -> IngestReport:
    """Re-pseudonymise the store under the key now configured, from the complete raw exports: in one
    transaction, every row carrying an old pseudonym is removed, the exports are ingested again, and the
    new key's fingerprint is recorded; refused (nothing changed) if a stored case or call is not in them."""
    key, _ = pseudonym_key(settings)
    return ingest_keyed(
        paths,
        settings,
        key,
        rotate=True,
        kind=kind,
        encoding=encoding,
        sheet=sheet,
        mapping_file=mapping_file,
    )


def secure_home(settings: Settings) -> None:
    """Make the home folder the owner's only (0700) and its store, key and MLflow files 0600 (what this
    user owns: a home another account runs is left as its owner made it)."""
    home = settings.home
    home.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    if home.stat().st_uid != os.getuid():
        return
    home.chmod(PRIVATE_FOLDER)
    for url in (settings.warehouse_url, settings.mlflow_tracking_uri):
        if (path := sqlite_path(url)) is not None and (
            not path.exists() or path.stat().st_uid == os.getuid()
        ):
            make_private(path)
    if settings.local_key_file.exists():
        settings.local_key_file.chmod(PRIVATE_FILE)


def open_warehouse(settings: Settings) -> Warehouse:
    """The store named by the settings (the home folder and its files made private first)."""
    secure_home(settings)
    return Warehouse(settings.warehouse_url)


def registry(settings: Settings) -> Registry:
    """The MLflow registry the settings point at (MLflow imported here, only by commands that need it)."""
    from models.registry import Registry

    secure_home(settings)
    place = Registry.of(settings)
    secure_home(settings)  # MLflow has created its database by now
    return place


def registry_warming(settings: Settings) -> Callable[[], None]:
    """Connect to the settings' MLflow registry in a background thread (MLflow and the model format's
    modules imported, a new home's database created: about 3 s of a first training's end on 2 cores),
    while the caller does other work; the returned call waits for it (so does the interpreter's exit: a new
    database is never left half made). A failure there is only logged at debug level: the registry's next
    use meets it again and says so."""

    def warm() -> None:
        try:
            registry(settings).connect()
            import mlflow.sklearn  # noqa: F401
            import skops.io  # noqa: F401
        except Exception as error:  # the registry's next use raises it where it belongs
            logging.getLogger(__name__).debug("warming the registry failed: %s", error)

    thread = threading.Thread(target=warm, name="registry-warm-up")  # the interpreter waits for it at exit
    thread.start()
    return thread.join


SOURCE_KINDS = {"cases": RecordKind.CASES, "events": RecordKind.CASE_EVENTS, "hotline": RecordKind.HOTLINE}


def load_sources(
    warehouse: Warehouse,
    columns: Mapping[str, Sequence[str]] | None = STORE_COLUMNS,
    where: Mapping[RecordKind, ColumnElement[bool]] | None = None,
) -> Sources:
    """Every stored case, event and hotline record (only those `where` selects, per kind: a district
    part's, `warehouse.district_parts.part_filters`), with the columns that features, labels, the call
    linker, the timeline and the list's input fingerprint read (`columns=None`: every column), repetitive
    text as categoricals (`Sources.compacted`), in knowledge-time order."""
    frames = {}
    for name, kind in SOURCE_KINDS.items():  # each table compacted before the next is read
        selected = None if where is None else where[kind]
        frame = warehouse.read_records(kind, None if columns is None else columns[name], where=selected)
        if {"caller_name_pid", "caller_phone_pid"} <= set(frame.columns):
            # the name or account is read only as the caller of a call without a phone (a message board's)
            frame["caller_name_pid"] = frame["caller_name_pid"].where(frame["caller_phone_pid"].isna())
        frames[name] = compact(frame, CATEGORICAL_COLUMNS[name])
    sources = Sources.ordered(**frames)
    del frames
    release_memory()
    return sources


def stored_sources(settings: Settings) -> Sources:
    """Every stored record (`load_sources`), through the columnar copy when the settings keep one
    (`store_mirror`, `pipelines.store_mirror`; off, a copy kept before is deleted)."""
    warehouse = open_warehouse(settings)
    if not settings.store_mirror:
        forget_copy(settings.store_mirror_dir)  # one kept while it was on goes
        return load_sources(warehouse)
    return mirrored_sources(
        warehouse, settings.store_mirror_dir, STORE_COLUMNS, lambda: load_sources(warehouse)
    )


# Per helper process (training's, the score's): the store as known before one date and its records'
# fingerprint, read by the helper's first piece of work.
_KNOWN_HERE: dict[tuple[str, date], tuple[KnownBefore, str]] = {}


def known_once(settings: Settings, as_of: date) -> tuple[KnownBefore, str]:
    """The store as known before `as_of` (`stored_sources`, cut) and the `records_fingerprint` of what it
    holds, read once per process and date (another date's read is let go first)."""
    key = (settings.warehouse_url, as_of)
    if key not in _KNOWN_HERE:
        _KNOWN_HERE.clear()
        release_memory()
        known = cut(stored_sources(settings), as_of)
        read = records_fingerprint((known.cases, known.events, known.hotline))
        _KNOWN_HERE[key] = (known, read)
    return _KNOWN_HERE[key]


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
