"""A list is scored with the call links stored beside earlier lists given back (`recall_stored_links`):
the days whose inputs are unchanged are not decided again, and the list is the same as one made afresh."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import delete

from contracts.settings import Settings
from features import call_linking, link_memo, linked_activity
from features.known import cut
from pipelines import day_list, stored_links, train_flow, train_parts
from pipelines.grievance_flow import days_from
from pipelines.link_backfill import decisions_of_days
from pipelines.runtime import load_sources, open_warehouse
from pipelines.score_flow import score_flow
from tests.builders import TrainedHome
from warehouse import tables
from warehouse.call_links import read_call_links

pytestmark = pytest.mark.slow


def test_stored_links_are_given_back_and_the_list_is_the_same(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = trained_copy
    with open_warehouse(settings).transaction() as connection:  # only the lists' links (not training's)
        connection.execute(delete(tables.call_links))
    last = date.fromisoformat(str(trained_home.report.score.manifest["as_of"]))
    earlier = [last - timedelta(days=d) for d in (12, 11, 10)]
    for day in earlier:
        score_flow(day, settings)
    day = last - timedelta(days=9)
    # the lists' days and the days of their link windows without a link (stored by the first list)
    window = (day - stored_links.LINK_WINDOW, day - timedelta(days=1))
    stored = read_call_links(open_warehouse(settings), *window)
    batches = stored["digest"].nunique()  # a district's calls of a day with a link
    assert batches >= len(set(stored["as_of"])) > len(earlier)

    link_memo.MEMO.clear()
    known = cut(load_sources(open_warehouse(settings)), day)
    unlinked = day_list.recall_stored_links.fn(known, settings)
    assert len(link_memo.MEMO.entries) == batches  # the window's stored batches, given back
    assert all(window[0] <= day <= window[1] for day in unlinked)  # a district without a link that day

    decided: list[object] = []
    fill = call_linking._fill
    monkeypatch.setattr(
        call_linking, "_fill", lambda linker, batches: decided.extend(batches) or fill(linker, batches)
    )
    link_memo.MEMO.clear()
    recalled = score_flow(day, settings).listed
    decided_recalled = len(decided)
    link_memo.MEMO.clear()
    monkeypatch.setattr(stored_links, "remember", lambda stored, hotline: 0)  # nothing given back
    afresh = score_flow(day, settings).listed
    pd.testing.assert_frame_equal(recalled, afresh)
    assert decided_recalled <= len(decided) - decided_recalled - batches  # those batches not again
    link_memo.MEMO.clear()


@pytest.mark.parametrize("parts", [1, 3])
def test_a_day_stores_the_links_of_its_window_s_days_that_had_none(
    trained_home: TrainedHome, trained_copy: Settings, parts: int
) -> None:
    """A list scored where no earlier day's links are stored stores those of its link window with the
    day's: the rows a backfill (`fengqiao links`) stores, whole or by parts; the next day's list leaves
    them as they are."""
    settings = trained_copy.model_copy(update={"district_parts": parts})
    with open_warehouse(settings).transaction() as connection:
        connection.execute(delete(tables.call_links))
    day = date.fromisoformat(str(trained_home.report.score.manifest["as_of"])) - timedelta(days=5)
    link_memo.MEMO.clear()
    score_flow(day, settings)
    first, last = day - stored_links.LINK_WINDOW, day - timedelta(days=1)
    warehouse = open_warehouse(settings)
    window = read_call_links(warehouse, first, last).drop(columns="digest")
    link_memo.MEMO.clear()
    expected = decisions_of_days(load_sources(warehouse), days_from(first, last)).drop(columns="digest")
    key = ["as_of", "call_id"]
    assert len(expected) > 0 and expected["as_of"].nunique() > 10
    pd.testing.assert_frame_equal(
        window.sort_values(key, ignore_index=True)[list(expected.columns)],
        expected.sort_values(key, ignore_index=True),
        check_dtype=False,
    )
    score_flow(day + timedelta(days=1), settings)
    after = read_call_links(open_warehouse(settings), first, day).drop(columns="digest")
    pd.testing.assert_frame_equal(
        after[after["as_of"] < day].sort_values(key, ignore_index=True),
        window.sort_values(key, ignore_index=True),
    )
    link_memo.MEMO.clear()


@pytest.mark.parametrize("parts", [1, 3])
def test_training_reuses_the_stored_links_and_builds_the_same_matrix(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    """Training gives the links the daily runs stored back to the linker (by parts, each part those of
    its districts' calls): the matrix is the one built afresh, and those batches are not decided again."""
    settings = trained_copy.model_copy(update={"district_parts": parts})
    with open_warehouse(settings).transaction() as connection:  # only the lists' links (not training's)
        connection.execute(delete(tables.call_links))
    as_of = date.fromisoformat(str(trained_home.report.score.manifest["as_of"]))
    families = train_flow.training_families(settings)
    assert linked_activity in families
    dates = train_flow.training_dates(
        cut(load_sources(open_warehouse(settings)), as_of).sources, as_of, settings
    )
    for day in (dates[-1] - timedelta(days=d) for d in (2, 1, 0)):
        score_flow(day, settings)
    batches = read_call_links(open_warehouse(settings), dates[0], dates[-1])["digest"].nunique()
    assert batches > 3

    decided: list[object] = []
    fill = call_linking._fill
    monkeypatch.setattr(
        call_linking, "_fill", lambda linker, batches: decided.extend(batches) or fill(linker, batches)
    )
    for module in (train_flow, train_parts):  # only the lists' links (test_link_backfill: training's own)
        monkeypatch.setattr(module, "backfill_links", lambda *args, **kwargs: None)
    link_memo.MEMO.clear()
    _, recalled = train_flow.matrix_as_of(as_of, settings, families)
    decided_recalled = len(decided)
    link_memo.MEMO.clear()
    monkeypatch.setattr(stored_links, "remember", lambda stored, hotline: 0)  # nothing given back
    _, afresh = train_flow.matrix_as_of(as_of, settings, families)
    pd.testing.assert_frame_equal(recalled, afresh, check_exact=True)
    assert decided_recalled <= len(decided) - decided_recalled - batches
    link_memo.MEMO.clear()
