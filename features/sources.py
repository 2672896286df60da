"""The stored inputs a feature builder reads, the point-in-time cut of them, and how their columns are read.

Text columns may be plain strings or categoricals (`compact`: codes into sorted distinct values, which
is how large stores are loaded); the column helpers here give the same answer for either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# What the feature families (with the call linker), the cohort and the labels read of each stored table.
FEATURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": (
        "case_id",
        "opened_at",
        "district",
        "town",
        "category",
        "source",
        "description",
        "party_count",
        "amount",
        "reporter_phone_pid",
        "known_at",
    ),
    "events": ("case_id", "event_at", "event_type", "note", "known_at"),
    "hotline": (
        "call_id",
        "case_id",
        "received_at",
        "district",
        "category",
        "caller_phone_pid",
        "caller_name_pid",  # loaded only for calls without a phone (pipelines.runtime.load_sources)
        "channel",
        "text",
        "known_at",
    ),
}
# Besides, what readers of the loaded store use: the input fingerprint of a list (record_key, row_hash);
# the district timeline reads district and case_id columns the features read too.
RECORD_COLUMNS = ("record_key", "row_hash")
STORE_COLUMNS: dict[str, tuple[str, ...]] = {
    name: (*columns, *RECORD_COLUMNS) for name, columns in FEATURE_COLUMNS.items()
}
# Text columns that repeat enough to be held as categoricals. The cases table keeps plain strings:
# its columns reach the list and the matrix as they are.
CATEGORICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": (),
    "events": ("case_id", "event_type", "note"),
    "hotline": ("case_id", "caller_phone_pid", "caller_name_pid", "channel", "text", "district", "category"),
}
CATEGORICAL_MAX_SHARE = 0.5  # a column becomes categorical when its distinct values are at most this share


def _known_before(frame: pd.DataFrame, instant: pd.Timestamp, in_order: bool = False) -> pd.DataFrame:
    """Rows known strictly before the instant: a slice when the frame is in knowledge-time order."""
    known = frame["known_at"]
    if in_order or known.is_monotonic_increasing:
        return frame.iloc[: int(known.searchsorted(instant, side="left"))]
    return frame[known < instant]


def in_knowledge_order(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame sorted (stably) by `known_at`, so that point-in-time cuts are slices."""
    if frame["known_at"].is_monotonic_increasing:
        return frame.reset_index(drop=True)
    return frame.sort_values("known_at", kind="stable", ignore_index=True)


def as_categorical(values: pd.Series, max_share: float = 1.0) -> pd.Series:
    """Text values as a categorical with sorted categories (missing values stay missing); unchanged
    when the distinct values are more than `max_share` of the values (codes would not save memory)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        return (
            values
            if categories.is_monotonic_increasing
            else values.cat.reorder_categories(categories.sort_values())
        )
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    if len(uniques) > max_share * len(values):
        return values
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=uniques), index=values.index, name=values.name
    )


def compact(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The frame with those of the columns that repeat (distinct values at most CATEGORICAL_MAX_SHARE
    of the rows) as categoricals; feature values do not change, memory and lookups shrink."""
    out = frame.copy(deep=False)
    for name in columns:
        if name in out.columns:
            out[name] = as_categorical(out[name], CATEGORICAL_MAX_SHARE)
    return out


@dataclass(frozen=True)
class Sources:
    """Stored (pseudonymised) cases, case events and hotline records, each with `known_at`."""

    cases: pd.DataFrame
    events: pd.DataFrame
    hotline: pd.DataFrame

    @classmethod
    def ordered(cls, cases: pd.DataFrame, events: pd.DataFrame, hotline: pd.DataFrame) -> Sources:
        """Sources with every table in knowledge-time order (cuts for many dates become cheap)."""
        return _Ordered(in_knowledge_order(cases), in_knowledge_order(events), in_knowledge_order(hotline))

    @classmethod
    def compacted(cls, cases: pd.DataFrame, events: pd.DataFrame, hotline: pd.DataFrame) -> Sources:
        """Sources in knowledge-time order, repetitive text columns as categoricals (CATEGORICAL_COLUMNS)."""
        frames = {"cases": cases, "events": events, "hotline": hotline}
        return cls.ordered(**{name: compact(f, CATEGORICAL_COLUMNS[name]) for name, f in frames.items()})

    def known_before(self, instant: pd.Timestamp) -> Sources:
        """Only the records that were known strictly before the instant."""
        return type(self)(
            cases=_known_before(self.cases, instant, self._in_order),
            events=_known_before(self.events, instant, self._in_order),
            hotline=_known_before(self.hotline, instant, self._in_order),
        )

    @property
    def _in_order(self) -> bool:
        """Whether every table is known to be in knowledge-time order (then cuts need no check)."""
        return False


class _Ordered(Sources):
    """Sources made by `Sources.ordered`: in knowledge-time order, and so are their cuts."""

    @property
    def _in_order(self) -> bool:
        return True


# ---------------------------------------------------------------- reading text columns


def arrow_strings(values: pd.Series | pd.Index | np.ndarray) -> pa.ChunkedArray:
    """Text values as an Arrow large-string column, missing values as nulls."""
    array = pa.array(values, from_pandas=True)
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    return pa.chunked_array([chunk.cast(pa.large_string()) for chunk in chunks], type=pa.large_string())


def _distinct(values: pd.Series) -> tuple[np.ndarray, pa.Array] | None:
    """Codes of the values into distinct values (-1 where missing) and those values, for a categorical
    (its own codes and categories, or for a small part of a big one the categories it uses); None for
    plain text, which Arrow reads faster directly."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return None
    if len(values.cat.categories) <= len(values):
        return values.cat.codes.to_numpy(), arrow_strings(values.cat.categories).combine_chunks()
    codes, uniques = pd.factorize(values)
    return codes, arrow_strings(np.asarray(uniques, dtype=object)).combine_chunks()


def _answer(codes: np.ndarray, per_value: np.ndarray, missing: object) -> np.ndarray:
    """Per value: the answer for its distinct value (`missing` where the code is -1)."""
    return np.append(per_value, np.array([missing], dtype=per_value.dtype)).take(codes)


def positions(values: pd.Series, keys: pd.Index | pd.Series) -> np.ndarray:
    """Position of each value among the (distinct) keys, -1 where it is not one of them or is missing."""
    keyset = arrow_strings(pd.Index(keys)).combine_chunks()

    def find(strings: pa.Array | pa.ChunkedArray) -> np.ndarray:
        return pc.fill_null(pc.index_in(strings, value_set=keyset), -1).to_numpy().astype(np.int64)

    distinct = _distinct(values)
    if distinct is None:
        return find(arrow_strings(values))
    return _answer(distinct[0], find(distinct[1]), -1)


def is_among(values: pd.Series | pd.Index, others: Iterable[str | None] | pd.Series | pd.Index) -> np.ndarray:
    """True where a text value is one of the others; a missing value never is (an Arrow hash lookup:
    pandas' `isin` of Arrow text makes a Python object of every other value)."""
    if not isinstance(others, (pd.Series, pd.Index, np.ndarray)):
        others = np.array(list(others), dtype=object)
    value_set = arrow_strings(others).combine_chunks()

    def member(strings: pa.Array | pa.ChunkedArray) -> np.ndarray:
        found = pc.is_in(strings, value_set=value_set, skip_nulls=True)
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False).astype(bool)

    distinct = _distinct(values) if isinstance(values, pd.Series) else None
    if distinct is None:
        return member(arrow_strings(values))
    return _answer(distinct[0], member(distinct[1]), False)


def is_blank(values: pd.Series) -> np.ndarray:
    """True where a text value is missing or only whitespace."""

    def blank(strings: pa.Array | pa.ChunkedArray) -> np.ndarray:
        return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(strings), ""), True).to_numpy(
            zero_copy_only=False
        )

    distinct = _distinct(values)
    if distinct is None:
        return blank(arrow_strings(values))
    return _answer(distinct[0], blank(distinct[1]), True)


def smoothed_trend(recent: np.ndarray, before: np.ndarray, recent_days: int, before_days: int) -> np.ndarray:
    """(1 + recent) / (1 + before scaled to the recent window's length): above 1 when things came more
    often lately, 1 when there was nothing."""
    return (1.0 + recent) / (1.0 + before * recent_days / before_days)
