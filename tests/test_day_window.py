"""The day's window read from the store by district parts (what its grievances read): the calls of the
grievance windows, the cases of the lookback and those the window's calls quote, with their events; and
the base rates' reference cases, read in one pass."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contracts.vocabulary import RecordKind
from features.known import cut
from features.sources import FEATURE_COLUMNS, STORE_COLUMNS
from pipelines.runtime import load_sources
from tests.builders import (
    STORE_BACKENDS,
    backend_store,
    call_row,
    case_row,
    event_row,
    make_sources,
    store_sources,
)
from warehouse.day_window import WindowBounds, reference_filters, window_filters
from warehouse.store import Warehouse

BOUNDS = WindowBounds(
    calls_from=pd.Timestamp("2025-03-01").to_pydatetime(),
    cases_from=pd.Timestamp("2025-02-01").to_pydatetime(),
)


@pytest.fixture(params=STORE_BACKENDS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    return backend_store(request.param, tmp_path)


def _store(warehouse: Warehouse, later: bool = False) -> None:
    """An old case quoted by a call of the window and one quoted only before it, a case of the lookback and
    an older one with their events, and calls before and in the window. `later`: a case, its event and two
    calls in June too."""
    june = [case_row("N9", "2025-06-01")] if later else []
    june_events = [event_row("N9", "2025-06-02", "closed")] if later else []
    june_calls = [call_row("C9", "2025-06-01"), call_row("Q9", "2025-06-03", case_id="N1")] if later else []
    sources = make_sources(
        [
            case_row("K1", "2024-10-10"),  # quoted by a call of the window
            case_row("K2", "2024-10-10"),  # quoted before the window only
            case_row("K3", "2025-01-10"),  # opened before the lookback
            case_row("N1", "2025-02-02"),  # opened in the lookback
            *june,
        ],
        [event_row(case, "2025-02-20", "visit") for case in ("K1", "K2", "K3", "N1")] + june_events,
        [
            call_row("Q2", "2025-02-20", case_id="K2"),
            call_row("C0", "2025-02-25"),
            call_row("Q1", "2025-03-02", case_id="K1"),
            call_row("C1", "2025-03-06"),
            *june_calls,
        ],
    )
    store_sources(warehouse, sources)


def test_the_window_holds_its_calls_the_lookbacks_cases_and_the_cases_they_quote(
    warehouse: Warehouse,
) -> None:
    _store(warehouse)
    window = load_sources(warehouse, FEATURE_COLUMNS, where=window_filters(BOUNDS))
    assert sorted(window.hotline["call_id"]) == ["C1", "Q1"]  # not C0, Q2: before the window
    assert sorted(window.cases["case_id"]) == ["K1", "N1"]
    assert sorted(window.events["case_id"].astype(str)) == ["K1", "N1"]


def test_a_window_read_until_an_instant_holds_no_later_row_and_cuts_the_same(warehouse: Warehouse) -> None:
    """A past day's window leaves out what became known after it (a read of the rest of the store
    otherwise), and what it holds cut at the instant is what the full window gives."""
    _store(warehouse, later=True)
    instant = pd.Timestamp("2025-03-07")
    every = load_sources(warehouse, FEATURE_COLUMNS, where=window_filters(BOUNDS))
    until = load_sources(warehouse, FEATURE_COLUMNS, where=window_filters(BOUNDS, until=instant))
    assert {"C9", "Q9"} <= set(every.hotline["call_id"]) and "N9" in set(every.cases["case_id"])
    assert sorted(until.hotline["call_id"]) == ["C1", "Q1"]
    assert sorted(until.cases["case_id"]) == ["K1", "N1"]
    for name in ("cases", "events", "hotline"):
        kept, whole = (_values(getattr(cut(read, instant).sources, name)) for read in (until, every))
        pd.testing.assert_frame_equal(kept, whole)


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's rows in order as Python values (a read's categories and dtypes follow what it read)."""
    return frame.reset_index(drop=True).astype(object)


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


def test_the_stored_fingerprint_is_the_cut_s_whatever_the_order_and_the_chunks(warehouse: Warehouse) -> None:
    """Read in the store's own order a chunk at a time, the fingerprint of the records known before an
    instant is the in-memory cut's (which is the same for its rows in any order); a June record known
    after the instant changes neither, one known before it changes both."""
    from pipelines.day_list import input_fingerprint
    from warehouse.day_window import stored_fingerprint, stored_sum

    _store(warehouse, later=True)
    stored = load_sources(warehouse, STORE_COLUMNS)
    may, july = cut(stored, pd.Timestamp("2025-05-01").date()), cut(stored, pd.Timestamp("2025-07-01").date())
    shuffled = type(may.sources)(
        cases=may.cases.iloc[::-1],
        events=may.events.sample(frac=1, random_state=3),
        hotline=may.hotline.iloc[::-1],
    )
    assert stored_fingerprint(warehouse, may.instant) == input_fingerprint(may) == input_fingerprint(shuffled)
    assert stored_fingerprint(warehouse, july.instant) == input_fingerprint(july) != input_fingerprint(may)
    calls = [stored_sum(warehouse, RecordKind.HOTLINE, july.instant, chunk_rows=n) for n in (1, 2, 1000)]
    assert calls[0] == calls[1] == calls[2] and calls[0].count == 6
    for day in ("2025-06-01", "2025-06-02", "2025-06-03", "2025-06-04"):  # June's records a day either side
        june = cut(stored, pd.Timestamp(day).date())
        assert stored_fingerprint(warehouse, june.instant) == input_fingerprint(june)
    counts = [
        stored_sum(warehouse, RecordKind.HOTLINE, cut(stored, pd.Timestamp(d).date()).instant).count
        for d in ("2025-06-01", "2025-06-02", "2025-06-04")
    ]
    assert counts == [4, 5, 6]


def test_the_records_surely_known_are_read_by_a_scan_of_the_table(tmp_path: Path) -> None:
    """On SQLite the hashes of the records known a day before an instant (most of a table) are read in the
    table's own order, not looked up one by one through the knowledge time's index."""
    from warehouse.day_window import surely_known_text

    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    _store(warehouse)
    query = surely_known_text(RecordKind.HOTLINE, pd.Timestamp("2025-07-01", tz="UTC"), 0, 1000)
    with warehouse.engine.connect() as connection:
        sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "hotline" in plan and "known_at" not in plan and "USING INDEX" not in plan
