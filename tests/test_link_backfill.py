"""Call links of past days decided and stored (`pipelines.link_backfill`): the rows each day's run stores,
whole or by district parts; days already stored are not decided again; training stores what it decided,
so a second training decides none of it again."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from contracts.settings import Settings
from features import call_linking, link_memo
from features.call_linking import day_links, days_decisions
from features.known import cut
from pipelines import link_backfill, train_flow, train_parts
from pipelines.cli import app
from pipelines.runtime import load_sources, open_warehouse
from tests.builders import TrainedHome
from warehouse import tables
from warehouse.call_links import read_call_links, stored_link_days, stored_link_districts
from warehouse.district_parts import district_rows

pytestmark = pytest.mark.slow


def _without_links(settings: Settings) -> Settings:
    """The home with no call link stored."""
    with open_warehouse(settings).transaction() as connection:
        connection.execute(delete(tables.call_links))
    return settings


def _last_day(trained_home: TrainedHome) -> date:
    return date.fromisoformat(str(trained_home.report.score.manifest["as_of"]))


@pytest.mark.parametrize("parts", [1, 3])
def test_a_backfill_stores_the_rows_each_days_run_stores(
    trained_home: TrainedHome, trained_copy: Settings, parts: int
) -> None:
    settings = _without_links(trained_copy).model_copy(update={"district_parts": parts})
    last = _last_day(trained_home) - timedelta(days=5)
    days = [last - timedelta(days=d) for d in range(40, -1, -1)]  # more than one cut's CHUNK_DAYS
    stored = load_sources(open_warehouse(settings))
    expected = pd.concat([day_links(stored, day) for day in days], ignore_index=True)
    assert len(expected) > 100 and expected["as_of"].nunique() > 30  # the tiny city links most days

    link_memo.MEMO.clear()
    done = link_backfill.backfill_links(settings, days[0], days[-1])

    found = read_call_links(open_warehouse(settings), days[0], days[-1])
    found = found.sort_values(["as_of", "call_id"], ignore_index=True).astype(
        {"digest": object, "district": object}
    )
    pd.testing.assert_frame_equal(found, expected, check_exact=True)
    assert (done.parts, done.links) == (parts, len(expected))
    assert done.days_decided == len(days) * done.parts_decided
    link_memo.MEMO.clear()


def test_days_with_stored_links_are_not_decided_again(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _without_links(trained_copy).model_copy(update={"district_parts": 2})
    last = _last_day(trained_home) - timedelta(days=5)
    first = last - timedelta(days=3)
    link_memo.MEMO.clear()
    before = link_backfill.backfill_links(settings, first, last - timedelta(days=1))
    assert before.days_decided == 3 * before.parts_decided > 0 and before.links > 0

    decided: list[object] = []
    fill = call_linking._fill
    monkeypatch.setattr(
        call_linking, "_fill", lambda linker, batches: decided.extend(batches) or fill(linker, batches)
    )
    link_memo.MEMO.clear()
    again = link_backfill.backfill_links(settings, first, last)
    expected = day_links(load_sources(open_warehouse(settings)), last)
    assert again.links == len(expected) > 0  # the last day's; nothing stored twice
    # decided again before the last day: only batches (a district's day) that had no link to store, the
    # others given back from the store
    warehouse = open_warehouse(settings)
    earlier = [batch for batch in decided if pd.Timestamp(batch[2]).date() < last]
    districts = district_rows(warehouse).index
    present = stored_link_districts(warehouse, first, last - timedelta(days=1))
    assert len(earlier) <= 3 * len(districts) - len(present)
    assert stored_link_days(warehouse, first, last) == {first + timedelta(days=d) for d in range(4)}
    link_memo.MEMO.clear()


def test_a_day_left_half_stored_is_finished_by_a_rerun_of_other_parts(
    trained_home: TrainedHome, trained_copy: Settings
) -> None:
    """An interrupted run (here: one district's links of a day removed) is finished by a rerun with other
    parts: the missing district's links are stored, the others are not stored twice."""
    settings = _without_links(trained_copy).model_copy(update={"district_parts": 2})
    last = _last_day(trained_home) - timedelta(days=5)
    first = last - timedelta(days=2)
    link_memo.MEMO.clear()
    link_backfill.backfill_links(settings, first, last)
    warehouse = open_warehouse(settings)
    complete = read_call_links(warehouse, first, last).sort_values(["as_of", "call_id"], ignore_index=True)
    lost = complete["district"].value_counts().index[0]
    with warehouse.transaction() as connection:
        links = tables.call_links
        connection.execute(delete(links).where(links.c.district == lost, links.c.as_of == last))
    link_memo.MEMO.clear()
    rerun = link_backfill.backfill_links(settings.model_copy(update={"district_parts": 1}), first, last)
    assert rerun.links == int(((complete["district"] == lost) & (complete["as_of"] == last)).sum()) > 0
    again = read_call_links(warehouse, first, last).sort_values(["as_of", "call_id"], ignore_index=True)
    pd.testing.assert_frame_equal(again, complete, check_exact=True)
    link_memo.MEMO.clear()


def test_links_cannot_be_decided_for_a_day_after_the_cut(trained_copy: Settings) -> None:
    known = cut(load_sources(open_warehouse(trained_copy)), date(2025, 6, 1))
    with pytest.raises(ValueError, match="2025-06-02 cannot be decided from what was known before"):
        days_decisions(known, [date(2025, 6, 1), date(2025, 6, 2)])


@pytest.mark.parametrize("parts", [1, 3])
def test_training_stores_its_links_and_a_second_training_decides_none_of_them(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    settings = _without_links(trained_copy).model_copy(update={"district_parts": parts})
    as_of = _last_day(trained_home)
    families = train_flow.training_families(settings)
    decided: list[object] = []
    fill = call_linking._fill
    monkeypatch.setattr(
        call_linking, "_fill", lambda linker, batches: decided.extend(batches) or fill(linker, batches)
    )
    link_memo.MEMO.clear()
    _, first = train_flow.matrix_as_of(as_of, settings, families)
    decided_first = len(decided)
    stored = read_call_links(open_warehouse(settings), date(2000, 1, 1), as_of)
    assert stored["as_of"].max() == as_of - timedelta(days=1) and len(stored) > 100

    backfills: list[link_backfill.LinkBackfill] = []

    def counted(*args: object, **kwargs: object) -> link_backfill.LinkBackfill:
        backfills.append(link_backfill.backfill_links(*args, **kwargs))  # type: ignore[arg-type]
        return backfills[-1]

    monkeypatch.setattr(train_flow, "backfill_links", counted)
    monkeypatch.setattr(train_parts, "backfill_links", counted)
    decided.clear()
    link_memo.MEMO.clear()
    _, second = train_flow.matrix_as_of(as_of, settings, families)
    pd.testing.assert_frame_equal(second, first, check_exact=True)
    [again] = backfills
    assert again.links == 0  # nothing stored twice
    # decided again: only the batches (a district's day) that had no link to store, the others recalled
    present = stored_link_districts(open_warehouse(settings), again.first, again.last)
    assert len(decided) == decided_first - len(present) < decided_first
    link_memo.MEMO.clear()


def test_the_links_command_backfills_and_a_rerun_stores_nothing(
    trained_home: TrainedHome, trained_copy: Settings
) -> None:
    settings = _without_links(trained_copy)
    last = _last_day(trained_home) - timedelta(days=1)
    first = last - timedelta(days=6)
    home = ["--home", str(settings.home)]
    arguments = [*home, "links", "--from", first.isoformat(), "--to", last.isoformat()]
    link_memo.MEMO.clear()
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    stored = read_call_links(open_warehouse(settings), first, last)
    said = " ".join(result.output.split())
    assert f"call links of {first} to {last}: 7 part-days decided in 1 of 1 district parts" in said
    assert f"{len(stored):,} links stored" in said and len(stored) > 10
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "district parts, 0 links stored" in " ".join(result.output.split())
    link_memo.MEMO.clear()
