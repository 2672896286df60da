"""Frames kept as Arrow IPC files in a private folder, each stamped with what it holds: a columnar copy of
loaded store records that a later read of the same records takes instead of the store's row-by-row read
(`pipelines.store_mirror`). A copy is only ever read under the stamp it was written with."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from warehouse.atomic_files import remove_leftovers, write_atomic_with
from warehouse.store import PRIVATE_FILE, PRIVATE_FOLDER

STAMP_KEY = b"fengqiao.mirror.stamp"
SUFFIX = ".arrow"
BATCH_ROWS = 1_000_000  # rows per record batch written (Arrow's copies of a frame made a batch at a time)


def frame_path(folder: Path, name: str) -> Path:
    """Where the frame of that name is kept."""
    return folder / f"{name}{SUFFIX}"


def write_frames(folder: Path, frames: Mapping[str, pd.DataFrame], stamp: str) -> None:
    """Keep each frame (index dropped) under its name, stamped; the folder and files the owner's only,
    each file replaced in one step."""
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    folder.chmod(PRIVATE_FOLDER)
    remove_leftovers(folder)
    for name, frame in frames.items():
        path = frame_path(folder, name)
        write_atomic_with(path, lambda handle, frame=frame: _write_arrow(handle, frame, stamp))
        path.chmod(PRIVATE_FILE)


def _write_arrow(handle: object, frame: pd.DataFrame, stamp: str) -> None:
    """The frame as an Arrow IPC file on an open binary file, a batch of BATCH_ROWS rows at a time (an
    empty frame as one empty batch, which carries its categoricals' categories)."""
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    schema = schema.with_metadata({**(schema.metadata or {}), STAMP_KEY: stamp.encode()})
    with pa.ipc.new_file(handle, schema) as writer:
        for start in range(0, max(len(frame), 1), BATCH_ROWS):
            part = frame.iloc[start : start + BATCH_ROWS]
            writer.write_batch(pa.RecordBatch.from_pandas(part, schema=schema, preserve_index=False))


def read_frames(folder: Path, names: Sequence[str], stamp: str) -> dict[str, pd.DataFrame] | None:
    """The frames of those names written with this stamp; None when one is missing, unreadable or
    stamped otherwise."""
    frames = {}
    for name in names:
        try:
            with pa.OSFile(str(frame_path(folder, name))) as source, pa.ipc.open_file(source) as reader:
                if (reader.schema.metadata or {}).get(STAMP_KEY) != stamp.encode():
                    return None
                frames[name] = _text_categories(reader.read_all())
        except (OSError, pa.ArrowException):
            return None
    return frames


def _text_categories(table: pa.Table) -> pd.DataFrame:
    """The table as pandas, an empty dictionary of text as the empty text categories it was written from
    (Arrow gives it as object categories)."""
    frame = table.to_pandas()
    for field in table.schema:
        if pa.types.is_dictionary(field.type) and _is_text(field.type.value_type):
            values = frame[field.name]
            if values.cat.categories.empty and values.cat.categories.dtype == object:
                frame[field.name] = values.cat.set_categories(pd.Index([], dtype="str"))
    return frame


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def remove_frames(folder: Path) -> None:
    """Delete every kept frame (and leftovers of killed writers) from the folder."""
    if folder.is_dir():
        remove_leftovers(folder)
        for path in folder.glob(f"*{SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
