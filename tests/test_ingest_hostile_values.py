"""Hostile values never get into the store or out of ingest: implausible instants, non-finite and huge
numbers, rows the reader could not parse, the same key twice in a file, a poisoned store, and files that
raise something unexpected."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from contracts.fields import field_specs
from contracts.masks import PHONE_MASK
from contracts.timeparse import InstantWindow, parse_datetime, parse_datetimes
from contracts.vocabulary import RecordKind
from ingest import run as ingest_run
from ingest.run import IngestReport, ingest_paths
from ingest.validate import MAX_NUMBER, READER_ERROR_COLUMN, _check, row_hashes, validate_frame
from tests.builders import TEST_KEY, case_row, text_frame
from warehouse import tables
from warehouse.store import Warehouse

WINDOW = InstantWindow(datetime(1990, 1, 1), datetime(2026, 12, 5, 12, 0))
PLAUSIBLE = "1990-01-01 .. 2026-12-05"


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(f"sqlite:///{tmp_path / 'store.db'}")


def write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def counts(report: IngestReport) -> dict[str, list[int]]:
    columns = ["read", "accepted", "updated", "duplicates", "quarantined"]
    return {row.source_file: [getattr(row, c) for c in columns] for row in report.accounting.itertuples()}


def open_quarantine(warehouse: Warehouse) -> pd.DataFrame:
    entries = warehouse.read_table(tables.quarantine)
    return entries[entries["released_at"].isna()].sort_values("row", ignore_index=True)


# --- instants --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59Z", "9999-12-31T23:00:00-05:00", "9999-12-31 23:59:59"]
)
def test_instants_beyond_a_datetime_never_overflow(value: str) -> None:
    parsed = parse_datetimes(pd.Series([value, "2025-03-01T08:30:00+08:00"]))
    assert parsed.isna().tolist() == [value != "9999-12-31 23:59:59", False]
    assert parsed.iloc[1] == pd.Timestamp("2025-03-01 08:30:00")
    if parsed.isna().iloc[0]:
        with pytest.raises(ValueError, match="is not a date"):
            parse_datetime(value)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01",
        "1900-01-01 08:00",
        "1989-12-31 23:59:59",
        "2026-12-05 12:00:01",
        "2099-01-01",
    ],
)
def test_implausible_instants_are_quarantined_naming_the_window(value: str) -> None:
    frame = text_frame([case_row("A", value), case_row("B", "2026-12-05 12:00:00")], RecordKind.CASES)
    batch = validate_frame(frame, RecordKind.CASES, "cases.csv", TEST_KEY, WINDOW)
    assert batch.records["case_id"].tolist() == ["B"]
    assert batch.quarantine[["row", "field", "value", "reason"]].to_dict("records") == [
        {
            "row": 1,
            "field": "opened_at",
            "value": value,
            "reason": f"'{value}' is outside the plausible window {PLAUSIBLE}",
        }
    ]


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-01T08:30:00+99:99",
        "2025-03-01T08:30:00-23",
        "2025-03-01T08:30:00+14:30",
        "2025-03-01T08:30+05:60",
    ],
)
def test_impossible_utc_offsets_are_quarantined_naming_the_offset(value: str) -> None:
    frame = text_frame([case_row("A", value), case_row("B", "2025-03-01T08:30:00+14:00")], RecordKind.CASES)
    batch = validate_frame(frame, RecordKind.CASES, "cases.csv", TEST_KEY, WINDOW)
    assert batch.records[["case_id", "opened_at"]].values.tolist() == [
        ["B", pd.Timestamp("2025-03-01 02:30")]
    ]
    assert batch.quarantine[["source_file", "row", "field", "value", "reason"]].to_dict("records") == [
        {
            "source_file": "cases.csv",
            "row": 1,
            "field": "opened_at",
            "value": value,
            "reason": f"'{value}' has an impossible UTC offset: offsets run from -14:00 to +14:00, "
            "with minutes 00-59",
        }
    ]
    assert parse_datetimes(pd.Series([value, "2025-03-01T08:30:00-12:00"])).tolist() == [
        pd.NaT,
        pd.Timestamp("2025-03-02 04:30"),
    ]


def test_the_default_window_ends_a_day_after_now() -> None:
    frame = text_frame(
        [case_row("A", "1990-01-01"), case_row("B", "1989-12-31 23:59"), case_row("C", "2999-01-01")],
        RecordKind.CASES,
    )
    batch = validate_frame(frame, RecordKind.CASES, "cases.csv", TEST_KEY)
    assert batch.records["case_id"].tolist() == ["A"]
    assert batch.quarantine["reason"].str.contains("is outside the plausible window 1990-01-01 .. ").all()


def test_recorded_at_is_checked_too_and_the_run_window_applies(tmp_path: Path, warehouse: Warehouse) -> None:
    path = write(
        tmp_path,
        "cases.csv",
        "case_id,opened_at,district,category,recorded_at\n"
        "A,2025-01-01,东湖区,其他,9999-12-31T23:59:59Z\n"
        "B,2025-01-01,东湖区,其他,2025-01-02\n"
        "C,1995-06-01,东湖区,其他,\n",
    )
    window = InstantWindow(datetime(2000, 1, 1), datetime(2026, 1, 1))
    report = ingest_paths([path], warehouse, TEST_KEY, window=window)
    assert counts(report) == {"cases.csv": [3, 1, 0, 0, 2]}
    assert warehouse.read_records(RecordKind.CASES)["case_id"].tolist() == ["B"]
    assert open_quarantine(warehouse)[["row", "field"]].values.tolist() == [
        [1, "recorded_at"],
        [3, "opened_at"],
    ]


# --- a poisoned store is repaired by re-delivery ---------------------------------------------------------


def test_redelivering_a_good_version_repairs_a_poisoned_row(tmp_path: Path, warehouse: Warehouse) -> None:
    first = write(tmp_path, "cases.csv", "case_id,opened_at,district,category\nA,2025-01-01,东湖区,其他\n")
    ingest_paths([first], warehouse, TEST_KEY)
    with warehouse.transaction() as connection:  # as a store written before instants were checked holds it
        connection.execute(
            text("UPDATE cases SET opened_at = :bad, known_at = :bad, row_hash = 'x' WHERE case_id = 'A'"),
            {"bad": "10000-01-01 07:59:59.000000"},
        )
    fixed = write(
        tmp_path, "cases_fixed.csv", "case_id,opened_at,district,category\nA,2025-01-02,东湖区,其他\n"
    )
    report = ingest_paths([fixed], warehouse, TEST_KEY)
    assert counts(report) == {"cases_fixed.csv": [1, 0, 1, 0, 0]}
    stored = warehouse.read_records(RecordKind.CASES)
    assert stored["opened_at"].tolist() == [pd.Timestamp("2025-01-02")]
    history = warehouse.read_table(tables.record_history)
    assert json.loads(history["payload"][0])["opened_at"] == "10000-01-01 07:59:59.000000"


def test_history_keeps_readable_datetimes_as_before(tmp_path: Path, warehouse: Warehouse) -> None:
    header = "case_id,opened_at,district,category\n"
    ingest_paths(
        [write(tmp_path, "cases.csv", header + "A,2025-01-01 09:30,东湖区,其他\n")], warehouse, TEST_KEY
    )
    ingest_paths([write(tmp_path, "cases_2.csv", header + "A,2025-01-02,东湖区,其他\n")], warehouse, TEST_KEY)
    payload = json.loads(warehouse.read_table(tables.record_history)["payload"][0])
    assert (payload["opened_at"], payload["known_at"]) == ("2025-01-01 09:30:00", "2025-01-01 09:30:00")


# --- numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount", "inf", "'inf' is not a finite number"),
        ("amount", "-inf", "'-inf' is not a finite number"),
        ("amount", "1e400", "'1e400' is not a finite number"),
        ("amount", "nan", "'nan' is not a number"),
        ("amount", "1e16", "'1e16' is out of range (at most 1e+15)"),
        ("party_count", "Infinity", "'Infinity' is not a finite number"),
        ("party_count", "9223372036854775808", "'9223372036854775808' is out of range (at most 2147483647)"),
        (
            "party_count",
            "-99999999999999999999",
            "'-99999999999999999999' is out of range (at most 2147483647)",
        ),
        ("party_count", "2147483648", "'2147483648' is out of range (at most 2147483647)"),
    ],
)
def test_non_finite_and_huge_numbers_are_quarantined(field: str, value: str, reason: str) -> None:
    frame = text_frame([case_row("A", "2025-01-01", **{field: value})], RecordKind.CASES)
    batch = validate_frame(frame, RecordKind.CASES, "cases.csv", TEST_KEY, WINDOW)
    assert batch.records.empty
    assert batch.quarantine[["field", "reason"]].values.tolist() == [[field, reason]]


# --- properties: any text in any cell --------------------------------------------------------------------

DATE_LIKE = (
    r"\A[0-9٠-٩０-９]{4}[-/年][0-9]{1,2}[-/月][0-9]{1,2}( [0-9]{2}:[0-9]{2})?([+-][0-9]{2}:?[0-9]{2}|Z)?\Z"
)
CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "1e400",
            "9" * 30,
            "9999-12-31T23:59:59Z",
            "0001-01-01",
            "2025-01-01",
            "1",
            "0",
        ]
    ),
    st.from_regex(DATE_LIKE),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(
    kind=st.sampled_from(list(RecordKind)),
    cells=st.lists(st.lists(CELL, min_size=14, max_size=14), max_size=6),
)
def test_any_text_is_either_stored_or_quarantined_with_a_reason(
    kind: RecordKind, cells: list[list[str]]
) -> None:
    specs = field_specs(kind)
    rows = [{spec.name: row[i] for i, spec in enumerate(specs)} for row in cells]
    frame = text_frame(rows, kind)
    batch = validate_frame(frame, kind, "x.csv", TEST_KEY, WINDOW)
    stored_rows = set(batch.records["_row"])
    quarantined_rows = set(batch.quarantine["row"])
    assert stored_rows | quarantined_rows == set(frame["_row"])
    assert not stored_rows & quarantined_rows
    assert (batch.quarantine["reason"].str.len() > 0).all()
    for spec in specs:
        if spec.name not in batch.records:
            continue
        values = batch.records[spec.name].dropna()
        if spec.type == "datetime":
            assert values.between(pd.Timestamp(WINDOW.earliest), pd.Timestamp(WINDOW.latest)).all()
        elif spec.type in ("integer", "number"):
            numbers = values.astype("float64")
            assert np.isfinite(numbers).all() and (numbers.abs() <= MAX_NUMBER[spec.type]).all()
    assert batch.records["row_hash"].str.fullmatch(r"[0-9a-f]{16}").all()
    content = batch.records.drop(columns=["record_key", "row_hash", "source_file", "_row"])
    assert row_hashes(content, kind).equals(batch.records["row_hash"])


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(values=st.lists(CELL, min_size=1, max_size=20))
def test_every_field_check_either_keeps_a_sound_value_or_gives_a_reason(values: list[str]) -> None:
    raw = pd.Series(values, dtype="str")
    for kind in RecordKind:
        for spec in field_specs(kind):
            checked = _check(spec, raw, WINDOW)
            kept = checked.values[~checked.broken].dropna()
            assert (checked.reasons[checked.broken].str.len() > 0).all()
            if spec.type == "datetime":
                assert kept.between(pd.Timestamp(WINDOW.earliest), pd.Timestamp(WINDOW.latest)).all()
            elif spec.type in ("integer", "number"):
                numbers = kept.astype("float64")
                assert np.isfinite(numbers).all() and (numbers.abs() <= MAX_NUMBER[spec.type]).all()


# --- rows the reader could not parse ---------------------------------------------------------------------


def test_rows_with_a_reader_error_are_quarantined_with_it_and_never_checked() -> None:
    frame = text_frame([case_row("A", "2025-01-01"), case_row("", "")], RecordKind.CASES)
    frame[READER_ERROR_COLUMN] = ["", "line 3 is not a JSON object: [1, 2, 13812345678]"]
    batch = validate_frame(frame, RecordKind.CASES, "cases.jsonl", TEST_KEY, WINDOW)
    assert batch.records["case_id"].tolist() == ["A"]
    assert batch.quarantine[["row", "field", "value", "reason"]].to_dict("records") == [
        {
            "row": 2,
            "field": "_line",
            "value": "",
            "reason": f"line 3 is not a JSON object: [1, 2, {PHONE_MASK}]",
        }
    ]


# --- the same key twice in one delivery ------------------------------------------------------------------

TWICE = (
    "case_id,opened_at,district,category,amount\n"
    "A,2025-01-01,东湖区,其他,100\n"
    "B,2025-01-01,东湖区,其他,\n"
    "A,2025-01-01,东湖区,其他,250\n"
    "B,2025-01-01,东湖区,其他,\n"
)
SUPERSEDED = "the same record key appears again at row 3 with different content; the later row is kept"


@pytest.mark.parametrize("chunk_rows", [1, 2, 10])
def test_the_last_row_of_a_key_wins_and_redelivery_is_all_duplicates(
    tmp_path: Path, warehouse: Warehouse, chunk_rows: int
) -> None:
    path = write(tmp_path, "cases.csv", TWICE)
    first = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=chunk_rows)
    assert counts(first) == {"cases.csv": [4, 2, 0, 1, 1]}
    stored = warehouse.read_records(RecordKind.CASES).set_index("case_id")
    assert stored.loc["A", "amount"] == 250
    assert warehouse.read_table(tables.record_history).empty
    entries = open_quarantine(warehouse)
    assert entries[["row", "field", "value", "reason"]].values.tolist() == [
        [1, "record_key", "A", SUPERSEDED]
    ]
    for _ in range(2):
        again = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=chunk_rows)
        assert counts(again) == {"cases.csv": [4, 0, 0, 3, 1]}
        assert open_quarantine(warehouse)[["row", "reason"]].values.tolist() == [[1, SUPERSEDED]]
    assert warehouse.read_table(tables.record_history).empty


@pytest.mark.parametrize("chunk_rows", [1, 10])
def test_a_key_replaced_twice_in_a_file_updates_the_store_once(
    tmp_path: Path, warehouse: Warehouse, chunk_rows: int
) -> None:
    header = "case_id,opened_at,district,category,amount\n"
    ingest_paths([write(tmp_path, "cases.csv", header + "A,2025-01-01,东湖区,其他,1\n")], warehouse, TEST_KEY)
    rows = "".join(f"A,2025-01-01,东湖区,其他,{amount}\n" for amount in (2, 3, 4))
    report = ingest_paths(
        [write(tmp_path, "cases_2.csv", header + rows)], warehouse, TEST_KEY, chunk_rows=chunk_rows
    )
    assert counts(report) == {"cases_2.csv": [3, 0, 1, 0, 2]}
    history = warehouse.read_table(tables.record_history)
    assert [json.loads(p)["amount"] for p in history["payload"]] == [1]
    assert warehouse.read_records(RecordKind.CASES)["amount"].tolist() == [4]


def test_a_corrected_file_without_the_later_row_stores_the_earlier_one(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    path = write(tmp_path, "cases.csv", TWICE)
    ingest_paths([path], warehouse, TEST_KEY, chunk_rows=1)
    path.write_text(
        TWICE.replace("A,2025-01-01,东湖区,其他,250\n", "C,2025-01-01,东湖区,其他,\n"), encoding="utf-8"
    )
    report = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=1)
    assert counts(report) == {"cases.csv": [4, 1, 1, 2, 0]}
    assert warehouse.read_records(RecordKind.CASES).set_index("case_id").loc["A", "amount"] == 100
    assert open_quarantine(warehouse).empty


def test_superseded_keys_are_shown_masked(tmp_path: Path, warehouse: Warehouse) -> None:
    header = "call_id,received_at,district,text\n"
    calls = header + "13812345678,2025-01-01,东湖区,一\n13812345678,2025-01-01,东湖区,二\n"
    ingest_paths([write(tmp_path, "hotline.csv", calls)], warehouse, TEST_KEY)
    assert open_quarantine(warehouse)["value"].tolist() == [PHONE_MASK]


# --- nothing raises out of ingest but failures of the store or the machine ----------------------------------


def _failing_on(case_id: str, error: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ingest_run._store_records

    def store(run: object, kind: RecordKind, records: pd.DataFrame, *rest: object) -> object:
        if case_id in set(records.get("case_id", pd.Series(dtype=str))):
            raise error
        return real(run, kind, records, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_run, "_store_records", store)


def test_an_unexpected_error_refuses_only_its_file(
    tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "case_id,opened_at,district,category\n"
    bad = write(tmp_path, "cases_bad.csv", header + "A,2025-01-01,东湖区,其他\nX,2025-01-01,东湖区,其他\n")
    good = write(tmp_path, "cases_good.csv", header + "B,2025-01-01,东湖区,其他\n")
    _failing_on("X", KeyError("surprise"), monkeypatch)
    report = ingest_paths([bad, good], warehouse, TEST_KEY, chunk_rows=1)
    assert report.failed == {
        "cases_bad.csv": "cases_bad.csv: refused after an unexpected KeyError: 'surprise'"
    }
    assert counts(report)["cases_good.csv"] == [1, 1, 0, 0, 0]
    assert warehouse.read_records(RecordKind.CASES)["case_id"].tolist() == ["B"]


@pytest.mark.parametrize(
    "error",
    [OperationalError("INSERT", {}, Exception("disk I/O error")), OSError("no space left"), MemoryError()],
)
def test_failures_of_the_store_or_machine_end_the_run(
    tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    header = "case_id,opened_at,district,category\n"
    good = write(tmp_path, "cases_a.csv", header + "B,2025-01-01,东湖区,其他\n")
    bad = write(tmp_path, "cases_b.csv", header + "X,2025-01-01,东湖区,其他\n")
    _failing_on("X", error, monkeypatch)
    with pytest.raises(type(error)):
        ingest_paths([good, bad], warehouse, TEST_KEY)
    assert warehouse.read_records(RecordKind.CASES).empty
    assert warehouse.read_table(tables.ingest_runs).empty


def test_an_unreadable_delivery_in_a_folder_is_refused_not_skipped(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cases_2025.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (inbox / "notes.xlsx").write_bytes(b"PK\x03\x04 truncated")
    report = ingest_paths([inbox], warehouse, TEST_KEY)
    statuses = dict(zip(report.accounting["source_file"], report.accounting["status"], strict=True))
    assert statuses == {"cases_2025.xlsx": "failed", "notes.xlsx": "skipped"}
    assert report.failed["cases_2025.xlsx"].startswith("cases_2025.xlsx: ")
