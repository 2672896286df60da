"""Checking delivered rows against the contract and turning good ones into the stored, pseudonymised form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from contracts.fields import FieldSpec, field_specs
from contracts.masking import mask_column
from contracts.records import EVENT_TIME_FIELD, RECORD_KEYS
from contracts.timeparse import InstantWindow, impossible_offsets, parse_datetimes, stated_years
from contracts.vocabulary import RecordKind
from ingest.pseudonymise import IDENTIFIER_KIND, PSEUDONYM_SUFFIX, Known, pseudonymise_column
from ingest.readers import READER_ERROR_COLUMN, READER_ERROR_FIELD, ROW_COLUMN

DATE_HELP = "use YYYY-MM-DD HH:MM[:SS], YYYY/MM/DD, YYYY年MM月DD日 [HH:MM] or ISO 8601"
OFFSET_HELP = "has an impossible UTC offset: offsets run from -14:00 to +14:00, with minutes 00-59"
QUARANTINE_COLUMNS = ("kind", "source_file", "row", "field", "value", "reason", "record_key")
MAX_NUMBER = {"integer": float(2**31 - 1), "number": 1e15}
NAME_FIELD = {RecordKind.CASES: "reporter_name", RecordKind.HOTLINE: "caller_name"}


class MissingColumnsError(ValueError):
    """A file lacks columns the contract requires: the whole file is refused."""


@dataclass(frozen=True)
class ValidatedBatch:
    """The outcome of checking a batch of delivered rows: stored-form records and quarantine rows."""

    kind: RecordKind
    source_file: str
    read: int
    records: pd.DataFrame
    quarantine: pd.DataFrame

    @property
    def quarantined_rows(self) -> int:
        """How many delivered rows went to quarantine (a row may break several fields)."""
        return int(self.quarantine["row"].nunique()) if len(self.quarantine) else 0


@dataclass(frozen=True)
class _Checked:
    values: pd.Series
    broken: pd.Series
    reasons: pd.Series


def _check(spec: FieldSpec, raw: pd.Series, window: InstantWindow) -> _Checked:
    """Parse one column by its spec; flag broken cells with a reason a person can act on."""
    empty = raw == ""
    if spec.type == "datetime":
        values, wrong, reasons = _check_instants(raw, empty, window)
    elif spec.type in ("integer", "number"):
        values, wrong, reasons = _check_numbers(spec, raw, empty)
    elif spec.type == "enum":
        wrong = ~raw.isin(spec.choices) & ~empty
        reasons = "'" + raw + f"' is not a known {spec.name}; expected one of " + ", ".join(spec.choices)
        values = raw.where(~empty & ~wrong)
    else:
        wrong = pd.Series(False, index=raw.index)
        reasons = pd.Series("", index=raw.index)
        values = raw.where(~empty)
    missing = empty & spec.required
    reasons = reasons.where(~missing, f"required field '{spec.name}' is empty")
    return _Checked(values=values, broken=wrong | missing, reasons=reasons)


def _check_instants(
    raw: pd.Series, empty: pd.Series, window: InstantWindow
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Dates and times: parsed, and inside the plausible window (a year beyond what a datetime holds
    is outside it too, not merely unreadable)."""
    values = parse_datetimes(raw)
    unparsed = values.isna() & ~empty
    years = stated_years(raw[unparsed]).reindex(raw.index)
    beyond = unparsed & ~years.between(window.earliest.year, window.latest.year) & years.notna()
    outside = (values.notna() & ~window.contains(values)) | beyond
    reasons = ("'" + raw + "' is not a valid date/time; " + DATE_HELP).where(
        ~outside, "'" + raw + f"' is outside the plausible window {window.describe()}"
    )
    if unparsed.any():
        bad_zone = impossible_offsets(raw[unparsed]).reindex(raw.index, fill_value=False)
        reasons = reasons.where(~bad_zone, "'" + raw + "' " + OFFSET_HELP)
    return values.where(~outside), unparsed | outside, reasons


def _check_numbers(
    spec: FieldSpec, raw: pd.Series, empty: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers: finite, within the stored range, whole where an integer is due, not below the minimum."""
    numbers = pd.to_numeric(raw.where(~empty), errors="coerce").astype("float64")
    not_number = numbers.isna() & ~empty
    not_finite = ~np.isfinite(numbers) & numbers.notna()
    out_of_range = (numbers.abs() > MAX_NUMBER[spec.type]) & ~not_finite
    fraction = (numbers % 1 != 0) & np.isfinite(numbers) if spec.type == "integer" else False
    too_small = (numbers < spec.minimum).fillna(False) if spec.minimum is not None else False
    wrong = not_number | not_finite | out_of_range | fraction | too_small
    word = "a whole number" if spec.type == "integer" else "a number"
    reasons = pd.Series(f"must be >= {spec.minimum or 0:g}", index=raw.index) + ", got '" + raw + "'"
    reasons = reasons.where(
        ~out_of_range, "'" + raw + f"' is out of range (at most {MAX_NUMBER[spec.type]:.15g})"
    )
    reasons = reasons.where(~not_finite, "'" + raw + "' is not a finite number")
    reasons = reasons.where(~(not_number | fraction), "'" + raw + f"' is not {word}")
    kept = numbers.where(~wrong)
    values = kept.astype("Int64") if spec.type == "integer" else kept.astype("Float64")
    return values, wrong, reasons


def _shown_value(spec: FieldSpec, raw: pd.Series, key: bytes, known: Known | None) -> pd.Series:
    """The value as it may be shown in quarantine: pseudonymised or masked where personal."""
    if spec.personal:
        return pseudonymise_column(raw, IDENTIFIER_KIND[spec.name], key, known).fillna("")
    return mask_column(raw).fillna("").str.slice(0, 200)


def validate_frame(
    frame: pd.DataFrame,
    kind: RecordKind,
    source_file: str,
    key: bytes,
    window: InstantWindow | None = None,
    known: Known | None = None,
    hashed: bool = True,
) -> ValidatedBatch:
    """Split a text frame into contract-valid stored records and quarantine rows with reasons.

    Dates and times outside `window` (default: 1990-01-01 to now plus a day) are quarantined; rows the
    reader could not parse (a non-empty reader error) are quarantined with that error, never checked.
    `known` holds the pseudonyms made so far in the run (for this key; filled in here). `hashed=False`
    leaves out the records' row hashes, for `with_row_hashes` to add elsewhere.
    """
    window = window or InstantWindow.from_now()
    specs = field_specs(kind)
    unparsed = _reader_errors(frame)
    missing = [s.name for s in specs if s.required and s.name not in frame.columns]
    if missing and not (len(frame) and unparsed.all()):  # a chunk of unparsed lines has no columns yet
        raise MissingColumnsError(
            f"{source_file}: missing required column(s) {', '.join(missing)} for {kind.value}; "
            "rename them in the export or map them with a column-mapping file"
        )
    blank = pd.Series("", index=frame.index)
    checked = {
        spec.name: _check(spec, frame[spec.name] if spec.name in frame.columns else blank, window)
        for spec in specs
    }
    keys = _quarantine_key(checked, kind)
    problems = [_unparsed_rows(frame, unparsed, kind, source_file)] if unparsed.any() else []
    for spec in specs:
        raw = frame[spec.name] if spec.name in frame.columns else blank
        result = checked[spec.name]
        where = result.broken & ~unparsed
        if where.any():
            problems.append(
                pd.DataFrame(
                    {
                        "kind": kind.value,
                        "source_file": source_file,
                        "row": frame.loc[where, ROW_COLUMN].astype("int64"),
                        "field": spec.name,
                        "value": _shown_value(spec, raw[where], key, known),
                        "reason": mask_column(result.reasons[where]),
                        "record_key": keys[where],
                    }
                )
            )
    quarantine = (
        pd.concat(problems, ignore_index=True).sort_values(["row", "field"], ignore_index=True)
        if problems
        else empty_quarantine()
    )
    broken = [c.broken.to_numpy() for c in checked.values()]
    bad = np.logical_or.reduce([unparsed.to_numpy(), *broken])
    good = pd.DataFrame({name: c.values for name, c in checked.items()})[~bad]
    records = to_stored_form(good, kind, key, known, hashed)
    records["source_file"] = source_file
    records[ROW_COLUMN] = frame.loc[~bad, ROW_COLUMN].to_numpy()
    return ValidatedBatch(kind, source_file, len(frame), records.reset_index(drop=True), quarantine)


def _reader_errors(frame: pd.DataFrame) -> pd.Series:
    """Rows the reader could not parse into fields (its error column non-empty), if it gave one."""
    if READER_ERROR_COLUMN not in frame.columns:
        return pd.Series(False, index=frame.index)
    errors = frame[READER_ERROR_COLUMN]
    return errors.notna() & errors.astype(str).ne("")


def _unparsed_rows(
    frame: pd.DataFrame, unparsed: pd.Series, kind: RecordKind, source_file: str
) -> pd.DataFrame:
    """One quarantine row per row the reader could not parse, with the reader's error as the reason."""
    return pd.DataFrame(
        {
            "kind": kind.value,
            "source_file": source_file,
            "row": frame.loc[unparsed, ROW_COLUMN].astype("int64"),
            "field": READER_ERROR_FIELD,
            "value": "",
            "reason": mask_column(frame.loc[unparsed, READER_ERROR_COLUMN].astype(str)),
            "record_key": None,
        }
    )


def _quarantine_key(checked: dict[str, _Checked], kind: RecordKind) -> pd.Series:
    """Record keys of delivered rows whose key fields are all readable, else None (a later delivery of
    the key releases their entries)."""
    columns = RECORD_KEYS[kind]
    readable = ~np.logical_or.reduce([checked[c].broken.to_numpy() for c in columns])
    parts = pd.DataFrame({c: checked[c].values for c in columns})
    keys = record_keys(parts[readable], kind) if readable.any() else pd.Series(dtype="object")
    keys = keys.astype(object).reindex(parts.index)
    return keys.where(keys.notna(), None)


def empty_quarantine() -> pd.DataFrame:
    """A quarantine frame with no rows."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in QUARANTINE_COLUMNS})


NOT_HASHED = ("record_key", "source_file", ROW_COLUMN)  # what a record's row hash leaves out


def to_stored_form(
    typed: pd.DataFrame, kind: RecordKind, key: bytes, known: Known | None = None, hashed: bool = True
) -> pd.DataFrame:
    """Typed rows -> stored rows: identifiers pseudonymised (`known`: pseudonyms made so far in the run),
    text masked, knowledge time, key, hash (unless `hashed` is False)."""
    out = typed.copy()
    names = out.get(NAME_FIELD.get(kind, ""))
    for spec in field_specs(kind):
        if spec.free_text:
            out[spec.name] = mask_column(out[spec.name], names)
    for spec in field_specs(kind):
        if spec.personal:
            pseudonyms = pseudonymise_column(out.pop(spec.name), IDENTIFIER_KIND[spec.name], key, known)
            out[spec.name + PSEUDONYM_SUFFIX] = pseudonyms
    event_time = out[EVENT_TIME_FIELD[kind]]
    out["known_at"] = out["recorded_at"].where(out["recorded_at"] > event_time, event_time)
    out["record_key"] = record_keys(out, kind)
    if hashed:
        _insert_row_hashes(out, kind)
    return out


def with_row_hashes(batch: ValidatedBatch) -> ValidatedBatch:
    """A batch validated with `hashed=False`, its records given (in place) the row hashes `validate_frame`
    gives them."""
    _insert_row_hashes(batch.records, batch.kind)
    return batch


def _insert_row_hashes(records: pd.DataFrame, kind: RecordKind) -> None:
    """Stored-form records given (in place, after the key) their row hash: over every stored field and the
    knowledge time, not the key, the file or the row."""
    hashed = records.drop(columns=[c for c in NOT_HASHED if c in records.columns])
    records.insert(records.columns.get_loc("record_key") + 1, "row_hash", row_hashes(hashed, kind))


def record_keys(frame: pd.DataFrame, kind: RecordKind) -> pd.Series:
    """One string key per record from the contract's key columns."""
    parts = []
    for column in RECORD_KEYS[kind]:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
        parts.append(values.astype(str))
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key


def row_hashes(frame: pd.DataFrame, kind: RecordKind) -> pd.Series:
    """A stable content hash per row (hex), to tell duplicates from updates.

    Each column is first put into one canonical dtype chosen by its declared contract type, never by
    how pandas happened to type it in this batch (an all-empty column must hash like an empty cell).
    """
    declared = {spec.name: spec.type for spec in field_specs(kind)}
    declared["known_at"] = "datetime"
    canonical = {}
    for column in sorted(frame.columns):
        values = frame[column]
        kind_of_value = declared.get(column, "string")
        if kind_of_value == "datetime":
            canonical[column] = pd.to_datetime(values).astype("datetime64[us]").astype("int64")
        elif kind_of_value in ("integer", "number"):
            canonical[column] = pd.to_numeric(values).astype("float64")
        else:
            canonical[column] = _hashable_text(values)
    hashed = pd.util.hash_pandas_object(pd.DataFrame(canonical, index=frame.index), index=False)
    return pd.Series(_hex_strings(hashed.to_numpy()), index=frame.index)


def _hashable_text(values: pd.Series) -> pd.Series:
    """A text column as strings, missing cells as '' (str columns without a detour through Python objects).

    Stored hashes have always hashed a missing cell as '': the fill value was written "\\x00", which
    numpy turned into '' (it drops trailing NULs), and validation never keeps an empty string.
    """
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("")
    return values.astype(object).where(values.notna(), "").astype(str)


def _hex_strings(hashes: np.ndarray) -> pd.arrays.ArrowStringArray:
    """64-bit hashes as 16-digit lower-case hex strings (what f"{h:016x}" gives), built in one pass."""
    text = hashes.astype(">u8").tobytes().hex().encode("ascii")
    offsets = np.arange(0, 16 * (len(hashes) + 1), 16, dtype=np.int64)
    strings = pa.LargeStringArray.from_buffers(len(hashes), pa.py_buffer(offsets), pa.py_buffer(text))
    return pd.array(strings, dtype="str")
