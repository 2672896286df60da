"""A day scored by district parts reads no table whole (docs/design/partitions.md): the parts read their
own rows (features, the linked calls and the day's call links among them); the grievances read the day's
window of the store (`warehouse.day_window`), the base rates their reference cases, the health checks and
outcomes narrow columns; what they build is what the whole store gives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from contracts.vocabulary import RecordKind
from features import context
from features.context import BaseRates, base_rates
from features.known import KnownBefore, cut
from features.sources import STORE_COLUMNS
from pipelines.configuration import grievance_config
from pipelines.runtime import load_sources, open_warehouse
from warehouse import tables
from warehouse.day_window import WindowBounds, reference_filters, window_filters

# What the base rates read (no call).
REFERENCE_COLUMNS = {
    "cases": ["case_id", "opened_at", "category", "known_at"],
    "events": ["case_id", "event_type", "event_at", "known_at"],
    "hotline": ["call_id", "known_at"],
}


def window_bounds(instant: pd.Timestamp, settings: Settings) -> WindowBounds:
    """The bounds of the rows the day's grievances read: the calls of their windows (the rolling window,
    the guard and the baseline windows before it) and the cases of their lookback (with the cases the
    window's calls quote)."""
    config = grievance_config(settings)
    grievance_days = config.window_days * (1 + config.guard_windows + config.baseline_windows)
    return WindowBounds(
        calls_from=instant - pd.Timedelta(days=grievance_days),
        cases_from=instant - pd.Timedelta(days=config.case_lookback_days),
    )


def day_window(settings: Settings, as_of: date) -> KnownBefore:
    """The day's window of the store as known before the as-of date (`window_bounds`): what its
    grievances read."""
    instant = as_of_instant(as_of)
    where = window_filters(window_bounds(instant, settings), until=instant)
    return cut(load_sources(open_warehouse(settings), STORE_COLUMNS, where=where), as_of)


def city_base_rates(settings: Settings, instant: pd.Timestamp) -> BaseRates:
    """`features.context.base_rates` of every district, from the reference cases and their escalation
    events alone."""
    return city_base_rates_at(settings, [instant])[instant]


def city_base_rates_at(settings: Settings, instants: Sequence[pd.Timestamp]) -> dict[pd.Timestamp, BaseRates]:
    """`city_base_rates` at each instant, from one read of the reference cases of the earliest."""
    config = context.DEFAULT
    opened_from = min(instants) - pd.Timedelta(days=config.lookback_days)
    where = reference_filters(opened_from, config.escalation_types, until=max(instants))
    stored = load_sources(open_warehouse(settings), REFERENCE_COLUMNS, where=where)
    return {instant: base_rates(cut(stored, instant).sources, instant, config) for instant in instants}


def escalation_events(settings: Settings, instant: pd.Timestamp) -> pd.DataFrame:
    """The stored case events of the escalation types known before the instant (what outcomes read)."""
    events = tables.case_events.c
    types = [str(t) for t in settings.escalation_events]
    frame = open_warehouse(settings).read_records(
        RecordKind.CASE_EVENTS,
        ["case_id", "event_type", "event_at", "known_at"],
        where=events.event_type.in_(types),
    )
    return frame[(frame["known_at"] < instant).to_numpy()].reset_index(drop=True)
