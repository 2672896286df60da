"""Column-mapping files: turning a user's own export (own headings, codes, date formats) into the contract.

A mapping file is TOML (or YAML for ``.yaml``/``.yml``) with one optional table per record kind
(``cases``, ``case_events``, ``hotline``) and optional top-level ``encoding`` and ``sheet``. Each table
says which files it applies to, which source heading is which contract column, which contract columns
are derived from several headings (a template joining them, or the first non-empty of them), how
source values map to contract values, constant values, extra date formats and headings to discard.
The export itself is never edited. See ``examples/mappings/README.md``.
"""

from __future__ import annotations

import codecs
import fnmatch
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePath

import numpy as np
import pandas as pd

from contracts.fields import columns_of, field_specs
from contracts.timeparse import LOCAL_TZ
from contracts.vocabulary import RecordKind

ROW_COLUMN = "_row"  # same as ingest.readers.ROW_COLUMN; kept here so this module imports only contracts
READER_ERROR_COLUMN = "_reader_error"  # same as ingest.readers.READER_ERROR_COLUMN
CANONICAL_FORMAT = "%Y-%m-%d %H:%M:%S"
YAML_SUFFIXES = (".yaml", ".yml")
TOP_LEVEL_KEYS = ("encoding", "sheet")
SECTION_KEYS = ("files", "columns", "derive", "values", "fixed", "date_formats", "drop")
DERIVE_KEYS = ("template", "first_of")
DERIVE_EXAMPLE = 'text = { template = "{主题}：{内容}" } or caller_phone = { first_of = ["手机", "电话"] }'
SHOWN_HEADINGS = 12  # headings listed in an error about a heading the file lacks


class MappingError(ValueError):
    """A column-mapping file that is invalid, or that cannot be applied to a file's columns."""


@dataclass(frozen=True)
class Template:
    """A contract column joined from headings and text: prefix {h1} separator {h2} ... {hn} suffix.

    Each heading owns the text after it up to the next heading (the last one: the suffix), and the
    first also owns the prefix. A heading whose cell is empty is left out with the text it owns, and
    a separator is left out when no later heading has a value, so none is left dangling; a row whose
    cells are all empty gets an empty cell. Cells are taken without surrounding spaces.
    """

    prefix: str
    headings: tuple[str, ...]
    separators: tuple[str, ...]  # the text after each heading but the last
    suffix: str


@dataclass(frozen=True)
class FirstOf:
    """A contract column taken from the first of several headings whose cell is not empty."""

    headings: tuple[str, ...]


Derivation = Template | FirstOf


@dataclass(frozen=True)
class KindMapping:
    """How one record kind's export is turned into contract columns."""

    files: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    derive: dict[str, Derivation] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)  # "<mapping file> [<kind>]", for error messages


@dataclass(frozen=True)
class ColumnMapping:
    """A loaded column-mapping file."""

    source: Path
    kinds: dict[RecordKind, KindMapping]
    encoding: str | None = None
    sheet: str | None = None


def clean_heading(heading: object) -> str:
    """A heading as compared with mapping keys: surrounding whitespace and BOM removed."""
    return str(heading).strip().strip("\ufeff").strip()


# ---------------------------------------------------------------------------------------------
# Loading and checking a mapping file
# ---------------------------------------------------------------------------------------------


def load_mapping(path: Path) -> ColumnMapping:
    """Read and check a column-mapping file; raise MappingError naming the file and the bad key."""
    path = Path(path)
    document = _parse(path)
    if not isinstance(document, dict):
        raise MappingError(f"{path}: the top level must be a table of keys, not {_type_name(document)}")
    unknown = [key for key in document if key not in (*TOP_LEVEL_KEYS, *_kind_names())]
    if unknown:
        raise MappingError(
            f"{path}: unknown top-level key or table '{unknown[0]}'; allowed are "
            f"{', '.join(TOP_LEVEL_KEYS)} and the record kinds [{'], ['.join(_kind_names())}]"
        )
    encoding = _optional_text(path, document, "encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as error:
            raise MappingError(
                f'{path}: encoding \'{encoding}\' is not known; use e.g. "gb18030" or "utf-8-sig"'
            ) from error
    sheet = _optional_text(path, document, "sheet")
    kinds = {
        RecordKind(name): _kind_mapping(path, RecordKind(name), body)
        for name, body in document.items()
        if name in _kind_names()
    }
    return ColumnMapping(source=path, kinds=kinds, encoding=encoding, sheet=sheet)


def _kind_names() -> tuple[str, ...]:
    return tuple(kind.value for kind in RecordKind)


def _parse(path: Path) -> object:
    """The parsed TOML or YAML document; parser errors become MappingError with file and line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise MappingError(f"{path}: cannot read the mapping file: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise MappingError(f"{path}: the mapping file is not UTF-8 text; save it as UTF-8") from error
    if path.suffix.lower() in YAML_SUFFIXES:
        import yaml

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error)
            raise MappingError(f"{path}: not valid YAML{where}: {problem}") from error
        return {} if document is None else document
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path}: not valid TOML: {error}") from error


def _type_name(value: object) -> str:
    return {list: "a list", dict: "a table", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _optional_text(path: Path, table: Mapping[str, object], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{path}: '{key}' must be a non-empty text in quotes, got {value!r}")
    return value.strip()


def _table(path: Path, value: object, key: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise MappingError(f"{path}: '{key}' must be a table, got {_type_name(value)}")
    for name in value:
        if not isinstance(name, str) or not clean_heading(name):
            raise MappingError(
                f"{path}: '{key}' has the key {name!r}; keys must be non-empty text (put them in quotes)"
            )
    return value


def _text_table(path: Path, value: object, key: str, allow_empty_values: bool = False) -> dict[str, str]:
    """A table of text -> text, keys cleaned like headings; non-text entries are an error."""
    table = _table(path, value, key)
    out: dict[str, str] = {}
    for name, item in table.items():
        if not isinstance(item, str) or (not allow_empty_values and not item.strip()):
            raise MappingError(
                f"{path}: '{key}.{name}' must be {'' if allow_empty_values else 'non-empty '}text in quotes, "
                f"got {item!r}"
            )
        out[clean_heading(name)] = item.strip()
    return out


def _text_list(path: Path, value: object, key: str) -> tuple[str, ...]:
    """A list of texts (a single text counts as a list of one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise MappingError(f"{path}: '{key}' must be a list of texts in quotes, got {value!r}")
    return tuple(i.strip() for i in items)


def _check_target(path: Path, kind: RecordKind, column: str, key: str) -> None:
    allowed = columns_of(kind)
    if column not in allowed:
        raise MappingError(
            f"{path}: '{key}': '{column}' is not a {kind.value} column of the contract; "
            f"use one of {', '.join(allowed)}"
        )


def _kind_mapping(path: Path, kind: RecordKind, body: object) -> KindMapping:
    """One record kind's table, checked against the contract's columns of that kind."""
    name = kind.value
    section = _table(path, body, name)
    unknown = [key for key in section if key not in SECTION_KEYS]
    if unknown:
        raise MappingError(
            f"{path}: unknown key '{name}.{unknown[0]}'; a [{name}] table may have {', '.join(SECTION_KEYS)}"
        )
    files = _text_list(path, section.get("files", []), f"{name}.files")
    drop = tuple(clean_heading(h) for h in _text_list(path, section.get("drop", []), f"{name}.drop"))
    columns = _text_table(path, section.get("columns", {}), f"{name}.columns")
    for heading, target in columns.items():
        _check_target(path, kind, target, f"{name}.columns.{heading}")
        if heading in drop:
            raise MappingError(
                f"{path}: '{heading}' is both in '{name}.drop' and '{name}.columns'; keep it in one of them"
            )
    if ROW_COLUMN in (*columns, *drop):
        raise MappingError(f"{path}: '{name}': the column '{ROW_COLUMN}' is reserved; do not map or drop it")
    values: dict[str, dict[str, str]] = {}
    for column, table in _table(path, section.get("values", {}), f"{name}.values").items():
        _check_target(path, kind, column, f"{name}.values.{column}")
        values[column] = _text_table(path, table, f"{name}.values.{column}", allow_empty_values=True)
    derive = _derivations(path, kind, section.get("derive", {}), columns, drop)
    fixed = _text_table(path, section.get("fixed", {}), f"{name}.fixed")
    for column in fixed:
        _check_target(path, kind, column, f"{name}.fixed.{column}")
    date_columns = [spec.name for spec in field_specs(kind) if spec.type == "datetime"]
    date_formats: dict[str, tuple[str, ...]] = {}
    for column, formats in _table(path, section.get("date_formats", {}), f"{name}.date_formats").items():
        key = f"{name}.date_formats.{column}"
        if column not in date_columns:
            raise MappingError(
                f"{path}: '{key}': '{column}' is not a date/time column of {name}; "
                f"use one of {', '.join(date_columns)}"
            )
        date_formats[column] = _text_list(path, formats, key)
        for date_format in date_formats[column]:
            problem = _format_problem(date_format)
            if problem:
                raise MappingError(
                    f"{path}: '{key}': '{date_format}' is not a strptime format ({problem}); "
                    'write it like "%Y%m%d %H:%M"'
                )
    return KindMapping(
        files=files,
        columns=columns,
        derive=derive,
        values=values,
        fixed=fixed,
        date_formats=date_formats,
        drop=drop,
        origin=f"{path} [{name}]",
    )


def _derivations(
    path: Path, kind: RecordKind, body: object, columns: Mapping[str, str], drop: tuple[str, ...]
) -> dict[str, Derivation]:
    """The `derive` table: contract column -> template or first_of over source headings."""
    name = kind.value
    mapped = {target: heading for heading, target in columns.items()}
    out: dict[str, Derivation] = {}
    for column, spec in _table(path, body, f"{name}.derive").items():
        key = f"{name}.derive.{column}"
        _check_target(path, kind, column, key)
        if column in mapped:
            raise MappingError(
                f"{path}: '{key}': '{column}' is also mapped from '{mapped[column]}' under '{name}.columns'; "
                "a column is either mapped or derived, keep one of them"
            )
        rule = _derivation(path, key, spec)
        for heading in rule.headings:
            if heading == ROW_COLUMN:
                raise MappingError(f"{path}: '{key}': the column '{ROW_COLUMN}' is reserved; do not use it")
            if heading in drop:
                raise MappingError(
                    f"{path}: '{key}' uses '{heading}', which '{name}.drop' discards; keep it in one of them"
                )
        out[column] = rule
    return out


def _derivation(path: Path, key: str, spec: object) -> Derivation:
    """One derived column's rule: a table with exactly one of `template`, `first_of`."""
    given = [k for k in spec if k in DERIVE_KEYS] if isinstance(spec, dict) else []
    if not isinstance(spec, dict) or len(given) != 1 or len(spec) != 1:
        raise MappingError(
            f"{path}: '{key}' must be a table with one of {', '.join(DERIVE_KEYS)}, got {spec!r}; "
            f"e.g. {DERIVE_EXAMPLE}"
        )
    if "first_of" in spec:
        headings = tuple(clean_heading(h) for h in _text_list(path, spec["first_of"], f"{key}.first_of"))
        if len(headings) < 2:
            raise MappingError(
                f"{path}: '{key}.first_of' names one heading; list two or more, or map a single heading "
                "under 'columns'"
            )
        if len(set(headings)) < len(headings):
            raise MappingError(f"{path}: '{key}.first_of' names a heading twice: {list(headings)}")
        return FirstOf(headings)
    text = spec["template"]
    if not isinstance(text, str) or not text.strip():
        raise MappingError(f"{path}: '{key}.template' must be non-empty text in quotes, got {text!r}")
    try:
        template = parse_template(text)
    except ValueError as error:
        raise MappingError(f"{path}: '{key}.template' {text!r}: {error}") from error
    if not template.headings:
        raise MappingError(
            f"{path}: '{key}.template' {text!r} names no {{heading}}; for a constant use the 'fixed' table"
        )
    return template


_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def parse_template(text: str) -> Template:
    """A template like '{留言主题}：{留言详情}'; '{{' and '}}' are literal braces.

    Raises ValueError for an unbalanced brace or an empty '{}'.
    """
    literals, headings = [""], []
    end = 0
    for match in _TEMPLATE_TOKEN.finditer(text):
        literals[-1] += text[end : match.start()]
        token, end = match.group(0), match.end()
        if token in ("{{", "}}"):
            literals[-1] += token[0]
        elif match.group(1) is None:
            raise ValueError(
                f"unbalanced '{token}' at character {match.start() + 1}; "
                f"write each heading as {{heading}} and a literal brace as '{token * 2}'"
            )
        elif not clean_heading(match.group(1)):
            raise ValueError(f"'{token}' at character {match.start() + 1} names no heading")
        else:
            headings.append(clean_heading(match.group(1)))
            literals.append("")
    literals[-1] += text[end:]
    return Template(literals[0], tuple(headings), tuple(literals[1:-1]), literals[-1])


def _format_problem(date_format: str) -> str:
    """Why a date format cannot be used ('' when it can)."""
    if "%" not in date_format:
        return "it has no % directive"
    try:
        pd.to_datetime(pd.Series(["2025-01-01"], dtype=object), format=date_format, errors="coerce")
    except ValueError as error:
        return str(error)
    return ""


# ---------------------------------------------------------------------------------------------
# Choosing the section for a file
# ---------------------------------------------------------------------------------------------


def kind_for(mapping: ColumnMapping, file_name: str, columns: list[str]) -> RecordKind | None:
    """The section that applies to a file: by its name's patterns first, else by the columns it covers.

    By columns, a section applies when the contract columns it makes from the file (mapped headings,
    contract-named columns, derived columns whose headings are all present, fixed columns) cover all
    of the kind's required columns; when several do, the one recognising most of the file's columns
    wins, and a tie gives None (pass the kind explicitly).
    """
    name = PurePath(file_name).name.lower()
    for kind, section in mapping.kinds.items():
        if any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in section.files):
            return kind
    headings = [clean_heading(c) for c in columns]
    scores: dict[RecordKind, int] = {}
    for kind, section in mapping.kinds.items():
        recognised = _recognised(section, kind, headings)
        derived = {c: r for c, r in section.derive.items() if set(r.headings) <= set(headings)}
        made = {*recognised.values(), *derived, *section.fixed}
        required = {spec.name for spec in field_specs(kind) if spec.required}
        if required <= made:
            read = set(recognised).union(*(r.headings for r in derived.values()))
            scores[kind] = len(read)
    if not scores:
        return None
    best = max(scores.values())
    winners = [kind for kind, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None


def _recognised(section: KindMapping, kind: RecordKind, headings: list[str]) -> dict[str, str]:
    """Heading -> contract column for the headings a section maps or that already carry contract names."""
    contract = set(columns_of(kind))
    found = {}
    for heading in headings:
        if heading in section.drop:
            continue
        if heading in section.columns:
            found[heading] = section.columns[heading]
        elif heading in contract:
            found[heading] = heading
    return found


# ---------------------------------------------------------------------------------------------
# Applying a section to a frame of text
# ---------------------------------------------------------------------------------------------


def apply_mapping(frame: pd.DataFrame, kind_mapping: KindMapping, source_file: str = "") -> pd.DataFrame:
    """A text frame with source headings turned into contract columns, values mapped, dates rewritten.

    Derives columns from the headings as delivered (a heading may feed a derived column and be mapped
    too), renames mapped headings, drops listed ones (others are kept as they are), maps values (exact
    match after strip; unmapped values are left for validation to report), rewrites dates given in
    extra formats as 'YYYY-MM-DD HH:MM:SS' (cells no extra format parses are left untouched) and
    fills fixed values where a cell is empty or the column is absent; derived columns go through the
    same value maps, dates and fixed values as mapped ones. `_row` is kept. A heading a derivation
    needs that the frame lacks is a MappingError naming `source_file`.
    """
    derived = _derived(frame, kind_mapping, source_file)
    out = _renamed(frame, kind_mapping)
    for column, values in derived.items():
        if column in out.columns and column not in kind_mapping.derive[column].headings:
            raise MappingError(
                f"{_where(kind_mapping, source_file)}: the file's column '{column}' and 'derive.{column}' "
                f"would both become '{column}'; list the column under 'drop' or remove 'derive.{column}'"
            )
        out[column] = values
    for column, table in kind_mapping.values.items():
        if column in out.columns and table:
            out[column] = map_values(out[column], table)
    for column, formats in kind_mapping.date_formats.items():
        if column in out.columns and formats:
            out[column] = rewrite_dates(out[column], formats)
    for column, value in kind_mapping.fixed.items():
        if column in out.columns:
            out[column] = fill_empty(out[column], value)
        else:
            out[column] = value
    return out


def _where(kind_mapping: KindMapping, source_file: str) -> str:
    """'<file>: <mapping file> [<kind>]' for error messages (either part left out when unknown)."""
    return ": ".join(filter(None, (source_file, kind_mapping.origin or "column mapping")))


def _derived(frame: pd.DataFrame, kind_mapping: KindMapping, source_file: str) -> dict[str, pd.Series]:
    """The derived columns of a frame, from its headings as delivered (before drop and renames)."""
    reserved = (ROW_COLUMN, READER_ERROR_COLUMN)
    by_heading = {clean_heading(c): c for c in frame.columns if c not in reserved}
    if len(frame) and READER_ERROR_COLUMN in frame.columns and (frame[READER_ERROR_COLUMN] != "").all():
        return {}  # only unparsed lines (no headings yet): validation quarantines each of them
    out = {}
    for column, rule in kind_mapping.derive.items():
        missing = [h for h in rule.headings if h not in by_heading]
        if missing:
            shown = ", ".join(f"'{h}'" for h in list(by_heading)[:SHOWN_HEADINGS])
            more = f" and {len(by_heading) - SHOWN_HEADINGS} more" if len(by_heading) > SHOWN_HEADINGS else ""
            raise MappingError(
                f"{_where(kind_mapping, source_file)}: 'derive.{column}' uses the heading '{missing[0]}', "
                f"which the file does not have; its headings are {shown or 'none'}{more}"
            )
        cells = [frame[by_heading[h]] for h in rule.headings]
        out[column] = fill_template(rule, cells) if isinstance(rule, Template) else first_non_empty(cells)
    return out


def _stripped(values: pd.Series) -> pd.Series:
    """Cells without surrounding spaces, '' where missing."""
    return _as_text(values).str.strip().fillna("")


def fill_template(template: Template, cells: list[pd.Series]) -> pd.Series:
    """The template filled row by row from one series per heading (see Template for empty cells)."""
    values = [_stripped(c) for c in cells]
    values[0] = _around(values[0], template.prefix, "")
    values[-1] = _around(values[-1], "", template.suffix)
    text = values[-1]  # built from the right: non-empty exactly when a non-empty cell is in it
    for value, separator in zip(values[-2::-1], template.separators[::-1], strict=True):
        joined = (value + separator + text).where(text != "", value)
        text = joined.where(value != "", text)
    return text


def _around(values: pd.Series, before: str, after: str) -> pd.Series:
    """Non-empty cells with text before and after them; empty cells stay empty."""
    if not (before or after):
        return values
    return (before + values + after).where(values != "", "")


def first_non_empty(cells: list[pd.Series]) -> pd.Series:
    """Row by row, the first cell that is not empty (without surrounding spaces); '' when all are."""
    values = [_stripped(c) for c in cells]
    out = values[0]
    for value in values[1:]:
        out = out.where(out != "", value)
    return out


def _renamed(frame: pd.DataFrame, kind_mapping: KindMapping) -> pd.DataFrame:
    """The frame without dropped headings and with mapped headings renamed; a clash is a MappingError."""
    dropped = set(kind_mapping.drop)
    keep = [c for c in frame.columns if c == ROW_COLUMN or clean_heading(c) not in dropped]
    renames = {
        c: kind_mapping.columns[clean_heading(c)]
        for c in keep
        if c != ROW_COLUMN and clean_heading(c) in kind_mapping.columns
    }
    final = [renames.get(c, c) for c in keep]
    targets = set(renames.values())
    for target in targets:
        sources = [c for c, name in zip(keep, final, strict=True) if name == target]
        if len(sources) > 1:
            shown = " and ".join(f"'{s}'" for s in sources)
            raise MappingError(
                f"{kind_mapping.origin or 'column mapping'}: columns {shown} would both become '{target}'; "
                "list all but one under 'drop' or remove one from the mapping's columns"
            )
    out = frame[keep] if len(keep) < len(frame.columns) else frame
    return out.set_axis(final, axis=1)


def _as_text(values: pd.Series) -> pd.Series:
    """Values as a series that supports `.str` (text frames already are)."""
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        return values
    return values.astype(str)


def map_values(values: pd.Series, table: Mapping[str, str]) -> pd.Series:
    """Values replaced by the table (exact match after strip); values not in it are left as they are."""
    text = _as_text(values)
    mapped = text.str.strip().map(dict(table))
    return text.where(mapped.isna(), mapped)


def fill_empty(values: pd.Series, constant: str) -> pd.Series:
    """The constant where a cell is empty (or missing), the cell elsewhere."""
    text = _as_text(values)
    empty = text.isna() | (text.str.strip() == "").fillna(True)
    return text.where(~empty, constant)


def rewrite_dates(values: pd.Series, formats: tuple[str, ...] | list[str]) -> pd.Series:
    """Cells parsed by one of the formats (first that fits) as 'YYYY-MM-DD HH:MM:SS'; others untouched.

    Formats with a zone (%z) are converted to Asia/Shanghai local time. Parsing cells that do not
    fit a format is slow in pandas, so cells are first screened (with pyarrow's regular expressions)
    by a pattern that accepts all the format can parse, and only those that pass are parsed.
    """
    text = _as_text(values)
    result = text.to_numpy(dtype=object, copy=True)
    stripped = text.str.strip().fillna("").astype("string[pyarrow]")
    cells = stripped.to_numpy(dtype=object)
    pending = cells != ""
    for date_format in formats:
        screened = stripped.str.fullmatch(_format_pattern(date_format)).to_numpy(dtype=bool, na_value=False)
        positions = np.flatnonzero(pending & screened)
        if not len(positions):
            continue
        parsed = _to_local(cells[positions], date_format)
        ok = ~np.isnat(parsed)
        if ok.any():
            shown = pd.Series(parsed[ok]).dt.strftime(CANONICAL_FORMAT).to_numpy(dtype=object)
            result[positions[ok]] = shown
            pending[positions[ok]] = False
    return pd.Series(result, index=values.index, name=values.name).astype(text.dtype)


def _to_local(cells: np.ndarray, date_format: str) -> np.ndarray:
    """pd.to_datetime of cells in one format as naive Asia/Shanghai datetime64[us]; NaT where it fails."""
    zoned = "%z" in date_format or "%Z" in date_format
    parsed = pd.to_datetime(pd.Series(cells, dtype=object), format=date_format, errors="coerce", utc=zoned)
    if zoned:
        parsed = parsed.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[us]")


# Patterns in RE2 syntax (pyarrow) that accept at least what strptime accepts, whose \d and \s are Unicode.
_DIGIT = r"\p{Nd}"
_SPACE = r"[\s\p{Z}\x{1c}-\x{1f}\x{85}]"
_DIRECTIVE_PATTERNS = {
    "Y": _DIGIT + "{4}",
    "G": _DIGIT + "{4}",
    "y": _DIGIT + "{2}",
    "f": _DIGIT + "{1,9}",
    "j": _SPACE + "?" + _DIGIT + "{1,3}",
    "w": _DIGIT,
    "u": _DIGIT,
    "%": "%",
}
_TWO_DIGITS = _SPACE + "?" + _DIGIT + "{1,2}"


@cache
def _format_pattern(date_format: str) -> str:
    """An RE2 pattern matching every text the strptime format can parse (and some more)."""
    parts = ["(?i)"]
    for piece in re.split(r"(%.|\s+)", date_format):
        if not piece:
            continue
        if piece.isspace():
            parts.append(_SPACE + "+")
        elif len(piece) == 2 and piece[0] == "%":
            letter = piece[1]
            parts.append(_TWO_DIGITS if letter in "mdHIMSUWV" else _DIRECTIVE_PATTERNS.get(letter, ".*?"))
        else:
            parts.append("".join(_DIGIT if c.isdigit() else re.escape(c) for c in piece))
    return "".join(parts)
