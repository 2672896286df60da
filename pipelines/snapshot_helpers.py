"""Training's call links and snapshots built by this process and helper processes at once (training over
the whole store with cores to spare). The days whose call links the store lacks are cut into chunks of
days (`pipelines.stored_links.day_chunks`), the snapshot dates into consecutive chunks; each kind is
claimed from both ends, the helpers taking the latest chunks and this process the earliest, the links
first: a helper goes on to the latest snapshots once every link chunk is claimed, this process once the
links are all decided and stored. Each helper reads the store itself; equal inputs give equal links, so
the links and the matrix are those this process decides and builds alone, row for row
(docs/design/training-helpers.md)."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import ModuleType
from typing import Any

import pandas as pd
from joblib.externals.loky import ProcessPoolExecutor

from contracts.settings import Settings
from features.matrix import training_matrix
from features.partition import consecutive_parts
from features.sources import Sources
from models.matrix_dtypes import compact_matrix
from pipelines.runtime import known_once
from pipelines.stored_links import LINK_WINDOW, chunk_decisions, day_chunks, recall_links, stacked_decisions
from warehouse.fingerprints import records_fingerprint

log = logging.getLogger(__name__)
CHUNKS_PER_PROCESS = 4  # a process's share in chunks: the two meet within about a chunk of each other
# Link chunks shared with the helpers from this many per process: a helper's start (about 4 s on 2 cores:
# an interpreter, the imports, its read of the store) is about three chunks' deciding; fewer (a weekly
# retraining's days) are decided here while the helpers start.
LINK_CHUNKS_PER_PROCESS = 4


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


def _known(settings: Settings, as_of: date, read: str) -> Sources:
    """In a helper: the store as known before `as_of` (read once per helper, `pipelines.runtime.known_once`);
    StoreChanged unless it holds the record versions the training process read (`read`: their
    `records_fingerprint`)."""
    known, found = known_once(settings, as_of)
    if found != read:
        raise StoreChanged("the store's records changed after the training process read them")
    return known.sources


def _helper_links(settings: Settings, as_of: date, days: list[date], read: str) -> pd.DataFrame:
    """In a helper: the links decided at the midnights of a chunk of days (`chunk_decisions`), the links
    stored of those days given back to its memo first."""
    known = _known(settings, as_of, read)
    recall_links(settings, days[0], days[-1] + timedelta(days=1), known.hotline)
    return chunk_decisions(known, days)


def _helper_snapshots(
    settings: Settings, as_of: date, dates: list[date], read: str, family_names: list[str]
) -> pd.DataFrame:
    """In a helper: the chunk's snapshots, the call links stored of the chunk's windows given back to its
    memo first (those it decided itself are there already)."""
    known = _known(settings, as_of, read)
    recall_links(settings, dates[0] - LINK_WINDOW, dates[-1], known.hotline)
    families = tuple(importlib.import_module(name) for name in family_names)
    return snapshots(known, dates, settings, families)


@dataclass
class _Work:
    """Chunks of one kind, claimed from both ends: `helper` builds one in a helper process (called with the
    settings, the as-of date, the chunk, the training process's read and `extra`). `futures`: the chunks
    given to helpers; `helped`: those they built; `unsent`: those the pool refused."""

    parts: list[list[date]]
    helper: Callable[..., pd.DataFrame]
    extra: tuple[Any, ...] = ()
    futures: dict[int, Future] = field(default_factory=dict)
    helped: list[int] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)
    unclaimed: list[int] = field(init=False)  # the first and last chunk no process has claimed

    def __post_init__(self) -> None:
        self.unclaimed = [0, len(self.parts) - 1]

    def left(self) -> bool:
        return self.unclaimed[0] <= self.unclaimed[1]

    def claim(self, latest: bool) -> int | None:
        """The latest (else the earliest) chunk no process has claimed, now claimed; None if none is left."""
        if not self.left():
            return None
        first, last = self.unclaimed
        self.unclaimed = [first, last - 1] if latest else [first + 1, last]
        return last if latest else first


class SharedSnapshots:
    """The chunks of the call links to decide (`decide_links`) and of the snapshot dates (`stack`), each
    kind claimed from both ends: each helper process is given the latest unclaimed chunk whenever it has
    none (links while any is unclaimed, then snapshots; a feeding thread keeps one chunk per helper, never
    more, so no chunk waits queued for a busy helper), this process builds the earliest unclaimed ones
    from `known` (the store as known before the as-of date). A chunk whose helper failed (or read another
    store) is built here too. `parts`, `futures` and `helped`: the snapshot chunks, those given to helpers
    and those they built. The helpers start (`start`) with the first of `decide_links` (when it shares its
    chunks), the caller's own call or `stack`, and, used as a context manager, end with its block."""

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
        self._snapshots = _Work(self.parts, _helper_snapshots, ([family.__name__ for family in families],))
        self.futures, self.helped = self._snapshots.futures, self._snapshots.helped
        self._links: _Work | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._read = records_fingerprint((known.cases, known.events, known.hotline)) if self.helpers else ""
        self.pool = ProcessPoolExecutor(max_workers=self.helpers) if self.helpers else None
        self._feeder = threading.Thread(target=self._feed, name="snapshot-helpers", daemon=True)

    def start(self) -> None:
        """Give each helper its first chunk, and the next ones as they finish (once)."""
        if self.pool is None or self._feeder.ident is not None:
            return
        for _ in range(self.helpers):
            self._give_latest()
        self._feeder.start()

    def decide_links(self, days: Sequence[date]) -> pd.DataFrame:
        """The links decided at the midnights of the days (`pipelines.stored_links.decisions_of_days` of
        `known`, the same rows), the latest chunks of days decided by the helpers when there are at least
        `LINK_CHUNKS_PER_PROCESS` per process (else all here, the helpers not started); before `start`."""
        if self._feeder.ident is not None:
            raise RuntimeError("the links are decided before the helpers start on the snapshots")
        chunks = day_chunks(days)
        links = _Work(chunks, _helper_links)
        if len(chunks) >= LINK_CHUNKS_PER_PROCESS * (self.helpers + 1):
            self._links = links
            self.start()
        frames = dict(self._built(links, lambda index: chunk_decisions(self.known, chunks[index])))
        return stacked_decisions([frames[index] for index in sorted(frames)])

    def _claim(self, work: _Work, latest: bool) -> int | None:
        with self._lock:
            return work.claim(latest)

    def _give_latest(self) -> bool:
        """Submit the latest unclaimed chunk (of links while any is left, else of snapshots) to the
        helpers; False if none is left or the pool refuses it (it is then built here). The claim and the
        submission are one step, so a chunk claimed is always among its kind's futures or unsent."""
        with self._lock:
            work = self._links if self._links is not None and self._links.left() else self._snapshots
            index = work.claim(latest=True)
            if index is None or self.pool is None:
                return False
            try:
                work.futures[index] = self.pool.submit(
                    work.helper, self.settings, self.as_of, work.parts[index], self._read, *work.extra
                )
            except Exception as error:  # a broken pool (a helper killed): this process builds the rest
                log.warning("training helpers stopped (%s): the chunks left are built here", error)
                work.unsent.append(index)
                return False
            return True

    def _feed(self) -> None:
        """Give each helper the latest unclaimed chunk whenever it has none, until none is left."""
        works = [work for work in (self._links, self._snapshots) if work is not None]
        while not self._closing.is_set():
            busy = [f for work in works for f in list(work.futures.values()) if not f.done()]
            if len(busy) >= self.helpers:
                wait(busy, timeout=1.0, return_when=FIRST_COMPLETED)
            elif not self._give_latest():
                return

    def _here(self, index: int) -> pd.DataFrame:
        """The snapshot chunk built in this process."""
        return snapshots(self.known, self.parts[index], self.settings, self.families)

    def _helper_built(self, work: _Work, index: int, here: Callable[[int], pd.DataFrame]) -> pd.DataFrame:
        """The chunk as its helper built it; built here if the helper failed (a failure of the chunk's work
        itself fails here again, with this process's traceback)."""
        try:
            frame = work.futures[index].result()
        except Exception as error:
            log.warning(
                "training helper failed on chunk %d of %s (%s): built here",
                index,
                work.helper.__name__,
                error,
            )
            return here(index)
        work.helped.append(index)
        return frame

    def _built(self, work: _Work, here: Callable[[int], pd.DataFrame]) -> Iterator[tuple[int, pd.DataFrame]]:
        """(chunk, its frame) of every chunk of the work: the earliest unclaimed built here, then the
        helpers'."""
        while (index := self._claim(work, latest=False)) is not None:
            yield index, here(index)
        with self._lock:  # every chunk is claimed: each is among the futures or unsent
            sent, unsent = sorted(work.futures), list(work.unsent)
        for index in sent:
            yield index, self._helper_built(work, index, here)
        for index in unsent:
            yield index, here(index)

    def stack(self, progress: Callable[[Iterable], Iterable] = iter) -> pd.DataFrame:
        """Every snapshot chunk's `snapshots` in date order."""
        self.start()
        built = self._built(self._snapshots, self._here)
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
            if self._feeder.ident is not None:
                self._feeder.join()
            for work in (self._links, self._snapshots):
                for future in work.futures.values() if work is not None else ():
                    future.cancel()
            self.pool.shutdown(wait=True, kill_workers=True)
