"""The Streamlit app under Streamlit's AppTest: login, list, filters, case, feedback, access, leaks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards.labels import EN, ZH
from dashboards.source import DataSource
from ingest.pseudonymise import pseudonym
from tests.conftest import TEST_KEY
from tests.dashboard_home import PASSWORD, RAW_PHONE, SECRET_NUMBERS, FakeRegistry, build_home

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
PAGES = ("pages/today.py", "pages/case.py", "pages/trends.py", "pages/model.py")
NORTH_ONLY = ("江北区", "江北街道", "北区打来的", "噪音扰民")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_home(tmp_path_factory.mktemp("app") / "home").home


@pytest.fixture(autouse=True)
def environment(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads its settings from FENGQIAO_* only; the model comes from a fake registry."""
    for name in list(os.environ):
        if name.startswith("FENGQIAO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FENGQIAO_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(DataSource, "registry", lambda self: FakeRegistry())
    st.cache_data.clear()


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


def visit(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, app.exception
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
            assert "湖滨街道" not in text and "东湖区" not in text, page
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


def test_english_labels_and_the_same_words_in_both_languages() -> None:
    assert ZH.keys() == EN.keys()
    app = logged_in("ana")
    app.selectbox(key="language").set_value("en").run()
    assert [h.value for h in app.header] == [EN["page_today"]]
    assert EN["district"] in app.dataframe[0].value.columns


def test_no_raw_number_pseudonym_or_pseudonym_column_reaches_the_page() -> None:
    """The leak test: every page, as admin, on the case that was delivered with raw numbers."""
    app = logged_in("admin")
    phone_pid = pseudonym(RAW_PHONE, "phone", TEST_KEY)
    for page in PAGES:
        app.session_state["case_id"] = "E1"
        text = rendered(visit(app, page))
        assert not [number for number in SECRET_NUMBERS if number in text], page
        assert phone_pid not in text and "_pid" not in text, page
