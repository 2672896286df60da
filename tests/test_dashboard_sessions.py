"""Sessions end where they should: a re-created account, a logout in another tab; and the stale notice names
no district the viewer may not see."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from contracts.settings import Settings
from dashboards import auth, context
from dashboards.labels import ZH
from tests import test_dashboard_app as app_test
from tests.dashboard_home import build_home, use_home
from warehouse.accounts import Role, add_account, remove_account
from warehouse.lists import mark_stale
from warehouse.store import Warehouse


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_home(tmp_path_factory.mktemp("sessions") / "home").home


@pytest.fixture(autouse=True)
def environment(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_home(home, tmp_path, monkeypatch)


def test_a_re_created_account_voids_the_old_session_cookie(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = context.now()  # a login after the account was made
    token = auth.issue_token(app_test._key(home), auth.Session("vic", since))
    app_test.with_cookies(monkeypatch, {auth.SESSION_COOKIE: token})
    assert not app_test.shows_login_form(app_test.start())  # the cookie lets a reload in
    warehouse = Warehouse(Settings(home=home).warehouse_url)
    with warehouse.transaction() as connection:  # a new password: the account removed and added again
        remove_account(connection, "vic")
        add_account(connection, "vic", Role.VIEWER, (), "a-brand-new-password")
    assert app_test.shows_login_form(app_test.start())


def test_a_logout_ends_the_session_in_every_tab(monkeypatch: pytest.MonkeyPatch) -> None:
    first = app_test.logged_in("nora")
    (script,) = app_test.cookie_scripts(first)
    token = script.split(f"{auth.SESSION_COOKIE}=")[1].split(";")[0]
    app_test.with_cookies(monkeypatch, {auth.SESSION_COOKIE: token})
    second = app_test.start()  # another tab of the same login
    assert not app_test.shows_login_form(second)
    first.sidebar.button(key="logout").click().run()
    assert app_test.shows_login_form(first)
    assert app_test.shows_login_form(second.run())
    assert app_test.shows_login_form(app_test.start())


def test_the_stale_notice_names_no_hidden_district(home: Path) -> None:
    lists_dir = Settings(home=home).lists_dir
    mark_stale(lists_dir, date(2025, 4, 12), ["1 of 3 features shifted: district (most moved 江北区 +30pp)."])
    notices = [w.value for w in app_test.logged_in("ana").warning]  # ana sees 东湖区 only
    assert any("most moved" in n and ZH["other_district"] in n for n in notices)
    assert not any("江北区" in n for n in notices)
    admin = [w.value for w in app_test.logged_in("admin").warning]
    assert any("江北区" in n for n in admin)
