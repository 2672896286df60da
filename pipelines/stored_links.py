"""The call links stored (with each day's list, or for past days by `pipelines.link_backfill`), given back
to this process's linker memo (`features.link_memo`), so that a day or a training run decides again only
the batches (a district's calls of a day) whose inputs changed since, or that have no stored link; and
the links of past days decided for storing, a chunk of days per cut."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd

from contracts.settings import Settings
from features.call_linking import STORED_LINK_COLUMNS, days_decisions, empty_links
from features.known import cut
from features.link_memo import remember
from features.linked_activity import LINK_CONFIG
from features.sources import Sources
from pipelines.runtime import open_warehouse
from warehouse.call_links import read_call_links

# The days of decisions before a date whose links its linked-call features read.
LINK_WINDOW = timedelta(days=LINK_CONFIG.call_window_days)
# The days decided from one cut: one read of the linker's inputs (cases, events, linked calls) serves
# them all, as it serves the window of a day's features.
CHUNK_DAYS = LINK_WINDOW.days


def day_chunks(days: Sequence[date]) -> list[list[date]]:
    """The days in date order, cut where a chunk would span more than `CHUNK_DAYS` calendar days from the
    first day (so that a cut never reads more than CHUNK_DAYS of decisions)."""
    ordered = sorted(days)
    chunks: dict[int, list[date]] = {}
    for day in ordered:
        chunks.setdefault((day - ordered[0]).days // CHUNK_DAYS, []).append(day)
    return list(chunks.values())


def chunk_decisions(stored: Sources, chunk: Sequence[date]) -> pd.DataFrame:
    """The links decided at the midnights of a chunk's days (`features.call_linking.days_decisions`), from
    one cut of the stored records at its last day (STORED_LINK_COLUMNS, by as_of, then call_id)."""
    return days_decisions(cut(stored, chunk[-1]), chunk, LINK_CONFIG)


def stacked_decisions(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Chunks' decisions in one frame, in the order given."""
    filled = [frame for frame in frames if len(frame)]
    return pd.concat(filled, ignore_index=True) if filled else empty_links(STORED_LINK_COLUMNS)


def decisions_of_days(stored: Sources, days: Sequence[date]) -> pd.DataFrame:
    """The links decided at the midnights of the days, from the stored records, a cut per chunk of
    `day_chunks` (STORED_LINK_COLUMNS, by as_of, then call_id)."""
    return stacked_decisions([chunk_decisions(stored, chunk) for chunk in day_chunks(days)])


def recall_links(
    settings: Settings,
    first: date,
    before: date,
    hotline: pd.DataFrame,
    districts: Sequence[str] | None = None,
) -> int:
    """Give the links stored of the days from `first` to the day before `before` (of the calls logged in
    `districts`, when given) back to the memo; `hotline`: the stored calls they are read
    against. Returns the batches given back."""
    stored = read_call_links(open_warehouse(settings), first, before - timedelta(days=1), districts)
    return remember(stored, hotline)
