"""Reading delivered files as chunks of text, and telling which record kind a file holds."""

from __future__ import annotations

import codecs
import glob
from collections.abc import Iterator
from pathlib import Path
from zipfile import BadZipFile

import pandas as pd
import pyarrow.parquet as pq

from contracts.vocabulary import RecordKind

ROW_COLUMN = "_row"
SUPPORTED_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet", ".xlsx")
DEFAULT_CHUNK_ROWS = 200_000
_SNIFF_BYTES = 1 << 20


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


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while block := handle.read(_SNIFF_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def iter_text_chunks(
    path: Path, encoding: str | None = None, sheet: str | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """A delivered file as frames of text ('' when empty) of at most chunk_rows rows, with the 1-based row."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(
            path, f"unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    first_row = 1
    try:
        for raw in _raw_chunks(path, suffix, encoding, sheet, chunk_rows):
            frame = _as_text(raw)
            frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
            frame.insert(0, ROW_COLUMN, range(first_row, first_row + len(frame)))
            first_row += len(frame)
            yield frame
    except UnreadableFileError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, KeyError, pd.errors.ParserError, BadZipFile) as error:
        raise UnreadableFileError(
            path, f"cannot be read as {suffix[1:]} (after row {first_row - 1}): {error}"
        ) from error


def _raw_chunks(
    path: Path, suffix: str, encoding: str | None, sheet: str | None, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    if path.stat().st_size == 0:
        return
    if suffix == ".csv":
        chosen = encoding or csv_encoding(path)
        with pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding=chosen, chunksize=chunk_rows
        ) as reader:
            yield from reader
    elif suffix in (".jsonl", ".ndjson"):
        with pd.read_json(
            path, lines=True, dtype=False, chunksize=chunk_rows, encoding=encoding or "utf-8"
        ) as reader:
            yield from reader
    elif suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    else:
        yield from _excel_chunks(path, sheet, chunk_rows)


def _excel_chunks(path: Path, sheet: str | None, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Rows of an .xlsx sheet (the first, or the named one) streamed in read-only mode."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise UnreadableFileError(
                path, f"has no sheet {sheet!r}; its sheets are {', '.join(workbook.sheetnames)}"
            )
        rows = (workbook[sheet] if sheet else workbook.worksheets[0]).iter_rows(values_only=True)
        header = [
            (f"Unnamed: {i}" if h is None or str(h).strip() == "" else str(h))
            for i, h in enumerate(next(rows, ()))
        ]
        repeated = sorted({h for h in header if header.count(h) > 1})
        if repeated:
            raise UnreadableFileError(
                path, f"has repeated column headings {repeated}; rename them in the sheet"
            )
        batch: list[tuple[object, ...]] = []
        for row in rows:
            if all(v is None for v in row):
                continue
            batch.append(row[: len(header)])
            if len(batch) == chunk_rows:
                yield pd.DataFrame(batch, columns=header, dtype=object)
                batch = []
        if batch or not header:
            yield pd.DataFrame(batch, columns=header, dtype=object)
    finally:
        workbook.close()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as stripped strings; missing values as ''; datetimes in ISO form; whole numbers without '.0'."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
            text = values.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_float_dtype(values):
            whole = values.notna() & (values % 1 == 0)
            text = values.astype(str).where(~whole, values.round().astype("Int64").astype(str))
            text = text.where(values.notna(), "")
        elif pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            text = values.astype(str)
        elif pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
            text = values.fillna("")
        else:
            text = values.map(_cell_text, na_action=None)
        out[column] = text.fillna("").astype(str).str.strip()
    return pd.DataFrame(out, index=frame.index)


def _cell_text(value: object) -> str:
    """One cell of mixed type (Excel, JSON) as text."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "isoformat") and hasattr(value, "year"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()  # type: ignore[call-arg]
    return str(value)


def detect_kind(path: Path, columns: list[str], given: RecordKind | None = None) -> RecordKind:
    """The record kind of a file: as given, else by its name, else by its columns."""
    if given is not None:
        return given
    name = path.name.lower()
    for kind in (RecordKind.CASE_EVENTS, RecordKind.CASES, RecordKind.HOTLINE):
        if name.startswith(kind.value):
            return kind
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
