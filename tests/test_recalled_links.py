"""A list is scored with the call links stored beside earlier lists given back (`recall_stored_links`):
the days whose inputs are unchanged are not decided again, and the list is the same as one made afresh."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from contracts.settings import Settings
from features import call_linking, link_memo
from features.known import cut
from pipelines import day_list
from pipelines.runtime import load_sources, open_warehouse
from pipelines.score_flow import score_flow
from tests.builders import TrainedHome
from warehouse.lists import read_call_links

pytestmark = pytest.mark.slow


def test_stored_links_are_given_back_and_the_list_is_the_same(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = trained_copy
    last = date.fromisoformat(str(trained_home.report.score.manifest["as_of"]))
    earlier = [last - timedelta(days=d) for d in (12, 11, 10)]
    for day in earlier:
        score_flow(day, settings)
    day = last - timedelta(days=9)
    stored = read_call_links(open_warehouse(settings), earlier[0], earlier[-1])
    with_links = set(stored["as_of"])
    assert with_links  # the tiny city's calls were linked on these days

    link_memo.MEMO.clear()
    known = cut(load_sources(open_warehouse(settings)), day)
    assert day_list.recall_stored_links.fn(known, settings) == len(with_links)

    decided: list[object] = []
    fill = call_linking._fill
    monkeypatch.setattr(
        call_linking, "_fill", lambda linker, batches: decided.extend(batches) or fill(linker, batches)
    )
    link_memo.MEMO.clear()
    recalled = score_flow(day, settings).listed
    decided_recalled = len(decided)
    link_memo.MEMO.clear()
    monkeypatch.setattr(day_list, "remember", lambda stored, hotline: 0)  # nothing given back
    afresh = score_flow(day, settings).listed
    pd.testing.assert_frame_equal(recalled, afresh)
    assert decided_recalled <= len(decided) - decided_recalled - len(with_links)  # those days not again
    link_memo.MEMO.clear()
