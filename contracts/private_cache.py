"""Tables derived from installed libraries' data (jieba's prefix dictionary, pinyin readings), built once
per account and kept in a folder only this account can write, so that later processes load them in a
fraction of the time it takes to build them."""

from __future__ import annotations

import logging
import os
import pickle
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def private_cache() -> Path:
    """A cache folder only this account can write ($XDG_CACHE_HOME/fengqiao, else ~/.cache/fengqiao).
    PermissionError when it is another account's or a symbolic link; OSError when it cannot be made."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fengqiao"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.lstat()
    if stat.S_ISLNK(status.st_mode) or status.st_uid != os.geteuid():
        raise PermissionError(f"{folder} is not a folder of this account")
    folder.chmod(0o700)
    return folder


def kept(name: str, build: Callable[[], T]) -> T:
    """`build()`'s value, read from the private cache file `name` when it is there, else built and kept
    there (written whole or not at all). `name` must change whenever the value would: it names the
    library versions and files the value is built from. A file that cannot be read is built anew; without
    a usable cache folder the value is built every time."""
    try:
        path = private_cache() / f"{name}.pickle"
    except OSError as error:
        log.warning("No private cache folder (%s): the table %s is built, not kept", error, name)
        return build()
    try:
        with path.open("rb") as kept_file:
            return pickle.load(kept_file)  # a folder only this account can write (0700)
    except FileNotFoundError:
        pass
    except Exception as error:  # a truncated or foreign file: rebuilt and replaced
        log.warning("The cached table %s could not be read (%s); it is built again", path, error)
    value = build()
    try:
        _write_whole(path, value)
    except OSError as error:  # a full or read-only disk: the value is still returned
        log.warning("The table %s could not be kept in %s (%s)", name, path.parent, error)
    return value


def _write_whole(path: Path, value: object) -> None:
    """Pickle value to path through a temporary file beside it, so that no reader sees half of it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
