"""Training's call links and snapshots built with helper processes (`pipelines.snapshot_helpers`): the
helpers take the latest chunks, this process the others, and the links and the stacked matrix are those
this process decides and builds alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from contracts.settings import Settings
from features.known import cut
from features.partition import consecutive_parts as chunks
from pipelines import snapshot_helpers, train_flow
from pipelines.runtime import load_sources, open_warehouse
from pipelines.snapshot_helpers import (
    SharedSnapshots,
    StoreChanged,
    helper_count,
    snapshots,
)
from pipelines.stored_links import LINK_WINDOW, day_chunks, decisions_of_days
from tests.builders import TrainedHome
from warehouse.tables import call_links

DAYS = [date(2026, 1, 1) + timedelta(days=i) for i in range(10)]


def test_the_dates_are_cut_into_nearly_even_chunks_in_date_order() -> None:
    assert chunks(DAYS, 4) == [DAYS[0:3], DAYS[3:6], DAYS[6:8], DAYS[8:10]]
    assert chunks(DAYS, 20) == [[day] for day in DAYS]
    assert chunks(DAYS, 1) == [DAYS]
    assert chunks([], 4) == [[]]


def test_helpers_are_one_fewer_than_the_jobs_from_enough_records_and_only_over_the_whole_store() -> None:
    known: Any = SimpleNamespace(cases=range(40), events=range(30), hotline=range(30))  # 100 records
    settings = Settings(training_helper_min_records=100)
    assert helper_count(settings, known, jobs=2) == 1
    assert helper_count(settings, known, jobs=4) == 3
    assert helper_count(settings, known, jobs=1) == 0
    assert helper_count(settings.model_copy(update={"training_helper_min_records": 101}), known, 2) == 0
    assert helper_count(settings.model_copy(update={"district_parts": 2}), known, 2) == 0
    assert helper_count(settings.model_copy(update={"task_runner": "dask"}), known, 2) == 0


@pytest.mark.slow
def test_a_helper_builds_the_latest_chunks_and_the_matrix_is_the_one_built_alone(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of = trained_home.report.as_of
    settings = trained_copy.model_copy(update={"training_jobs": 2, "training_helper_min_records": 0})
    known = cut(load_sources(open_warehouse(settings)), as_of).sources
    dates = train_flow.training_dates(known, as_of, settings)
    families = train_flow.training_families(settings)
    alone = snapshots(known, dates, settings, families)
    with SharedSnapshots(settings, as_of, known, dates, families, helpers=1) as shared:
        assert len(shared.parts) == min(8, len(dates)) > 2
        last = len(shared.parts) - 1
        shared.start()
        shared.futures[last].result()  # the helper has built the latest chunk before this process stacks
        stacked = shared.stack()
    assert last in shared.helped and 0 not in shared.helped
    pd.testing.assert_frame_equal(stacked, alone)

    # A helper that reads other record versions than this process holds (an ingest in between: here this
    # process's copy lacks a call) builds nothing; its chunks are built here, from this process's copy.
    fewer = replace(known, hotline=known.hotline.iloc[1:].reset_index(drop=True))
    with SharedSnapshots(settings, as_of, fewer, dates, families, helpers=1) as shared:
        shared.start()
        with pytest.raises(StoreChanged):
            shared.futures[len(shared.parts) - 1].result()
        stacked = shared.stack()
    assert shared.helped == []
    pd.testing.assert_frame_equal(stacked, snapshots(fewer, dates, settings, families))

    # The links of the history's days: the helper decides the latest chunks of days, this process the
    # earliest, then the helper goes on to the latest snapshots; the same rows as decided alone.
    days = [dates[0] - LINK_WINDOW + timedelta(days=i) for i in range((as_of - dates[0] + LINK_WINDOW).days)]
    chunked = day_chunks(days)
    assert len(chunked) >= 3 and [day for chunk in chunked for day in chunk] == days
    some = [day for chunk in chunked[:2] for day in chunk]
    assert len(day_chunks(some)) == 2 < 2 * snapshot_helpers.LINK_CHUNKS_PER_PROCESS
    with SharedSnapshots(settings, as_of, known, dates, families, helpers=1) as shared:
        few = shared.decide_links(some)  # too few chunks to pay for a helper's start: all decided here
        assert shared._links is None and shared._feeder.ident is None
    pd.testing.assert_frame_equal(few, decisions_of_days(known, some))
    monkeypatch.setattr(snapshot_helpers, "LINK_CHUNKS_PER_PROCESS", 1)  # shared whatever the city's span
    with SharedSnapshots(settings, as_of, known, dates, families, helpers=1) as shared:
        decided = shared.decide_links(days)
        links = shared._links
        assert links is not None and len(chunked) - 1 in links.helped and 0 not in links.helped
        with pytest.raises(RuntimeError, match="before the helpers start"):
            shared.decide_links(days)
        pd.testing.assert_frame_equal(shared.stack(), alone)
    pd.testing.assert_frame_equal(decided, decisions_of_days(known, days))

    # Training itself: helpers over this store once its records pass the setting; the same matrix.
    used: list[SharedSnapshots] = []

    class Spied(SharedSnapshots):
        def __enter__(self) -> SharedSnapshots:
            used.append(self)
            return self

    monkeypatch.setattr(train_flow, "SharedSnapshots", Spied)
    families = train_flow.training_families(settings)
    with open_warehouse(settings).transaction() as connection:  # the history's links decided anew, shared
        connection.execute(call_links.delete())
    _, helped = train_flow.matrix_as_of(as_of, settings, families)
    alone_settings = settings.model_copy(update={"training_jobs": 1})
    _, built_alone = train_flow.matrix_as_of(as_of, alone_settings, families)
    assert [s.pool is not None for s in used] == [True, False]
    assert used[0]._links is not None and used[0]._links.helped
    pd.testing.assert_frame_equal(helped, built_alone)
