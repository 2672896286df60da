"""Reading delivered files as chunks of text, and telling which record kind a file holds.

Nothing in a delivery raises out of `iter_text_chunks` but `UnreadableFileError` (the file is refused,
with a reason). A single broken row does not refuse its file: a CSV row with too few or too many fields,
or a JSON line that is not valid JSON or not an object, is yielded in its place (row number kept, cells
blank) with the reason in the reserved column `_reader_error` (READER_ERROR_COLUMN). That column is
present only in chunks holding such a row, and is '' on good rows; validation turns each marked row into
one quarantine entry (field READER_ERROR_FIELD), never a record. Row numbers: CSV and Excel count data
rows (1 = the first row under the header, blank rows skipped); JSON Lines use the line number (blank lines
skipped but counted); Parquet counts rows.

Numbers reach validation as text: whole numbers without '.0' (exact for integers of any size), others as
Python writes them ('0.5', '1e+20', 'inf', '-inf'); a JSON number too big for a float keeps its literal
text ('1e400'), and JSON's NaN/Infinity stay the words 'NaN'/'Infinity', so validation can refuse them.
A Parquet NaN is a missing value. NUL characters, which no store keeps, are dropped from Parquet, JSON
and Excel cells; a CSV file holding one is refused (it is binary or UTF-16 text).
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import itertools
import json
import math
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from contracts.vocabulary import RecordKind

ROW_COLUMN = "_row"
READER_ERROR_COLUMN = "_reader_error"
READER_ERROR_FIELD = "_line"
RESERVED_COLUMNS = (ROW_COLUMN, READER_ERROR_COLUMN)
SUPPORTED_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet", ".xlsx")
DEFAULT_CHUNK_ROWS = 200_000
DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 * 1024
_SNIFF_BYTES = 1 << 20
_EXACT_FLOAT = 2.0**53  # whole floats below this are written as integers, exactly
# Encodings Arrow's parser reads (it skips a UTF-8 BOM itself); others are read by the csv module.
_ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "gb18030": "gb18030"}
_EOF_MARK = "\x00fengqiao-end-of-file\x00"  # cannot occur in a CSV we read (NUL refuses the file)
_ARROW_EOF_MARK = "fengqiao-end-of-file-7c1e94b2"  # Arrow's parser mishandles NUL on block edges


class UnreadableFileError(ValueError):
    """A file that cannot be read at all; its records are not ingested."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[UnreadableFileError], tuple[Path, str]]:
        """Pickled as its path and reason (it crosses from the ingest helper process)."""
        return (UnreadableFileError, (self.path, self.reason))


def _is_input_candidate(path: Path) -> bool:
    """A file in a folder that may be a delivery: a supported type, not hidden, not an Office lock file."""
    return (
        path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith((".", "~$"))
    )


def expand_paths(paths: list[Path]) -> list[Path]:
    """The input files named by paths: files as given, folders by their supported files, glob patterns."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if _is_input_candidate(p)))
        elif path.exists():
            found.append(path)
        elif matches := sorted(glob.glob(str(path), recursive=True)):
            found.extend(Path(m) for m in matches if Path(m).suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            raise FileNotFoundError(f"{path}: no such file, folder or matching pattern")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


# ------------------------------------------------------------------------------------------ encodings


def text_problem(path: Path, encoding: str) -> str | None:
    """Why the file is not plain text in `encoding` (undecodable byte with its offset and line, or a NUL
    character), or None when it is."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        return f"unknown encoding {encoding!r}"
    offset, line = 0, 1
    with open(path, "rb") as handle:
        while True:
            block = handle.read(_SNIFF_BYTES)
            pending = decoder.getstate()[0]
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                data = pending + block
                at = offset - len(pending) + error.start
                bad = data[error.start : error.start + 1].hex() or "end of file"
                line += data[: max(error.start, 0)].count(b"\n")
                return f"is not {encoding} text: undecodable byte 0x{bad} at byte offset {at} (line {line})"
            if (nul := text.find("\x00")) >= 0:
                line += text[:nul].count("\n")
                return f"holds a NUL character on line {line} (binary, or UTF-16 text; save it as UTF-8)"
            line += text.count("\n")
            offset += len(block)
            if not block:
                return None


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030; a file that is
    neither (or holds NUL characters) is refused, naming the byte offset and line."""
    utf8 = text_problem(path, "utf-8")
    if utf8 is None:
        return "utf-8-sig"
    if "NUL" in utf8:
        raise UnreadableFileError(path, utf8)
    gb = text_problem(path, "gb18030")
    if gb is None:
        return "gb18030"
    if "NUL" in gb:
        raise UnreadableFileError(path, gb)
    raise UnreadableFileError(path, f"is neither UTF-8 nor GB18030 text ({utf8}; {gb}); save it as UTF-8")


# -------------------------------------------------------------------------------------------- reading


def iter_text_chunks(
    path: Path,
    encoding: str | None = None,
    sheet: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
    skip: int = 0,
) -> Iterator[pd.DataFrame]:
    """A delivered file as frames of text ('' when empty) of at most chunk_rows rows, with the 1-based row;
    the first `skip` chunks are read (their rows counted) but not given, nor turned into text.

    Raises only UnreadableFileError (whatever the file holds); broken rows are marked, see the module.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(
            path, f"unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    first_row = 1
    try:
        for at, raw in enumerate(_raw_chunks(path, suffix, encoding, sheet, chunk_rows, max_unpacked_bytes)):
            if at < skip:
                numbered = ROW_COLUMN in raw.columns and len(raw)
                first_row = int(raw[ROW_COLUMN].iloc[-1]) + 1 if numbered else first_row + len(raw)
                continue
            frame = _as_text(raw, drop_nul=suffix != ".csv")
            if ROW_COLUMN not in frame.columns:
                frame.insert(0, ROW_COLUMN, range(first_row, first_row + len(frame)))
            else:
                frame.insert(0, ROW_COLUMN, frame.pop(ROW_COLUMN).astype("int64"))
            if len(frame):
                first_row = int(frame[ROW_COLUMN].iloc[-1]) + 1
            yield frame
    except UnreadableFileError:
        raise
    except MemoryError:
        raise UnreadableFileError(path, f"is too big to read (after row {first_row - 1})") from None
    except Exception as error:  # hostile input: whatever a parser raises refuses the file, with its reason
        raise UnreadableFileError(
            path, f"cannot be read as {suffix[1:]} (after row {first_row - 1}): {_described(error)}"
        ) from error


def _described(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if isinstance(error, ValueError | OSError) else f"{type(error).__name__}: {text}"


def _raw_chunks(
    path: Path, suffix: str, encoding: str | None, sheet: str | None, chunk_rows: int, max_unpacked: int
) -> Iterator[pd.DataFrame]:
    if path.stat().st_size == 0:
        return
    if suffix == ".csv":
        yield from _csv_chunks(path, encoding, chunk_rows)
    elif suffix in (".jsonl", ".ndjson"):
        yield from _jsonl_chunks(path, encoding or "utf-8", chunk_rows)
    elif suffix == ".parquet":
        parquet = pq.ParquetFile(path)
        _refuse_reserved(path, (str(name) for name in parquet.schema_arrow.names))
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yield _parquet_frame(batch)
    else:
        yield from _excel_chunks(path, sheet, chunk_rows, max_unpacked)


def column_names(raw: Iterable[object]) -> list[str]:
    """Headings as columns: stripped (and BOM-less), blank ones 'Unnamed: i', repeats 'name.1', 'name.2'."""
    names: list[str] = []
    taken: set[str] = set()
    for i, heading in enumerate(raw):
        text = "" if heading is None else str(heading)
        base = text.strip().lstrip("\ufeff").strip() or f"Unnamed: {i}"
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}.{n}"
        taken.add(name)
        names.append(name)
    return names


def _refuse_reserved(path: Path, columns: Iterable[str]) -> None:
    reserved = sorted(set(columns) & set(RESERVED_COLUMNS))
    if reserved:
        raise UnreadableFileError(path, f"has column(s) {reserved}, names reserved for ingest; rename them")


# ------------------------------------------------------------------------------------------------ CSV


def _csv_chunks(path: Path, encoding: str | None, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """CSV chunks: Arrow's fast reader while every row has the header's field count and the file ends
    outside quotes, else the csv module from the first chunk Arrow could not give, marking ragged rows."""
    chosen = encoding or csv_encoding(path)
    if encoding is not None and (problem := text_problem(path, encoding)):
        raise UnreadableFileError(path, problem)
    with open(path, newline="", encoding=chosen) as handle:
        header = next(_csv_records(path, handle), None)
    if header is None:
        return
    names = column_names(header)
    _refuse_reserved(path, names)
    done = 0
    if (arrow_encoding := _ARROW_ENCODINGS.get(codecs.lookup(chosen).name)) is not None:
        try:
            for frame in _arrow_csv_chunks(path, arrow_encoding, names, chunk_rows):
                yield frame
                done += len(frame)
            return
        except _NotEven:
            pass
    yield from _exact_csv_chunks(path, chosen, names, done, chunk_rows)


class _NotEven(Exception):
    """Arrow's reader met a row it cannot give as is (ragged, torn quoting): the csv module takes over."""


class _WithTail(io.RawIOBase):
    """A binary file followed by a few more bytes."""

    def __init__(self, handle: io.BufferedReader, tail: bytes) -> None:
        super().__init__()
        self.handle, self.tail = handle, tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if n := self.handle.readinto(buffer):
            return n
        part, self.tail = self.tail[: len(buffer)], self.tail[len(buffer) :]
        buffer[: len(part)] = part
        return len(part)


def _arrow_csv_chunks(path: Path, encoding: str, names: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """CSV chunks by Arrow's parser, all cells text; _NotEven at the first ragged row or torn quoting.

    The file is read with an end mark row after it: a quoted field left open swallows the mark.
    """
    width = len(names)
    generated = [f"f{i}" for i in range(width)]
    mark = ("\n" + _ARROW_EOF_MARK + "," * (width - 1) + "\n").encode("ascii")
    options = {
        "read_options": pa_csv.ReadOptions(
            encoding=encoding, autogenerate_column_names=True, block_size=1 << 22
        ),
        "parse_options": pa_csv.ParseOptions(newlines_in_values=True),
        "convert_options": pa_csv.ConvertOptions(column_types=dict.fromkeys(generated, pa.string())),
    }
    pending: list[pa.RecordBatch] = []
    held, first = 0, True
    with open(path, "rb") as handle, io.BufferedReader(_WithTail(handle, mark), 1 << 22) as stream:
        try:
            reader = pa_csv.open_csv(stream, **options)
            if reader.schema.names != generated:
                raise _NotEven
            for batch in reader:
                if first:
                    batch, first = batch.slice(1), False  # the header row
                pending.append(batch)
                held += batch.num_rows
                while held > chunk_rows:  # always keep the last row back: it may be the end mark
                    table = pa.Table.from_batches(pending)
                    yield _arrow_frame(table.slice(0, chunk_rows), names)
                    pending = table.slice(chunk_rows).to_batches()
                    held -= chunk_rows
        except pa.ArrowInvalid as error:
            raise _NotEven from error
    table = pa.Table.from_batches(pending, schema=reader.schema) if pending else None
    if table is None or table.num_rows == 0 or table.column(0)[-1].as_py() != _ARROW_EOF_MARK:
        raise _NotEven
    if table.num_rows > 1:
        yield _arrow_frame(table.slice(0, table.num_rows - 1), names)


def _arrow_frame(table: pa.Table, names: list[str]) -> pd.DataFrame:
    frame = table.to_pandas()
    frame.columns = names
    return frame


def _csv_records(path: Path, lines: Iterable[str]) -> Iterator[list[str]]:
    """The non-blank records of CSV text; a quoted field left open at the end refuses the file."""
    csv.field_size_limit(sys.maxsize)  # a long description is a field like any other, not an error
    reader = csv.reader(itertools.chain(lines, ["\n", _EOF_MARK + "\n"]))
    count = 0
    for fields in reader:
        if fields == [_EOF_MARK]:
            return
        if fields and _EOF_MARK in fields[-1]:
            raise UnreadableFileError(
                path,
                f"cannot be read as csv (after row {max(count - 1, 0)}): a quoted field in row {count} "
                "is never closed (torn quoting or a truncated file)",
            )
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        count += 1
        yield fields
    raise UnreadableFileError(path, "cannot be read as csv: its end could not be found")


def _exact_csv_chunks(
    path: Path, encoding: str, names: list[str], skip: int, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """CSV chunks after the first `skip` records, read by the csv module; ragged rows marked, cells blank."""
    width = len(names)
    with open(path, newline="", encoding=encoding) as handle:
        records = itertools.islice(_csv_records(path, handle), 1 + skip, None)
        row = skip + 1
        while batch := list(itertools.islice(records, chunk_rows)):
            errors = [""] * len(batch)
            for i, fields in enumerate(batch):
                if len(fields) != width:
                    errors[i] = f"row {row + i} has {len(fields)} fields, the header has {width}"
                    batch[i] = [""] * width
            columns = list(zip(*batch, strict=True)) if batch else []
            frame = pd.DataFrame({n: pd.array(c, dtype="str") for n, c in zip(names, columns, strict=True)})
            frame.index = range(len(batch))
            if any(errors):
                frame[READER_ERROR_COLUMN] = errors
            frame[ROW_COLUMN] = range(row, row + len(batch))
            row += len(batch)
            yield frame


# ---------------------------------------------------------------------------------------- JSON Lines


def _jsonl_chunks(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """JSON Lines read line by line: each object a row numbered by its line; a line that is not an
    object (or not JSON) a marked row. Columns are every key seen so far in the file."""
    columns: dict[str, None] = {}
    rows: list[dict[str, str]] = []
    numbers: list[int] = []
    errors: list[str] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as error:
                row, reason = (
                    {},
                    f"line {number} is not {encoding} text (bad byte at column {error.start + 1})",
                )
            else:
                if number == 1:
                    line = line.lstrip("\ufeff")
                if not line.strip():
                    continue
                row, reason = _json_row(line, number)
            columns.update(dict.fromkeys(row))
            rows.append(row)
            numbers.append(number)
            errors.append(reason)
            if len(rows) == chunk_rows:
                yield _json_frame(path, rows, numbers, errors, columns)
                rows, numbers, errors = [], [], []
    if rows:
        yield _json_frame(path, rows, numbers, errors, columns)


def _json_row(line: str, number: int) -> tuple[dict[str, str], str]:
    """One JSON line as a row of text, and '' (or the reason it is not a row)."""
    try:
        value = json.loads(line, parse_float=_json_float, parse_constant=str)
    except RecursionError:
        return {}, f"line {number} is not valid JSON: nested too deeply"
    except ValueError as error:
        return {}, f"line {number} is not valid JSON: {error}"
    if not isinstance(value, dict):
        return {}, f"line {number} is not a JSON object (it is {_json_type(value)})"
    row: dict[str, str] = {}
    for key, cell in value.items():
        row[key.strip().lstrip("\ufeff").strip()] = _json_text(cell)
    return row, ""


def _json_float(literal: str) -> float | str:
    """A JSON number with a fraction or exponent: a float, or its literal text when no float holds it."""
    number = float(literal)
    return number if math.isfinite(number) else literal


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "true or false", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _json_text(value: object) -> str:
    """A JSON value as cell text: nested arrays and objects as compact JSON."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return _cell_text(value)


def _json_frame(
    path: Path, rows: list[dict[str, str]], numbers: list[int], errors: list[str], columns: dict[str, None]
) -> pd.DataFrame:
    _refuse_reserved(path, columns)
    frame = pd.DataFrame({c: pd.array([r.get(c, "") for r in rows], dtype="str") for c in columns})
    frame.index = range(len(rows))
    if any(errors):
        frame[READER_ERROR_COLUMN] = errors
    frame[ROW_COLUMN] = numbers
    return frame


# -------------------------------------------------------------------------------------------- Parquet


def _parquet_frame(batch: pa.RecordBatch) -> pd.DataFrame:
    """A Parquet batch as a frame: integers and decimals turned into text by Arrow (exactly), the rest
    by pandas."""
    columns = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_integer(column.type) or pa.types.is_decimal(column.type):
            column = column.cast(pa.string())
        columns[str(name)] = column
    table = pa.table(list(columns.values()), names=column_names(columns))
    return table.to_pandas()


# ---------------------------------------------------------------------------------------------- Excel


def _excel_chunks(
    path: Path, sheet: str | None, chunk_rows: int, max_unpacked: int
) -> Iterator[pd.DataFrame]:
    """Rows of an .xlsx sheet (the first, or the named one) streamed in read-only mode, after checking the
    package is a whole zip that does not unpack beyond max_unpacked bytes."""
    from openpyxl import load_workbook

    _check_package(path, max_unpacked)
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise UnreadableFileError(
                path, f"has no sheet {sheet!r}; its sheets are {', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        first = list(next(worksheet.iter_rows(max_row=1, values_only=True), ()))
        while first and (first[-1] is None or str(first[-1]).strip() == ""):
            first.pop()
        header = [
            (f"Unnamed: {i}" if h is None or str(h).strip() == "" else str(h).strip())
            for i, h in enumerate(first)
        ]
        repeated = sorted({h for h in header if header.count(h) > 1})
        if repeated:
            raise UnreadableFileError(
                path, f"has repeated column headings {repeated}; rename them in the sheet"
            )
        _refuse_reserved(path, header)
        if not header:
            return
        rows = worksheet.iter_rows(min_row=2, max_col=len(header), values_only=True)
        batch: list[tuple[object, ...]] = []
        for row in rows:
            if all(v is None for v in row):
                continue
            batch.append(tuple(row[: len(header)]) + (None,) * (len(header) - len(row)))
            if len(batch) == chunk_rows:
                yield pd.DataFrame(batch, columns=header, dtype=object)
                batch = []
        if batch:
            yield pd.DataFrame(batch, columns=header, dtype=object)
    finally:
        workbook.close()


def _check_package(path: Path, max_unpacked: int) -> None:
    """Refuse an .xlsx that is not a whole zip package or would unpack beyond max_unpacked bytes."""
    try:
        with zipfile.ZipFile(path) as package:
            unpacked = sum(member.file_size for member in package.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise UnreadableFileError(
            path, f"is not a whole .xlsx file (damaged or truncated zip package: {error})"
        ) from None
    if unpacked > max_unpacked:
        raise UnreadableFileError(
            path,
            f"unpacks to {unpacked / 2**20:,.0f} MiB, more than the {max_unpacked / 2**20:,.0f} MiB allowed "
            "(max_unpacked_mib); split the export or save it as CSV",
        )


# ------------------------------------------------------------------------------------------ text cells


def _as_text(frame: pd.DataFrame, drop_nul: bool = True) -> pd.DataFrame:
    """Cells as stripped strings; missing values as ''; datetimes in ISO form; whole numbers without '.0'.

    The reserved columns (row number, reader error) are kept as they are.
    """
    out: dict[str, object] = {}
    for column in frame.columns:
        values = frame[column]
        if column in RESERVED_COLUMNS:
            out[column] = values
            continue
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if pd.api.types.is_datetime64_any_dtype(values):
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
            text = values.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_float_dtype(values) and isinstance(values.dtype, np.dtype):
            text = _float_text(values)
        elif pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            text = values.astype(object).map(_cell_text)
        elif pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
            text = values.fillna("")
        else:
            text = values.map(_cell_text, na_action=None)
        text = text.fillna("").astype(str).str.strip()
        if drop_nul and text.str.contains("\x00", regex=False).any():  # a scan costs less than a rewrite
            text = text.str.replace("\x00", "", regex=False)
        out[str(column)] = text
    return pd.DataFrame(out, index=frame.index)


def _float_text(values: pd.Series) -> pd.Series:
    """A float column as text: whole values (exactly representable) as integers, NaN as ''."""
    finite = values.notna() & values.abs().lt(_EXACT_FLOAT)
    whole = finite & values.where(finite, 0.0).mod(1).eq(0)
    text = values.astype(object).map(_cell_text)
    if whole.any():
        text = text.where(~whole, values.where(whole, 0.0).astype("int64").astype(str))
    return text.where(values.notna(), "")


def _cell_text(value: object) -> str:
    """One cell of mixed type (Excel, JSON, Parquet objects) as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer() and abs(value) < _EXACT_FLOAT:
            return str(int(value))
        return str(value)
    if isinstance(value, bool | int | str):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "isoformat") and hasattr(value, "year"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()  # type: ignore[call-arg]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# --------------------------------------------------------------------------------------- record kind


def kind_from_name(path: Path) -> RecordKind | None:
    """The record kind a file's name says (cases*, case_events*, hotline*), or None."""
    name = path.name.lower()
    for kind in (RecordKind.CASE_EVENTS, RecordKind.CASES, RecordKind.HOTLINE):
        if name.startswith(kind.value):
            return kind
    return None


def detect_kind(path: Path, columns: list[str], given: RecordKind | None = None) -> RecordKind:
    """The record kind of a file: as given, else by its name, else by its columns."""
    if given is not None:
        return given
    if (named := kind_from_name(path)) is not None:
        return named
    present = set(columns)
    if "call_id" in present:
        return RecordKind.HOTLINE
    if "event_type" in present:
        return RecordKind.CASE_EVENTS
    if "opened_at" in present:
        return RecordKind.CASES
    raise UnreadableFileError(
        path, "cannot tell its record kind: name it cases*/case_events*/hotline* or pass --kind"
    )
