"""Dashboard queries per role: an analyst never receives a row of another district, from any query."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from dashboards import queries
from dashboards.feedback import record_feedback
from dashboards.source import DataSource, open_source
from pipelines.train_flow import feature_dictionary
from tests.builders import call_row, stored
from tests.dashboard_home import (
    EAST,
    EAST_QUIET,
    FIRST,
    NORTH,
    NORTH_QUIET,
    SECOND,
    SURGING,
    USERS,
    build_home,
)
from warehouse.accounts import Account, Role
from warehouse.lists import publish_grievances
from warehouse.store import Warehouse, append
from warehouse.tables import INPUT_TABLES, call_links, lists

CASE_QUERIES: dict[str, Callable[[Account, DataSource, str], pd.DataFrame]] = {
    "profile": queries.case_profile,
    "timeline": queries.case_timeline,
    "score_history": queries.score_history,
    "feedback": queries.case_feedback,
}
TABLE_QUERIES: dict[str, Callable[[Account, DataSource], pd.DataFrame]] = {
    "list": lambda v, s: queries.risk_list(v, s, SECOND),
    "old_list": lambda v, s: queries.risk_list(v, s, FIRST),
    "feedback_summary": queries.feedback_summary,
    "listed_trend": queries.listed_trend,
    "escalation_trend": queries.escalation_trend,
    "feedback_rates": queries.feedback_rates,
    "grievances": lambda v, s: queries.grievances(v, s, SECOND),
}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> DataSource:
    settings = build_home(tmp_path_factory.mktemp("dashboard") / "home")
    warehouse = Warehouse(settings.warehouse_url)
    for name, case_id in (("ana", "E1"), ("nora", "N1"), ("ana", "E3")):
        record_feedback(warehouse, USERS[name], case_id, "contacted", "打过电话", SECOND)
    record_feedback(warehouse, USERS["ana"], "E3", "not_a_risk", "", SECOND)
    return open_source(settings)


@pytest.mark.parametrize("name", sorted(TABLE_QUERIES))
def test_an_analyst_gets_only_rows_of_their_districts(source: DataSource, name: str) -> None:
    for viewer, district in ((USERS["ana"], EAST), (USERS["nora"], NORTH)):
        frame = TABLE_QUERIES[name](viewer, source)
        if "district" in frame.columns:
            assert set(frame["district"]) <= {district}, name
        assert not [c for c in frame.columns if c.endswith("_pid")]


@pytest.mark.parametrize("name", sorted(CASE_QUERIES))
def test_a_case_of_another_district_returns_nothing(source: DataSource, name: str) -> None:
    query = CASE_QUERIES[name]
    assert query(USERS["ana"], source, "N1").empty
    assert query(USERS["nora"], source, "E1").empty
    assert len(query(USERS["admin"], source, "N1")) > 0


def test_admins_and_unrestricted_viewers_see_every_district(source: DataSource) -> None:
    for viewer in (USERS["admin"], USERS["vic"]):
        assert set(queries.risk_list(viewer, source, SECOND)["district"]) == {EAST, NORTH}
    east_viewer = Account("v2", Role.VIEWER, (EAST,))
    assert set(queries.risk_list(east_viewer, source, SECOND)["district"]) == {EAST}


def test_an_analyst_without_districts_sees_nothing(source: DataSource) -> None:
    broken = Account("x", Role.ANALYST, ())
    assert queries.risk_list(broken, source, SECOND).empty
    assert queries.case_timeline(broken, source, "E1").empty


def test_timeline_keeps_only_calls_of_visible_districts(source: DataSource) -> None:
    """Call C3 concerns case E1 but was received for the northern district: the east analyst misses it."""
    ana = queries.case_timeline(USERS["ana"], source, "E1")
    admin = queries.case_timeline(USERS["admin"], source, "E1")
    assert len(admin) - len(ana) == 1
    assert set(ana["kind"]) == {"event", "call"}
    assert ana["at"].is_monotonic_increasing


def test_timeline_shows_the_calls_the_linker_attached_once_each(tmp_path: Path) -> None:
    """L1 (no case number) was linked to E1 by two runs, L2 too but was received for the northern district,
    and C1, which quotes E1's number, was linked as well: the east analyst sees L1 once as a linked call and
    C1 only as a call."""
    settings = build_home(tmp_path / "home")
    warehouse = Warehouse(settings.warehouse_url)
    calls = [
        call_row("L1", "2025-02-25 10:00", text="老板拖欠工资", channel="phone"),
        call_row("L2", "2025-02-26 10:00", district=NORTH, text="工地工资", channel="web"),
    ]
    link = {"case_id": "E1", "confidence": 0.9, "threshold": 0.5, "evidence": "同一来电人", "digest": "00"}
    links = pd.DataFrame(
        [
            {"as_of": date(2025, 2, 26), "call_id": "L1", **link},
            {"as_of": date(2025, 2, 27), "call_id": "L1", **link},
            {"as_of": date(2025, 2, 27), "call_id": "L2", **link},
            {"as_of": date(2025, 2, 27), "call_id": "C1", **link},
        ]
    )
    with warehouse.transaction() as connection:
        rows = stored(RecordKind.HOTLINE, calls).assign(ingested_at=pd.Timestamp("2025-04-10 06:00"))
        append(connection, INPUT_TABLES[RecordKind.HOTLINE], rows)
        append(connection, call_links, links)
    source = open_source(settings)
    ana = queries.case_timeline(USERS["ana"], source, "E1")
    admin = queries.case_timeline(USERS["admin"], source, "E1")
    linked = ana[ana["kind"] == "linked_call"]
    assert linked[["what", "text", "district"]].values.tolist() == [["phone", "老板拖欠工资", EAST]]
    assert sorted(admin.loc[admin["kind"] == "linked_call", "text"]) == ["工地工资", "老板拖欠工资"]
    assert (ana["kind"] == "call").sum() == 1 and ana["at"].is_monotonic_increasing
    assert queries.case_timeline(USERS["nora"], source, "E1").empty


def test_list_shows_new_cases_and_what_was_done(source: DataSource) -> None:
    frame = queries.risk_list(USERS["ana"], source, SECOND).set_index("case_id")
    assert list(frame.columns[:8]) == [c for c in queries.SHOWN_LIST_COLUMNS if c != "case_id"]
    assert frame.loc["E2", "case_age"] == "new" and frame.loc["E1", "case_age"] == "ongoing"
    assert frame.loc["E3", "actions"] == 2 and frame.loc["E3", "last_action"] == "not_a_risk"
    assert frame.loc["E2", "actions"] == 0
    assert queries.filter_list(frame.reset_index(), band=("high",))["case_id"].tolist() == ["E1"]
    assert len(queries.filter_list(frame.reset_index(), band=(), town=())) == 3


def test_grievances_of_the_viewers_districts_surges_first(source: DataSource) -> None:
    admin = queries.grievances(USERS["admin"], source, SECOND)
    assert admin["thing"].tolist() == [SURGING, NORTH_QUIET, EAST_QUIET]
    assert admin["surge"].tolist() == [True, False, False]
    assert admin["open_case_ids"].tolist() == ["E1,E2", "N1,E1", ""]
    assert admin["open_on_list"].tolist() == [2, 2, 0]
    assert admin["first_seen"].dtype.kind == "M" and admin["growth"].iloc[0] == 9.0
    nora = queries.grievances(USERS["nora"], source, SECOND)
    assert nora["thing"].tolist() == [NORTH_QUIET] and set(nora["district"]) == {NORTH}
    assert nora["open_case_ids"].tolist() == ["N1"] and nora["open_on_list"].tolist() == [1]
    ana = queries.grievances(USERS["ana"], source, SECOND)
    assert ana["thing"].tolist() == [SURGING, EAST_QUIET] and set(ana["district"]) == {EAST}
    assert queries.grievances(Account("x", Role.ANALYST, ()), source, SECOND).empty
    first = queries.grievances(USERS["admin"], source, FIRST)
    assert first.empty and "surge" in first.columns
    assert not [c for c in admin.columns if c.endswith("_pid") or c == "case_ids"]


def test_grievances_published_without_a_list_are_read_for_their_date(
    source: DataSource, tmp_path: Path
) -> None:
    """A home where the second day's grievances were published alone (no model, no list): the date is
    offered, each viewer gets their districts' grievances, and no open case is on a list that day."""
    assert queries.grievance_dates(USERS["ana"], source) == [SECOND, FIRST]
    alone = open_source(Settings(home=tmp_path / "home"))
    published = pd.read_parquet(source.settings.lists_dir / f"{SECOND}.grievances.parquet")
    publish_grievances(published, SECOND, alone.settings.lists_dir, Warehouse(alone.settings.warehouse_url))
    assert queries.list_dates(USERS["admin"], alone) == []
    assert queries.grievance_dates(USERS["nora"], alone) == [SECOND]
    admin = queries.grievances(USERS["admin"], alone, SECOND)
    assert admin["thing"].tolist() == [SURGING, NORTH_QUIET, EAST_QUIET]
    assert admin["open_case_ids"].tolist() == ["", "", ""] and admin["open_on_list"].tolist() == [0, 0, 0]
    assert queries.grievances(USERS["ana"], alone, SECOND)["thing"].tolist() == [SURGING, EAST_QUIET]
    assert queries.grievances(USERS["nora"], alone, SECOND)["thing"].tolist() == [NORTH_QUIET]
    nothing = Settings(home=tmp_path / "nothing")
    Warehouse(nothing.warehouse_url)  # a store, nothing published
    assert queries.grievance_dates(USERS["admin"], open_source(nothing)) == []


def test_list_rows_of_a_surge_and_the_open_cases_of_a_grievance(source: DataSource) -> None:
    listed = queries.risk_list(USERS["admin"], source, SECOND)
    clusters = queries.grievances(USERS["admin"], source, SECOND)
    marks = dict(zip(listed["case_id"], queries.surging_things(listed, clusters), strict=True))
    assert marks == {"N1": "", "E1": SURGING, "E2": SURGING, "E3": "", "N2": ""}
    assert set(queries.surging_things(listed, clusters.iloc[0:0])) == {""}
    touched = queries.grievance_cases(listed, clusters["open_case_ids"].iloc[1])
    assert touched["case_id"].tolist() == ["N1", "E1"] and touched["rank"].tolist() == [1, 2]
    assert queries.grievance_cases(listed, "").empty


def test_texts_are_the_masked_ones(source: DataSource) -> None:
    profile = queries.case_profile(USERS["admin"], source, "E1")
    timeline = queries.case_timeline(USERS["admin"], source, "E1")
    assert profile["description"].iloc[0] == "欠薪，电话[电话]"
    assert any("[电话]" in str(t) and "[身份证号]" in str(t) for t in timeline["text"])
    assert not [c for c in profile.columns if c.endswith("_pid")]


def test_realised_precision_counts_escalations_within_the_horizon(source: DataSource) -> None:
    """E1 (high on 03-01) had a group incident on 03-10, E3 (medium) nothing; 04-10 has not matured."""
    east = queries.realised_precision(USERS["ana"], source).set_index("band")
    assert east.loc["high", "escalated"] == 1 and east.loc["high", "rate"] == 1.0
    assert east.loc["medium", "escalated"] == 0
    everyone = queries.realised_precision(USERS["admin"], source).set_index("band")
    assert everyone.loc["high", "listed"] == 2 and everyone.loc["high", "escalated"] == 2


def test_feedback_rates_by_district_and_category(source: DataSource) -> None:
    rates = queries.feedback_rates(USERS["ana"], source).set_index("category")
    assert rates.loc["物业纠纷", "override_rate"] == 1.0
    assert rates.loc["劳资纠纷", "action_rate"] == 1.0 and rates.loc["劳资纠纷", "override_rate"] == 0.0
    assert rates.loc["邻里纠纷", "action_rate"] == 0.0


def test_pointer_reports_and_city_outcomes(source: DataSource) -> None:
    assert queries.latest_pointer(source)["stale"] is True
    assert queries.list_dates(USERS["ana"], source) == [SECOND, FIRST]
    assert queries.run_reports(USERS["ana"], source)["status"].tolist() == ["held"]
    as_of, drift = queries.latest_drift(USERS["ana"], source)
    assert as_of == "2025-04-11" and drift["psi"].tolist() == [0.31]
    for viewer in (USERS["ana"], USERS["admin"]):  # city totals, no district's figures: everyone reads them
        assert queries.city_outcomes(viewer, source)["precision_at_k"].tolist() == [1.0]


def test_reports_name_no_district_an_analyst_may_not_see(source: DataSource) -> None:
    """A daily report whose warnings and drift name both districts: the east analyst reads 'other' for the
    north, the admin reads both."""
    path = source.settings.reports_dir / "2025-04-12.json"
    report = {
        "as_of": "2025-04-12",
        "status": "published",
        "verdict": {
            "reasons": [],
            "warnings": [f"Feature profile_district has shifted (most moved {NORTH})."],
        },
        "drift": [
            {"column": "profile_district", "psi": 0.12, "status": "warn", "top_shift": f"{NORTH} 10%→20%"}
        ],
    }
    path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    try:
        ana = queries.run_reports(USERS["ana"], source, mask="其他区县")
        assert ana["warnings"].iloc[0] == "Feature profile_district has shifted (most moved 其他区县)."
        assert queries.latest_drift(USERS["ana"], source, mask="其他区县")[1]["top_shift"].tolist() == [
            "其他区县 10%→20%"
        ]
        admin = queries.run_reports(USERS["admin"], source, mask="其他区县")
        assert NORTH in admin["warnings"].iloc[0]
        assert queries.latest_drift(USERS["admin"], source)[1]["top_shift"].tolist() == [f"{NORTH} 10%→20%"]
    finally:
        path.unlink()


def test_hidden_districts_are_the_stores_others(source: DataSource) -> None:
    assert queries.hidden_districts(USERS["ana"], source) == {NORTH}
    assert queries.hidden_districts(USERS["nora"], source) == {EAST}
    assert queries.hidden_districts(USERS["admin"], source) == frozenset()
    assert queries.hidden_districts(USERS["vic"], source) == frozenset()


def test_a_text_without_hidden_districts() -> None:
    """Table rows with a hidden district as a cell go, other mentions are masked, the rest stays as is."""
    card = (
        "# 说明\n\n| 属性 | 群体 | 纠纷数 |\n|---|---|---|\n"
        f"| 区县 | {EAST} | 5 |\n| 区县 | {NORTH} | 4 |\n| 纠纷类型 | 劳资纠纷 | 9 |\n\n"
        f"结论：district={NORTH}、{EAST}。\n"
    )
    kept = queries.without_districts(card, {NORTH}, "其他区县")
    assert kept == card.replace(f"| 区县 | {NORTH} | 4 |\n", "").replace(f"={NORTH}", "=其他区县")
    assert queries.without_districts(card, (), "其他区县") == card


def test_features_in_words_from_the_dictionary_logged_with_the_model() -> None:
    table = feature_dictionary(["history_n_visit", "profile_town"])
    logged = {"columns": list(table.columns), "data": table.to_numpy().tolist()}
    files = {"feature_dictionary.json": json.dumps(logged).encode()}
    view = queries.model_view_of(USERS["admin"], "v1", files, "zh")
    assert queries.feature_phrases(view, "zh") == {
        "history_n_visit": "走访…次",
        "profile_town": "所在乡镇街道为…",
    }
    assert queries.feature_phrases(view, "en") == {
        "history_n_visit": "number of 'visit' events so far",
        "profile_town": "town or street of the dispute",
    }
    older = queries.model_view_of(USERS["admin"], "v0", {}, "zh")  # logged before models carried it
    assert queries.feature_phrases(older, "en") == {} and queries.feature_phrases(None, "zh") == {}


def test_validation_summary_of_a_models_metadata() -> None:
    summary = {
        "model.precision_at_k": 0.39,
        "model.precision_at_k_std": 0.03,
        "rule.precision_at_k": 0.2,
        "model.ece": 0.01,
        "lift_precision_at_k_over_rule": 1.95,
        "folds.precision_at_k_mean": 0.39,
        "model.n": 2000.0,
    }
    table = queries.validation_summary(summary)
    assert table["metric"].tolist() == ["precision_at_k", "ece", "lift"]
    assert table.iloc[0, 1:].tolist()[:3] == [0.39, 0.03, 0.2] and np.isnan(table.iloc[0]["rule_std"])
    assert table.set_index("metric").loc["lift", "model"] == 1.95
    assert table.set_index("metric").loc["ece", ["rule", "rule_std"]].isna().all()


def test_reading_never_writes(source: DataSource, tmp_path: Path) -> None:
    """The dashboard's connection is read-only: a write through it fails."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError), source.engine.connect() as connection:
        connection.execute(text("DELETE FROM lists"))
    assert len(queries.risk_list(USERS["admin"], source, SECOND)) == 5


@pytest.mark.slow
def test_model_view_is_none_without_a_model(tmp_path: Path) -> None:
    """The real registry, on a home where nothing was ever trained."""
    settings = Settings(home=tmp_path / "empty")
    assert queries.model_view(USERS["admin"], open_source(settings), "zh") is None


def test_reads_go_on_while_a_daily_run_holds_the_write_lock(source: DataSource) -> None:
    """WAL: a writer's open transaction neither blocks the dashboard nor shows it half a change."""
    warehouse = Warehouse(source.settings.warehouse_url)
    with pytest.raises(RuntimeError), warehouse.transaction() as connection:
        connection.execute(delete(lists))
        started = time.monotonic()
        assert len(queries.risk_list(USERS["admin"], source, SECOND)) == 5
        assert time.monotonic() - started < 2
        raise RuntimeError("roll the writer back")
    assert len(queries.risk_list(USERS["admin"], source, SECOND)) == 5
