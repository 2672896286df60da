"""The day's grievances built ahead in a helper process (`pipelines.grievances_ahead`): the list takes them
only when the helper read exactly its records with its settings, and a helper not taken is ended."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from contracts.settings import Settings
from features.known import cut
from pipelines import grievances_ahead
from pipelines.grievance_flow import day_grievances
from pipelines.runtime import load_sources, open_warehouse
from tests.builders import TrainedHome


def test_nothing_is_started_when_turned_off_by_district_parts_or_on_one_core(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = settings.model_copy(update={"district_parts": 2})
    assert not grievances_ahead.start(parts, pd.Timestamp("2026-01-01").date())
    off = settings.model_copy(update={"grievances_ahead": False})
    assert not grievances_ahead.start(off, pd.Timestamp("2026-01-01").date())
    monkeypatch.setattr(grievances_ahead, "_cores", lambda: 1)
    assert not grievances_ahead.start(settings, pd.Timestamp("2026-01-01").date())
    assert grievances_ahead._started == []


@pytest.mark.slow
def test_the_list_takes_the_helpers_grievances_only_from_the_same_records_and_settings(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grievances_ahead, "_cores", lambda: 2)
    as_of = trained_home.report.as_of
    known = cut(load_sources(open_warehouse(trained_copy)), as_of)
    built_here = day_grievances(known, trained_copy)
    assert len(built_here)  # the tiny city has grievances to compare

    with grievances_ahead.grievances_ahead(trained_copy, as_of):
        other = trained_copy.model_copy(update={"language": "en"})
        assert grievances_ahead.taken(known, other) is None  # started with other settings: not taken
        taken = grievances_ahead.taken(known, trained_copy)
        assert taken is not None
        pd.testing.assert_frame_equal(taken, built_here)
        assert grievances_ahead.taken(known, trained_copy) is None  # taken once
    assert grievances_ahead._started == []

    # A helper that read other records than the list holds (an ingest in between: here the list's cut
    # lacks a call) is not taken; the caller builds them.
    stored = load_sources(open_warehouse(trained_copy))
    kept = stored.hotline["call_id"] != known.hotline["call_id"].iloc[0]
    fewer = cut(replace(stored, hotline=stored.hotline[kept].reset_index(drop=True)), as_of)
    assert len(fewer.hotline) == len(known.hotline) - 1
    with grievances_ahead.grievances_ahead(trained_copy, as_of):
        assert grievances_ahead.taken(fewer, trained_copy) is None
    assert grievances_ahead._started == []


@pytest.mark.slow
def test_a_helper_not_taken_is_ended_with_its_block(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grievances_ahead, "_cores", lambda: 2)
    with grievances_ahead.grievances_ahead(trained_copy, trained_home.report.as_of):
        (started,) = grievances_ahead._started
    assert grievances_ahead._started == []
    assert started.future.cancelled() or started.future.done()
    with pytest.raises(RuntimeError):  # the pool is shut down: it takes no more work
        started.pool.submit(int)
