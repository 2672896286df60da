"""Reading delivered files into frames of text, and telling which record kind a file holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from contracts.vocabulary import RecordKind

ROW_COLUMN = "_row"
SUPPORTED_SUFFIXES = (".csv", ".jsonl", ".json", ".ndjson", ".parquet", ".xlsx")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class UnreadableFileError(ValueError):
    """A file that cannot be read at all; its records are not ingested."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


def expand_paths(paths: list[Path]) -> list[Path]:
    """The input files named by paths: files as given, folders by their supported files, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def read_text_frame(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """Every cell of a delivered file as text ('' when empty), with the 1-based data row in `_row`."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = _read_csv(path, encoding)
        elif suffix in (".jsonl", ".ndjson", ".json"):
            frame = pd.read_json(path, lines=True, dtype=False)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=object)
        else:
            raise UnreadableFileError(
                path, f"unsupported file type {suffix!r}; use one of {SUPPORTED_SUFFIXES}"
            )
    except UnreadableFileError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise UnreadableFileError(path, f"cannot be read as {suffix[1:]}: {error}") from error
    frame = _as_text(frame)
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame.insert(0, ROW_COLUMN, range(1, len(frame) + 1))
    return frame


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    """A CSV read as text in the given encoding, else UTF-8 (with or without BOM), else GB18030."""
    encodings = (encoding,) if encoding else CSV_ENCODINGS
    last_error: Exception | None = None
    for candidate in encodings:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=candidate)
        except UnicodeDecodeError as error:
            last_error = error
    raise UnreadableFileError(path, f"is not text in {' or '.join(encodings)}: {last_error}")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as stripped strings; missing values as ''; datetimes in ISO form; whole numbers without '.0'."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_float_dtype(values):
            text = values.map(
                lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else repr(v))
            )
        else:
            text = values.map(
                lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            )
        out[column] = text.fillna("").astype(str).str.strip()
    return pd.DataFrame(out, index=frame.index)


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
