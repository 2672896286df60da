"""The loaded store kept as a columnar copy in the home's cache (`warehouse.mirror`): a command whose store
holds the record versions the copy was made of (`warehouse.day_window.stored_fingerprint`, read from the
row hashes alone) takes the copy instead of reading every record; any change to the records (an ingest, a
rotation of the pseudonymisation key) makes a new copy at the next read. Design:
docs/design/store-mirror.md."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
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


def layout(columns: dict[str, tuple[str, ...]]) -> str:
    """What besides the records decides a loaded store's frames: the columns read, how text is compacted,
    this format and the pandas and Arrow versions."""
    described = {
        "format": MIRROR_FORMAT,
        "columns": columns,
        "categorical": CATEGORICAL_COLUMNS,
        "categorical_max_share": CATEGORICAL_MAX_SHARE,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def stamp(columns: dict[str, tuple[str, ...]], records: str) -> str:
    """A copy's stamp: its layout and the fingerprint of the record versions it holds."""
    return f"{layout(columns)}:{records}"


def mirrored_sources(
    warehouse: Warehouse, folder: Path, columns: dict[str, tuple[str, ...]], read: Callable[[], Sources]
) -> Sources:
    """The loaded store (`read()`: every stored record with these columns), from the copy in `folder` when
    it holds the record versions the store holds, else read and copied there."""
    kept = read_frames(folder, NAMES, stamp(columns, stored_fingerprint(warehouse)))
    if kept is not None:
        return Sources.ordered(**kept)
    sources = read()
    frames = {name: getattr(sources, name) for name in NAMES}
    try:
        write_frames(folder, frames, stamp(columns, records_fingerprint(tuple(frames.values()))))
    except (OSError, pa.ArrowException) as error:  # a full disk or a read-only home: slower, never failed
        log.warning("could not keep a columnar copy of the store in %s (%s)", folder, error)
    return sources


def forget_copy(folder: Path) -> None:
    """Delete the copy (after a rotation of the pseudonymisation key, so no old pseudonym stays on disk)."""
    remove_frames(folder)
