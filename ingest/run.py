"""One ingest run: files streamed in chunks into the store inside one transaction (a savepoint per file)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, and_, select
from sqlalchemy.exc import SQLAlchemyError

from contracts.timeparse import InstantWindow, local_now
from contracts.vocabulary import RecordKind
from ingest.delivery import NOT_SEEN, Delivery, key_hashes
from ingest.mapping import ColumnMapping, MappingError, kind_for
from ingest.plan import (
    ACCOUNTING_COLUMNS,
    SUPERSEDED,
    SUPERSEDED_FIELD,
    classify,
    held_reasons,
    last_rows,
    latest_versions,
    superseded_reasons,
)
from ingest.prefetch import FileJob, prefetched_chunks
from ingest.readers import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_MAX_UNPACKED_BYTES,
    RESERVED_COLUMNS,
    ROW_COLUMN,
    UnreadableFileError,
    detect_kind,
    expand_paths,
    iter_text_chunks,
    kind_from_name,
)
from ingest.validate import MissingColumnsError, empty_quarantine
from warehouse import tables
from warehouse.bulk_indexes import DeferredIndexes
from warehouse.store import Warehouse, append, typed_frame

KIND_ORDER = (RecordKind.CASES, RecordKind.CASE_EVENTS, RecordKind.HOTLINE)
FILE_ERRORS = (UnreadableFileError, MissingColumnsError, MappingError)
# Failures of the store or the machine, not of a delivery: they end the run (rolled back, retried).
RUN_ERRORS = (SQLAlchemyError, OSError, MemoryError)
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
    window: InstantWindow
    max_unpacked_bytes: int
    indexes: DeferredIndexes


@dataclass(frozen=True)
class _Stored:
    """What storing a batch decided: each record's status, quarantine for superseded rows, and how many
    rows of earlier chunks (by their former status) turned out to be superseded."""

    status: pd.Series
    quarantine: pd.DataFrame
    superseded_earlier: Counter[str]
    released: int = 0


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
    window: InstantWindow | None = None,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
) -> IngestReport:
    """Ingest files (cases first, then events, then calls); all of it commits together or not at all.

    A file that cannot be read, lacks required columns, does not fit the mapping or raises anything else
    while read, checked or stored is refused alone (its savepoint is rolled back) and the others go on;
    only failures of the store or the machine (`RUN_ERRORS`) end the run. Dates and times outside
    `window` (default: 1990-01-01 to the run's time plus a day) are quarantined. An .xlsx file that
    unpacks to more than `max_unpacked_bytes` is refused unread.
    """
    encoding = encoding or (mapping.encoding if mapping else None)
    sheet = sheet or (mapping.sheet if mapping else None)
    named = {path.resolve() for path in paths if path.is_file()}
    outcomes = [
        _classify_file(path, kind, encoding, sheet, mapping, max_unpacked_bytes)
        for path in expand_paths(paths)
    ]
    for outcome in outcomes:
        if outcome.kind is None and outcome.path.resolve() not in named:
            outcome.status = "skipped"
    outcomes.sort(key=lambda o: (KIND_ORDER.index(o.kind) if o.kind else -1, str(o.path)))
    run_id = uuid.uuid4().hex[:12]
    with warehouse.transaction() as connection:
        now = local_now()
        run = _Run(
            connection,
            key,
            run_id,
            now,
            window or InstantWindow.ending_after(now.to_pydatetime()),
            max_unpacked_bytes,
            DeferredIndexes(connection),
        )
        for outcome in outcomes:
            if outcome.status != "ingested":
                continue
            try:
                with connection.begin_nested():
                    _ingest_file(run, outcome, encoding, sheet, mapping, chunk_rows, on_chunk)
            except RUN_ERRORS:
                raise
            except Exception as error:
                outcome.status, outcome.message = "failed", _refusal(outcome.path, error)
                outcome.counts = dict.fromkeys(ACCOUNTING_COLUMNS, 0)
                outcome.released = 0
        released = _release_held_events(run)
        run.indexes.rebuild()
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
    max_unpacked_bytes: int,
) -> FileOutcome:
    """The file's record kind from a look at its header; a file that cannot be read is refused here."""
    try:
        chunks = iter_text_chunks(path, encoding, sheet, chunk_rows=2, max_unpacked_bytes=max_unpacked_bytes)
        header = next(chunks, pd.DataFrame())
        columns = [c for c in header.columns if c not in RESERVED_COLUMNS]
        found = kind or (kind_for(mapping, path.name, columns) if mapping else None)
        return FileOutcome(path, detect_kind(path, columns, found))
    except RUN_ERRORS:
        raise
    except Exception as error:
        return FileOutcome(path, kind or kind_from_name(path), status="failed", message=_refusal(path, error))


def _refusal(path: Path, error: Exception) -> str:
    """Why a file was refused: a delivery error's own message, else the error's type and text."""
    if isinstance(error, FILE_ERRORS):
        return str(error)
    return f"{path.name}: refused after an unexpected {type(error).__name__}: {error}"


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
    delivery = Delivery(path.name, _superseded_last_time(run, kind, source_path))
    section = mapping.kinds.get(kind) if mapping else None
    job = FileJob(
        path, kind, run.key, chunk_rows, encoding, sheet, section, run.window, run.max_unpacked_bytes
    )
    counts = outcome.counts
    for batch in prefetched_chunks(job):
        records, quarantine = batch.records, batch.quarantine
        outcome.released += _release_delivered_again(run, kind, records, quarantine, source_path)
        if kind is RecordKind.CASE_EVENTS:
            present = Warehouse.stored_case_ids(run.connection, records["case_id"])
            orphan = ~records["case_id"].isin(present)
            _hold_events(run, records[orphan], source_path)
            _drop_held(run, records.loc[~orphan, "record_key"])
            quarantine = pd.concat([quarantine, held_reasons(records[orphan], path.name)], ignore_index=True)
            records = records[~orphan]
        waiting = records[ROW_COLUMN].isin(delivery.superseded_before)
        if waiting.any():
            delivery.pending.append(records[waiting])
            records = records[~waiting]
        stored = _store_records(run, kind, records, delivery)
        quarantine = pd.concat([quarantine, stored.quarantine], ignore_index=True)
        _quarantine(run, quarantine, source_path)
        counts["read"] += batch.read
        outcome.released += stored.released
        _count(counts, stored, quarantine)
        if on_chunk is not None:
            on_chunk(path, batch.read)
    if delivery.pending:
        stored = _store_pending(run, kind, delivery)
        _quarantine(run, stored.quarantine, source_path)
        outcome.released += stored.released
        _count(counts, stored, stored.quarantine)


def _count(counts: dict[str, int], stored: _Stored, quarantine: pd.DataFrame) -> None:
    """Add a batch's outcome to a file's accounting (rows of earlier chunks found superseded move from
    their former status to quarantined)."""
    counts["quarantined"] += int(quarantine["row"].nunique()) if len(quarantine) else 0
    for name, label in (("accepted", "accepted"), ("updated", "updated"), ("duplicates", "duplicate")):
        counts[name] += int((stored.status == label).sum()) - stored.superseded_earlier[label]


def _release_delivered_again(
    run: _Run, kind: RecordKind, records: pd.DataFrame, quarantine: pd.DataFrame, source_path: str
) -> int:
    """Release the open entries of earlier runs that this batch replaces; how many were released.

    An entry with a record key goes when a later delivery (any file) brings that key again, good or
    broken (a broken row is quarantined anew); an entry without one (its key fields unreadable) goes
    only when a delivery of the same file quarantines the same row, field, value and reason again.
    Entries are never released by the file's path alone: the daily inbox file has the same path every
    day and its next export need not hold the rows an earlier one got wrong."""
    q = tables.quarantine.c
    open_keys = Warehouse.open_quarantine_keys(run.connection, kind)
    delivered = pd.concat([records["record_key"], quarantine["record_key"].dropna()], ignore_index=True)
    again = sorted(set(delivered[delivered.isin(open_keys)].tolist())) if open_keys else []
    released = 0
    if again:
        released += Warehouse.release_quarantine(
            run.connection,
            and_(q.kind == kind.value, q.record_key.in_(again), q.run_id != run.run_id),
            run.run_id,
            run.now,
        )
    keyless = quarantine[quarantine["record_key"].isna()]
    if len(keyless):
        released += _release_repeated_keyless(run, kind, keyless, source_path)
    return released


def _release_repeated_keyless(run: _Run, kind: RecordKind, keyless: pd.DataFrame, source_path: str) -> int:
    """Release open keyless entries of earlier deliveries of this file that this batch repeats exactly."""
    q = tables.quarantine.c
    shown = ["row", "field", "value", "reason"]
    query = select(q.id, *(q[c] for c in shown)).where(
        q.released_at.is_(None),
        q.kind == kind.value,
        q.source_path == source_path,
        q.record_key.is_(None),
        q.run_id != run.run_id,
        q.row.in_(sorted({int(r) for r in keyless["row"]})),
    )
    earlier = pd.DataFrame(run.connection.execute(query).all(), columns=["id", *shown])
    if earlier.empty:
        return 0
    new = keyless[shown].astype({"row": "int64"}).fillna("").astype(str).drop_duplicates()
    old = earlier.astype({"row": "int64"}).fillna("").astype({c: str for c in shown})
    ids = old.merge(new, on=shown)["id"].tolist()
    if not ids:
        return 0
    return Warehouse.release_quarantine(run.connection, q.id.in_(ids), run.run_id, run.now)


def _superseded_last_time(run: _Run, kind: RecordKind, source_path: str) -> frozenset[int]:
    """Rows the previous delivery of this file found superseded by a later row of their key (still open)."""
    q = tables.quarantine.c
    query = select(q.row).where(
        q.source_path == source_path,
        q.kind == kind.value,
        q.field == SUPERSEDED_FIELD,
        q.released_at.is_(None),
    )
    return frozenset(int(row) for row in run.connection.execute(query).scalars())


def _store_pending(run: _Run, kind: RecordKind, delivery: Delivery) -> _Stored:
    """At the end of a file, the rows held back: superseded again if a later row of their key came, else
    stored like any other row."""
    pending = pd.concat(delivery.pending, ignore_index=True)
    later, _ = delivery.earlier(pending["record_key"])
    again = later > pending[ROW_COLUMN].to_numpy()
    quarantine = superseded_reasons(
        kind,
        delivery.name,
        pending.loc[again, ROW_COLUMN],
        pending.loc[again, "record_key"],
        pd.Series(later[again]),
    )
    stored = _store_records(run, kind, pending[~again], delivery)
    return _Stored(
        stored.status,
        pd.concat([quarantine, stored.quarantine], ignore_index=True),
        stored.superseded_earlier,
        stored.released,
    )


def _store_records(
    run: _Run, kind: RecordKind, records: pd.DataFrame, delivery: Delivery | None = None
) -> _Stored:
    """Write new and changed records (earlier versions go to history); the status of each record.

    Within a delivery the last row of a key wins: an earlier row with other content, in this batch or an
    earlier chunk, is quarantined as superseded, and a version this delivery itself wrote is replaced
    without a history entry (it was never the store's committed state)."""
    table = tables.INPUT_TABLES[kind]
    existing = Warehouse.hashes_of(run.connection, kind, records["record_key"])
    status = classify(records, existing)
    quarantine, superseded_earlier, own = empty_quarantine(), Counter[str](), set[str]()
    if delivery is not None and len(records):
        quarantine, superseded_earlier, own = _supersede(kind, records, status, delivery)
    changed = latest_versions(records, status)
    replaced = changed.loc[changed["record_key"].isin(existing.index), "record_key"]
    if len(replaced):
        _keep_history(run, kind, replaced[~replaced.isin(own)])
        Warehouse.delete_rows(run.connection, table, "record_key", replaced)
    run.indexes.before_insert(table, len(changed))
    append(run.connection, table, changed.assign(ingested_at=run.now))
    open_keys = Warehouse.open_quarantine_keys(run.connection, kind)
    now_good = open_keys & set(records["record_key"].tolist()) if open_keys else set()
    released = 0
    if now_good:
        q = tables.quarantine.c
        # A row this run found superseded stays listed: its key's later row is what was stored.
        own_superseded = and_(q.run_id == run.run_id, q.field == SUPERSEDED_FIELD)
        released = Warehouse.release_quarantine(
            run.connection,
            and_(q.kind == kind.value, q.record_key.in_(sorted(now_good)), ~own_superseded),
            run.run_id,
            run.now,
        )
    return _Stored(status, quarantine, superseded_earlier, released)


def _supersede(
    kind: RecordKind, records: pd.DataFrame, status: pd.Series, delivery: Delivery
) -> tuple[pd.DataFrame, Counter[str], set[str]]:
    """Apply 'the last row of a key wins' across a delivery's chunks (statuses are updated in place).

    Returns quarantine rows for superseded rows (of this batch and of earlier chunks), how many rows of
    earlier chunks were superseded by their former status, and the keys whose stored version this
    delivery wrote itself."""
    inside = status == SUPERSEDED
    later = last_rows(records)[inside] if inside.any() else pd.Series(dtype="int64")
    found = [
        superseded_reasons(
            kind, delivery.name, records.loc[inside, ROW_COLUMN], records.loc[inside, "record_key"], later
        )
    ]
    kept = ~records["record_key"].duplicated(keep="last")
    hashes = key_hashes(records.loc[kept, "record_key"])
    rows, before = delivery.earlier(records.loc[kept, "record_key"], hashes)
    seen = pd.Series(rows != NOT_SEEN, index=before.index)
    replacing = seen & (status[kept] != "duplicate")
    found.append(
        superseded_reasons(
            kind,
            delivery.name,
            pd.Series(rows[replacing.to_numpy()]),
            records.loc[replacing[replacing].index, "record_key"],
            records.loc[replacing[replacing].index, ROW_COLUMN],
        )
    )
    own_version = replacing & before.isin(("accepted", "updated"))
    status[own_version[own_version].index] = before[own_version]
    fresh = kept[kept].index.difference(seen[seen & ~replacing].index)  # repeats keep the earlier row
    fresh_hashes = hashes[kept[kept].index.get_indexer(fresh)]
    delivery.remember(
        records.loc[fresh, "record_key"], records.loc[fresh, ROW_COLUMN], status[fresh], fresh_hashes
    )
    own = set(records.loc[own_version[own_version].index, "record_key"])
    return pd.concat(found, ignore_index=True), Counter(before[replacing].tolist()), own


def _keep_history(run: _Run, kind: RecordKind, keys: pd.Series) -> None:
    """Copy the stored versions of records about to be replaced into the history table.

    Stored values are read as text and only then parsed, so a value no datetime can hold (a store
    poisoned before instants were checked) is kept as written instead of stopping the repair."""
    if keys.empty:
        return
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


def _drop_held(run: _Run, keys: pd.Series) -> None:
    """Forget held versions of events this run delivers with their case present (the newer one wins)."""
    held = set(run.connection.execute(select(tables.held_events.c.record_key)).scalars())
    if held:
        Warehouse.delete_rows(run.connection, tables.held_events, "record_key", keys[keys.isin(held)])


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
