"""The day's window read from the store keeps every case the call linker may still consider: a case closed
for good stays in it when a call of the window comes from its reporter's phone or from the phone of a call
that quoted it (linker version 3), and leaves it otherwise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.sources import FEATURE_COLUMNS
from pipelines.runtime import load_sources
from tests.builders import call_row, case_row, empty_postgres, event_row, make_sources, store_sources
from warehouse.day_window import WindowBounds, window_filters
from warehouse.store import Warehouse

BOUNDS = WindowBounds(
    calls_from=pd.Timestamp("2025-03-01").to_pydatetime(),
    known_from=pd.Timestamp("2025-03-05").to_pydatetime(),
    cases_from=pd.Timestamp("2025-03-01").to_pydatetime(),
    pool_from=pd.Timestamp("2024-12-01").to_pydatetime(),
    first_received=pd.Timestamp("2025-03-06").to_pydatetime(),
    first_decided=pd.Timestamp("2025-03-06").to_pydatetime(),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    url = empty_postgres() if request.param == "postgresql" else f"sqlite:///{tmp_path / 'store.db'}"
    return Warehouse(url)


def _store(warehouse: Warehouse) -> None:
    """Three cases closed for good in February; in March one's reporter calls, and the caller who once
    quoted another calls again; the third hears from nobody."""
    sources = make_sources(
        [
            case_row("K1", "2025-01-10", reporter_phone="13800000001"),
            case_row("K2", "2025-01-10", reporter_phone="13800000002"),
            case_row("K3", "2025-01-10"),
            case_row("N1", "2025-03-02"),
        ],
        [event_row(case, "2025-02-01", "closed") for case in ("K1", "K2", "K3")],
        [
            call_row("Q3", "2025-01-20", case_id="K3", caller_phone="13900000003"),
            call_row("C1", "2025-03-06", caller_phone="13800000001"),
            call_row("C3", "2025-03-06", caller_phone="13900000003"),
        ],
    )
    store_sources(warehouse, sources)


def test_closed_cases_a_window_call_reaches_by_phone_stay_in_the_window(warehouse: Warehouse) -> None:
    _store(warehouse)
    window = load_sources(warehouse, FEATURE_COLUMNS, where=window_filters(BOUNDS))
    assert sorted(window.cases["case_id"]) == ["K1", "K3", "N1"]
    assert sorted(window.events["case_id"].astype(str)) == ["K1", "K3"]
    assert sorted(window.hotline["call_id"]) == ["C1", "C3", "Q3"]
