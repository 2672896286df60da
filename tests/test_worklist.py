"""The worklists: each unit's cases of a published list in the viewer's districts, overdue ones flagged,
feedback recording the unit, the page in both languages, old stores still readable."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from contracts.settings import Settings
from dashboards import worklist
from dashboards.feedback import record_feedback
from dashboards.labels import EN, ZH
from dashboards.source import open_source
from pipelines.daily_flow import unit_work
from tests.dashboard_home import FIRST, PASSWORD, SECOND, USERS, build_home, use_home
from warehouse.dashboard_tables import feedback
from warehouse.store import Warehouse

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
REFERENCE = date(2025, 4, 12)  # the day overdue cases are judged on in these tests
EAST_COUNTY, NORTH_COUNTY = "东湖区矛调中心", "江北区矛调中心"
EAST_VILLAGES, EAST_JUSTICE = "东湖区村（社区）调委会", "东湖区司法所"


def routed_home(home: Path) -> Settings:
    """The dashboard tests' home, both lists routed by the shipped routing table as the daily run does."""
    return build_home(home, routed=True)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return routed_home(tmp_path_factory.mktemp("worklist") / "home")


def _work(settings: Settings, user: str, reference: date = REFERENCE) -> pd.DataFrame:
    return worklist.worklists(USERS[user], open_source(settings), SECOND, reference)


def test_each_viewer_gets_the_units_of_their_districts_with_continued_due_dates(home: Settings) -> None:
    east = _work(home, "ana")
    assert east[
        ["case_id", "unit", "assigned_on", "due_date", "overdue", "days_overdue"]
    ].values.tolist() == [
        ["E1", EAST_COUNTY, FIRST, date(2025, 3, 3), True, 40],  # assigned on the first list, nothing done
        ["E2", EAST_VILLAGES, SECOND, date(2025, 4, 17), False, 0],
    ]
    assert _work(home, "nora")[["case_id", "unit"]].values.tolist() == [["N1", NORTH_COUNTY]]
    units = worklist.units(_work(home, "admin"), SECOND)
    assert units[["unit", "capacity", "assigned", "new_assigned", "overdue"]].values.tolist() == [
        [EAST_VILLAGES, 10, 1, 1, 0],
        [EAST_COUNTY, 15, 1, 0, 1],
        [NORTH_COUNTY, 15, 1, 0, 1],
    ]
    assert worklist.unit_worklist(_work(home, "admin"), NORTH_COUNTY)["case_id"].tolist() == ["N1"]
    found = worklist.case_assignment(USERS["ana"], open_source(home), "E2", SECOND)
    assert found is not None and found[["unit", "due_date"]].tolist() == [EAST_VILLAGES, date(2025, 4, 17)]
    assert worklist.case_assignment(USERS["ana"], open_source(home), "N1", SECOND) is None  # not hers


def test_an_unrouted_list_has_no_worklist(tmp_path: Path) -> None:
    settings = build_home(tmp_path / "home")
    assert _work(settings, "admin").empty
    assert worklist.units(_work(settings, "admin"), SECOND).empty


def test_feedback_records_the_unit_and_an_action_since_assignment_clears_overdue(tmp_path: Path) -> None:
    settings = routed_home(tmp_path / "home")
    warehouse = Warehouse(settings.warehouse_url)
    record_feedback(warehouse, USERS["ana"], "E1", "contacted", "", SECOND)
    record_feedback(warehouse, USERS["ana"], "E2", "mediation_scheduled", "", SECOND)
    record_feedback(warehouse, USERS["ana"], "E3", "contacted", "", SECOND)  # low on that list
    record_feedback(warehouse, USERS["ana"], "E3", "resolved")  # no list: its latest assignment
    record_feedback(warehouse, USERS["admin"], "N2", "not_a_risk")  # never assigned
    units = warehouse.read_table(feedback).sort_values("id")["unit"]
    assert units.fillna("").tolist() == [EAST_COUNTY, EAST_VILLAGES, "", EAST_JUSTICE, ""]
    east = _work(settings, "ana").set_index("case_id")
    assert east.loc["E1", ["acted", "overdue", "actions"]].tolist() == [1, False, 1]
    assert east.loc["E2", "last_action"] == "mediation_scheduled"


def test_the_daily_report_counts_each_unit_s_work(tmp_path: Path) -> None:
    settings = routed_home(tmp_path / "home")
    warehouse = Warehouse(settings.warehouse_url)
    record_feedback(warehouse, USERS["ana"], "E2", "contacted", "", SECOND)
    today = worklist.today()  # recorded now, on the product's (Shanghai) clock: tomorrow's report counts it
    counted = unit_work.fn(today + pd.Timedelta(days=1), settings)
    assert counted["list_as_of"] == SECOND.isoformat() and counted["overdue"] == 2
    by_unit = {row["unit"]: row for row in counted["units"]}
    assert (
        by_unit[EAST_VILLAGES] | {"capacity": 10, "assigned": 1, "acted": 1, "overdue": 0, "actions": 1}
        == (by_unit[EAST_VILLAGES])
    )
    assert (by_unit[EAST_COUNTY]["overdue"], by_unit[EAST_COUNTY]["actions"]) == (1, 0)
    assert unit_work.fn(FIRST - pd.Timedelta(days=1), settings) == {"list_as_of": None, "units": []}


def test_an_old_store_gets_the_unit_column_and_keeps_its_feedback(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY, case_id VARCHAR NOT NULL, "
            "district VARCHAR NOT NULL, action VARCHAR NOT NULL, note TEXT, user_name VARCHAR NOT NULL, "
            "recorded_at DATETIME NOT NULL, list_as_of DATE)"
        )
        old.execute(
            "INSERT INTO feedback VALUES "
            "(1, 'A', '东湖区', 'contacted', NULL, 'ana', '2025-03-01 09:00:00', NULL)"
        )
    rows = Warehouse(f"sqlite:///{path}").read_table(feedback)
    assert rows[["case_id", "action", "user_name"]].values.tolist() == [["A", "contacted", "ana"]]
    assert rows["unit"].isna().all()
    Warehouse(f"sqlite:///{path}")  # opening it again changes nothing


def _logged_in(name: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    app.text_input(key="login_name").input(name)
    app.text_input(key="login_password").input(PASSWORD)
    return app.button[0].click().run()


def _visit(app: AppTest) -> AppTest:
    app.switch_page("views/worklist.py").run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def page_home(home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    use_home(home.home, tmp_path, monkeypatch)
    monkeypatch.setattr(worklist, "today", lambda: REFERENCE)
    return home


def test_the_worklist_page_shows_a_unit_s_cases_overdue_first_and_opens_one(page_home: Settings) -> None:
    app = _visit(_logged_in("ana"))
    assert [h.value for h in app.header] == [ZH["page_worklist"]]
    chooser = app.selectbox(key="worklist_unit")
    assert chooser.options == [EAST_VILLAGES, ZH["worklist_unit_option"].format(unit=EAST_COUNTY, overdue=1)]
    chooser.set_value(EAST_COUNTY).run()
    table = app.dataframe[0].value
    assert table[ZH["case_id"]].tolist() == ["case?case=E1"]  # a link that opens it
    assert table[ZH["work_status"]].tolist() == ["⚠️ 逾期 40 天"]
    assert table[ZH["due_date"]].tolist() == ["2025-03-03"] and table[ZH["band"]].tolist() == ["高"]
    assert ZH["overdue_notice"].format(n=1) in [e.value for e in app.error]
    assert [m.value for m in app.metric][:2] == ["15", "1"]  # capacity (cases a day), assigned
    assert "江北" not in app.dataframe[0].value.to_csv() + app.dataframe[1].value.to_csv()
    app.session_state["worklist_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    app.button(key="open_worklist_case").click().run()
    assert [h.value for h in app.header] == [ZH["page_case"]]
    assert [s.value for s in app.selectbox if s.label == ZH["choose_case"]] == ["E1"]


def test_the_worklist_page_in_english(page_home: Settings) -> None:
    app = _logged_in("nora")
    app.session_state["language"] = "en"  # as picked in the sidebar
    app = _visit(app)
    assert [h.value for h in app.header] == [EN["page_worklist"]]
    assert app.selectbox(key="worklist_unit").value == NORTH_COUNTY
    table = app.dataframe[0].value
    assert table[EN["work_status"]].tolist() == ["⚠️ overdue 40 d"] and table[EN["band"]].tolist() == ["high"]
    assert "东湖" not in table.to_csv() + app.dataframe[1].value.to_csv()


def test_the_worklist_page_says_when_a_list_assigned_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build_home(tmp_path / "home")
    use_home(settings.home, tmp_path, monkeypatch)
    app = _visit(_logged_in("ana"))
    assert [i.value for i in app.info] == [ZH["worklist_none"]] and not app.dataframe
