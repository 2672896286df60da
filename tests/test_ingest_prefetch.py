"""The helper process that validates a big file's chunks ahead gives exactly what validating here gives,
refuses the same files with the same messages, and the store's bulk insert keeps missing values NULL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from contracts.vocabulary import RecordKind
from ingest import prefetch
from ingest import run as ingest_run
from ingest.prefetch import FileJob, prefetched_chunks, validated_chunks, worth_a_helper
from ingest.run import ingest_paths
from tests.builders import TEST_KEY
from warehouse import tables
from warehouse.store import Warehouse, append

HEADER = "call_id,received_at,district,caller_name,caller_phone,text,recorded_at\n"


def calls_csv(rows: int, start: int = 0) -> str:
    """A hotline export of `rows` calls (some repeated callers, phones in text, late entries)."""
    lines = [
        f"h{i},2025-01-{1 + i % 28:02d} 08:{i % 60:02d},东湖区,王小{'明红'[i % 2]},1381234{i % 7:04d},"
        f"来电 {i} 电话1390000{i % 5:04d},{'2025-02-01' if i % 9 == 0 else ''}\n"
        for i in range(start, start + rows)
    ]
    return HEADER + "".join(lines)


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def stored(warehouse: Warehouse) -> dict[str, list[dict[str, object]]]:
    """Every table, without what differs between runs (run ids and clock times)."""
    volatile = {"run_id", "superseded_by_run", "released_by_run", "ingested_at", "quarantined_at"}
    volatile |= {"released_at", "finished_at"}
    volatile |= {"updated_at"}  # when a store fact (store_meta) was recorded
    frames = {name: warehouse.read_table(table) for name, table in tables.metadata.tables.items()}
    history = frames["record_history"]
    history["payload"] = [
        {k: v for k, v in json.loads(p).items() if k != "ingested_at"} for p in history["payload"]
    ]
    return {
        name: frame.drop(columns=[c for c in frame.columns if c in volatile | {"superseded_at"}])
        .astype(str)
        .to_dict("records")
        for name, frame in frames.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_helper_batches_equal_local_batches(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "hotline.csv", calls_csv(40), encoding)
    job = FileJob(path, RecordKind.HOTLINE, TEST_KEY, chunk_rows=9)
    local = list(validated_chunks(job))
    helped = list(prefetched_chunks(job, helper=True))
    assert len(local) == len(helped) == 5
    for mine, theirs in zip(local, helped, strict=True):
        pd.testing.assert_frame_equal(mine.records, theirs.records)
        pd.testing.assert_frame_equal(mine.quarantine, theirs.quarantine)
        assert mine.read == theirs.read


@pytest.mark.slow
def test_helper_run_stores_what_a_local_run_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write(tmp_path / "hotline.csv", calls_csv(30), "gb18030")
    overlap = calls_csv(30, start=20).replace("东湖区", "江北区", 3).replace("来电 25", "来电 二十五")
    second = write(tmp_path / "hotline_2.csv", overlap + "bad,2025-13-01,东湖区,,,,\n", "utf-8-sig")
    parquet = tmp_path / "hotline_3.parquet"
    pd.read_csv(second, dtype=str, keep_default_na=False, encoding="utf-8-sig").to_parquet(parquet)
    results = []
    for helper in (False, True):
        monkeypatch.setattr(prefetch, "worth_a_helper", lambda job, use=helper: use)
        warehouse = Warehouse(f"sqlite:///{tmp_path / f'store_{helper}.db'}")
        reports = [
            ingest_paths([path], warehouse, TEST_KEY, chunk_rows=7).accounting
            for path in (first, second, parquet)
        ]
        results.append((pd.concat(reports).to_dict("records"), stored(warehouse)))
        warehouse.engine.dispose()
    assert results[0] == results[1]
    accounting, tables_seen = results[0]
    assert [row["updated"] for row in accounting] == [0, 4, 0]
    assert len(tables_seen["record_history"]) == 4


@pytest.mark.slow
def test_a_file_broken_after_the_first_chunk_is_refused_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torn = calls_csv(30) + 'h99,2025-01-01,东湖区,"unterminated\n'
    path = write(tmp_path / "hotline.csv", torn, "utf-8")
    failures = []
    for helper in (False, True):
        monkeypatch.setattr(prefetch, "worth_a_helper", lambda job, use=helper: use)
        warehouse = Warehouse(f"sqlite:///{tmp_path / f'store_{helper}.db'}")
        report = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=8)
        failures.append(report.failed)
        assert warehouse.read_records(ingest_run.RecordKind.HOTLINE).empty
        warehouse.engine.dispose()
    assert failures[0] == failures[1]
    assert "cannot be read as csv" in failures[0]["hotline.csv"]


def test_missing_columns_found_by_the_helper_refuse_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "hotline.csv", "call_id,district\nh1,东湖区\n", "utf-8")
    batches = prefetched_chunks(FileJob(path, RecordKind.HOTLINE, TEST_KEY, chunk_rows=5), helper=True)
    with pytest.raises(ValueError, match=r"hotline\.csv: missing required column\(s\) received_at"):
        list(batches)


def test_a_helper_is_used_for_big_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = write(tmp_path / "hotline.csv", calls_csv(30), "utf-8")
    parquet = tmp_path / "hotline.parquet"
    pd.read_csv(small, dtype=str, keep_default_na=False).to_parquet(parquet)
    assert not worth_a_helper(FileJob(small, RecordKind.HOTLINE, TEST_KEY, chunk_rows=7))
    monkeypatch.setattr(prefetch, "HELPER_MIN_ROWS", 20)
    assert worth_a_helper(FileJob(parquet, RecordKind.HOTLINE, TEST_KEY, chunk_rows=7))
    assert not worth_a_helper(FileJob(parquet, RecordKind.HOTLINE, TEST_KEY, chunk_rows=30))
    assert worth_a_helper(FileJob(small, RecordKind.HOTLINE, TEST_KEY, chunk_rows=29))  # 30 rows
    assert not worth_a_helper(FileJob(small, RecordKind.HOTLINE, TEST_KEY, chunk_rows=30))  # one chunk
    monkeypatch.setattr(prefetch, "SAMPLE_BYTES", small.stat().st_size // 3)  # rows told from a third
    assert worth_a_helper(FileJob(small, RecordKind.HOTLINE, TEST_KEY, chunk_rows=20))
    assert not worth_a_helper(FileJob(small, RecordKind.HOTLINE, TEST_KEY, chunk_rows=40))
    assert not worth_a_helper(FileJob(tmp_path / "cases.xlsx", RecordKind.CASES, TEST_KEY, chunk_rows=7))


def test_bulk_insert_stores_missing_values_as_null(tmp_path: Path) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    frame = pd.DataFrame(
        {
            "case_id": pd.Series(["A", "B"], dtype="str"),
            "opened_at": pd.to_datetime(["2025-01-01 10:00", "2025-01-02 00:00"]).astype("datetime64[us]"),
            "district": pd.Series(["东湖区", "江北区"], dtype=object),
            "category": "其他",
            "town": pd.Series([None, "某镇"], dtype="str"),
            "party_count": pd.array([3, None], dtype="Int64"),
            "amount": pd.array([None, 12.5], dtype="Float64"),
            "recorded_at": pd.Series([pd.NaT, pd.Timestamp("2025-01-03")]).astype("datetime64[us]"),
            "known_at": pd.to_datetime(["2025-01-01 10:00", "2025-01-03 00:00"]).astype("datetime64[us]"),
            "record_key": ["A", "B"],
            "row_hash": ["0" * 16, "1" * 16],
            "source_file": "cases.csv",
            "ingested_at": pd.Timestamp("2026-01-01 08:00:00.123456"),
        }
    )
    with warehouse.transaction() as connection:
        append(connection, tables.cases, frame)
    warehouse.engine.dispose()
    with sqlite3.connect(tmp_path / "store.db") as raw:
        rows = raw.execute(
            "SELECT town, party_count, amount, recorded_at, opened_at, ingested_at, typeof(town), "
            "typeof(amount), typeof(party_count) FROM cases ORDER BY rowid"
        ).fetchall()
    assert rows == [
        (
            None,
            3,
            None,
            None,
            "2025-01-01 10:00:00.000000",
            "2026-01-01 08:00:00.123456",
            "null",
            "null",
            "integer",
        ),
        (
            "某镇",
            None,
            12.5,
            "2025-01-03 00:00:00.000000",
            "2025-01-02 00:00:00.000000",
            "2026-01-01 08:00:00.123456",
            "text",
            "real",
            "null",
        ),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_skipped_chunks_are_counted_but_not_given(tmp_path: Path, suffix: str) -> None:
    """What the helper reads past: the later chunks come as a whole read gives them, with the same row
    numbers (a quoted CSV field over two lines is one row)."""
    from ingest.readers import iter_text_chunks

    text = calls_csv(23).replace(",来电 4 ", ',"来电\n4 ', 1)
    text = text.replace("电话13900000004,", '电话13900000004",', 1)
    path = tmp_path / f"hotline{suffix}"
    (tmp_path / "calls.csv").write_text(text, encoding="utf-8")
    if suffix == ".csv":
        path = tmp_path / "calls.csv"
    else:
        pd.read_csv(tmp_path / "calls.csv", dtype=str).to_parquet(path)
    whole = list(iter_text_chunks(path, chunk_rows=5))
    assert [len(chunk) for chunk in whole] == [5, 5, 5, 5, 3]
    assert pd.concat(whole)["_row"].tolist() == list(range(1, 24))
    assert "\n" in whole[0]["text"].iloc[4]
    for skip in (0, 1, 3, 5, 6):
        later = list(iter_text_chunks(path, chunk_rows=5, skip=skip))
        assert len(later) == len(whole[skip:])
        for mine, theirs in zip(later, whole[skip:], strict=True):
            pd.testing.assert_frame_equal(mine, theirs)
