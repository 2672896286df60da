"""The helper process `fengqiao score` starts as it begins: on the second core, while the command imports,
starts its flow and builds the day's features, it decides the call links of the day's window the store
has not stored and builds the day's emerging grievances. The list gives the links to its linker's memo
and takes the grievances when the helper read the records it holds; otherwise it decides and builds them
itself (docs/design/score-helper.md).

This module is imported before the command's heavy imports: pandas, the features and the store are
imported in the helper, or by the functions that need them.
"""

from __future__ import annotations

import logging
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
    """A helper working for one day: its pool, what it was asked, and the futures of its call links (None
    when the settings build no linked-call features) and of its grievances."""

    pool: Any
    settings: Settings
    as_of: date
    links: Any
    grievances: Any

    def serves(self, known: KnownBefore, settings: Settings) -> bool:
        return self.as_of == known.as_of and self.settings == settings


_started: list[_Started] = []
_lock = threading.Lock()


def _cores() -> int:
    """The cores this process may use (affinity and a container's CPU quota counted, as the grid counts)."""
    from joblib.externals.loky import cpu_count

    return int(cpu_count())


def _links_in_helper(settings: Settings, as_of: date) -> dict[bytes, pd.DataFrame]:
    """In the helper: the call-link batches of the day's window that are not stored, decided as the
    list's features decide them (`features.linked_activity.case_links`, once the stored ones are given
    back to its memo, as the list's flow does), by the digest of their inputs."""
    from features.link_memo import MEMO
    from features.linked_activity import case_links
    from pipelines.runtime import known_once
    from pipelines.stored_links import LINK_WINDOW, recall_links

    known, _ = known_once(settings, as_of)
    recall_links(settings, as_of - LINK_WINDOW, as_of, known.hotline)
    recalled = set(MEMO.entries)
    case_links(known.sources, known.instant)
    return {key: links for key, links in MEMO.entries.items() if key not in recalled}


def _grievances_in_helper(settings: Settings, as_of: date) -> tuple[pd.DataFrame, str]:
    """In the helper: the grievances of the day from the store as known before it, and the
    `records_fingerprint` of the records they were built from."""
    from pipelines.grievance_flow import day_grievances
    from pipelines.runtime import known_once

    known, read = known_once(settings, as_of)
    return day_grievances(known, settings), read


def start(settings: Settings, as_of: date) -> bool:
    """Start the day's helper: its call links first (when the settings build linked-call features), then
    its grievances. False (nothing started) when the settings turn it off (`score_helper`), by district
    parts (each part does both for itself) or on a single core."""
    if not settings.score_helper or settings.district_parts > 1 or _cores() < 2:
        return False
    from joblib.externals.loky import ProcessPoolExecutor

    if not settings.warehouse_url.startswith("sqlite"):
        from warehouse.store import Warehouse

        Warehouse(settings.warehouse_url)  # the schema checked here first: two first opens could collide
    pool = None
    try:
        pool = ProcessPoolExecutor(max_workers=1)
        links = pool.submit(_links_in_helper, settings, as_of) if settings.linked_call_features else None
        grievances = pool.submit(_grievances_in_helper, settings, as_of)
    except Exception as error:  # no process could start (limits, memory): the command does it all itself
        logger.warning("the score's helper process could not start (%s): everything is done here", error)
        if pool is not None:
            pool.shutdown(wait=False, kill_workers=True)
        return False
    with _lock:
        _started.append(_Started(pool, settings, as_of, links, grievances))
    return True


def _end(started: _Started) -> None:
    for future in (started.links, started.grievances):
        if future is not None:
            future.cancel()
    started.pool.shutdown(wait=True, kill_workers=True)


def end_all() -> None:
    """End every helper still running (what it builds is not needed)."""
    with _lock:
        ended, _started[:] = list(_started), []
    for started in ended:
        _end(started)


@contextmanager
def score_helper(settings: Settings, as_of: date) -> Iterator[None]:
    """For the block: the day's helper (`start`), whose links and grievances the list takes
    (`give_links`, `taken_grievances`); ended with the block (killed if still working)."""
    start(settings, as_of)
    try:
        yield
    finally:
        end_all()


def give_links(known: KnownBefore, settings: Settings) -> int:
    """Give the call-link batches the helper of the cut's date (started with these settings) decided to
    this process's linker memo, waiting for them if it is still deciding. A batch is used only where the
    digest of its inputs is the one the linker computes here, so a helper that read another store gives
    nothing that is used. Returns the batches given: 0 without such a helper, or when it failed (a
    warning)."""
    from features.link_memo import MEMO

    with _lock:
        found = [s for s in _started if s.serves(known, settings) and s.links is not None]
    if not found:
        return 0
    try:
        decided = found[0].links.result()
    except Exception as error:  # a killed helper, a broken pool: the linker decides them here
        logger.warning("the call links decided by the score's helper failed (%s): decided here", error)
        return 0
    for key, links in decided.items():
        MEMO.put(key, links)
    return len(decided)


def taken_grievances(known: KnownBefore, settings: Settings) -> pd.DataFrame | None:
    """The grievances of the cut's date the helper built, when it was started with these settings and read
    exactly the records of the cut (the same `records_fingerprint`); else None (the caller builds them).
    Waits for the helper if it is still building; a helper that failed is logged (a warning) and left.
    The helper ends once its grievances are taken."""
    with _lock:
        found = [s for s in _started if s.serves(known, settings)]
        for started in found:
            _started.remove(started)
    if not found:
        return None
    try:
        grievances, read = found[0].grievances.result()
    except Exception as error:  # a killed helper, a broken pool, an error in its reading: built here
        logger.warning("the grievances built by the score's helper failed (%s): built here", error)
        return None
    finally:
        for started in found:
            _end(started)
    from warehouse.fingerprints import records_fingerprint

    if read != records_fingerprint((known.cases, known.events, known.hotline)):
        logger.debug("the score's helper read other records than the list's: the grievances built here")
        return None
    return grievances
