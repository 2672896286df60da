"""The stored inputs a feature builder reads, and the point-in-time cut of them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def _known_before(frame: pd.DataFrame, instant: pd.Timestamp) -> pd.DataFrame:
    """Rows known strictly before the instant: a slice when the frame is in knowledge-time order."""
    known = frame["known_at"]
    if known.is_monotonic_increasing:
        return frame.iloc[: int(known.searchsorted(instant, side="left"))]
    return frame[known < instant]


def in_knowledge_order(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame sorted (stably) by `known_at`, so that point-in-time cuts are slices."""
    return frame.sort_values("known_at", kind="stable", ignore_index=True)


@dataclass(frozen=True)
class Sources:
    """Stored (pseudonymised) cases, case events and hotline records, each with `known_at`."""

    cases: pd.DataFrame
    events: pd.DataFrame
    hotline: pd.DataFrame

    @classmethod
    def ordered(cls, cases: pd.DataFrame, events: pd.DataFrame, hotline: pd.DataFrame) -> Sources:
        """Sources with every table in knowledge-time order (cuts for many dates become cheap)."""
        return cls(in_knowledge_order(cases), in_knowledge_order(events), in_knowledge_order(hotline))

    def known_before(self, instant: pd.Timestamp) -> Sources:
        """Only the records that were known strictly before the instant."""
        return Sources(
            cases=_known_before(self.cases, instant),
            events=_known_before(self.events, instant),
            hotline=_known_before(self.hotline, instant),
        )
