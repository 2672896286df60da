"""The helper process of `fengqiao score` (`pipelines.score_helper`): the call links it decides spare the
list's linker their deciding, the list takes its grievances only when it read exactly the list's records
with the list's settings, and a helper not taken is ended."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from joblib.externals import loky

from contracts.settings import Settings
from features import call_linking
from features.known import cut
from features.link_memo import MEMO
from features.linked_activity import case_links
from pipelines import score_helper
from pipelines.grievance_flow import day_grievances
from pipelines.runtime import load_sources, open_warehouse
from tests.builders import TrainedHome
from warehouse.tables import call_links


def test_nothing_is_started_when_turned_off_by_district_parts_or_on_one_core(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = settings.model_copy(update={"district_parts": 2})
    assert not score_helper.start(parts, pd.Timestamp("2026-01-01").date())
    off = settings.model_copy(update={"score_helper": False})
    assert not score_helper.start(off, pd.Timestamp("2026-01-01").date())
    monkeypatch.setattr(score_helper, "_cores", lambda: 1)
    assert not score_helper.start(settings, pd.Timestamp("2026-01-01").date())
    assert score_helper._started == []


def test_a_helper_that_cannot_start_leaves_the_work_to_the_command(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoProcesses(loky.ProcessPoolExecutor):
        def submit(self, *args: object, **kwargs: object) -> Any:
            raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(score_helper, "_cores", lambda: 2)
    monkeypatch.setattr(loky, "ProcessPoolExecutor", NoProcesses)
    assert not score_helper.start(settings, pd.Timestamp("2026-01-01").date())
    assert score_helper._started == []


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper starts whatever cores the machine running the tests has."""
    monkeypatch.setattr(score_helper, "_cores", lambda: 2)


@pytest.mark.slow
@pytest.mark.usefixtures("two_cores")
def test_the_list_takes_the_helpers_grievances_only_from_the_same_records_and_settings(
    trained_home: TrainedHome, trained_copy: Settings
) -> None:
    as_of = trained_home.report.as_of
    known = cut(load_sources(open_warehouse(trained_copy)), as_of)
    built_here = day_grievances(known, trained_copy)
    assert len(built_here)  # the tiny city has grievances to compare

    with score_helper.score_helper(trained_copy, as_of):
        other = trained_copy.model_copy(update={"language": "en"})
        assert score_helper.taken_grievances(known, other) is None  # started with other settings: not taken
        taken = score_helper.taken_grievances(known, trained_copy)
        assert taken is not None
        pd.testing.assert_frame_equal(taken, built_here)
        assert score_helper.taken_grievances(known, trained_copy) is None  # taken once
    assert score_helper._started == []

    # A helper that read other records than the list holds (an ingest in between: here the list's cut
    # lacks a call) is not taken; the caller builds them.
    stored = load_sources(open_warehouse(trained_copy))
    kept = stored.hotline["call_id"] != known.hotline["call_id"].iloc[0]
    fewer = cut(replace(stored, hotline=stored.hotline[kept].reset_index(drop=True)), as_of)
    assert len(fewer.hotline) == len(known.hotline) - 1
    with score_helper.score_helper(trained_copy, as_of):
        assert score_helper.taken_grievances(fewer, trained_copy) is None
    assert score_helper._started == []


@pytest.mark.slow
@pytest.mark.usefixtures("two_cores")
def test_the_links_the_helper_decided_are_not_decided_again(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = open_warehouse(trained_copy)
    with warehouse.transaction() as connection:  # no link stored: every batch of the window is decided
        connection.execute(call_links.delete())
    known = cut(load_sources(warehouse), trained_home.report.as_of)
    MEMO.clear()
    decided_here = case_links(known.sources, known.instant)
    assert len(decided_here)
    MEMO.clear()
    with score_helper.score_helper(trained_copy, known.as_of):
        assert score_helper.give_links(known, trained_copy.model_copy(update={"language": "en"})) == 0
        assert score_helper.give_links(known, trained_copy) == len(MEMO.entries) > 0

        def decided(*_: object) -> None:
            raise AssertionError("a batch the helper decided was decided again")

        monkeypatch.setattr(call_linking, "_fill", decided)
        pd.testing.assert_frame_equal(case_links(known.sources, known.instant), decided_here)
    MEMO.clear()


@pytest.mark.slow
@pytest.mark.usefixtures("two_cores")
def test_a_helper_not_taken_is_ended_with_its_block(
    trained_home: TrainedHome, trained_copy: Settings
) -> None:
    with score_helper.score_helper(trained_copy, trained_home.report.as_of):
        (started,) = score_helper._started
    assert score_helper._started == []
    assert all(future.cancelled() or future.done() for future in (started.links, started.grievances))
    with pytest.raises(RuntimeError):  # the pool is shut down: it takes no more work
        started.pool.submit(int)
