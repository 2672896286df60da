"""The loaded store kept as a columnar copy in the home's cache (`warehouse.mirror`): a command whose store
holds the record versions the copy was made of (`warehouse.day_window.stored_fingerprint`, read from the
row hashes alone) takes the copy instead of reading every record; any change to the records (an ingest, a
rotation of the pseudonymisation key) makes a new copy at the next read. Design:
docs/design/store-mirror.md."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa

from features.sources import CATEGORICAL_COLUMNS, CATEGORICAL_MAX_SHARE, Sources
from warehouse.day_window import stored_fingerprint
from warehouse.fingerprints import records_fingerprint
from warehouse.mirror import read_frames, remove_frames, write_frames
from warehouse.store import Warehouse

MIRROR_FORMAT = 1  # raise when what a load returns changes in a way the stamp's other parts do not name
NAMES = ("cases", "events", "hotline")

log = logging.getLogger(__name__)


# The modules whose code decides what a load of the store returns (reading, typing, the caller-name rule,
# compaction, ordering, this copy): any change to them makes copies of older code stale.
LOADING_CODE = ("warehouse.store", "features.sources", "pipelines.runtime", "warehouse.mirror", __name__)


def layout(columns: dict[str, tuple[str, ...]]) -> str:
    """What besides the records decides a loaded store's frames: the columns read, how text is compacted,
    the loading code (`LOADING_CODE`), this format and the pandas and Arrow versions."""
    described = {
        "format": MIRROR_FORMAT,
        "columns": columns,
        "categorical": CATEGORICAL_COLUMNS,
        "categorical_max_share": CATEGORICAL_MAX_SHARE,
        "code": loading_code(),
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


@cache
def loading_code() -> str:
    """A digest of the source of `LOADING_CODE` (read from the files, nothing imported)."""
    digest = hashlib.sha256()
    for name in LOADING_CODE:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(name)
        digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()


def stamp(columns: dict[str, tuple[str, ...]], records: str) -> str:
    """A copy's stamp: its layout and the fingerprint of the record versions it holds."""
    return f"{layout(columns)}:{records}"


def mirrored_sources(
    warehouse: Warehouse, folder: Path, columns: dict[str, tuple[str, ...]], read: Callable[[], Sources]
) -> Sources:
    """The loaded store (`read()`: every stored record with these columns), from the copy in `folder` when
    it holds the record versions the store holds, else read and copied there."""
    stored = stored_fingerprint(warehouse)
    kept = read_frames(folder, NAMES, stamp(columns, stored))
    if kept is not None and records_fingerprint(tuple(kept.values())) == stored:  # and the copy is whole
        return Sources.ordered(**kept)
    sources = read()
    frames = {name: getattr(sources, name) for name in NAMES}
    read_records = records_fingerprint(tuple(frames.values()))
    if read_records != stored_fingerprint(warehouse):  # the store changed while it was read: no copy of that
        return sources
    try:
        write_frames(folder, frames, stamp(columns, read_records))
    except (OSError, pa.ArrowException) as error:  # a full disk or a read-only home: slower, never failed
        log.warning("could not keep a columnar copy of the store in %s (%s)", folder, error)
    return sources


def forget_copy(folder: Path) -> None:
    """Delete the copy (around a rotation of the pseudonymisation key, so no old pseudonym stays on disk); a
    copy that cannot be deleted (a folder another account owns) is reported, never fatal."""
    try:
        remove_frames(folder)
    except OSError as error:
        log.warning("could not delete the store's columnar copy in %s (%s): delete it by hand", folder, error)
