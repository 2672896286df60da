"""The flow deciding and storing the call links of past days (`fengqiao links`, `pipelines.link_backfill`)."""

from __future__ import annotations

from datetime import date

from prefect import flow

from contracts.settings import Settings
from pipelines.link_backfill import LinkBackfill, backfill_links

__all__ = ["LinkBackfill", "link_backfill_flow"]


@flow(name="link-backfill")
def link_backfill_flow(first: date, last: date, settings: Settings | None = None) -> LinkBackfill:
    """Decide and store the call links of the days from `first` to `last` that have none, by district
    parts (`pipelines.link_backfill.backfill_links`)."""
    return backfill_links(settings or Settings(), first, last)
