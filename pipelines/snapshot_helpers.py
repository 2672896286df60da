"""Training's snapshots built by this process and helper processes at once (training over the whole store
with cores to spare): the snapshot dates are cut into consecutive chunks; the helpers take chunks from the
latest while this process decides and stores the history's call links, then this process takes them from
the earliest (a chunk no helper has begun is taken back) until the two meet. Each helper reads the store
itself and decides the call links its chunks read (equal inputs give equal links), so the matrix is the
one this process builds alone, row for row (docs/design/training-helpers.md)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import date
from itertools import pairwise
from types import ModuleType

import pandas as pd
from joblib.externals.loky import ProcessPoolExecutor

from contracts.settings import Settings
from features.known import cut
from features.matrix import training_matrix
from features.sources import Sources
from models.matrix_dtypes import compact_matrix
from pipelines.runtime import load_sources, open_warehouse, release_memory
from pipelines.stored_links import LINK_WINDOW, recall_links

CHUNKS_PER_PROCESS = 4  # a process's share in chunks: the two meet within about a chunk of each other

# Per helper process: the store as known at the training date, read by its first chunk.
_KNOWN: dict[tuple[str, date], Sources] = {}


def helper_count(settings: Settings, known: Sources, jobs: int) -> int:
    """The helper processes of a training over the whole store: one fewer than its jobs; none below
    `training_helper_min_records` records, by district parts or on Dask."""
    records = len(known.cases) + len(known.events) + len(known.hotline)
    if settings.task_runner != "local" or settings.district_parts > 1:
        return 0
    return max(jobs - 1, 0) if records >= settings.training_helper_min_records else 0


def chunks(dates: Sequence[date], count: int) -> list[list[date]]:
    """The dates cut into at most `count` consecutive chunks of nearly equal length, in date order."""
    count = max(1, min(count, len(dates)))
    size, extra = divmod(len(dates), count)
    bounds = [i * size + min(i, extra) for i in range(count + 1)]
    return [list(dates[a:b]) for a, b in pairwise(bounds)]


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


def _helper_chunk(
    settings: Settings, as_of: date, family_names: list[str], dates: list[date]
) -> pd.DataFrame:
    """In a helper: the chunk's snapshots from the store as known before `as_of` (read once per helper,
    with the call links stored of the chunk's windows given back to its memo)."""
    key = (settings.warehouse_url, as_of)
    if key not in _KNOWN:
        _KNOWN.clear()
        release_memory()
        _KNOWN[key] = cut(load_sources(open_warehouse(settings)), as_of).sources
    known = _KNOWN[key]
    recall_links(settings, dates[0] - LINK_WINDOW, dates[-1], known.hotline)
    families = tuple(importlib.import_module(name) for name in family_names)
    return snapshots(known, dates, settings, families)


class SharedSnapshots:
    """The chunks of some snapshot dates, the latest given to helper processes as they start (`helped`:
    the chunks a helper built), the others built by `stack` in this process."""

    def __init__(
        self,
        settings: Settings,
        as_of: date,
        dates: Sequence[date],
        families: Sequence[ModuleType],
        helpers: int,
    ) -> None:
        self.settings, self.families = settings, tuple(families)
        self.parts = chunks(dates, CHUNKS_PER_PROCESS * (helpers + 1))
        self.pool = ProcessPoolExecutor(max_workers=helpers) if helpers and len(self.parts) > 1 else None
        self.futures: dict[int, Future] = {}
        self.helped: list[int] = []
        names = [family.__name__ for family in families]
        if self.pool is not None:
            for index in reversed(range(1, len(self.parts))):  # the latest first; the first is ours
                self.futures[index] = self.pool.submit(
                    _helper_chunk, settings, as_of, names, self.parts[index]
                )

    def stack(self, known: Sources, progress: Callable[[Iterable], Iterable] = iter) -> pd.DataFrame:
        """Every chunk's `snapshots` in date order: those no helper has begun built here from `known` (the
        store as known before the as-of date), the others as their helper built them."""
        frames = []
        for index in progress(range(len(self.parts))):
            future = self.futures.get(index)
            if future is None or future.cancel():  # not begun by a helper: built here
                frames.append(snapshots(known, self.parts[index], self.settings, self.families))
            else:
                frames.append(future.result())
                self.helped.append(index)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def close(self) -> None:
        """End the helpers (a chunk one is building is dropped)."""
        if self.pool is not None:
            for future in self.futures.values():
                future.cancel()
            self.pool.shutdown(wait=True, kill_workers=True)


@contextmanager
def shared_snapshots(
    settings: Settings,
    as_of: date,
    dates: Sequence[date],
    families: Sequence[ModuleType],
    helpers: int,
) -> Iterator[SharedSnapshots]:
    """`SharedSnapshots` of the dates whose helpers (`helpers` processes) start at once and end with the
    block."""
    shared = SharedSnapshots(settings, as_of, dates, families, helpers)
    try:
        yield shared
    finally:
        shared.close()
