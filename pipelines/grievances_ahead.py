"""The day's emerging grievances that `fengqiao score` builds in a helper process from its start, while the
command itself imports, starts its flow and builds the day's features on the other core; the list takes
them when the helper read the records it holds, else builds them itself (docs/design/grievances-ahead.md).

This module is imported before the command's heavy imports: pandas, the features and the store are
imported in the helper, or by the functions that need them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from contracts.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from features.known import KnownBefore

logger = logging.getLogger(__name__)


@dataclass
class _Started:
    """A helper building one day's grievances: its pool, the result's future, and what it was asked."""

    pool: Any
    future: Any
    settings: Settings
    as_of: date


_started: list[_Started] = []
_lock = threading.Lock()


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _built_in_helper(settings: Settings, as_of: date) -> tuple[pd.DataFrame, str]:
    """In the helper: the grievances of the day from the store as known before it, and the
    `records_fingerprint` of the records they were built from."""
    from features.known import cut
    from pipelines.grievance_flow import day_grievances
    from pipelines.runtime import stored_sources
    from warehouse.fingerprints import records_fingerprint

    known = cut(stored_sources(settings), as_of)
    return day_grievances(known, settings), records_fingerprint((known.cases, known.events, known.hotline))


def start(settings: Settings, as_of: date) -> bool:
    """Start building the day's grievances in a helper process; False (nothing started) when the settings
    turn it off (`grievances_ahead`), by district parts (each part builds its own) or on a single core."""
    if not settings.grievances_ahead or settings.district_parts > 1 or _cores() < 2:
        return False
    from joblib.externals.loky import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1)
    with _lock:
        _started.append(_Started(pool, pool.submit(_built_in_helper, settings, as_of), settings, as_of))
    return True


def _end(started: _Started) -> None:
    started.future.cancel()
    started.pool.shutdown(wait=True, kill_workers=True)


def abandon_all() -> None:
    """End every helper still building (their grievances are not needed)."""
    with _lock:
        ended, _started[:] = list(_started), []
    for started in ended:
        _end(started)


@contextmanager
def grievances_ahead(settings: Settings, as_of: date) -> Iterator[None]:
    """For the block: the day's grievances built in a helper (`start`), taken by the list (`taken`);
    a helper whose grievances were not taken is ended with the block."""
    start(settings, as_of)
    try:
        yield
    finally:
        abandon_all()


def taken(known: KnownBefore, settings: Settings) -> pd.DataFrame | None:
    """The grievances of the cut's date a helper built, when it was started with these settings and read
    exactly the records of the cut (the same `records_fingerprint`); else None (the caller builds them).
    Waits for the helper if it is still building; a helper that failed is logged and left."""
    with _lock:
        found = [s for s in _started if s.as_of == known.as_of and s.settings == settings]
        for started in found:
            _started.remove(started)
    if not found:
        return None
    started = found[0]
    try:
        grievances, read = started.future.result()
    except Exception as error:  # a killed helper, a broken pool, an error in its reading: built here
        logger.debug("the grievances built ahead failed (%s): built here", error)
        return None
    finally:
        for each in found:
            _end(each)
    from warehouse.fingerprints import records_fingerprint

    if read != records_fingerprint((known.cases, known.events, known.hotline)):
        logger.debug("the grievances built ahead read other records than the list's: built here")
        return None
    return grievances
