"""What every page shares (Streamlit glue): settings from FENGQIAO_* variables, the read-only source,
the writer for feedback, the language, and the logged-in viewer (kept across reloads and tabs by a signed
session cookie); the login form, the sidebar, and the notice of a stale list."""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from contracts.settings import Settings
from contracts.timeparse import local_now
from dashboards import audit, auth, present, queries
from dashboards.labels import LANGUAGES, labels
from dashboards.present import plain
from dashboards.source import DataSource, read_only_engine, store_exists
from dashboards.throttle import Policy, idle_expired
from warehouse.accounts import Account as Viewer
from warehouse.store import Warehouse

LOGGER = logging.getLogger("fengqiao.dashboard")
# The folder of the page scripts, beside app.py, as st.switch_page and st.page_link name them.
PAGES_FOLDER = "views"
LANGUAGE_KEY = "language"
LANGUAGE_COOKIE = "fengqiao_language"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
LANGUAGE_WRITTEN_KEY = "language_cookie"  # the language last written to the cookie in this session
# The list date picker of the pages that show one day's list, and the last date picked there: kept apart from
# the widget's own state (which ends with its page), so the choice carries to the other pages.
LIST_DATE_KEY = "list_date"
CHOSEN_DATE_KEY = "chosen_list_date"
# When the logged-in session last ran a page (for the idle timeout), and why the login form is shown again.
LAST_ACTIVE_KEY = "last_active"
NOTICE_KEY = "login_notice"
# When the logged-in user logged in (a logout at or after it voids the session cookie), when the session
# cookie was last written (it is refreshed at most once a minute while the user is active), and whether the
# user logged out in this session (the cookie sent when the tab opened is then never used, and is deleted).
SINCE_KEY = "logged_in_since"
COOKIE_AT_KEY = "session_cookie_at"
LOGGED_OUT_KEY = "logged_out"
COOKIE_REFRESH_SECONDS = 60


def page_script(name: str) -> str:
    """A page's script as st.switch_page and st.page_link name it (`case` -> `views/case.py`)."""
    return f"{PAGES_FOLDER}/{name}.py"


@dataclass(frozen=True)
class PageContext:
    """The logged-in viewer, where to read, and the words of the chosen language."""

    viewer: Viewer
    source: DataSource
    words: dict[str, str]
    language: str


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    """One read-only engine per store for the whole server."""
    return read_only_engine(url)


@st.cache_resource(show_spinner=False)
def _warehouse(url: str) -> Warehouse:
    """One writing store per URL, opened only when feedback is first recorded (it creates missing tables)."""
    return Warehouse(url)


def source() -> DataSource:
    """The read-only source of the current settings (read from the environment on every run)."""
    settings = Settings()
    return DataSource(settings, _engine(settings.warehouse_url))


def writer() -> Warehouse:
    """The store to append feedback to."""
    return _warehouse(Settings().warehouse_url)


def _words() -> dict[str, str]:
    """The user's words for an error (Chinese when even the settings cannot be read)."""
    try:
        return labels(language(Settings().language))
    except Exception:
        return labels("zh")


def guarded(run: Callable[[], None]) -> None:
    """Run the app or a page with errors told in the user's words: the traceback goes to the server's log,
    never to the browser. Pages guard themselves too, since a server runs a page's script alone when it is
    the first one asked for after a restart."""
    try:
        run()
    except OperationalError:
        LOGGER.exception("the store could not be read")
        st.error(_words()["store_busy"])
    except Exception:
        LOGGER.exception("a dashboard page failed")
        st.error(_words()["unexpected_error"])


def _cookie(name: str) -> str | None:
    """A cookie the browser sent when the tab connected (None outside a browser session, as in tests)."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no request context (a bare script run)
        return None
    return value if isinstance(value, str) else None  # a test harness's stand-in is no cookie


def _secure_page() -> bool:
    """Whether the browser reached the app over HTTPS (directly or through a proxy that says so)."""
    try:
        url, proto = st.context.url, st.context.headers.get("X-Forwarded-Proto")
    except Exception:
        return False
    return (isinstance(url, str) and url.startswith("https:")) or proto == "https"


def _set_cookie(name: str, value: str | None, max_age_seconds: int) -> None:
    """Set (or, for no value, delete) a cookie of the app in the browser, from the sidebar (out of the page's
    way)."""
    script = auth.cookie_script(name, value, max_age_seconds, _secure_page())
    st.sidebar.html(script, unsafe_allow_javascript=True, width="content")


def language(default: str) -> str:
    """The chosen language: picked in this session, else the one remembered by the browser, else the
    settings' language."""
    chosen = st.session_state.get(LANGUAGE_KEY) or _cookie(LANGUAGE_COOKIE) or default
    return chosen if chosen in LANGUAGES else "zh"


def _sidebar_language(default: str) -> dict[str, str]:
    """The language picker (shown before and after login) and the words it selects; a language picked
    here is remembered by the browser (a cookie), so a reload or a new tab keeps it."""
    chosen = language(default)
    st.sidebar.selectbox(
        labels(chosen)["language"],
        LANGUAGES,
        index=LANGUAGES.index(chosen),
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
        key=LANGUAGE_KEY,
    )
    picked = language(default)
    if picked != st.session_state.get(LANGUAGE_WRITTEN_KEY, _cookie(LANGUAGE_COOKIE) or default):
        _set_cookie(LANGUAGE_COOKIE, picked, LANGUAGE_COOKIE_SECONDS)
        st.session_state[LANGUAGE_WRITTEN_KEY] = picked
    return labels(picked)


def now() -> datetime:
    """The current local wall-clock time (the audit log's and the idle timeout's clock)."""
    return local_now().to_pydatetime()


def today() -> date:
    """The current local day (the day a list's age is counted to)."""
    return now().date()


def _refusal(attempt: auth.Attempt, words: dict[str, str]) -> None:
    """Why a login did not succeed, and how long to wait when the account or address must."""
    if attempt.wait_seconds > 0:
        st.error(words["login_wait"].format(seconds=math.ceil(attempt.wait_seconds)))
    else:
        st.error(words["login_failed"])


@st.cache_resource(show_spinner=False)
def _session_key(home: str) -> bytes:
    """The key that signs session cookies (see auth.session_key); a home that cannot hold it gets a key of
    this process alone (sessions then survive reloads, not a restart of the dashboard)."""
    try:
        return auth.session_key(Settings(home=home))
    except OSError:
        LOGGER.warning("no session key could be kept under %s: sessions end when the dashboard stops", home)
        return secrets.token_bytes(32)


def _idle_seconds(data: DataSource) -> int:
    return data.settings.session_idle_minutes * 60


def _begin_session(name: str, since: datetime) -> None:
    """Put a logged-in user into the session (the session cookie is written on the next page run)."""
    st.session_state[auth.SESSION_KEY] = name
    st.session_state[SINCE_KEY] = since
    st.session_state[LAST_ACTIVE_KEY] = now()
    st.session_state.pop(LOGGED_OUT_KEY, None)
    st.session_state.pop(COOKIE_AT_KEY, None)


def _resume(data: DataSource) -> None:
    """Let a reload or a new tab in with the browser's session cookie: signed with this home's key, issued
    within the idle timeout, of an account that still exists and has not logged out since (audited)."""
    key = _session_key(str(data.settings.home))
    session = auth.read_token(key, _cookie(auth.SESSION_COOKIE), _idle_seconds(data))
    if session is None or auth.current(data, session.name) is None:
        return
    if auth.logged_out_since(data, session.name, session.since):
        return
    with contextlib.suppress(OperationalError):  # already authenticated: a busy store only loses the line
        audit.append(writer(), audit.SESSION_RESUMED, now(), auth.client_address(), session.name)
    _begin_session(session.name, session.since)


def _keep_session_cookie(data: DataSource, viewer: Viewer) -> None:
    """Write the session cookie after a login, and refresh it (at most once a minute) while the user is
    active: it expires after the idle timeout."""
    written = st.session_state.get(COOKIE_AT_KEY)
    if written is not None and time.time() - written < COOKIE_REFRESH_SECONDS:
        return
    since = st.session_state.get(SINCE_KEY) or now()
    token = auth.issue_token(_session_key(str(data.settings.home)), auth.Session(viewer.name, since))
    _set_cookie(auth.SESSION_COOKIE, token, _idle_seconds(data))
    st.session_state[SINCE_KEY] = since
    st.session_state[COOKIE_AT_KEY] = time.time()


def _login_form(data: DataSource, words: dict[str, str]) -> None:
    """The login form; on success the viewer goes into the session and the app reruns (on the same address,
    so a link to a case followed before logging in opens that case)."""
    if st.session_state.get(LOGGED_OUT_KEY) == "forget":  # just logged out: delete the browser's cookie
        _set_cookie(auth.SESSION_COOKIE, None, 0)
        st.session_state[LOGGED_OUT_KEY] = True
    st.title(words["app_title"])
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(words[notice].format(minutes=data.settings.session_idle_minutes))
    with st.form("login"):
        st.subheader(words["login_title"])
        name = st.text_input(words["user_name"], key="login_name")
        password = st.text_input(words["password"], type="password", key="login_password")
        submitted = st.form_submit_button(words["login"])
    if submitted:
        try:
            attempt = auth.login(
                writer(), Policy.of(data.settings), name, password, auth.client_address(), now()
            )
        except OperationalError:
            st.error(words["store_busy"])
            return
        if attempt.viewer is not None:
            _begin_session(attempt.viewer.name, now())
            st.rerun()
        _refusal(attempt, words)
    if not auth.has_users(data):
        st.info(words["no_users"])


def _end_session(viewer: Viewer, event: str, notice: str | None = None) -> None:
    """Log the viewer out (audited as a logout or an idle expiry); the login form says why when told. A
    logout also voids the session cookie (in the store, for every tab, and in this browser); an idle expiry
    leaves it, since another tab may have kept it alive and an idle one has expired by itself."""
    with contextlib.suppress(OperationalError):  # a busy store must not keep anyone logged in
        audit.append(writer(), event, now(), auth.client_address(), viewer.name)
    for key in (auth.SESSION_KEY, LAST_ACTIVE_KEY, SINCE_KEY, COOKIE_AT_KEY):
        st.session_state.pop(key, None)
    st.session_state[LOGGED_OUT_KEY] = "forget" if event == audit.LOGOUT else True
    if notice:
        st.session_state[NOTICE_KEY] = notice


def _sidebar_user(viewer: Viewer, words: dict[str, str]) -> None:
    """Who is logged in, with which role and districts, and the logout button."""
    districts = words["all_districts"] if viewer.every_district else "、".join(viewer.districts)
    st.sidebar.caption(
        f"{words['signed_in_as']}: **{plain(viewer.name)}** ({words[f'role_{viewer.role}']}) · "
        f"{plain(districts)}"
    )
    if st.sidebar.button(words["logout"], key="logout"):
        _end_session(viewer, audit.LOGOUT)
        st.rerun()


def _active_viewer(data: DataSource) -> Viewer | None:
    """The logged-in viewer (or the one the browser's session cookie lets back in), marked active now; None
    when nobody is, or when the session was idle too long (then it ends here, audited, and the login form
    will say why)."""
    if not st.session_state.get(auth.SESSION_KEY) and not st.session_state.get(LOGGED_OUT_KEY):
        _resume(data)
    viewer = auth.current(data, st.session_state.get(auth.SESSION_KEY))
    if viewer is None:
        return None
    since = st.session_state.get(SINCE_KEY)
    if since is not None and auth.logged_out_since(data, viewer.name, since, unreadable=False):  # another tab
        _end_session(viewer, audit.LOGOUT)
        return None
    if idle_expired(st.session_state.get(LAST_ACTIVE_KEY), now(), data.settings.session_idle_minutes):
        _end_session(viewer, audit.IDLE_EXPIRY, "session_expired")
        return None
    st.session_state[LAST_ACTIVE_KEY] = now()
    return viewer


def start() -> PageContext | None:
    """The app's gate: the language picker, then who is logged in (with the idle timeout; a session cookie
    lets a reload in): the page context, or None when nobody is (or there is no store): then every address
    shows `login_page`."""
    data = source()
    words = _sidebar_language(data.settings.language)
    if not store_exists(data.settings):
        return None
    viewer = _active_viewer(data)
    if viewer is None:
        st.session_state.pop(auth.SESSION_KEY, None)
        return None
    return PageContext(viewer, data, words, language(data.settings.language))


def login_page() -> None:
    """What every address shows before login: the login form, or the note that there is no store yet."""
    data = source()
    words = labels(language(data.settings.language))
    if not store_exists(data.settings):
        st.title(words["app_title"])
        st.info(words["no_store"])
        return
    _login_form(data, words)


def page() -> PageContext:
    """The context for a page script, with who is logged in (and the logout button) in the sidebar, the
    session cookie kept fresh, and the notice of a stale list on top. Shows the login form and stops the
    script when nobody is logged in (or the session was idle too long: a page can run without the app's gate,
    as when it is the first one a restarted server is asked for)."""
    data = source()
    viewer = _active_viewer(data) if store_exists(data.settings) else None
    if viewer is None:
        login_page()
        st.stop()
    chosen = language(data.settings.language)
    shared = PageContext(viewer, data, labels(chosen), chosen)
    _sidebar_user(viewer, shared.words)
    _keep_session_cookie(data, viewer)
    freshness_notice(shared)
    return shared


def freshness_notice(page: PageContext) -> None:
    """On every page: how old the newest list is when it is older than its day, and why (its day's list was
    held or its run failed, no model scored it, or no daily run has published since)."""
    reports = queries.run_reports(page.viewer, page.source, limit=1)
    last_run = None if reports.empty else (str(reports["as_of"].iloc[0]), str(reports["status"].iloc[0]))
    stale = present.staleness(queries.latest_pointer(page.source), last_run, today())
    if stale is not None:
        hidden = queries.hidden_districts(page.viewer, page.source)  # the run's words may name any district
        stale = replace(
            stale, reasons=queries.without_districts(stale.reasons, hidden, page.words["other_district"])
        )
        st.warning(present.staleness_text(stale, page.words), icon=":material/schedule:")


def list_date(page: PageContext, dates: list[date] | None = None) -> date | None:
    """The date picker of the pages that show one day's list (or, given `dates`, one day of other
    published tables): the date last picked on any of them, at first the list `latest` points to (the
    app's notice says when it is stale), else the newest; None (and a note) when there is no date."""
    words = page.words
    dates = queries.list_dates(page.viewer, page.source) if dates is None else dates
    if not dates:
        st.info(words["no_list"])
        return None
    pointer = queries.latest_pointer(page.source)
    latest = date.fromisoformat(pointer["as_of"]) if pointer else dates[0]
    shown = next((d for d in (st.session_state.get(CHOSEN_DATE_KEY), latest) if d in dates), dates[0])
    as_of = st.selectbox(words["list_date"], dates, index=dates.index(shown), key=LIST_DATE_KEY)
    st.session_state[CHOSEN_DATE_KEY] = as_of
    return as_of


def export_buttons(table: pd.DataFrame, stem: str, words: dict[str, str]) -> None:
    """Download buttons for a table as CSV and as Excel (`stem`.csv, `stem`.xlsx), formulas neutralised."""
    csv_column, excel_column, _ = st.columns([1, 1, 4])
    csv_column.download_button(words["download_csv"], present.csv_bytes(table), f"{stem}.csv", "text/csv")
    excel_column.download_button(
        words["download_excel"],
        present.excel_bytes(table),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
