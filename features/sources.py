"""The stored inputs a feature builder reads, and the point-in-time cut of them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Sources:
    """Stored (pseudonymised) cases, case events and hotline records, each with `known_at`."""

    cases: pd.DataFrame
    events: pd.DataFrame
    hotline: pd.DataFrame

    def known_before(self, instant: pd.Timestamp) -> Sources:
        """Only the records that were known strictly before the instant."""
        return Sources(
            cases=self.cases[self.cases["known_at"] < instant],
            events=self.events[self.events["known_at"] < instant],
            hotline=self.hotline[self.hotline["known_at"] < instant],
        )
