"""Secondary indexes dropped for a bulk ingest into SQLite and rebuilt before commit: the same rows and
the same indexes as a run that kept them, and a failed run or a refused file leaves them in place."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from ingest import run as ingest_run
from ingest.run import ingest_paths
from tests.builders import TEST_KEY
from warehouse import tables
from warehouse.bulk_indexes import DeferredIndexes
from warehouse.store import Warehouse

EVENTS = "case_id,event_at,event_type\n" + "".join(
    f"C{n % 7},2025-01-{1 + n % 28:02d},visit\n" for n in range(40)
)
CASES = "case_id,opened_at,district,category\n" + "".join(f"C{n},2025-01-01,东湖区,其他\n" for n in range(7))


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def index_sql(warehouse: Warehouse) -> dict[str, str]:
    with warehouse.engine.connect() as connection:
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        return {name: sql for name, sql in rows}


def stored(warehouse: Warehouse) -> dict[str, list[dict[str, object]]]:
    skip = {"ingested_at", "quarantined_at", "run_id", "finished_at", "superseded_at", "superseded_by_run"}
    skip |= {"updated_at"}  # when a store fact (store_meta) was recorded
    out = {}
    for name, table in tables.metadata.tables.items():
        frame = warehouse.read_table(table)
        out[name] = frame.drop(columns=[c for c in frame.columns if c in skip]).astype(str).to_dict("records")
    return out


def names(connection: Connection) -> set[str]:
    """The indexes of the cases table, as the connection sees them."""
    return {row[1] for row in connection.execute(text("PRAGMA index_list(cases)"))}


@pytest.fixture
def always_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every insert of the run counts as bulk (the real threshold is far above a test's rows)."""
    monkeypatch.setattr(ingest_run, "DeferredIndexes", functools.partial(DeferredIndexes, min_rows=1))


def test_a_bulk_run_stores_the_same_rows_and_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [write(tmp_path, "cases.csv", CASES), write(tmp_path, "case_events.csv", EVENTS)]
    kept = Warehouse(f"sqlite:///{tmp_path / 'kept.db'}")
    ingest_paths(files, kept, TEST_KEY, chunk_rows=3)
    monkeypatch.setattr(ingest_run, "DeferredIndexes", functools.partial(DeferredIndexes, min_rows=1))
    dropped: list[str] = []
    real_drop = DeferredIndexes._drop
    monkeypatch.setattr(
        DeferredIndexes, "_drop", lambda self, t: (dropped.append(t.name), real_drop(self, t))
    )
    bulk = Warehouse(f"sqlite:///{tmp_path / 'bulk.db'}")
    ingest_paths(files, bulk, TEST_KEY, chunk_rows=3)
    assert {"cases", "case_events"} <= set(dropped)  # the bulk path was taken
    assert stored(bulk) == stored(kept)
    assert index_sql(bulk) == index_sql(kept)
    assert "ix_case_events_case_id" in index_sql(bulk)


def test_a_table_holding_more_rows_than_the_run_adds_keeps_its_indexes(tmp_path: Path) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    ingest_paths([write(tmp_path, "cases.csv", CASES)], warehouse, TEST_KEY)
    with warehouse.engine.begin() as connection:
        indexes = DeferredIndexes(connection, min_rows=1)
        indexes.before_insert(tables.cases, 6)  # the table holds 7
        assert "ix_cases_known_at" in names(connection)
        indexes.before_insert(tables.cases, 1)  # now 7 added: as many as it held
        assert "ix_cases_known_at" not in {
            row[0] for row in connection.execute(text("PRAGMA index_list(cases)"))
        }
        indexes.rebuild()
        assert "ix_cases_known_at" in names(connection)


def test_a_failed_bulk_run_leaves_store_and_indexes_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always_bulk: None
) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    ingest_paths([write(tmp_path, "cases.csv", CASES)], warehouse, TEST_KEY)
    before, indexes = stored(warehouse), index_sql(warehouse)

    def crash(self: DeferredIndexes) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(DeferredIndexes, "rebuild", crash)
    with pytest.raises(OSError, match="power cut"):
        ingest_paths([write(tmp_path, "case_events.csv", EVENTS)], warehouse, TEST_KEY, chunk_rows=3)
    assert stored(warehouse) == before
    assert index_sql(warehouse) == indexes


def test_a_refused_file_after_its_indexes_were_dropped_leaves_them_rebuilt(
    tmp_path: Path, always_bulk: None
) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    fresh = index_sql(warehouse)
    torn = write(tmp_path, "cases.csv", CASES + 'C9,2025-01-03,东湖区,"其他\n')
    report = ingest_paths([torn], warehouse, TEST_KEY, chunk_rows=2)
    assert "cases.csv" in report.failed
    assert index_sql(warehouse) == fresh
    assert warehouse.read_records(ingest_run.RecordKind.CASES).empty


def test_the_rebuild_sorts_with_a_thread_per_core_and_leaves_the_connection_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse import bulk_indexes

    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    ingest_paths([write(tmp_path, "cases.csv", CASES)], warehouse, TEST_KEY)
    monkeypatch.setattr(bulk_indexes, "usable_cores", lambda: 3)
    seen: list[int] = []
    real = bulk_indexes.secondary_indexes

    def watched(table: object) -> list[object]:
        seen.append(connection.exec_driver_sql("PRAGMA threads").scalar())
        return real(table)

    monkeypatch.setattr(bulk_indexes, "secondary_indexes", watched)
    with warehouse.engine.begin() as connection:
        indexes = DeferredIndexes(connection, min_rows=1)
        indexes.before_insert(tables.cases, 7)
        assert seen == [0, 0] and "ix_cases_known_at" not in names(connection)
        indexes.rebuild()
        assert seen[2:] == [3] and "ix_cases_known_at" in names(connection)
        assert connection.exec_driver_sql("PRAGMA threads").scalar() == 0
        indexes.rebuild()  # nothing left to build: nothing asked of SQLite
        assert len(seen) == 3
