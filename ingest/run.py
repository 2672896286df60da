"""One ingest run: files streamed in chunks into the store inside one transaction (a savepoint per file)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, and_, select

from contracts.timeparse import local_now
from contracts.vocabulary import RecordKind
from ingest.mapping import ColumnMapping, MappingError, kind_for
from ingest.plan import ACCOUNTING_COLUMNS, classify, held_reasons, latest_versions
from ingest.prefetch import FileJob, prefetched_chunks
from ingest.readers import (
    DEFAULT_CHUNK_ROWS,
    ROW_COLUMN,
    UnreadableFileError,
    detect_kind,
    expand_paths,
    iter_text_chunks,
)
from ingest.validate import MissingColumnsError
from warehouse import tables
from warehouse.store import Warehouse, append, typed_frame

KIND_ORDER = (RecordKind.CASES, RecordKind.CASE_EVENTS, RecordKind.HOTLINE)
FILE_ERRORS = (UnreadableFileError, MissingColumnsError, MappingError)
RUN_COLUMNS = ("source_file", "kind", "status", *ACCOUNTING_COLUMNS, "released", "message")

ChunkCallback = Callable[[Path, int], None]


@dataclass
class FileOutcome:
    """What happened to one file: its accounting, or why it was refused."""

    path: Path
    kind: RecordKind | None
    status: str = "ingested"
    message: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACCOUNTING_COLUMNS, 0))
    released: int = 0

    def row(self) -> dict[str, object]:
        """The outcome as one accounting row."""
        return {
            "source_path": str(self.path.resolve()),
            "source_file": self.path.name,
            "kind": self.kind.value if self.kind else None,
            "status": self.status,
            **self.counts,
            "released": self.released,
            "message": self.message,
        }


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did: per-file accounting, refused files, held events released."""

    run_id: str
    accounting: pd.DataFrame
    failed: dict[str, str]
    released_events: int


@dataclass(frozen=True)
class _Run:
    connection: Connection
    key: bytes
    run_id: str
    now: pd.Timestamp


def ingest_paths(
    paths: list[Path],
    warehouse: Warehouse,
    key: bytes,
    *,
    kind: RecordKind | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping: ColumnMapping | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_chunk: ChunkCallback | None = None,
) -> IngestReport:
    """Ingest files (cases first, then events, then calls); all of it commits together or not at all.

    A file that cannot be read, lacks required columns or does not fit the mapping is refused alone
    (its savepoint is rolled back) and the others go on.
    """
    encoding = encoding or (mapping.encoding if mapping else None)
    sheet = sheet or (mapping.sheet if mapping else None)
    named = {path.resolve() for path in paths if path.is_file()}
    outcomes = [_classify_file(path, kind, encoding, sheet, mapping) for path in expand_paths(paths)]
    for outcome in outcomes:
        if outcome.kind is None and outcome.path.resolve() not in named:
            outcome.status = "skipped"
    outcomes.sort(key=lambda o: (KIND_ORDER.index(o.kind) if o.kind else -1, str(o.path)))
    run_id = uuid.uuid4().hex[:12]
    with warehouse.transaction() as connection:
        run = _Run(connection, key, run_id, local_now())
        for outcome in outcomes:
            if outcome.status != "ingested":
                continue
            try:
                with connection.begin_nested():
                    _ingest_file(run, outcome, encoding, sheet, mapping, chunk_rows, on_chunk)
            except FILE_ERRORS as error:
                outcome.status, outcome.message = "failed", str(error)
                outcome.counts = dict.fromkeys(ACCOUNTING_COLUMNS, 0)
                outcome.released = 0
        released = _release_held_events(run)
        accounting = pd.DataFrame([o.row() for o in outcomes])
        append(connection, tables.ingest_runs, accounting.assign(run_id=run_id, finished_at=run.now))
    columns = list(RUN_COLUMNS)
    shown = accounting[columns] if len(accounting) else pd.DataFrame(columns=columns)
    failed = {o.path.name: o.message for o in outcomes if o.status == "failed"}
    return IngestReport(run_id, shown, failed, released)


def _classify_file(
    path: Path,
    kind: RecordKind | None,
    encoding: str | None,
    sheet: str | None,
    mapping: ColumnMapping | None,
) -> FileOutcome:
    """The file's record kind from a look at its header; a file that cannot be read is refused here."""
    try:
        header = next(iter_text_chunks(path, encoding, sheet, chunk_rows=2), pd.DataFrame())
        columns = [c for c in header.columns if c != ROW_COLUMN]
        found = kind or (kind_for(mapping, path.name, columns) if mapping else None)
        return FileOutcome(path, detect_kind(path, columns, found))
    except FILE_ERRORS as error:
        return FileOutcome(path, kind, status="failed", message=str(error))


def skipped(report: IngestReport) -> list[str]:
    """Files found in folders that are not deliveries of any record kind (left alone)."""
    return report.accounting.loc[report.accounting["status"] == "skipped", "source_file"].tolist()


def _ingest_file(
    run: _Run,
    outcome: FileOutcome,
    encoding: str | None,
    sheet: str | None,
    mapping: ColumnMapping | None,
    chunk_rows: int,
    on_chunk: ChunkCallback | None,
) -> None:
    """Stream one file into the store and fill in its accounting."""
    kind, path = outcome.kind, outcome.path
    assert kind is not None
    source_path = str(path.resolve())
    outcome.released = Warehouse.release_quarantine(
        run.connection, tables.quarantine.c.source_path == source_path, run.run_id, run.now
    )
    section = mapping.kinds.get(kind) if mapping else None
    job = FileJob(path, kind, run.key, chunk_rows, encoding, sheet, section)
    for batch in prefetched_chunks(job):
        records, quarantine = batch.records, batch.quarantine
        if kind is RecordKind.CASE_EVENTS:
            present = Warehouse.stored_case_ids(run.connection, records["case_id"])
            orphan = ~records["case_id"].isin(present)
            _hold_events(run, records[orphan], source_path)
            quarantine = pd.concat([quarantine, held_reasons(records[orphan], path.name)], ignore_index=True)
            records = records[~orphan]
        status = _store_records(run, kind, records)
        _quarantine(run, quarantine, source_path)
        counts = outcome.counts
        counts["read"] += batch.read
        counts["quarantined"] += int(quarantine["row"].nunique()) if len(quarantine) else 0
        for name, label in (("accepted", "accepted"), ("updated", "updated"), ("duplicates", "duplicate")):
            counts[name] += int((status == label).sum())
        if on_chunk is not None:
            on_chunk(path, batch.read)


def _store_records(run: _Run, kind: RecordKind, records: pd.DataFrame) -> pd.Series:
    """Write new and changed records (earlier versions go to history); the status of each record."""
    table = tables.INPUT_TABLES[kind]
    existing = Warehouse.hashes_of(run.connection, kind, records["record_key"])
    status = classify(records, existing)
    changed = latest_versions(records, status)
    replaced = changed.loc[changed["record_key"].isin(existing.index), "record_key"]
    if len(replaced):
        _keep_history(run, kind, replaced)
        Warehouse.delete_rows(run.connection, table, "record_key", replaced)
    append(run.connection, table, changed.assign(ingested_at=run.now))
    open_keys = Warehouse.open_quarantine_keys(run.connection, kind)
    now_good = open_keys & set(records["record_key"].tolist()) if open_keys else set()
    if now_good:
        q = tables.quarantine.c
        Warehouse.release_quarantine(
            run.connection,
            and_(q.kind == kind.value, q.record_key.in_(sorted(now_good))),
            run.run_id,
            run.now,
        )
    return status


def _keep_history(run: _Run, kind: RecordKind, keys: pd.Series) -> None:
    """Copy the stored versions of records about to be replaced into the history table."""
    old = Warehouse.read_rows(run.connection, tables.INPUT_TABLES[kind], "record_key", keys)
    payloads = old.drop(columns=["record_key", "row_hash"]).astype(object)
    payloads = payloads.where(payloads.notna(), None).to_dict("records")
    history = pd.DataFrame(
        {
            "kind": kind.value,
            "record_key": old["record_key"],
            "row_hash": old["row_hash"],
            "payload": [json.dumps(p, ensure_ascii=False, default=str, sort_keys=True) for p in payloads],
            "superseded_at": run.now,
            "superseded_by_run": run.run_id,
        }
    )
    append(run.connection, tables.record_history, history)


def _hold_events(run: _Run, orphans: pd.DataFrame, source_path: str) -> None:
    """Keep events whose case is missing until it arrives (a newer delivery of the same event replaces it)."""
    if orphans.empty:
        return
    latest = orphans.drop_duplicates("record_key", keep="last")
    Warehouse.delete_rows(run.connection, tables.held_events, "record_key", latest["record_key"])
    held = latest.rename(columns={ROW_COLUMN: "row"}).assign(source_path=source_path, ingested_at=run.now)
    append(run.connection, tables.held_events, held)


def _quarantine(run: _Run, quarantine: pd.DataFrame, source_path: str) -> None:
    append(
        run.connection,
        tables.quarantine,
        quarantine.assign(run_id=run.run_id, source_path=source_path, quarantined_at=run.now),
    )


def _release_held_events(run: _Run) -> int:
    """Store held events whose case has arrived; how many were released."""
    held_table = tables.held_events
    arrived = select(held_table).where(held_table.c.case_id.in_(select(tables.cases.c.case_id)))
    held = pd.read_sql(arrived, run.connection)
    if held.empty:
        return 0
    held = typed_frame(held, held_table)
    records = held.drop(columns=["source_path", "row", "ingested_at"])
    _store_records(run, RecordKind.CASE_EVENTS, records)
    Warehouse.delete_rows(run.connection, held_table, "record_key", held["record_key"])
    return len(held)
