"""The Streamlit app under Streamlit's AppTest: login (and the session cookie), links to cases, the list and
its reasons, filters, the case and feedback, values in the user's language, stale lists, access, leaks."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from contracts.settings import Settings
from contracts.vocabulary import CATEGORIES, SOURCES, EventType, RecordKind
from dashboards import app as dashboard
from dashboards import audit, auth, context, present
from dashboards.labels import EN, ZH
from dashboards.source import open_source
from features.grievances import THING_KINDS
from ingest.pseudonymise import pseudonym
from tests.builders import TEST_KEY, event_row, stored
from tests.dashboard_home import (
    EAST_QUIET,
    FIRST,
    NORTH_QUIET,
    PASSWORD,
    RAW_PHONE,
    SECOND,
    SECRET_NUMBERS,
    SURGING,
    build_home,
    use_home,
)
from warehouse.store import Warehouse, append
from warehouse.tables import INPUT_TABLES, cases, lists

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
PAGES = tuple(context.page_script(Path(script).stem) for script, _, _ in dashboard.PAGES)
NORTH_ONLY = ("江北区", "江北街道", "北区打来的", "噪音扰民", NORTH_QUIET)
EAST_ONLY = ("东湖区", "湖滨街道", SURGING, EAST_QUIET)
E2_REASONS = ("调解失败2次", "协议被违反1次", "近30天按案件编号关联的热线来电11次")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny home, with E2 given several reasons on the second list, an amount, a source and two events
    without a note."""
    settings = build_home(tmp_path_factory.mktemp("app") / "home")
    warehouse = Warehouse(settings.warehouse_url)
    with warehouse.transaction() as connection:
        connection.execute(
            update(lists)
            .where(lists.c.case_id == "E2", lists.c.as_of == SECOND)
            .values(reasons="；".join(E2_REASONS))
        )
        connection.execute(
            update(cases)
            .where(cases.c.case_id == "E2")
            .values(amount=209500.0, source="mediation_committee", party_count=3)
        )
        events = [
            event_row("E2", "2025-04-06 09:00", "assigned"),
            event_row("E2", "2025-04-08 10:00", "visit"),
        ]
        append(
            connection,
            INPUT_TABLES[RecordKind.CASE_EVENTS],
            stored(RecordKind.CASE_EVENTS, events).assign(ingested_at=pd.Timestamp("2025-04-09")),
        )
    warehouse.engine.dispose()
    return settings.home


@pytest.fixture(autouse=True)
def environment(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads its settings from FENGQIAO_* only; the model comes from a fake registry."""
    use_home(home, tmp_path, monkeypatch)


def start(case: str | None = None) -> AppTest:
    """The app as a new tab opens it: the default page, or, given a case, the link to it (`/case?case=ID`;
    before the first run AppTest names a page by its file, which is also its address)."""
    app = AppTest.from_file(str(APP), default_timeout=30)
    if case is not None:
        app.query_params["case"] = case
        app.switch_page(context.page_script("case"))
    return app.run()


def log_in(app: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    app.text_input(key="login_name").input(name)
    app.text_input(key="login_password").input(password)
    submit = next(b for b in app.button if b.key.startswith("FormSubmitter:login"))
    return submit.click().run()


def logged_in(name: str, password: str = PASSWORD) -> AppTest:
    return log_in(start(), name, password)


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


def markdown(app: AppTest) -> str:
    return "\n".join(str(m.value) for m in app.markdown)


def assert_no_error(app: AppTest) -> None:
    """No exception, and no page failure turned into the user's error message by the app."""
    assert not app.exception, app.exception
    failures = {ZH["unexpected_error"], EN["unexpected_error"], ZH["store_busy"], EN["store_busy"]}
    assert not failures & {e.value for e in app.error}, [e.value for e in app.error]


def visit(app: AppTest, page: str) -> AppTest:
    app.switch_page(page if "/" in page else context.page_script(page)).run()
    assert_no_error(app)
    return app


def shows_login_form(app: AppTest) -> bool:
    return [t.key for t in app.text_input] == ["login_name", "login_password"]


def events_of(home: Path, name: str) -> list[tuple[str, str]]:
    rows = audit.recent(open_source(Settings(home=home)), 1000).iloc[::-1]
    mine = rows[rows["user_name"] == name]
    return list(zip(mine["event"], mine["case_id"].fillna(""), strict=True))


# ---------------------------------------------------------------- login, links and the session cookie


def test_no_login_shows_nothing_but_the_login_form() -> None:
    app = start()
    assert not app.exception and not app.dataframe and not app.header and shows_login_form(app)
    assert "湖滨街道" not in rendered(app) and "E1" not in rendered(app)
    for page in PAGES:
        alone = AppTest.from_file(str(APP.parent / page), default_timeout=30).run()
        assert not alone.exception and not alone.dataframe and not alone.header, page
        assert shows_login_form(alone), page  # never a blank page
    linked = start(case="E1")
    assert shows_login_form(linked) and not linked.dataframe and "湖滨街道" not in rendered(linked)


def test_a_wrong_password_shows_nothing_but_the_error() -> None:
    app = logged_in("ana", "wrong-password")
    assert [e.value for e in app.error] == [ZH["login_failed"]]
    assert not app.dataframe and not app.header
    assert logged_in("nobody", PASSWORD).error[0].value == ZH["login_failed"]


def test_a_link_to_a_case_survives_the_login(home: Path) -> None:
    app = log_in(start(case="E2"), "ana")
    assert_no_error(app)
    assert [h.value for h in app.header] == [ZH["page_case"]]
    assert [s.value for s in app.selectbox if s.label == ZH["choose_case"]] == ["E2"]
    assert app.query_params["case"] == "E2"
    assert events_of(home, "ana")[-1] == ("case_opened", "E2")


def test_a_link_to_a_case_outside_the_districts_is_refused(home: Path) -> None:
    app = log_in(start(case="N1"), "ana")
    assert_no_error(app)
    assert [w.value for w in app.warning][-1] == ZH["case_refused"].format(case_id="N1")
    assert not [word for word in NORTH_ONLY if word in rendered(app)] and len(app.dataframe) == 0
    assert events_of(home, "ana")[-1] == ("case_refused", "N1")
    missing = log_in(start(case="E404"), "ana")
    assert [w.value for w in missing.warning][-1] == ZH["case_refused"].format(case_id="E404")


def _key(home: Path) -> bytes:
    return auth.session_key(Settings(home=home))


def with_cookies(monkeypatch: pytest.MonkeyPatch, cookies: dict[str, str]) -> None:
    """The cookies the browser sends when a tab connects (AppTest has no browser)."""
    monkeypatch.setattr(context, "_cookie", lambda name: cookies.get(name))


def test_a_session_cookie_lets_a_reload_in_until_logout(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    since = context.now()  # a login (after the account was made)
    token = auth.issue_token(_key(home), auth.Session("ana", since))
    with_cookies(monkeypatch, {auth.SESSION_COOKIE: token})
    app = start()
    assert_no_error(app)
    assert [h.value for h in app.header] == [ZH["page_today"]] and not app.text_input
    assert events_of(home, "ana")[-1] == ("session_resumed", "")
    forged = auth.issue_token(b"not-the-key-of-this-home-0123456789", auth.Session("admin", since))
    with_cookies(monkeypatch, {auth.SESSION_COOKIE: forged})
    assert shows_login_form(start())
    with_cookies(monkeypatch, {auth.SESSION_COOKIE: token + "x"})
    assert shows_login_form(start())
    audit.append(Warehouse(Settings(home=home).warehouse_url), audit.LOGOUT, context.now(), "unknown", "ana")
    with_cookies(monkeypatch, {auth.SESSION_COOKIE: token})
    assert shows_login_form(start())  # a logout voids the sessions of that login
    later = auth.issue_token(_key(home), auth.Session("ana", context.now() + timedelta(seconds=1)))
    with_cookies(monkeypatch, {auth.SESSION_COOKIE: later})
    assert not start().text_input  # a later login is a new session


def cookie_scripts(app: AppTest) -> list[str]:
    return [str(h.proto.body) for h in app.get("html") if "document.cookie" in str(h.proto.body)]


def test_a_login_writes_the_session_cookie_and_a_logout_deletes_it(home: Path) -> None:
    app = logged_in("nora")
    (script,) = cookie_scripts(app)
    token = script.split(f"{auth.SESSION_COOKIE}=")[1].split(";")[0]
    session = auth.read_token(_key(home), token, 30 * 60)
    assert session is not None and session.name == "nora"
    assert "Max-Age=1800" in script and "SameSite=Strict" in script and "Path=/" in script
    app.run()
    assert cookie_scripts(app) == []  # refreshed at most once a minute
    app.sidebar.button(key="logout").click().run()
    assert shows_login_form(app)
    (deleted,) = cookie_scripts(app)
    assert f"{auth.SESSION_COOKIE}=;" in deleted and "Max-Age=0" in deleted
    assert auth.logged_out_since(open_source(Settings(home=home)), "nora", session.since)


# The sidebar's language picker alone (AppTest runs a page's script alone once a page is chosen, as a server
# does with a `pages/` folder beside the app's script: the app's own sidebar is tried in a script of its own).
LANGUAGE_PICKER = """
from dashboards import context
context._sidebar_language("zh")
"""


def test_a_language_picked_is_remembered_by_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    picker = AppTest.from_string(LANGUAGE_PICKER, default_timeout=30).run()
    assert cookie_scripts(picker) == []
    picker.selectbox(key="language").set_value("en").run()
    (script,) = cookie_scripts(picker)
    assert f"{context.LANGUAGE_COOKIE}=en;" in script and f"Max-Age={365 * 24 * 3600}" in script
    assert cookie_scripts(picker.run()) == []  # written once
    with_cookies(monkeypatch, {context.LANGUAGE_COOKIE: "en"})
    app = logged_in("ana")
    assert [h.value for h in app.header] == [EN["page_today"]]
    assert EN["district"] in app.dataframe[0].value.columns


# ---------------------------------------------------------------- today's list


def test_analyst_sees_and_filters_their_list() -> None:
    app = logged_in("ana")
    assert [h.value for h in app.header] == [ZH["page_today"]]
    table = app.dataframe[0].value
    assert set(table[ZH["district"]]) == {"东湖区"}
    assert table[ZH["case_id"]].tolist() == [present.case_link(c) for c in ("E1", "E2", "E3")]
    assert table[ZH["band"]].tolist() == ["高", "中", "低"]
    assert ZH["list_counts"].format(shown=3, high=1, acted=0) in markdown(app)
    app.multiselect(key="filter_band").select("high").run()
    assert app.dataframe[0].value[ZH["case_id"]].tolist() == ["case?case=E1"]
    assert ZH["list_counts"].format(shown=1, high=1, acted=0) in markdown(app)
    app.multiselect(key="filter_band").unselect("high").run()
    app.multiselect(key="filter_case_age").select("new").run()
    assert app.dataframe[0].value[ZH["case_id"]].tolist() == ["case?case=E2"]
    assert {b.label for b in app.get("download_button")} == {ZH["download_csv"], ZH["download_excel"]}


def select_row(app: AppTest, table: str, row: int) -> AppTest:
    """Select a row of a selectable table, as a click on its selection box does."""
    app.session_state[table] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return app.run()


def test_the_reasons_of_a_row_are_shown_in_full_beside_the_list() -> None:
    app = logged_in("ana")
    assert "**E1** · 高 · 0.300" in markdown(app) and "- 近7天关联热线来电3次" in markdown(app)
    select_row(app, "list_table", 1)
    text = markdown(app)
    assert "**E2** · 中 · 0.120" in text
    assert "\n".join(f"- {reason}" for reason in E2_REASONS) in text  # each reason whole, on its own line
    assert f"**{ZH['done_so_far']}** {ZH['nothing_done']}" in text
    (link,) = [p for p in app.get("page_link") if "E2" in p.proto.label]
    assert link.proto.label == ZH["open_case_page"].format(case_id="E2")


def test_case_page_and_feedback() -> None:
    app = logged_in("ana")
    app.session_state["case_id"] = "E1"
    visit(app, "case")
    assert [s.value for s in app.selectbox if s.label == ZH["choose_case"]] == ["E1"]
    timeline = app.dataframe[0].value
    assert len(timeline) == 4  # three events and the call received for the east district
    assert timeline[ZH["at"]].tolist() == sorted(timeline[ZH["at"]], reverse=True)  # newest first
    assert any("[电话]" in str(t) for t in timeline[ZH["text"]])
    app.selectbox(key="fb_action").set_value("mediation_scheduled")
    app.text_area(key="fb_note").input(f"已电话联系 {RAW_PHONE}")
    app.button(key="FormSubmitter:feedback_form-保存").click().run()
    assert not app.exception
    assert app.success[0].value == ZH["saved"]
    done = next(t.value for t in app.dataframe if ZH["note"] in t.value.columns)
    assert done[ZH["note"]].tolist() == ["已电话联系 [电话]"] and done[ZH["user"]].tolist() == ["ana"]
    assert done[ZH["action"]].tolist() == ["已安排调解"] and done[ZH["list_as_of"]].tolist() == ["2025-04-10"]
    visit(app, "today")
    select_row(app, "list_table", 0)
    assert "**已做处置** 已安排调解" in markdown(app)
    listed = app.dataframe[0].value.set_index(ZH["case_id"])
    assert listed.loc["case?case=E1", ZH["done_so_far"]].startswith("已安排调解")


def test_case_values_are_in_words_formatted_and_never_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGQIAO_LANGUAGE", "en")
    app = log_in(start(case="E2"), "ana")
    assert_no_error(app)
    profile = markdown(app)
    assert "**Source** mediation committee" in profile and "**Amount** ¥209,500" in profile
    assert "**Category** neighbours" in profile and "**Parties** 3" in profile
    assert "**Opened** 2025-04-05" in profile
    timeline = app.dataframe[0].value
    assert timeline[EN["at"]].tolist() == ["2025-04-08 10:00", "2025-04-06 09:00"]
    assert (
        timeline[EN["what"]].tolist() == ["visit", "assigned"]
        and timeline[EN["kind"]].tolist() == ["event"] * 2
    )
    assert timeline[EN["text"]].tolist() == ["", ""]
    assert "\n".join(f"- {reason}" for reason in E2_REASONS) in [i.value for i in app.info][-1]
    shown = (
        [t.value.to_csv() for t in app.dataframe]
        + [m.value for m in app.markdown]
        + [t.value for t in app.text]
    )
    assert not [text for text in shown if "None" in text or "nan" in text]


def test_a_viewer_cannot_record_feedback() -> None:
    app = logged_in("vic")
    app.session_state["case_id"] = "E1"
    visit(app, "case")
    assert not app.text_area and ZH["read_only"] in [c.value for c in app.caption]


# ---------------------------------------------------------------- stale lists


@pytest.mark.parametrize(
    ("pointer", "last_run", "today", "expected"),
    [
        ({"as_of": "2026-12-04", "stale": False}, None, date(2026, 12, 4), None),
        ({"as_of": "2026-06-25", "stale": False}, None, date(2026, 12, 4), ("no_run", 162)),
        (
            {"as_of": "2026-06-25", "stale": False},
            ("2026-06-20", "published"),
            date(2026, 6, 26),
            ("no_run", 1),
        ),
        (
            {"as_of": "2026-06-25", "stale": False},
            ("2026-07-01", "no_model"),
            date(2026, 7, 2),
            ("no_model", 7),
        ),
        (
            {"as_of": "2026-06-25", "stale": True, "held": {"as_of": "2026-06-26", "reasons": ["drift"]}},
            ("2026-06-26", "held"),
            date(2026, 6, 27),
            ("held", 2),
        ),
        (None, None, date(2026, 6, 27), None),
    ],
)
def test_how_old_the_newest_list_is_and_why(
    pointer: dict[str, Any] | None, last_run: tuple[str, str] | None, today: date, expected: tuple | None
) -> None:
    stale = present.staleness(pointer, last_run, today)
    assert (None if stale is None else (stale.why, stale.days)) == expected


def test_every_page_says_the_list_is_stale_how_old_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "today", lambda: date(2025, 4, 13))
    expected = (
        ZH["stale_age"].format(as_of="2025-04-10", days=3)
        + " "
        + ZH["stale_why_held"].format(held="2025-04-11", reasons="input volume 5x the usual")
    )
    app = logged_in("nora")
    for page in PAGES:
        app.session_state["case_id"] = "N1"
        visit(app, page)
        assert app.warning and app.warning[0].value == expected, page
    english = present.staleness_text(present.Staleness(date(2025, 4, 10), 3, "no_run"), EN)
    assert (
        english == "The newest list is of 2025-04-10, 3 days ago. Why: no daily run has run since 2025-04-10."
    )


# ---------------------------------------------------------------- every page, grievances, words, leaks


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


def test_the_list_notes_its_grievances_and_marks_cases_of_a_surge() -> None:
    app = logged_in("ana")
    assert ZH["grievance_notice"].format(n=2, m=1) in [w.value for w in app.warning]
    listed = app.dataframe[0].value.set_index(ZH["case_id"])
    assert listed[ZH["grievance"]].to_dict() == {
        "case?case=E1": SURGING,
        "case?case=E2": SURGING,
        "case?case=E3": "",
    }
    north = logged_in("nora")
    assert [i.value for i in north.info] == [ZH["grievance_notice"].format(n=1, m=0)]
    assert set(north.dataframe[0].value[ZH["grievance"]]) == {""}
    north.selectbox(key="list_date").set_value(FIRST).run()  # no grievance came with the first list
    assert not north.info and len(north.dataframe[0].value) == 2
    visit(north, "grievances")  # the chosen date carries over
    assert north.selectbox(key="list_date").value == FIRST and not north.dataframe
    assert [i.value for i in north.info] == [ZH["no_grievances"]]


def test_grievances_page_surges_first_then_the_open_cases_of_one() -> None:
    app = visit(logged_in("ana"), "grievances")
    assert [h.value for h in app.header] == [ZH["page_grievances"]]
    assert ZH["surges_banner"].format(n=1) in [w.value for w in app.warning]
    assert "从不识别来电人" in app.caption[0].value
    table = app.dataframe[0].value
    assert table[ZH["thing"]].tolist() == [SURGING, EAST_QUIET]
    assert table[ZH["surge"]].tolist() == [ZH["surge_flag"], ""]
    assert table[ZH["thing_kind"]].tolist() == ["企业/单位", "小区"]
    assert table[ZH["category"]].tolist() == ["劳资纠纷", "物业纠纷"]
    assert table[ZH["open_on_list"]].tolist() == [2, 0]
    assert "前7天来电" in table.columns and SURGING in table[ZH["surge_reason"]].iloc[0]
    assert len(app.dataframe) == 1 and ZH["select_grievance_hint"] in [c.value for c in app.caption]

    select_row(app, "grievance_table", 0)
    assert not app.exception
    cases_table = app.dataframe[1].value
    assert cases_table[ZH["case_id"]].tolist() == ["case?case=E1", "case?case=E2"]  # each opens in one click
    assert cases_table[ZH["rank"]].tolist() == [2, 3] and cases_table[ZH["band"]].tolist() == ["高", "中"]
    select_row(visit(app, "grievances"), "grievance_table", 1)
    assert app.main.caption[-1].value == ZH["no_open_cases"]


def test_grievances_of_a_district_show_only_its_own_open_cases() -> None:
    """The northern grievance touches E1 too (a northern call linked to an eastern case): nora sees N1."""
    app = logged_in("nora")
    select_row(visit(app, "grievances"), "grievance_table", 0)
    assert app.dataframe[0].value[ZH["thing"]].tolist() == [NORTH_QUIET]
    assert len(app.warning) == 1  # the stale list's; no surge in the north
    assert app.dataframe[1].value[ZH["case_id"]].tolist() == ["case?case=N1"]
    assert "E1" not in app.dataframe[0].value.to_csv() + app.dataframe[1].value.to_csv()
    app.selectbox(key="list_date").set_value(FIRST).run()
    assert [i.value for i in app.info] == [ZH["no_grievances"]] and not app.dataframe


def test_the_same_words_in_both_languages() -> None:
    assert ZH.keys() == EN.keys()
    assert {f"thing_{kind}" for kind in THING_KINDS} <= ZH.keys()
    assert {f"source_{source}" for source in SOURCES} <= ZH.keys()
    assert {f"category_{category}" for category in CATEGORIES} <= ZH.keys()
    assert {f"what_{event}" for event in EventType} <= ZH.keys()
    assert {f"event_{event}" for event in audit.EVENTS} <= ZH.keys()


def test_grievances_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGQIAO_LANGUAGE", "en")
    app = visit(logged_in("ana"), "grievances")
    assert [h.value for h in app.header] == [EN["page_grievances"]]
    table = app.dataframe[0].value
    assert table[EN["thing_kind"]].tolist() == ["company", "housing estate"]
    assert table[EN["category"]].tolist() == ["labour and wages", "property management"]
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


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (
            "调解失败17次；近30天来电4次。降低风险：调解成功1次；来电0次。注意：涉案金额未登记",
            [
                "调解失败17次",
                "近30天来电4次",
                "降低风险：调解成功1次",
                "降低风险：来电0次",
                "注意：涉案金额未登记",
            ],
        ),
        (
            "4 calls. Lowers the risk: 1 successful mediations so far; 0 calls. Note: no amount",
            [
                "4 calls",
                "Lowers the risk: 1 successful mediations so far",
                "Lowers the risk: 0 calls",
                "Note: no amount",
            ],
        ),
        ("涉案金额85,100.5元", ["涉案金额85,100.5元"]),
        (None, []),
    ],
)
def test_reason_items_keep_each_section_s_label(text: object, items: list[str]) -> None:
    assert present.reason_items(text) == items
