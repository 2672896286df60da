"""A file's chunks, mapped and validated, with a helper process validating ahead on big files.

Validation (parsing, masking, pseudonymising, hashing) needs no database, so while the ingest run stores
chunk N, a helper process can already read and validate chunk N+1 on the second core. The helper sends
the batches back in file order through a pipe; it blocks until the run takes each one, so at most one
batch waits. The first chunk is validated here while the helper starts (the helper reads past it), so
the run does not wait for the helper's start-up; the helper's batches get their row hashes here, in the
time the run would otherwise wait for the next one (the helper is the longer chain). Results are the
same with or without a helper.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from contracts.timeparse import InstantWindow
from contracts.vocabulary import RecordKind
from ingest.mapping import KindMapping, apply_mapping
from ingest.pseudonymise import Known
from ingest.readers import DEFAULT_MAX_UNPACKED_BYTES, iter_text_chunks
from ingest.validate import ValidatedBatch, validate_frame, with_row_hashes

# A helper pays off for a file of more than one chunk and enough rows to outweigh its start (about a
# second of CPU on the other core, and for a text file, reading it up to its second chunk). Rows are told
# exactly for Parquet (its metadata) and estimated for text files from the lines of their first
# SAMPLE_BYTES (a fixed 100 bytes a row took the demo city's 145,000 calls of 157 bytes for 228,000 rows,
# more than a 200,000-row chunk: a helper started for nothing on a busy machine).
HELPER_MIN_ROWS = 100_000
SAMPLE_BYTES = 1 << 20
HELPER_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet")
_HELPER_CODE = "import sys; from ingest.prefetch import serve; serve(int(sys.argv[1]))"


@dataclass(frozen=True)
class FileJob:
    """Everything needed to read and validate one file (picklable, for the helper process)."""

    path: Path
    kind: RecordKind
    key: bytes
    chunk_rows: int
    encoding: str | None = None
    sheet: str | None = None
    section: KindMapping | None = None
    window: InstantWindow | None = None  # plausible instants (None: validation's default)
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES  # an .xlsx unpacking to more is refused


@dataclass(frozen=True)
class _Failure:
    """An error raised in the helper, to be raised again in the run."""

    error: BaseException


def validated_chunks(job: FileJob, skip: int = 0, hashed: bool = True) -> Iterator[ValidatedBatch]:
    """The file's chunks after the first `skip` (read, never converted), mapped and validated, in order (in
    this process; `hashed=False`: without their row hashes, `validate_frame`)."""
    chunks = iter_text_chunks(
        job.path, job.encoding, job.sheet, job.chunk_rows, job.max_unpacked_bytes, skip=skip
    )
    known: Known = {}  # each identifier pseudonymised once in the file
    for chunk in chunks:
        mapped = apply_mapping(chunk, job.section) if job.section is not None else chunk
        yield validate_frame(
            mapped, job.kind, job.path.name, job.key, window=job.window, known=known, hashed=hashed
        )


def worth_a_helper(job: FileJob) -> bool:
    """Whether the file probably holds more than one chunk and enough rows for validating ahead to pay."""
    suffix = job.path.suffix.lower()
    if suffix not in HELPER_SUFFIXES or os.name != "posix":  # the helper's pipe is passed as a POSIX fd
        return False
    try:
        if suffix == ".parquet":
            rows = pq.ParquetFile(job.path).metadata.num_rows
        else:
            rows = _text_lines(job.path) - (suffix == ".csv")  # a CSV's header is no row
    except Exception:  # an unreadable file is reported by the reader itself, without a helper
        return False
    return rows > job.chunk_rows and rows >= HELPER_MIN_ROWS


def _text_lines(path: Path) -> int:
    """The lines of a text file, estimated from those of its first SAMPLE_BYTES (exact when it is no
    longer; a quoted field over several lines counts them all)."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    lines = sample.count(b"\n") + (not sample.endswith(b"\n") and bool(sample))
    return round(lines * path.stat().st_size / len(sample)) if sample else 0


def prefetched_chunks(job: FileJob, helper: bool | None = None) -> Iterator[ValidatedBatch]:
    """The file's validated chunks in order; past the first, from a helper process when it pays off.

    `helper` forces the choice (None: `worth_a_helper`). An error in the helper is raised here when the
    run reaches the chunk it happened in, as it would have been without a helper.
    """
    if not (worth_a_helper(job) if helper is None else helper):
        yield from validated_chunks(job)
        return
    with _Helper(job) as running:
        own = validated_chunks(job)
        try:
            first = next(own, None)
        finally:
            own.close()
        if first is not None:
            yield first
        while (batch := running.receive()) is not None:
            yield with_row_hashes(batch)  # here, where the run waits for the helper, not in the helper


class _Helper:
    """A helper process validating a file's chunks after the first.

    It is a fresh interpreter that imports this module, so nothing of the caller (its main module, open
    database connections, threads) is copied into it. The job goes in through its standard input; the
    batches come back as pickles through a pipe of their own, so that its output and warnings stay apart.
    """

    def __init__(self, job: FileJob) -> None:
        read_end, write_end = os.pipe()
        code_root = str(Path(__file__).resolve().parents[1])
        paths = [code_root, *filter(None, [os.environ.get("PYTHONPATH")])]
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _HELPER_CODE, str(write_end)],
                stdin=subprocess.PIPE,
                pass_fds=(write_end,),
                env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
            )
        finally:
            os.close(write_end)
        self.batches = os.fdopen(read_end, "rb")
        try:
            assert self.process.stdin is not None
            with self.process.stdin as stdin:
                pickle.dump(job, stdin, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> _Helper:
        return self

    def __exit__(self, *_: object) -> None:
        self.batches.close()
        self.process.kill()
        self.process.wait()

    def receive(self) -> ValidatedBatch | None:
        """The helper's next batch (None when it is done); its error raised here."""
        try:
            message = pickle.load(self.batches)
        except EOFError:
            raise RuntimeError(
                f"the ingest helper process stopped unexpectedly (exit code {self.process.wait()})"
            ) from None
        if isinstance(message, _Failure):
            raise message.error
        return message


def _messages(job: FileJob) -> Iterator[ValidatedBatch | _Failure | None]:
    """What the helper sends: each validated chunk after the first (without its row hashes), then None; or
    the error."""
    try:
        yield from validated_chunks(job, skip=1, hashed=False)
        yield None
    except Exception as error:
        yield _failure(error)


def _failure(error: Exception) -> _Failure:
    """The error as it can be sent back: itself when it pickles, else a RuntimeError with its traceback."""
    try:
        pickle.dumps(error)
    except Exception:
        return _Failure(RuntimeError("".join(traceback.format_exception(error))))
    return _Failure(error)


def serve(fd: int) -> None:
    """Helper process: read the job from standard input, send the messages through the pipe `fd`.

    Ctrl-C is left to the run, which stops the helper; a run that stopped listening ends it quietly.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job = pickle.load(sys.stdin.buffer)
    with os.fdopen(fd, "wb") as out, contextlib.suppress(BrokenPipeError):
        for message in _messages(job):
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
