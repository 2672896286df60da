"""The Streamlit app under Streamlit's AppTest: login, list, filters, case, feedback, access, leaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import app as dashboard
from dashboards.labels import EN, ZH
from features.grievances import THING_KINDS
from ingest.pseudonymise import pseudonym
from tests.conftest import TEST_KEY
from tests.dashboard_home import (
    EAST_QUIET,
    FIRST,
    NORTH_QUIET,
    PASSWORD,
    RAW_PHONE,
    SECRET_NUMBERS,
    SURGING,
    build_home,
    use_home,
)

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
PAGES = tuple(f"pages/{script}" for script, _, _ in dashboard.PAGES)
NORTH_ONLY = ("江北区", "江北街道", "北区打来的", "噪音扰民", NORTH_QUIET)
EAST_ONLY = ("东湖区", "湖滨街道", SURGING, EAST_QUIET)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_home(tmp_path_factory.mktemp("app") / "home").home


@pytest.fixture(autouse=True)
def environment(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads its settings from FENGQIAO_* only; the model comes from a fake registry."""
    use_home(home, tmp_path, monkeypatch)


def start() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30).run()


def logged_in(name: str, password: str = PASSWORD) -> AppTest:
    app = start()
    app.text_input(key="login_name").input(name)
    app.text_input(key="login_password").input(password)
    return app.button[0].click().run()


def _texts(node: Any) -> list[str]:
    found = [str(node.proto)] if getattr(node, "proto", None) is not None else []
    if type(node).__name__ == "Dataframe":
        found.append(node.value.to_csv())
    for child in getattr(node, "children", {}).values():
        found.extend(_texts(child))
    return found


def rendered(app: AppTest) -> str:
    """Everything the app sent to the browser in its last run (element protos and table contents)."""
    return "\n".join(_texts(app._tree))


def assert_no_error(app: AppTest) -> None:
    """No exception, and no page failure turned into the user's error message by the app."""
    assert not app.exception, app.exception
    failures = {ZH["unexpected_error"], EN["unexpected_error"], ZH["store_busy"], EN["store_busy"]}
    assert not failures & {e.value for e in app.error}, [e.value for e in app.error]


def visit(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert_no_error(app)
    return app


def test_no_login_shows_nothing() -> None:
    app = start()
    assert not app.exception and not app.dataframe and not app.header
    assert "湖滨街道" not in rendered(app) and "E1" not in rendered(app)
    for page in PAGES:
        alone = AppTest.from_file(str(APP.parent / page), default_timeout=30).run()
        assert not alone.exception and not alone.dataframe and not alone.header


def test_a_wrong_password_shows_nothing_but_the_error() -> None:
    app = logged_in("ana", "wrong-password")
    assert [e.value for e in app.error] == [ZH["login_failed"]]
    assert not app.dataframe and not app.header
    assert logged_in("nobody", PASSWORD).error[0].value == ZH["login_failed"]


def test_analyst_sees_and_filters_their_list() -> None:
    app = logged_in("ana")
    assert [h.value for h in app.header] == [ZH["page_today"]]
    assert "2025-04-11" in app.warning[0].value  # today's list was held: the previous one is shown
    table = app.dataframe[0].value
    assert set(table[ZH["district"]]) == {"东湖区"}
    assert table[ZH["case_id"]].tolist() == ["E1", "E2", "E3"]
    assert table[ZH["band"]].tolist() == ["高", "中", "低"]
    app.multiselect(key="filter_band").select("high").run()
    assert app.dataframe[0].value[ZH["case_id"]].tolist() == ["E1"]
    app.multiselect(key="filter_band").unselect("high").run()
    app.multiselect(key="filter_case_age").select("new").run()
    assert app.dataframe[0].value[ZH["case_id"]].tolist() == ["E2"]
    assert {b.label for b in app.get("download_button")} == {ZH["download_csv"], ZH["download_excel"]}


@pytest.mark.parametrize("user", ["admin", "ana", "nora", "vic"])
def test_every_page_for_every_role(user: str) -> None:
    app = logged_in(user)
    for page in PAGES:
        app.session_state["case_id"] = "E1"
        visit(app, page)
        text = rendered(app)
        if user == "ana":
            assert not [word for word in NORTH_ONLY if word in text], page
        if user == "nora":
            assert not [word for word in EAST_ONLY if word in text], page
        for table in app.dataframe:
            frame: pd.DataFrame = table.value
            if ZH["district"] in frame.columns and user in ("ana", "nora"):
                assert frame[ZH["district"]].nunique() <= 1, page


def test_case_page_and_feedback() -> None:
    app = logged_in("ana")
    app.session_state["case_id"] = "E1"
    visit(app, "pages/case.py")
    assert [s.value for s in app.selectbox if s.label == ZH["choose_case"]] == ["E1"]
    timeline = app.dataframe[1].value
    assert len(timeline) == 4  # three events and the call received for the east district
    assert any("[电话]" in str(t) for t in timeline[ZH["text"]])
    app.selectbox(key="fb_action").set_value("mediation_scheduled")
    app.text_area(key="fb_note").input(f"已电话联系 {RAW_PHONE}")
    app.button(key="FormSubmitter:feedback_form-保存").click().run()
    assert not app.exception
    assert app.success[0].value == ZH["saved"]
    done = app.dataframe[-1].value
    assert done[ZH["note"]].tolist() == ["已电话联系 [电话]"] and done[ZH["user"]].tolist() == ["ana"]
    visit(app, "pages/today.py")
    listed = app.dataframe[0].value.set_index(ZH["case_id"])
    assert listed.loc["E1", ZH["done_so_far"]].startswith("已安排调解")


def test_a_case_of_another_district_is_not_shown() -> None:
    app = logged_in("ana")
    app.session_state["case_id"] = "N1"
    visit(app, "pages/case.py")
    assert app.warning[0].value == ZH["case_not_found"]
    assert not [word for word in NORTH_ONLY if word in rendered(app)]


def test_a_viewer_cannot_record_feedback() -> None:
    app = logged_in("vic")
    app.session_state["case_id"] = "E1"
    visit(app, "pages/case.py")
    assert not app.text_area and ZH["read_only"] in [c.value for c in app.caption]


def select_row(app: AppTest, table: str, row: int) -> AppTest:
    """Select a row of a selectable table, as a click on its selection box does."""
    app.session_state[table] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return app.run()


def test_the_list_notes_its_grievances_and_marks_cases_of_a_surge() -> None:
    app = logged_in("ana")
    assert ZH["grievance_notice"].format(n=2, m=1) in [w.value for w in app.warning]
    listed = app.dataframe[0].value.set_index(ZH["case_id"])
    assert listed[ZH["grievance"]].to_dict() == {"E1": SURGING, "E2": SURGING, "E3": ""}
    north = logged_in("nora")
    assert [i.value for i in north.info] == [ZH["grievance_notice"].format(n=1, m=0)]
    assert set(north.dataframe[0].value[ZH["grievance"]]) == {""}
    north.selectbox(key="list_date").set_value(FIRST).run()  # no grievance came with the first list
    assert not north.info and len(north.dataframe[0].value) == 2
    visit(north, "pages/grievances.py")  # the chosen date carries over
    assert north.selectbox(key="list_date").value == FIRST and not north.dataframe
    assert [i.value for i in north.info] == [ZH["no_grievances"]]


def test_grievances_page_surges_first_then_the_open_cases_of_one() -> None:
    app = logged_in("ana")
    visit(app, "pages/grievances.py")
    assert [h.value for h in app.header] == [ZH["page_grievances"]]
    assert ZH["surges_banner"].format(n=1) in [w.value for w in app.warning]
    assert "从不识别来电人" in app.caption[0].value
    table = app.dataframe[0].value
    assert table[ZH["thing"]].tolist() == [SURGING, EAST_QUIET]
    assert table[ZH["surge"]].tolist() == [ZH["surge_flag"], ""]
    assert table[ZH["thing_kind"]].tolist() == ["企业/单位", "小区"]
    assert table[ZH["open_on_list"]].tolist() == [2, 0]
    assert "前7天来电" in table.columns and SURGING in table[ZH["surge_reason"]].iloc[0]
    assert len(app.dataframe) == 1 and ZH["select_grievance_hint"] in [c.value for c in app.caption]

    select_row(app, "grievance_table", 0)
    assert not app.exception
    cases = app.dataframe[1].value
    assert cases[ZH["case_id"]].tolist() == ["E1", "E2"] and cases[ZH["rank"]].tolist() == [2, 3]
    assert cases[ZH["band"]].tolist() == ["高", "中"]
    select_row(app, "grievance_cases_table", 1)
    app.button(key="open_grievance_case").click().run()
    assert not app.exception
    assert [h.value for h in app.header] == [ZH["page_case"]]
    assert [s.value for s in app.selectbox if s.label == ZH["choose_case"]] == ["E2"]

    select_row(visit(app, "pages/grievances.py"), "grievance_table", 1)
    assert app.caption[-1].value == ZH["no_open_cases"]


def test_grievances_of_a_district_show_only_its_own_open_cases() -> None:
    """The northern grievance touches E1 too (a northern call linked to an eastern case): nora sees N1."""
    app = logged_in("nora")
    select_row(visit(app, "pages/grievances.py"), "grievance_table", 0)
    assert app.dataframe[0].value[ZH["thing"]].tolist() == [NORTH_QUIET]
    assert len(app.warning) == 1  # the stale list's; no surge in the north
    assert app.dataframe[1].value[ZH["case_id"]].tolist() == ["N1"]
    assert "E1" not in app.dataframe[0].value.to_csv() + app.dataframe[1].value.to_csv()
    app.selectbox(key="list_date").set_value(FIRST).run()
    assert [i.value for i in app.info] == [ZH["no_grievances"]] and not app.dataframe


def test_english_labels_and_the_same_words_in_both_languages() -> None:
    assert ZH.keys() == EN.keys()
    assert {f"thing_{kind}" for kind in THING_KINDS} <= ZH.keys()
    app = logged_in("ana")
    app.selectbox(key="language").set_value("en").run()
    assert [h.value for h in app.header] == [EN["page_today"]]
    assert EN["district"] in app.dataframe[0].value.columns


def test_grievances_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings' language (AppTest loses a language picked in the sidebar when the page changes)."""
    monkeypatch.setenv("FENGQIAO_LANGUAGE", "en")
    app = visit(logged_in("ana"), "pages/grievances.py")
    assert [h.value for h in app.header] == [EN["page_grievances"]]
    table = app.dataframe[0].value
    assert table[EN["thing_kind"]].tolist() == ["company", "housing estate"]
    assert table[EN["surge"]].tolist() == [EN["surge_flag"], ""] and "Calls in the 7 days before" in table


def test_no_raw_number_pseudonym_or_pseudonym_column_reaches_the_page() -> None:
    """The leak test: every page, as admin, on the case that was delivered with raw numbers."""
    app = logged_in("admin")
    phone_pid = pseudonym(RAW_PHONE, "phone", TEST_KEY)
    for page in PAGES:
        app.session_state["case_id"] = "E1"
        text = rendered(visit(app, page))
        assert not [number for number in SECRET_NUMBERS if number in text], page
        assert phone_pid not in text and "_pid" not in text, page
