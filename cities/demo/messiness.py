"""Messy exports: a share of rows broken once each against the contract, ~1% of clean rows repeated later,
and the log of both (the truth of corruptions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cities.demo.config import FILE_NAMES, SimulationConfig
from cities.demo.draws import choose
from contracts.vocabulary import RecordKind

_UNPARSEABLE_DATES = ("2025-13-45", "昨天", "2025-02-30 10:00:00", "下午三点", "45/13/2025", "2025年13月5日")
_BAD_PARTY_COUNTS = ("0", "three", "三户", "-2")
_UNKNOWN_EVENT_TYPES = ("phone_call", "已结案", "follow_up")
_CORRUPTIONS: dict[RecordKind, tuple[tuple[str, str], ...]] = {  # (kind_of_corruption, field)
    RecordKind.CASES: (
        ("empty_required", "opened_at"),
        ("empty_required", "district"),
        ("empty_required", "category"),
        ("unparseable_date", "opened_at"),
        ("negative_amount", "amount"),
        ("bad_party_count", "party_count"),
    ),
    RecordKind.CASE_EVENTS: (
        ("empty_required", "case_id"),
        ("empty_required", "event_at"),
        ("empty_required", "event_type"),
        ("unparseable_date", "event_at"),
        ("unknown_event_type", "event_type"),
        ("orphan_case_id", "case_id"),
    ),
    RecordKind.HOTLINE: (
        ("empty_required", "call_id"),
        ("empty_required", "received_at"),
        ("empty_required", "district"),
        ("unparseable_date", "received_at"),
    ),
}
CORRUPTION_COLUMNS: tuple[str, ...] = ("file", "row", "field", "kind_of_corruption")
DUPLICATE_FIELD = "*"  # the field of a duplicated row in the corruption log


def _broken_value(rng: np.random.Generator, kind: str, year: int) -> str | None:
    """A value that breaks the contract in the given way."""
    if kind == "empty_required":
        return None
    if kind == "unparseable_date":
        return str(choose(rng, _UNPARSEABLE_DATES, 1)[0])
    if kind == "negative_amount":
        return f"-{int(rng.integers(1, 50_000))}"
    if kind == "bad_party_count":
        return str(choose(rng, _BAD_PARTY_COUNTS, 1)[0])
    if kind == "unknown_event_type":
        return str(choose(rng, _UNKNOWN_EVENT_TYPES, 1)[0])
    if kind == "orphan_case_id":
        return f"FQ{year}-9{int(rng.integers(0, 10**6)):06d}"  # 7-digit sequence: no real case has it
    raise ValueError(f"unknown corruption kind {kind}")


def _corrupt(
    rng: np.random.Generator, frame: pd.DataFrame, record: RecordKind, share: float, year: int
) -> tuple[pd.DataFrame, np.ndarray, list[tuple[str, str]]]:
    """frame with a share of rows broken once each: (frame, 0-based rows, (kind, field) per row)."""
    rows = np.sort(rng.choice(len(frame), size=round(share * len(frame)), replace=False))
    options = _CORRUPTIONS[record]
    chosen = [options[i] for i in rng.integers(0, len(options), rows.size)]
    out = frame.copy()
    for column in frame.columns:
        hits = [i for i, (_, target) in enumerate(chosen) if target == column]
        if hits:
            values = frame[column].to_numpy(dtype=object, na_value=None).copy()
            values[rows[hits]] = [_broken_value(rng, chosen[i][0], year) for i in hits]
            out[column] = pd.array(values, dtype="str")
    return out, rows, chosen


def _insert_duplicates(
    rng: np.random.Generator, frame: pd.DataFrame, avoid: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """frame with ~1% of clean rows repeated later: (frame, new position of each old row, dup positions)."""
    n = len(frame)
    candidates = np.setdiff1d(np.arange(n), avoid)
    size = min(max(1, round(0.01 * n)), candidates.size)
    sources = np.sort(rng.choice(candidates, size=size, replace=False))
    keys = np.concatenate([np.arange(n, dtype=float), sources + rng.uniform(0.01, 1.0, size) * (n - sources)])
    order = np.argsort(keys, kind="stable")
    position = np.empty(n + size, dtype=np.int64)
    position[order] = np.arange(n + size)
    out = pd.concat([frame, frame.iloc[sources]], ignore_index=True).iloc[order].reset_index(drop=True)
    return out, position[:n], position[n:]


def make_messy(
    rng: np.random.Generator, frames: dict[RecordKind, pd.DataFrame], config: SimulationConfig
) -> tuple[dict[RecordKind, pd.DataFrame], pd.DataFrame]:
    """Corrupts and duplicates rows when messiness > 0; returns the frames and the corruption log."""
    if config.messiness == 0:
        return frames, pd.DataFrame({c: pd.Series(dtype=object) for c in CORRUPTION_COLUMNS}).astype(
            {"row": int}
        )
    log: list[tuple[str, int, str, str]] = []
    out: dict[RecordKind, pd.DataFrame] = {}
    for record, frame in frames.items():
        name = FILE_NAMES[record]
        broken, rows, chosen = _corrupt(rng, frame, record, config.messiness, config.start.year)
        out[record], position, duplicates = _insert_duplicates(rng, broken, rows)
        log += [(name, int(position[r]) + 1, f, k) for r, (k, f) in zip(rows.tolist(), chosen, strict=True)]
        log += [(name, int(p) + 1, DUPLICATE_FIELD, "duplicate") for p in duplicates.tolist()]
    corruptions = pd.DataFrame(log, columns=list(CORRUPTION_COLUMNS))
    return out, corruptions.sort_values(["file", "row"], kind="stable").reset_index(drop=True)
