"""How values are written in the exports: date-times (mostly ISO, some in the contract's other formats),
late recorded-at times, money in free text, blanks, all-text frames."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from cities.demo.config import DAY, SimulationConfig


def _iso_slash_date(iso: str) -> str:
    return iso[:10].replace("-", "/")


def _iso_minutes(iso: str) -> str:
    return f"{iso[:10]} {iso[11:16]}"


def _iso_chinese(iso: str) -> str:
    return f"{iso[:4]}年{iso[5:7]}月{iso[8:10]}日 {iso[11:16]}"


_ALT_DATETIME_STYLES: tuple[Callable[[str], str], ...] = (_iso_slash_date, _iso_minutes, _iso_chinese)


def format_datetimes(
    rng: np.random.Generator, seconds: np.ndarray, start: date, alt_share: float = 0.05
) -> np.ndarray:
    """Seconds since start as text: mostly 'YYYY-MM-DD HH:MM:SS', alt_share in the other contract formats."""
    stamps = np.datetime64(start, "s") + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]")
    iso = np.datetime_as_string(stamps, unit="s").tolist()
    out = np.array([s.replace("T", " ") for s in iso], dtype=object)
    alternates = np.flatnonzero(rng.random(len(iso)) < alt_share)
    styles = rng.integers(0, len(_ALT_DATETIME_STYLES), alternates.size)
    for i, s in zip(alternates, styles, strict=True):
        out[i] = _ALT_DATETIME_STYLES[s](iso[i])
    return out


def format_late(
    rng: np.random.Generator,
    seconds: np.ndarray,
    share: float,
    min_days: float,
    max_days: float,
    config: SimulationConfig,
) -> np.ndarray:
    """recorded_at text: empty, except for share of rows entered min..max days late (within the period)."""
    late = seconds + (rng.uniform(min_days, max_days, len(seconds)) * DAY).astype(np.int64)
    chosen = (rng.random(len(seconds)) < share) & (late < config.days * DAY)
    out = np.full(len(seconds), None, dtype=object)
    out[chosen] = format_datetimes(rng, late[chosen], config.start)
    return out


def amount_text(amounts: np.ndarray) -> np.ndarray:
    """Money as it is written in Chinese free text."""
    return np.array(
        [f"{a / 10_000:.1f}万元" if a >= 100_000 else f"{a:.0f}元" for a in amounts.tolist()], dtype=object
    )


def blank(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """values with a random share left empty (optional fields are not always filled in)."""
    out = np.asarray(values, dtype=object).copy()
    out[rng.random(len(out)) < share] = None
    return out


def text_frame(columns: Sequence[str], values: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame of text columns in the given order."""
    return pd.DataFrame({c: pd.array(np.asarray(values[c], dtype=object), dtype="str") for c in columns})
