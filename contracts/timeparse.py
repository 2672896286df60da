"""Parsing of the contract's datetime formats into naive Asia/Shanghai wall-clock times.

Accepted: ISO 8601 (``2025-03-01T08:30:00+08:00``, ``...Z``), ``YYYY-MM-DD HH:MM[:SS]``,
``YYYY/MM/DD [HH:MM[:SS]]`` and ``YYYY年MM月DD日 [HH:MM[:SS]]``. A value without a zone is
Asia/Shanghai; a value with one is converted to Asia/Shanghai. Everything is stored as naive
local time (China has had no daylight saving time since 1991, so this is a fixed UTC+8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

LOCAL_TZ = "Asia/Shanghai"
# What Python's datetime (and so every reader of the store) can hold; parsed values outside are NaT.
_REPRESENTABLE = (pd.Timestamp(datetime.min), pd.Timestamp(datetime.max))

MAX_OFFSET_MINUTES = 14 * 60  # UTC+14:00 (Kiribati) and UTC-12:00 are the furthest any place is

_PATTERN = (
    r"^\s*(?P<year>\d{4})\s*[-/年]\s*(?P<month>\d{1,2})\s*[-/月]\s*(?P<day>\d{1,2})\s*日?"
    r"(?:(?:\s+|T|(?<=日))(?P<hour>\d{1,2})[:：](?P<minute>\d{2})"
    r"(?:[:：](?P<second>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Parse a series of contract datetime strings; unparseable or empty values become NaT."""
    text = values.astype("string")
    fast = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    rest = fast.isna() & text.fillna("").str.strip().ne("")
    if rest.any():
        fast = fast.astype("datetime64[us]")
        fast[rest] = _parse_general(text[rest]).to_numpy()
    parsed = pd.Series(fast.to_numpy().astype("datetime64[us]"), index=values.index, name=values.name)
    return parsed.where(parsed.between(*_REPRESENTABLE))


def stated_years(values: pd.Series) -> pd.Series:
    """The year as written in each value of an accepted form (float, NaN where no form fits), so a value
    beyond what a datetime holds (e.g. 9999-12-31T23:59:59Z) can be told from one that is not a date."""
    year = values.astype("string").str.extract(_PATTERN)["year"]
    return pd.to_numeric(year, errors="coerce").astype("float64")


def _parse_general(text: pd.Series) -> pd.Series:
    """Every accepted form, through one regular expression; NaT where none fits."""
    parts = text.str.extract(_PATTERN)
    clock = {unit: parts[unit].fillna("0").str.zfill(2) for unit in ("hour", "minute", "second")}
    canonical = (
        parts["year"]
        + "-"
        + parts["month"].str.zfill(2)
        + "-"
        + parts["day"].str.zfill(2)
        + " "
        + clock["hour"]
        + ":"
        + clock["minute"]
        + ":"
        + clock["second"]
    )
    parsed = pd.to_datetime(canonical, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    fraction = pd.to_numeric("0." + parts["frac"].fillna("0"), errors="coerce").fillna(0.0)
    parsed = parsed + pd.to_timedelta((fraction * 1e6).round().astype("int64"), unit="us")
    offsets = _zone_offsets(parts["zone"])
    local = parsed - offsets + pd.Timedelta(hours=8)
    return pd.Series(local.to_numpy().astype("datetime64[us]"), index=text.index)


def _zone_offsets(zone: pd.Series) -> pd.Series:
    """UTC offsets of explicit zones; Asia/Shanghai (+08:00) where none is given; NaT where impossible."""
    minutes, possible = _offset_minutes(zone)
    return pd.to_timedelta(minutes.where(possible), unit="m")


def _offset_minutes(zone: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Signed minutes of each zone (none given: +08:00), and whether the offset can exist: within
    ±14:00 with minutes below 60."""
    zone = zone.fillna("+08:00").replace("Z", "+00:00").str.replace(":", "", regex=False)
    sign = zone.str[0].map({"+": 1, "-": -1}).astype("int64")
    hours = zone.str[1:3].astype("int64")
    minutes = zone.str[3:5].replace("", "0").astype("int64")
    total = hours * 60 + minutes
    return sign * total, (minutes < 60) & (total <= MAX_OFFSET_MINUTES)


def impossible_offsets(values: pd.Series) -> pd.Series:
    """Whether each value is of an accepted form but states a UTC offset no place has (beyond ±14:00,
    or minutes of 60 and more), e.g. ``2025-03-01T08:30:00+99:99``."""
    zone = values.astype("string").str.extract(_PATTERN)["zone"]
    stated = zone.notna()
    if not stated.any():
        return pd.Series(False, index=values.index)
    _, possible = _offset_minutes(zone[stated].astype(str))
    return (~possible).reindex(values.index, fill_value=False).astype(bool)


def parse_datetime(value: object) -> datetime:
    """Parse one contract datetime value; raise ValueError naming the accepted formats."""
    if isinstance(value, pd.Timestamp):
        return _to_local_naive(value)
    if isinstance(value, datetime):
        return _to_local_naive(pd.Timestamp(value))
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    parsed = parse_datetimes(pd.Series([value], dtype="object")).iloc[0]
    if pd.isna(parsed):  # not a date, or one beyond what a datetime holds (year 10000 once in local time)
        raise ValueError(
            f"{value!r} is not a date; use YYYY-MM-DD HH:MM[:SS], YYYY/MM/DD, "
            "YYYY年MM月DD日 [HH:MM] or ISO 8601"
        )
    return parsed.to_pydatetime()


def _to_local_naive(stamp: pd.Timestamp) -> datetime:
    """A timestamp as naive Asia/Shanghai time (naive input is taken to be local already)."""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(LOCAL_TZ).tz_localize(None)
    return stamp.to_pydatetime()


def local_now() -> pd.Timestamp:
    """The current Asia/Shanghai wall-clock time (naive), for bookkeeping columns."""
    return pd.Timestamp.now(tz=LOCAL_TZ).tz_localize(None).floor("us")


def as_of_instant(as_of: date) -> pd.Timestamp:
    """The instant an as-of date stands for: its 00:00 in Asia/Shanghai (naive local)."""
    return pd.Timestamp(as_of.year, as_of.month, as_of.day)


@dataclass(frozen=True)
class InstantWindow:
    """The plausible dates and times of a delivery (naive Asia/Shanghai): anything outside is quarantined."""

    earliest: datetime
    latest: datetime

    @classmethod
    def ending_after(
        cls, now: datetime, earliest: date = date(1990, 1, 1), tolerance_days: int = 1
    ) -> InstantWindow:
        """From `earliest` 00:00 to `now` plus `tolerance_days` (clocks and time zones of senders differ)."""
        start = datetime(earliest.year, earliest.month, earliest.day)
        return cls(start, pd.Timestamp(now).to_pydatetime() + timedelta(days=tolerance_days))

    @classmethod
    def from_now(cls) -> InstantWindow:
        """The default window: 1990-01-01 to the current local time plus one day."""
        return cls.ending_after(local_now().to_pydatetime())

    def contains(self, values: pd.Series) -> pd.Series:
        """Per value: inside the window (missing values are not)."""
        return values.between(pd.Timestamp(self.earliest), pd.Timestamp(self.latest))

    def describe(self) -> str:
        """The window as a person reads it, e.g. '1990-01-01 .. 2026-12-05'."""
        return f"{self.earliest:%Y-%m-%d} .. {self.latest:%Y-%m-%d}"
