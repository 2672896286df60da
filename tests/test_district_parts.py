"""A day scored by district parts, each reading only its own rows from the store, publishes the same list
and grievances, byte for byte, as the day scored over the whole store (docs/design/partitions.md)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from prefect.context import TaskRunContext

from cities.demo import SimulationConfig
from contracts.settings import Settings
from features.link_memo import MEMO
from features.partition import district_groups
from features.sources import FEATURE_COLUMNS
from pipelines import day_parts
from pipelines.daily_flow import daily_flow
from pipelines.day_parts import ELSEWHERE_COLUMNS
from pipelines.demo_flow import demo_flow
from pipelines.runtime import load_sources, open_warehouse
from pipelines.score_flow import ScoreReport, score_flow
from tests.builders import (
    STORE_BACKENDS,
    TrainedHome,
    backend_store,
    call_row,
    case_row,
    copy_home,
    empty_postgres,
    event_row,
    make_sources,
    store_sources,
)
from warehouse.call_links import read_call_links
from warehouse.district_parts import district_rows, part_filters, reporters_elsewhere
from warehouse.store import Warehouse

POSTGRES_CITY = SimulationConfig(seed=3, n_cases=500, days=200, messiness=0.01)


def test_districts_are_grouped_by_their_rows_the_largest_first() -> None:
    rows = pd.Series({"东湖区": 50, "西山区": 30, "南湖区": 25, "北关区": 10, " 北关区": 5, "新区": 1})
    # 东湖区 (50) and 西山区 (30) open the two groups; 南湖区 (25) joins the lighter one (30), 北关区 (15,
    # written two ways) the then lighter first one (50), 新区 (1) the second (55 against 65)
    assert district_groups(rows, 2) == [(" 北关区", "东湖区", "北关区"), ("南湖区", "新区", "西山区")]


def test_grouping_is_total_and_never_makes_empty_groups() -> None:
    rows = pd.Series({"a": 3, "b": 2, "c": 1})
    assert district_groups(rows, 1) == [("a", "b", "c")]
    assert district_groups(rows, 5) == [("a",), ("b",), ("c",)]
    with pytest.raises(ValueError, match="at least 1"):
        district_groups(rows, 0)


@pytest.fixture(params=STORE_BACKENDS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    return backend_store(request.param, tmp_path)


def _city(warehouse: Warehouse) -> None:
    """Two districts; calls of 江北区 quote a case of 东湖区 or come from its reporter's phone; a reporter
    of 江北区 reported a case of 东湖区 too."""
    sources = make_sources(
        [
            case_row("E1", "2025-03-01", reporter_phone="13800000001"),
            case_row("E2", "2025-03-02"),
            case_row("E3", "2025-03-02", reporter_phone="13800000002"),  # 江北区's reporter too
            case_row("J1", "2025-03-03", district="江北区", reporter_phone="13800000002"),
        ],
        [event_row("E1", "2025-03-04", "visit"), event_row("J1", "2025-03-05", "visit")],
        [
            call_row("C1", "2025-03-06", case_id="E2"),  # 东湖区's own
            call_row("C2", "2025-03-06", district="江北区", case_id="E1"),  # quotes 东湖区's case
            call_row("C3", "2025-03-07", district="江北区", caller_phone="13800000001"),  # its reporter
            call_row("C4", "2025-03-07", district="江北区", caller_phone="13800000002"),  # 江北区's alone
            call_row("C5", "2025-03-08", district="江北区", case_id="J1"),
        ],
    )
    store_sources(warehouse, sources)


def test_a_part_reads_only_its_own_rows_and_the_calls_routed_to_it(warehouse: Warehouse) -> None:
    _city(warehouse)
    assert district_rows(warehouse).to_dict() == {"东湖区": 4, "江北区": 5}

    east = load_sources(warehouse, FEATURE_COLUMNS, where=part_filters(["东湖区"]))
    assert sorted(east.cases["case_id"]) == ["E1", "E2", "E3"]
    assert east.events["case_id"].astype(str).tolist() == ["E1"]
    assert sorted(east.hotline["call_id"]) == ["C1", "C2", "C3", "C4"]

    north = load_sources(warehouse, FEATURE_COLUMNS, where=part_filters(["江北区"]))
    assert north.cases["case_id"].tolist() == ["J1"]
    assert north.events["case_id"].astype(str).tolist() == ["J1"]
    assert sorted(north.hotline["call_id"]) == ["C2", "C3", "C4", "C5"]


def test_a_part_reads_the_cases_of_other_districts_naming_its_reporters_phones(warehouse: Warehouse) -> None:
    _city(warehouse)
    for districts, expected in ((["东湖区"], ["J1"]), (["江北区"], ["E3"]), (["东湖区", "江北区"], [])):
        elsewhere = load_sources(warehouse, ELSEWHERE_COLUMNS, where=reporters_elsewhere(districts))
        assert elsewhere.cases.columns.tolist() == ELSEWHERE_COLUMNS["cases"]
        assert len(elsewhere.cases) == len(expected) and elsewhere.events.empty and elsewhere.hotline.empty
    east = load_sources(
        warehouse,
        {**ELSEWHERE_COLUMNS, "cases": ["case_id", "known_at"]},
        where=reporters_elsewhere(["江北区"]),
    )
    assert east.cases["case_id"].tolist() == ["E3"]


def _published(report: ScoreReport) -> dict[str, bytes]:
    """The bytes of every file published with a list but its manifest (which says when it was made)."""
    return {name: path.read_bytes() for name, path in report.paths.items() if name != "manifest"}


def _same_day_by_parts(settings: Settings, as_of: date, **fields: object) -> None:
    """Scoring the day over the whole store and by three district parts (reading no table whole) publishes
    the same files, the same manifest but for its time, and the same call links."""
    whole = score_flow(as_of, settings)
    before, links = _published(whole), read_call_links(open_warehouse(settings), as_of, as_of)
    MEMO.clear()  # the parts decide the window's links again, from the day's window of the store
    parted = score_flow(as_of, settings.model_copy(update={"district_parts": 3, **fields}))
    assert len(whole.listed) > 0
    pd.testing.assert_frame_equal(parted.listed, whole.listed)
    assert set(before) == {"parquet", "csv", "grievances.parquet", "grievances.csv", "dormant"}
    assert _published(parted) == before
    assert {**parted.manifest, "generated_at": ""} == {**whole.manifest, "generated_at": ""}
    pd.testing.assert_frame_equal(read_call_links(open_warehouse(settings), as_of, as_of), links)


@pytest.mark.slow
def test_parts_publish_the_same_list_on_sqlite(trained_home: TrainedHome, trained_copy: Settings) -> None:
    as_of = date.fromisoformat(str(trained_home.report.score.manifest["as_of"]))
    _same_day_by_parts(trained_copy, as_of)


@pytest.mark.slow
def test_parts_as_dask_tasks_publish_the_same_list(trained_home: TrainedHome, trained_copy: Settings) -> None:
    as_of = date.fromisoformat(str(trained_home.report.score.manifest["as_of"]))
    _same_day_by_parts(trained_copy, as_of, task_runner="dask", dask_parts=2)


# What a daily run reports that does not depend on when or where it ran.
DAILY_FACTS = (
    "status",
    "open_cases",
    "dormant_cases",
    "bands",
    "grievances",
    "call_links",
    "input_fingerprint",
    "volume",
    "quarantine",
    "drift",
    "verdict",
    "outcomes_tracked",
    "unit_work",
)


@pytest.mark.slow
def test_a_daily_run_by_parts_reports_and_publishes_what_the_whole_store_gives(
    trained_home: TrainedHome, tmp_path: Path
) -> None:
    as_of = date.fromisoformat(str(trained_home.report.score.manifest["as_of"])) + timedelta(days=1)
    whole_home = copy_home(trained_home, tmp_path / "whole")
    whole = daily_flow(as_of, whole_home, override=True, use_inbox=False)  # published despite checks
    MEMO.clear()
    parted_home = copy_home(trained_home, tmp_path / "parts").model_copy(update={"district_parts": 3})
    parted = daily_flow(as_of, parted_home, override=True, use_inbox=False)
    assert whole.status == "published"
    assert {k: parted.report.get(k) for k in DAILY_FACTS} == {k: whole.report.get(k) for k in DAILY_FACTS}
    for name in ("parquet", "grievances.parquet", "dormant.parquet"):
        file = f"{as_of.isoformat()}.{name}"
        assert (parted_home.lists_dir / file).read_bytes() == (whole_home.lists_dir / file).read_bytes()


@pytest.mark.slow
@pytest.mark.postgres
def test_parts_publish_the_same_list_on_postgresql(prefect_harness: None, tmp_path: Path) -> None:
    url = empty_postgres()
    settings = Settings(
        home=tmp_path / "home", warehouse_url=url, pseudonym_key="postgres-test-key-0123456789abcdef"
    )
    report = demo_flow(POSTGRES_CITY, settings)
    _same_day_by_parts(settings, report.as_of)


@pytest.mark.slow
def test_the_days_parts_are_sent_by_the_flow_not_from_inside_a_task(
    trained_home: TrainedHome, trained_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect sends the running task's context, its parameters included, with every part submitted to
    Dask: submitted from inside the scoring task, each part carried the day's window (901 MiB a part at
    province size, which ran the province's day out of memory), so the flow fans the parts out itself."""
    contexts: list[object] = []
    submit = day_parts.run_tasks

    def seen(*args: object, **kwargs: object) -> object:
        contexts.append(TaskRunContext.get())
        return submit(*args, **kwargs)

    monkeypatch.setattr(day_parts, "run_tasks", seen)
    as_of = date.fromisoformat(str(trained_home.report.score.manifest["as_of"]))
    for flow in (score_flow, daily_flow):
        contexts.clear()
        flow(as_of, trained_copy.model_copy(update={"district_parts": 3}))
        assert contexts == [None]  # one fan-out of the day's parts, by the flow itself


@pytest.mark.parametrize("parts", [1, 3])
def test_by_parts_the_window_grievances_and_fingerprint_are_made_while_the_parts_run(
    parts: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """By district parts the day's window and its grievances, and the day's input fingerprint (a read of
    every stored record), are made beside the parts: the parts here finish only once both have begun.
    Over the whole store the window is read first and the features built from it, the rest later."""
    import threading
    from types import SimpleNamespace

    from pipelines import day_list

    fingerprinted, windowed, started = threading.Event(), threading.Event(), threading.Event()
    grievances = pd.DataFrame({"thing": ["鑫源建筑"]})

    def fingerprint(warehouse: object, instant: object) -> str:
        fingerprinted.set()
        assert started.wait(timeout=30), "the fingerprint was read before the parts began"
        return "read"

    def window(settings: Settings, as_of: object) -> tuple[str, pd.DataFrame]:
        windowed.set()
        assert started.wait(timeout=30), "the window was read before the parts began"
        return "known", grievances

    def parted(instant: object, families: object, settings: Settings, city: object) -> day_parts.DayFeatures:
        assert city == "base rates"
        started.set()
        assert fingerprinted.wait(timeout=30), "the fingerprint was not read while the parts ran"
        assert windowed.wait(timeout=30), "the window was not read while the parts ran"
        return day_parts.DayFeatures(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())

    def whole(known: object, families: object, settings: Settings, unlinked: object) -> day_parts.DayFeatures:
        assert known == "known"
        return day_parts.DayFeatures(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())

    monkeypatch.setattr(day_list, "stored_fingerprint", fingerprint)
    monkeypatch.setattr(day_list, "window_and_grievances", window)
    monkeypatch.setattr(day_list, "parted_day_features", parted)
    monkeypatch.setattr(day_list, "city_base_rates", lambda settings, instant: "base rates")
    monkeypatch.setattr(day_list, "stored_routing", lambda settings: "routing")
    monkeypatch.setattr(day_list, "day_inputs", lambda settings, as_of: ("known", "routing"))
    monkeypatch.setattr(day_list, "recall_stored_links", lambda known, settings: [])
    monkeypatch.setattr(day_list, "day_features", whole)
    model = SimpleNamespace(metadata={"features": []})
    settings = Settings(home=tmp_path, district_parts=parts)
    known, who_acts, built = day_list.champion_day(model, settings, date(2025, 6, 1))  # type: ignore[arg-type]
    assert (known, who_acts) == ("known", "routing")
    assert built.fingerprint == ("read" if parts > 1 else None)
    assert built.grievances is (grievances if parts > 1 else None)
    assert fingerprinted.is_set() == windowed.is_set() == (parts > 1)


def test_by_parts_a_mistake_in_the_routing_file_is_told_before_the_parts_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A routing file naming no stored district stops the day before its parts (a province's nine minutes)."""
    from types import SimpleNamespace

    from contracts.routing import RoutingError
    from pipelines import day_list

    def mistaken(settings: Settings) -> object:
        raise RoutingError("routing.csv rule 3: district 东湖区99 is not a stored district")

    def parted(*args: object, **kwargs: object) -> object:
        raise AssertionError("the parts ran")

    monkeypatch.setattr(day_list, "stored_routing", mistaken)
    monkeypatch.setattr(day_list, "parted_day_features", parted)
    monkeypatch.setattr(day_list, "stored_fingerprint", lambda warehouse, instant: "read")
    settings = Settings(home=tmp_path, district_parts=3)
    with pytest.raises(RoutingError, match="东湖区99"):
        day_list.champion_day(SimpleNamespace(metadata={"features": []}), settings, date(2025, 6, 1))  # type: ignore[arg-type]
