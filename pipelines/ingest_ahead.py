"""The ingest `fengqiao ingest` starts before its flow: the files read, checked and written in a thread while
Prefect's server starts, committed only once the flow's task takes it, else rolled back
(docs/design/ingest-ahead.md)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from ingest.run import IngestReport
from pipelines.runtime import ingest_keyed

logger = logging.getLogger(__name__)


class IngestAbandoned(BaseException):
    """The command ended before its flow took the ingest started ahead (like asyncio's CancelledError, it
    passes the handlers that refuse a single file, so the whole run rolls back)."""


@dataclass(frozen=True)
class IngestCall:
    """One ingest run's arguments: the files, settings, pseudonymisation key and reading options."""

    paths: tuple[Path, ...]
    settings: Settings
    key: bytes = field(repr=False)
    kind: RecordKind | None = None
    encoding: str | None = None
    sheet: str | None = None
    mapping_file: Path | None = None


def ingest_with_progress(
    call: IngestCall,
    before_commit: Callable[[], None] | None = None,
    on_chunk: Callable[[], None] | None = None,
    redirect: bool = True,
) -> IngestReport:
    """`pipelines.runtime.ingest_keyed` of the call with a progress bar per file (`on_chunk` is also
    called after each chunk, `before_commit` last, inside the run's transaction; `redirect`: the bar takes
    over the process's stdout and stderr while shown, which a run in a thread must not do, or whatever
    binds them then, such as Prefect's log handler, keeps the bar's stand-ins)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, redirect_stdout=redirect, redirect_stderr=redirect) as progress:
        bars: dict[Path, int] = {}

        def advance(path: Path, rows: int) -> None:
            if path not in bars:
                bars[path] = progress.add_task(f"Ingesting {path.name} (rows)", total=None)
            progress.advance(bars[path], rows)
            if on_chunk is not None:
                on_chunk()

        return ingest_keyed(
            list(call.paths),
            call.settings,
            call.key,
            kind=call.kind,
            encoding=call.encoding,
            sheet=call.sheet,
            mapping_file=call.mapping_file,
            on_chunk=advance,
            before_commit=before_commit,
        )


class StartedIngest:
    """An ingest run in a thread that, its work done, waits inside its transaction to be committed (`take`)
    or rolled back (`abandon`, which also stops it at its next chunk)."""

    def __init__(self, call: IngestCall) -> None:
        self.call = call
        self.at_commit = threading.Event()  # its work done, the run waits to be taken or abandoned
        self._decided = threading.Event()
        self._commit = False
        self._report: IngestReport | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ingest-ahead")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._report = ingest_with_progress(
                self.call, before_commit=self._gate, on_chunk=self._check, redirect=False
            )
        except BaseException as error:  # handed to whoever takes the run
            self._error = error

    def _check(self) -> None:
        if self._decided.is_set() and not self._commit:
            raise IngestAbandoned

    def _gate(self) -> None:
        self.at_commit.set()
        self._decided.wait()
        self._check()

    def take(self) -> IngestReport:
        """Commit the run once its work is done; its report (its error, if it failed). Interrupted while
        it waits (Ctrl-C), the run is rolled back instead, unless its commit has begun."""
        self._commit = True
        self._decided.set()
        try:
            self._thread.join()
        except BaseException:
            self._commit = False
            raise
        if self._error is not None:
            raise self._error
        assert self._report is not None
        return self._report

    def abandon(self) -> None:
        """Roll the run back (at once, or at its next chunk) unless it was taken; wait for it to end."""
        self._decided.set()
        self._thread.join()
        if self._error is not None and not isinstance(self._error, IngestAbandoned):
            logger.debug("the ingest started ahead, abandoned, had failed: %s", self._error)


_waiting: list[StartedIngest] = []


@contextmanager
def ingest_ahead(call: IngestCall) -> Iterator[None]:
    """Within the block, the call's ingest runs in a thread, waiting to be taken by `taken_ahead` (the flow's
    task); at the end, rolled back unless taken."""
    started = StartedIngest(call)
    _waiting.append(started)
    started.start()
    try:
        yield
    finally:
        if started in _waiting:
            _waiting.remove(started)
        started.abandon()


def taken_ahead(call: IngestCall) -> StartedIngest | None:
    """The ingest started ahead with exactly these arguments, now this caller's to take (once); any other
    started ahead is rolled back first (it holds the store's write transaction, which the caller's own
    ingest would wait for)."""
    waiting = list(_waiting)
    _waiting.clear()
    found = None
    for started in waiting:
        if found is None and started.call == call:
            found = started
        else:
            started.abandon()
    return found
