"""What every page shares (Streamlit glue): settings from FENGQIAO_* variables, the read-only source,
the writer for feedback, the language, and the logged-in viewer; the login form and the sidebar."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from contracts.settings import Settings
from contracts.timeparse import local_now
from dashboards import audit, auth, queries
from dashboards.labels import LANGUAGES, labels
from dashboards.present import plain
from dashboards.source import DataSource, read_only_engine, store_exists
from dashboards.throttle import Policy, idle_expired
from warehouse.accounts import Account as Viewer
from warehouse.accounts import Role
from warehouse.store import Warehouse

LANGUAGE_KEY = "language"
# The list date picker of the pages that show one day's list, and the last date picked there: kept apart from
# the widget's own state (which ends with its page), so the choice carries to the other pages.
LIST_DATE_KEY = "list_date"
CHOSEN_DATE_KEY = "chosen_list_date"
# When the logged-in session last ran a page (for the idle timeout), and why the login form is shown again.
LAST_ACTIVE_KEY = "last_active"
NOTICE_KEY = "login_notice"


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


def language(default: str) -> str:
    """The chosen language (the settings' language until the user picks another)."""
    chosen = st.session_state.get(LANGUAGE_KEY, default)
    return chosen if chosen in LANGUAGES else "zh"


@st.cache_data(ttl=300, show_spinner=False)
def model_view(
    _source: DataSource, url: str, name: str, role: str, districts: tuple[str, ...], language: str
) -> queries.ModelView | None:
    """The champion for the Model page, kept five minutes (reading MLflow takes seconds)."""
    return queries.model_view(Viewer(name, Role(role), districts), _source, language)


def _sidebar_language(default: str) -> dict[str, str]:
    """The language picker (shown before and after login) and the words it selects."""
    chosen = language(default)
    st.sidebar.selectbox(
        labels(chosen)["language"],
        LANGUAGES,
        index=LANGUAGES.index(chosen),
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
        key=LANGUAGE_KEY,
    )
    return labels(language(default))


def now() -> datetime:
    """The current local wall-clock time (the audit log's and the idle timeout's clock)."""
    return local_now().to_pydatetime()


def _refusal(attempt: auth.Attempt, words: dict[str, str]) -> None:
    """Why a login did not succeed, and how long to wait when the account or address must."""
    if attempt.wait_seconds > 0:
        st.error(words["login_wait"].format(seconds=math.ceil(attempt.wait_seconds)))
    else:
        st.error(words["login_failed"])


def _login_form(data: DataSource, words: dict[str, str]) -> None:
    """The login form; on success the viewer's name goes into the session and the app reruns."""
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
            st.session_state[auth.SESSION_KEY] = attempt.viewer.name
            st.session_state[LAST_ACTIVE_KEY] = now()
            st.rerun()
        _refusal(attempt, words)
    if not auth.has_users(data):
        st.info(words["no_users"])


def _end_session(viewer: Viewer, event: str, notice: str | None = None) -> None:
    """Log the viewer out (audited as a logout or an idle expiry); the login form says why when told."""
    with contextlib.suppress(OperationalError):  # a busy store must not keep anyone logged in
        audit.append(writer(), event, now(), auth.client_address(), viewer.name)
    for key in (auth.SESSION_KEY, LAST_ACTIVE_KEY):
        st.session_state.pop(key, None)
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
    """The logged-in viewer, marked active now; None when nobody is, or when the session was idle too long
    (then it ends here, audited, and the login form will say why)."""
    viewer = auth.current(data, st.session_state.get(auth.SESSION_KEY))
    if viewer is None:
        return None
    if idle_expired(st.session_state.get(LAST_ACTIVE_KEY), now(), data.settings.session_idle_minutes):
        _end_session(viewer, audit.IDLE_EXPIRY, "session_expired")
        return None
    st.session_state[LAST_ACTIVE_KEY] = now()
    return viewer


def start() -> PageContext | None:
    """Language, then the login gate (with the idle timeout) and the sidebar: the page context, or None
    (nothing else is shown)."""
    data = source()
    words = _sidebar_language(data.settings.language)
    if not store_exists(data.settings):
        st.title(words["app_title"])
        st.info(words["no_store"])
        return None
    viewer = _active_viewer(data)
    if viewer is None:
        st.session_state.pop(auth.SESSION_KEY, None)
        _login_form(data, words)
        return None
    _sidebar_user(viewer, words)
    return PageContext(viewer, data, words, language(data.settings.language))


def page() -> PageContext:
    """The context for a page script; stops the script when nobody is logged in (or the session was idle
    too long: a page can run without the app's gate, as when it is the one Streamlit reruns)."""
    data = source()
    viewer = _active_viewer(data)
    if viewer is None:
        st.stop()
    chosen = language(data.settings.language)
    return PageContext(viewer, data, labels(chosen), chosen)


def _stale_notice(pointer: dict[str, Any] | None, words: dict[str, str]) -> None:
    """Say so when today's list was held and an older one is shown."""
    if pointer and pointer.get("stale"):
        held = pointer.get("held", {})
        st.warning(
            words["stale_list"].format(
                held=plain(str(held.get("as_of", ""))),
                as_of=plain(str(pointer["as_of"])),
                reasons=plain(" ".join(held.get("reasons", []))),
            )
        )


def list_date(page: PageContext, dates: list[date] | None = None) -> date | None:
    """The date picker of the pages that show one day's list (or, given `dates`, one day of other
    published tables): the date last picked on any of them, at first the list `latest` points to (with a
    warning when that list is stale), else the newest; None (and a note) when there is no date."""
    words = page.words
    dates = queries.list_dates(page.viewer, page.source) if dates is None else dates
    if not dates:
        st.info(words["no_list"])
        return None
    pointer = queries.latest_pointer(page.source)
    _stale_notice(pointer, words)
    latest = date.fromisoformat(pointer["as_of"]) if pointer else dates[0]
    shown = next((d for d in (st.session_state.get(CHOSEN_DATE_KEY), latest) if d in dates), dates[0])
    as_of = st.selectbox(words["list_date"], dates, index=dates.index(shown), key=LIST_DATE_KEY)
    st.session_state[CHOSEN_DATE_KEY] = as_of
    return as_of
