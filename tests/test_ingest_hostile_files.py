"""Hostile deliveries: every reader refuses a file with a reason or marks a broken row; nothing else raises.

One test (or two) per class of hostile file: non-finite and huge numbers (Parquet, JSON Lines), JSON lines
that are not objects, ragged CSV rows, zip bombs and torn .xlsx packages, unreadable files named for a
kind, and encodings (undecodable bytes, NUL, BOM, mixed line endings, GB18030).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contracts.vocabulary import RecordKind
from ingest.readers import (
    READER_ERROR_COLUMN,
    UnreadableFileError,
    iter_text_chunks,
    kind_from_name,
)
from ingest.run import ingest_paths
from tests.builders import TEST_KEY
from warehouse import tables
from warehouse.store import Warehouse

HEAD = "case_id,opened_at,district,category,amount\n"


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(f"sqlite:///{tmp_path / 'store.db'}")


def rows_of(path: Path, **options: object) -> list[dict[str, object]]:
    return [row for frame in iter_text_chunks(path, **options) for row in frame.to_dict("records")]  # type: ignore[arg-type]


def open_quarantine(warehouse: Warehouse) -> list[tuple[int, str, str]]:
    q = warehouse.read_table(tables.quarantine)
    q = q[q["released_at"].isna()].sort_values(["row", "field"])
    return list(zip(q["row"].astype(int), q["field"], q["reason"], strict=True))


def accounting(report: object) -> list[int]:
    row = report.accounting.iloc[0]  # type: ignore[attr-defined]
    return [int(row[c]) for c in ("read", "accepted", "updated", "duplicates", "quarantined")]


# ------------------------------------------------------------------------- 1. numbers, JSON non-objects


def test_parquet_non_finite_and_huge_numbers_reach_validation_as_text(tmp_path: Path) -> None:
    path = tmp_path / "cases.parquet"
    table = pa.table(
        {
            "case_id": ["A", "B", "C", "D", "E", "F"],
            "amount": [1.5, float("inf"), float("-inf"), 1e20, float("nan"), 2.0**60],
            "party_count": pa.array([2**62, None, 3, 4, -(2**63), 7], pa.int64()),
            "big": pa.array([2**64 - 1, 0, 1, 2, 3, 4], pa.uint64()),
        }
    )
    pq.write_table(table, path)
    rows = rows_of(path)
    assert [r["amount"] for r in rows] == ["1.5", "inf", "-inf", "1e+20", "", "1.152921504606847e+18"]
    assert [r["party_count"] for r in rows] == [str(2**62), "", "3", "4", str(-(2**63)), "7"]
    assert rows[0]["big"] == str(2**64 - 1)


def test_parquet_bad_numbers_are_quarantined_not_fatal(tmp_path: Path, warehouse: Warehouse) -> None:
    path = tmp_path / "cases.parquet"
    frame = pd.DataFrame(
        {
            "case_id": ["A", "B", "C", "D"],
            "opened_at": ["2025-01-01"] * 4,
            "district": ["东湖区"] * 4,
            "category": ["其他"] * 4,
            "amount": [1.5, float("inf"), 1e20, float("nan")],
        }
    )
    frame.to_parquet(path)
    report = ingest_paths([path], warehouse, TEST_KEY)
    assert report.failed == {}
    assert accounting(report) == [4, 2, 0, 0, 2]
    quarantined = open_quarantine(warehouse)
    assert [(row, field) for row, field, _ in quarantined] == [(2, "amount"), (3, "amount")]
    assert "'inf'" in quarantined[0][2] and "'1e+20'" in quarantined[1][2]
    stored = warehouse.read_records(RecordKind.CASES).set_index("case_id")
    assert sorted(stored.index) == ["A", "D"] and pd.isna(stored.loc["D", "amount"])


JSONL = (
    '{"case_id": "A", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他", "amount": 1e400}\n'
    "\n"
    "[1, 2, 3]\n"
    '"x"\n'
    "42\n"
    "null\n"
    '{"case_id": "B", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他", "amount": NaN}\n'
    '{"case_id": "C", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他", '
    '"amount": 1180591620717411303424}\n'
    '{"case_id": "D", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他", '
    '"amount": -Infinity}\n'
    '{"case_id": "E", "opened_at": "2025-01-01", "district": "东湖区", "category": "其他", "amount": 250.0}\n'
)


def test_json_lines_numbers_and_non_objects_are_rows_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(JSONL, encoding="utf-8")
    rows = rows_of(path, chunk_rows=3)
    assert [r["_row"] for r in rows] == [1, 3, 4, 5, 6, 7, 8, 9, 10]
    assert [r["amount"] for r in rows] == [
        "1e400",
        "",
        "",
        "",
        "",
        "NaN",
        "1180591620717411303424",
        "-Infinity",
        "250",
    ]
    errors = {r["_row"]: r.get(READER_ERROR_COLUMN, "") for r in rows}
    assert errors[3] == "line 3 is not a JSON object (it is an array)"
    assert errors[4] == "line 4 is not a JSON object (it is a string)"
    assert errors[5] == "line 5 is not a JSON object (it is a number)"
    assert errors[6] == "line 6 is not a JSON object (it is null)"
    assert errors[1] == errors[7] == errors[10] == ""


def test_json_lines_delivery_quarantines_each_bad_line_and_number(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(JSONL + "{not json\n", encoding="utf-8")
    report = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=2)
    assert report.failed == {}
    assert accounting(report) == [10, 1, 0, 0, 9]
    quarantined = open_quarantine(warehouse)
    assert [(row, field) for row, field, _ in quarantined] == [
        (1, "amount"),
        (3, "_line"),
        (4, "_line"),
        (5, "_line"),
        (6, "_line"),
        (7, "amount"),
        (8, "amount"),
        (9, "amount"),
        (11, "_line"),
    ]
    assert quarantined[-1][2].startswith("line 11 is not valid JSON: Expecting property name")
    assert warehouse.read_records(RecordKind.CASES)["case_id"].tolist() == ["E"]


# ---------------------------------------------------------------------------- 2./3. ragged CSV rows


def test_ragged_csv_rows_are_marked_with_their_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    body = (
        'A,2025-01-01,东湖区,"邻里\n纠纷",1\nB,2025-01-02,东湖区\n\n'
        "C,2025-01-03,东湖区,其他,3,extra\nD,2025-01-04,东湖区,其他,4\n"
    )
    path.write_text(HEAD + body, encoding="utf-8")
    rows = rows_of(path, chunk_rows=2)
    assert [r["_row"] for r in rows] == [1, 2, 3, 4]
    assert [r["case_id"] for r in rows] == ["A", "", "", "D"]
    assert rows[0]["category"] == "邻里\n纠纷"
    assert [r.get(READER_ERROR_COLUMN, "") for r in rows] == [
        "",
        "row 2 has 3 fields, the header has 5",
        "row 3 has 6 fields, the header has 5",
        "",
    ]


def test_a_short_row_never_replaces_the_stored_record(tmp_path: Path, warehouse: Warehouse) -> None:
    first = tmp_path / "cases.csv"
    first.write_text(
        HEAD + "A,2025-01-01,东湖区,邻里纠纷,100\nB,2025-01-02,东湖区,其他,5\n", encoding="utf-8"
    )
    ingest_paths([first], warehouse, TEST_KEY)
    short = tmp_path / "cases_2.csv"
    short.write_text(HEAD + "A,2025-01-01,东湖区\nB,2025-01-02,东湖区,其他,5,x\n", encoding="utf-8")
    report = ingest_paths([short], warehouse, TEST_KEY)
    assert report.failed == {}
    assert accounting(report) == [2, 0, 0, 0, 2]
    assert open_quarantine(warehouse) == [
        (1, "_line", "row 1 has 3 fields, the header has 5"),
        (2, "_line", "row 2 has 6 fields, the header has 5"),
    ]
    stored = warehouse.read_records(RecordKind.CASES).set_index("case_id")
    assert stored.loc["A", "amount"] == 100 and stored.loc["A", "category"] == "邻里纠纷"


def test_torn_quoting_refuses_the_file_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(HEAD + 'A,2025-01-01,东湖区,其他,1\nB,2025-01-02,东湖区,"其他,2\n', encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"after row 1\): a quoted field in row 2 is never closed"):
        rows_of(path)


# ------------------------------------------------------------------------------------- 5. Excel packages


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path, index=False)
    return path


def test_an_xlsx_unpacking_beyond_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "cases.xlsx"
    _xlsx(path, [["case_id", "opened_at", "district", "category"], ["A", "2025-01-01", "东湖区", "其他"]])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/padding.xml", b" " * (3 * 2**20))  # 3 MiB of sheet-like XML, ~3 KiB packed
    assert path.stat().st_size < 2**20
    with pytest.raises(UnreadableFileError, match=r"unpacks to 3 MiB, more than the 2 MiB allowed"):
        rows_of(path, max_unpacked_bytes=2 * 2**20)
    assert [r["case_id"] for r in rows_of(path)] == ["A"]


def test_truncated_xlsx_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "cases.xlsx", [["case_id"], ["A"]])
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(UnreadableFileError, match=r"is not a whole \.xlsx file \(damaged or truncated"):
        rows_of(path)


# ---------------------------------------------------------------------------------- 6. kind by name


def test_kind_from_name_alone() -> None:
    assert kind_from_name(Path("inbox/cases_2025-01-01.xlsx")) is RecordKind.CASES
    assert kind_from_name(Path("Case_Events.csv")) is RecordKind.CASE_EVENTS
    assert kind_from_name(Path("hotline.parquet")) is RecordKind.HOTLINE
    assert kind_from_name(Path("links.csv")) is None


def test_an_unreadable_file_named_for_a_kind_in_a_folder_is_refused_not_skipped(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    torn = _xlsx(folder / "cases_1.xlsx", [["case_id"], ["A"]])
    torn.write_bytes(torn.read_bytes()[:100])
    (folder / "notes.csv").write_bytes(b"\xff\xfe\x00x")
    report = ingest_paths([folder], warehouse, TEST_KEY)
    status = dict(zip(report.accounting["source_file"], report.accounting["status"], strict=True))
    assert status == {"cases_1.xlsx": "failed", "notes.csv": "skipped"}
    assert "is not a whole .xlsx file" in report.failed["cases_1.xlsx"]


# ------------------------------------------------------------------------------------------ 7. encodings


def test_undecodable_bytes_refuse_the_file_naming_offset_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(HEAD.encode() + b"A,2025-01-01,\xff\xff,x,1\n")
    with pytest.raises(UnreadableFileError, match=r"neither UTF-8 nor GB18030.*byte offset 56 \(line 2\)"):
        rows_of(path)
    with pytest.raises(
        UnreadableFileError, match=r"is not utf-8 text: undecodable byte 0xff at byte offset 56"
    ):
        rows_of(path, encoding="utf-8")


def test_nul_bytes_refuse_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(HEAD.encode() + b"A,2025-01-01,x,y,1\nB\x00,2025-01-01,x,y,1\n")
    with pytest.raises(UnreadableFileError, match=r"holds a NUL character on line 3"):
        rows_of(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_bom_mixed_line_endings_and_gb18030_read_alike(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(
        (HEAD.replace("\n", "\r\n") + "A,2025-01-01,东湖区,其他,1\rB,2025-01-02,𠀀区,其他,2\n").encode(
            encoding
        )
    )
    rows = rows_of(path)
    assert [(r["_row"], r["case_id"], r["district"]) for r in rows] == [(1, "A", "东湖区"), (2, "B", "𠀀区")]
    assert list(rows[0]) == ["_row", "case_id", "opened_at", "district", "category", "amount"]


def test_arrow_and_csv_module_paths_give_the_same_rows(tmp_path: Path) -> None:
    clean = 'A,2025-01-01,东湖区," 其他 ",1\n"B ""b""",2025-01-02,"x\ny",其他,2\n'
    (tmp_path / "clean.csv").write_text(HEAD + clean, encoding="utf-8")
    (tmp_path / "ragged.csv").write_text(HEAD + clean + "C\n", encoding="utf-8")
    fast = rows_of(tmp_path / "clean.csv")
    exact = rows_of(tmp_path / "ragged.csv")
    assert [{k: v for k, v in r.items() if k != READER_ERROR_COLUMN} for r in exact[:2]] == fast
    assert fast[1]["case_id"] == 'B "b"' and fast[0]["category"] == "其他"


def test_a_parquet_column_with_a_reserved_name_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cases.parquet"
    pd.DataFrame({"case_id": ["A"], "_row": ["7"]}).to_parquet(path)
    with pytest.raises(UnreadableFileError, match="names reserved for ingest"):
        list(iter_text_chunks(path))


def test_a_long_field_after_a_ragged_row_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    long = "长" * 200_000
    path.write_text(f"case_id,description\nA,{long}\nB,x,extra\n", encoding="utf-8")
    frames = list(iter_text_chunks(path))
    frame = pd.concat(frames, ignore_index=True)
    assert frame["description"].tolist()[0] == long
    assert frame[READER_ERROR_COLUMN].tolist() == ["", "row 2 has 3 fields, the header has 2"]
