"""The day's window read from the store keeps every case the call linker may still consider: a case closed
for good stays in it when a call of the window comes from its reporter's phone or from the phone of a call
that quoted it (linker version 3), and leaves it otherwise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contracts.vocabulary import RecordKind
from features.known import cut
from features.sources import FEATURE_COLUMNS
from pipelines.runtime import load_sources
from tests.builders import (
    STORE_BACKENDS,
    call_row,
    case_row,
    empty_postgres,
    event_row,
    make_sources,
    store_sources,
)
from warehouse.day_window import (
    MARGIN,
    WindowBounds,
    earliest,
    known_since,
    reference_filters,
    window_calls,
    window_filters,
)
from warehouse.store import Warehouse

BOUNDS = WindowBounds(
    calls_from=pd.Timestamp("2025-03-01").to_pydatetime(),
    known_from=pd.Timestamp("2025-03-05").to_pydatetime(),
    cases_from=pd.Timestamp("2025-03-01").to_pydatetime(),
    pool_from=pd.Timestamp("2024-12-01").to_pydatetime(),
    first_received=pd.Timestamp("2025-03-06").to_pydatetime(),
    first_decided=pd.Timestamp("2025-03-06").to_pydatetime(),
)


@pytest.fixture(params=STORE_BACKENDS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    url = empty_postgres() if request.param == "postgresql" else f"sqlite:///{tmp_path / 'store.db'}"
    return Warehouse(url)


def _store(warehouse: Warehouse, later: bool = False) -> None:
    """Three cases closed for good in February; in March one's reporter calls, and the caller who once
    quoted another calls again; the third hears from nobody. `later`: a case, its event and two calls
    in June too."""
    june = [case_row("N9", "2025-06-01")] if later else []
    june_events = [event_row("N9", "2025-06-02", "closed")] if later else []
    june_calls = [call_row("C9", "2025-06-01"), call_row("Q9", "2025-06-03", case_id="N1")] if later else []
    sources = make_sources(
        [
            case_row("K1", "2025-01-10", reporter_phone="13800000001"),
            case_row("K2", "2025-01-10", reporter_phone="13800000002"),
            case_row("K3", "2025-01-10"),
            case_row("N1", "2025-03-02"),
            *june,
        ],
        [event_row(case, "2025-02-01", "closed") for case in ("K1", "K2", "K3")] + june_events,
        [
            call_row("Q3", "2025-01-20", case_id="K3", caller_phone="13900000003"),
            call_row("C1", "2025-03-06", caller_phone="13800000001"),
            call_row("C3", "2025-03-06", caller_phone="13900000003"),
            *june_calls,
        ],
    )
    store_sources(warehouse, sources)


def test_closed_cases_a_window_call_reaches_by_phone_stay_in_the_window(warehouse: Warehouse) -> None:
    _store(warehouse)
    window = load_sources(warehouse, FEATURE_COLUMNS, where=window_filters(BOUNDS))
    assert sorted(window.cases["case_id"]) == ["K1", "K3", "N1"]
    assert sorted(window.events["case_id"].astype(str)) == ["K1", "K3"]
    assert sorted(window.hotline["call_id"]) == ["C1", "C3", "Q3"]


def test_a_window_read_until_an_instant_holds_no_later_row_and_cuts_the_same(warehouse: Warehouse) -> None:
    """A past day's window (training's snapshot dates) leaves out what became known after it (a read of
    the rest of the store otherwise), and what it holds cut at the instant is what the full window gives."""
    _store(warehouse, later=True)
    instant = pd.Timestamp("2025-03-07")
    every = load_sources(warehouse, FEATURE_COLUMNS, where=window_filters(BOUNDS))
    until = load_sources(warehouse, FEATURE_COLUMNS, where=window_filters(BOUNDS, until=instant))
    assert {"C9", "Q9"} <= set(every.hotline["call_id"]) and "N9" in set(every.cases["case_id"])
    assert sorted(until.hotline["call_id"]) == ["C1", "C3", "Q3"]
    assert sorted(until.cases["case_id"]) == ["K1", "K3", "N1"]
    for name in ("cases", "events", "hotline"):
        kept, whole = (_values(getattr(cut(read, instant).sources, name)) for read in (until, every))
        pd.testing.assert_frame_equal(kept, whole)


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's rows in order as Python values (a read's categories and dtypes follow what it read)."""
    return frame.reset_index(drop=True).astype(object)


def test_the_earliest_call_time_is_found_by_the_database(warehouse: Warehouse) -> None:
    _store(warehouse, later=True)
    calls = warehouse.read_records(RecordKind.HOTLINE, ["received_at", "known_at"])
    start, end = pd.Timestamp("2025-03-01"), pd.Timestamp("2025-07-01")
    assert earliest(warehouse, "received_at", window_calls(start, end)) == pd.Timestamp("2025-03-06")
    since = pd.Timestamp("2025-05-01")
    expected = calls.loc[calls["known_at"] >= since - MARGIN, "known_at"].min()
    assert earliest(warehouse, "known_at", known_since(since)) == expected
    assert earliest(warehouse, "received_at", window_calls(pd.Timestamp("2030-01-01"), end)) is None


def test_the_base_rates_reference_reads_the_events_in_one_pass_and_keeps_the_same_rows(
    tmp_path: Path,
) -> None:
    """SQLite scans the events once for the reference (most cases are recent), not case by case."""
    from sqlalchemy import select

    from warehouse import tables

    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    sources = make_sources(
        cases=[case_row("C1", "2025-02-01"), case_row("C2", "2024-01-01")],
        events=[
            event_row("C1", "2025-02-10", "litigation"),
            event_row("C1", "2025-02-11", "mediation_failed"),
            event_row("C2", "2025-02-12", "litigation"),
        ],
        hotline=[],
    )
    store_sources(warehouse, sources)
    where = reference_filters(pd.Timestamp("2025-01-01").to_pydatetime(), ["litigation"])
    read = warehouse.read_records(
        RecordKind.CASE_EVENTS, ["case_id", "event_type"], where=where[RecordKind.CASE_EVENTS]
    )
    assert read.values.tolist() == [["C1", "litigation"]]
    query = select(tables.case_events.c.case_id).where(where[RecordKind.CASE_EVENTS])
    with warehouse.engine.connect() as connection:
        sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "SCAN case_events" in plan and "ix_case_events_case_id" not in plan
