"""What was known before an instant: the one point-in-time cut of the stored inputs.

`cut` is the only maker of `KnownBefore`; features, grievances, call links and the cohort of a day take
it and never cut again. An as-of date D stands for the instant D 00:00 (`contracts.timeparse`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from contracts.timeparse import as_of_instant
from features.sources import Sources

_MAKING = threading.local()  # set only while `cut` makes a KnownBefore


@dataclass(frozen=True)
class KnownBefore:
    """The stored records known strictly before `instant` (`known_at < instant`), made only by `cut`."""

    instant: pd.Timestamp
    sources: Sources

    def __post_init__(self) -> None:
        if not getattr(_MAKING, "now", False):  # built directly, or by dataclasses.replace
            raise TypeError("a KnownBefore is made only by features.known.cut(stored, as_of)")

    @property
    def as_of(self) -> date:
        """The instant's day: the as-of date, for a cut made at one."""
        return self.instant.date()

    @property
    def cases(self) -> pd.DataFrame:
        """The cases known before the instant."""
        return self.sources.cases

    @property
    def events(self) -> pd.DataFrame:
        """The case events known before the instant."""
        return self.sources.events

    @property
    def hotline(self) -> pd.DataFrame:
        """The hotline records known before the instant."""
        return self.sources.hotline


def cut(stored: Sources, when: date | pd.Timestamp) -> KnownBefore:
    """The stored records known strictly before `when`: an instant, or an as-of date (its 00:00)."""
    day = isinstance(when, date) and not isinstance(when, datetime)
    instant = as_of_instant(when) if day else pd.Timestamp(when)
    tables = stored.known_before(instant)
    _MAKING.now = True
    try:
        return KnownBefore(instant, tables)
    finally:
        _MAKING.now = False
