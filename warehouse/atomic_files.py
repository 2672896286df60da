"""Files replaced in one step: written to a temporary file beside them, fsynced and renamed, so no reader
ever sees half a file; temporary files a killed writer left are removed by the next writer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMPORARY_SUFFIX = ".tmp"


def temporary_path(path: Path) -> Path:
    """Where a file is written before it replaces `path`: same folder, hidden, named by the writer."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMPORARY_SUFFIX}")


def _writer_alive(temporary: Path) -> bool:
    """Whether the process that named this temporary file still runs (False when the name has no pid)."""
    pid = temporary.name.removesuffix(TEMPORARY_SUFFIX).rsplit(".", 1)[-1]
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete temporary files a killed writer left in a folder (their writer no longer runs)."""
    if not folder.is_dir():
        return []
    left = [
        p
        for p in folder.iterdir()
        if p.name.startswith(".") and p.name.endswith(TEMPORARY_SUFFIX) and not _writer_alive(p)
    ]
    for path in left:
        path.unlink(missing_ok=True)
    return left


def _fsync_folder(folder: Path) -> None:
    """Make renames in a folder durable."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _stage(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write the file's temporary path with `write` and fsync it; the temporary path (removed if `write`
    fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_all_atomic(files: dict[Path, bytes]) -> None:
    """Replace several files, each in one step: all are staged (written, fsynced) before the first
    rename, so a writer killed while writing leaves no new file under its final name."""
    staged: list[Path] = []
    try:
        for path, payload in files.items():
            staged.append(_stage(path, lambda handle, data=payload: handle.write(data)))
        for path, temporary in zip(files, staged, strict=True):
            os.replace(temporary, path)
    finally:
        for temporary in staged:
            temporary.unlink(missing_ok=True)
    for folder in {path.parent for path in files}:
        _fsync_folder(folder)


def write_atomic(path: Path, payload: bytes) -> None:
    """Replace a file in one step: temporary file beside it, fsync, rename (readers never see half)."""
    write_all_atomic({path: payload})


def write_atomic_with(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Replace a file in one step with what `write` writes to an open binary file (streamed: no payload in
    memory); a failed `write` leaves the old file."""
    temporary = _stage(path, write)
    try:
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_folder(path.parent)
