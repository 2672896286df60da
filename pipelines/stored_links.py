"""The call links stored (with each day's list, or for past days by `pipelines.link_backfill`), given back
to this process's linker memo (`features.link_memo`), so that a day or a training run decides again only
the batches (a district's calls of a day) whose inputs changed since, or that have no stored link."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd

from contracts.settings import Settings
from features.link_memo import remember
from features.linked_activity import LINK_CONFIG
from pipelines.runtime import open_warehouse
from warehouse.call_links import read_call_links

# The days of decisions before a date whose links its linked-call features read.
LINK_WINDOW = timedelta(days=LINK_CONFIG.call_window_days)


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
