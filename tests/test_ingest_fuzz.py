"""Fuzzing every reader and format: whatever a delivery holds, reading yields frames of text or refuses the
file (UnreadableFileError), and an ingest run never raises and accounts for every row it read."""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.readers import READER_ERROR_COLUMN, ROW_COLUMN, UnreadableFileError, iter_text_chunks
from ingest.run import ingest_paths
from tests.builders import TEST_KEY
from warehouse.store import Warehouse

FORMATS = ("csv-utf-8", "csv-gb18030", "jsonl", "parquet", "xlsx")
COLUMNS = ["case_id", "opened_at", "district", "category", "amount", "party_count", "description", "x"]
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_counter = itertools.count()

texts = st.text(max_size=12)
cells = st.one_of(
    texts,
    st.sampled_from(["", " ", "2025-01-01", "9999-12-31T23:59:59Z", "A1", "东湖区", "=1+1", "\t\r\n\x00"]),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e20, 1e300, 2**63, 2**70, -(2**64)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.booleans(),
    st.none(),
)
headers = st.lists(st.one_of(st.sampled_from(COLUMNS), texts), min_size=1, max_size=7)
table = st.tuples(headers, st.lists(st.lists(cells, max_size=9), max_size=8))


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@pytest.fixture(scope="module")
def warehouse(folder: Path) -> Warehouse:
    return Warehouse(f"sqlite:///{folder / 'store.db'}")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def write(folder: Path, form: str, header: list[object], rows: list[list[object]]) -> Path:
    """The rows in the given format (ragged where the format allows it), in a fresh file named cases_N."""
    stem = folder / f"cases_{next(_counter)}"
    if form.startswith("csv"):
        out = io.StringIO()
        csv.writer(out).writerows([[_text(h) for h in header], *[[_text(c) for c in row] for row in rows]])
        path = stem.with_suffix(".csv")
        path.write_bytes(out.getvalue().encode(form.removeprefix("csv-")))
    elif form == "jsonl":
        import json

        lines = [
            json.dumps(dict(zip(map(_text, header), row, strict=False)) if i % 3 else row, ensure_ascii=False)
            for i, row in enumerate(rows)
        ]
        path = stem.with_suffix(".jsonl")
        path.write_text("\n".join(lines), encoding="utf-8")
    elif form == "parquet":
        names = list(dict.fromkeys(_text(h) for h in header))
        columns = {}
        for i, name in enumerate(names):
            values = [row[i] if i < len(row) else None for row in rows]
            try:
                columns[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                columns[name] = pa.array([None if v is None else repr(v) for v in values])
        path = stem.with_suffix(".parquet")
        pq.write_table(pa.table(columns) if columns else pa.table({"x": pa.array([], pa.string())}), path)
    else:
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        workbook = Workbook()
        sheet = workbook.active
        for row in [header, *rows]:
            sheet.append([_excel_value(v, ILLEGAL_CHARACTERS_RE) for v in row])
        path = stem.with_suffix(".xlsx")
        workbook.save(path)
    return path


def _excel_value(value: object, illegal: re.Pattern[str]) -> object:
    """A value openpyxl can write: no control characters it refuses, integers Excel holds."""
    if isinstance(value, str):
        return illegal.sub("", value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)
    return value


def assert_text_frames(path: Path) -> int:
    """Read the whole file; every cell is text and row numbers rise; the rows read (or -1 if refused)."""
    try:
        last, count = 0, 0
        for frame in iter_text_chunks(path, chunk_rows=3):
            assert frame.columns[0] == ROW_COLUMN
            numbers = frame[ROW_COLUMN].tolist()
            assert all(isinstance(n, int) for n in numbers) and numbers == sorted(numbers)
            assert not numbers or numbers[0] > last
            last = numbers[-1] if numbers else last
            for column in frame.columns[1:]:
                assert all(isinstance(v, str) for v in frame[column]), column
            if READER_ERROR_COLUMN in frame.columns:
                broken = frame[READER_ERROR_COLUMN] != ""
                data = frame.drop(columns=[ROW_COLUMN, READER_ERROR_COLUMN])
                assert (data[broken] == "").all().all()
            count += len(frame)
        return count
    except UnreadableFileError as error:
        assert error.reason
        return -1


@FUZZ
@given(form=st.sampled_from(FORMATS), content=table)
def test_every_reader_yields_text_or_refuses(folder: Path, form: str, content: tuple[list, list]) -> None:
    header, rows = content
    path = write(folder, form, header, rows)
    read = assert_text_frames(path)
    assert read <= max(len(rows), 0) or read == -1


@FUZZ
@given(suffix=st.sampled_from([".csv", ".jsonl", ".parquet", ".xlsx"]), data=st.binary(max_size=300))
def test_random_bytes_never_escape_as_anything_but_a_refusal(folder: Path, suffix: str, data: bytes) -> None:
    path = folder / f"cases_{next(_counter)}{suffix}"
    path.write_bytes(data)
    assert_text_frames(path)


@FUZZ
@given(suffix=st.sampled_from([".csv", ".jsonl"]), content=table, cut=st.floats(0.0, 1.0))
def test_damaged_text_files_never_escape(
    folder: Path, suffix: str, content: tuple[list, list], cut: float
) -> None:
    path = write(folder, "csv-utf-8" if suffix == ".csv" else "jsonl", *content)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * cut)] + b'"' + raw[int(len(raw) * cut) :])
    assert_text_frames(path)


def _contract_rows(values: list[list[object]]) -> list[list[object]]:
    base = ["A", "2025-01-01", "东湖区", "其他"]
    return [[f"C{i % 4}", *base[1:], *row] if i % 5 else row for i, row in enumerate(values)]


@pytest.mark.slow
@FUZZ
@given(
    form=st.sampled_from(FORMATS),
    extra=st.lists(st.sampled_from(COLUMNS[4:]), max_size=3),
    values=st.lists(st.lists(cells, max_size=5), min_size=1, max_size=8),
)
def test_an_ingest_run_never_raises_and_accounts_every_row(
    folder: Path, warehouse: Warehouse, form: str, extra: list[str], values: list[list[object]]
) -> None:
    header = [*COLUMNS[:4], *dict.fromkeys(extra)]
    path = write(folder, form, header, _contract_rows(values))
    report = ingest_paths([path], warehouse, TEST_KEY, chunk_rows=3)
    row = report.accounting.iloc[0]
    if row["status"] == "failed":
        assert report.failed.get(path.name)
        assert int(row["read"]) == 0
    else:
        assert row["status"] == "ingested"
        assert int(row["read"]) == sum(
            int(row[c]) for c in ("accepted", "updated", "duplicates", "quarantined")
        )
