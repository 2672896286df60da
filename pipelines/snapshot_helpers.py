"""Training's snapshots built by this process and helper processes at once (training over the whole store
with cores to spare): the snapshot dates are cut into consecutive chunks; the helpers take chunks from the
latest while this process decides and stores the history's call links, then this process takes them from
the earliest until the two meet. Each helper reads the store itself and decides the call links its chunks
read (equal inputs give equal links), so the matrix is the one this process builds alone, row for row
(docs/design/training-helpers.md)."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import date
from types import ModuleType

import pandas as pd
from joblib.externals.loky import ProcessPoolExecutor

from contracts.settings import Settings
from features.known import cut
from features.matrix import training_matrix
from features.partition import consecutive_parts
from features.sources import Sources
from models.matrix_dtypes import compact_matrix
from pipelines.runtime import release_memory, stored_sources
from pipelines.stored_links import LINK_WINDOW, recall_links
from warehouse.fingerprints import records_fingerprint

log = logging.getLogger(__name__)
CHUNKS_PER_PROCESS = 4  # a process's share in chunks: the two meet within about a chunk of each other

# Per helper process: the store as known at the training date, read by its first chunk.
_KNOWN: dict[tuple[str, date], tuple[Sources, str]] = {}


def helper_count(settings: Settings, known: Sources, jobs: int) -> int:
    """The helper processes of a training over the whole store: one fewer than its jobs; none below
    `training_helper_min_records` records, by district parts or on Dask."""
    records = len(known.cases) + len(known.events) + len(known.hotline)
    if settings.task_runner != "local" or settings.district_parts > 1:
        return 0
    return max(jobs - 1, 0) if records >= settings.training_helper_min_records else 0


def snapshots(
    known: Sources,
    dates: Sequence[date],
    settings: Settings,
    families: Sequence[ModuleType],
    progress: Callable[[Iterable], Iterable] = iter,
) -> pd.DataFrame:
    """Features and labels over some snapshot dates, in compact dtypes (`models.matrix_dtypes`)."""
    matrix = training_matrix(
        known,
        dates,
        settings.horizon_days,
        [str(t) for t in settings.escalation_events],
        families,
        progress=progress,
        dormant_days=settings.dormant_days,
    )
    return compact_matrix(matrix)


class StoreChanged(RuntimeError):
    """A helper read other record versions than the training process had (an ingest in between)."""


def _helper_chunk(
    settings: Settings, as_of: date, family_names: list[str], dates: list[date], read: str
) -> pd.DataFrame:
    """In a helper: the chunk's snapshots from the store as known before `as_of` (read once per helper,
    with the call links stored of the chunk's windows given back to its memo); StoreChanged unless the
    store holds the record versions the training process read (`read`: their `records_fingerprint`)."""
    key = (settings.warehouse_url, as_of)
    if key not in _KNOWN:
        _KNOWN.clear()
        release_memory()
        known = cut(stored_sources(settings), as_of).sources
        _KNOWN[key] = (known, records_fingerprint((known.cases, known.events, known.hotline)))
    known, found = _KNOWN[key]
    if found != read:
        raise StoreChanged("the store's records changed after the training process read them")
    recall_links(settings, dates[0] - LINK_WINDOW, dates[-1], known.hotline)
    families = tuple(importlib.import_module(name) for name in family_names)
    return snapshots(known, dates, settings, families)


class SharedSnapshots:
    """The chunks of some snapshot dates, claimed from both ends: each helper process is given the latest
    unclaimed chunk whenever it has none (a feeding thread keeps one chunk per helper, never more, so no
    chunk waits queued for a busy helper), `stack` builds the earliest unclaimed ones in this process from
    `known` (the store as known before the as-of date). A chunk whose helper failed (or read another store)
    is built here too. `helped`: the chunks helpers built. The helpers start at once and, used as a context
    manager, end with its block."""

    def __init__(
        self,
        settings: Settings,
        as_of: date,
        known: Sources,
        dates: Sequence[date],
        families: Sequence[ModuleType],
        helpers: int,
    ) -> None:
        self.settings, self.as_of, self.known, self.families = settings, as_of, known, tuple(families)
        self.parts = consecutive_parts(dates, CHUNKS_PER_PROCESS * (helpers + 1))
        self.helpers = helpers if len(self.parts) > 1 else 0
        self.futures: dict[int, Future] = {}
        self.helped: list[int] = []
        self._unsent: list[int] = []  # claimed for a helper, but the pool refused them
        self._unclaimed = [0, len(self.parts) - 1]  # the first and last chunk no process has claimed
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._names = [family.__name__ for family in families]
        self._read = records_fingerprint((known.cases, known.events, known.hotline)) if self.helpers else ""
        self.pool = ProcessPoolExecutor(max_workers=self.helpers) if self.helpers else None
        self._feeder = threading.Thread(target=self._feed, name="snapshot-helpers", daemon=True)
        if self.pool is not None:
            for _ in range(self.helpers):  # each helper's first chunk at once, the next ones as they finish
                self._give_latest()
            self._feeder.start()

    def _claim(self, latest: bool) -> int | None:
        """The latest (else the earliest) chunk no process has claimed, now claimed; None if none is left."""
        with self._lock:
            first, last = self._unclaimed
            if first > last:
                return None
            self._unclaimed = [first, last - 1] if latest else [first + 1, last]
            return last if latest else first

    def _give_latest(self) -> bool:
        """Submit the latest unclaimed chunk to the helpers; False if none is left or the pool refuses it
        (it is then built here)."""
        index = self._claim(latest=True)
        if index is None or self.pool is None:
            return False
        try:
            self.futures[index] = self.pool.submit(
                _helper_chunk, self.settings, self.as_of, self._names, self.parts[index], self._read
            )
        except Exception as error:  # a broken pool (a helper killed): this process builds the rest
            log.warning("training helpers stopped (%s): the snapshots left are built here", error)
            self._unsent.append(index)
            return False
        return True

    def _feed(self) -> None:
        """Give each helper the latest unclaimed chunk whenever it has none, until none is left."""
        while not self._closing.is_set():
            busy = [future for future in self.futures.values() if not future.done()]
            if len(busy) >= self.helpers:
                wait(busy, timeout=1.0, return_when=FIRST_COMPLETED)
            elif not self._give_latest():
                return

    def _here(self, index: int) -> pd.DataFrame:
        """The chunk's snapshots built in this process."""
        return snapshots(self.known, self.parts[index], self.settings, self.families)

    def _helper_built(self, index: int) -> pd.DataFrame:
        """The chunk as its helper built it; built here if the helper failed (a failure of the snapshots
        themselves fails here again, with this process's traceback)."""
        try:
            frame = self.futures[index].result()
        except Exception as error:
            log.warning("training helper failed on snapshot chunk %d (%s): built here", index, error)
            return self._here(index)
        self.helped.append(index)
        return frame

    def _built(self) -> Iterator[tuple[int, pd.DataFrame]]:
        """(chunk, its snapshots) of every chunk: the earliest unclaimed built here, then the helpers'."""
        while (index := self._claim(latest=False)) is not None:
            yield index, self._here(index)
        if self.pool is not None:
            self._feeder.join()
        for index in sorted(self.futures):
            yield index, self._helper_built(index)
        for index in self._unsent:
            yield index, self._here(index)

    def stack(self, progress: Callable[[Iterable], Iterable] = iter) -> pd.DataFrame:
        """Every chunk's `snapshots` in date order."""
        built = self._built()
        frames = dict(next(built) for _ in progress(range(len(self.parts))))
        return pd.concat([frames[i] for i in sorted(frames)], ignore_index=True) if frames else pd.DataFrame()

    def __enter__(self) -> SharedSnapshots:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """End the helpers (a chunk one is building is dropped)."""
        self._closing.set()
        if self.pool is not None:
            self._feeder.join()
            for future in self.futures.values():
                future.cancel()
            self.pool.shutdown(wait=True, kill_workers=True)
