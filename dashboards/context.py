"""What every page shares (Streamlit glue): settings from FENGQIAO_* variables, the read-only source,
the writer for feedback, the language, and the logged-in viewer; the login form and the sidebar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from contracts.settings import Settings
from dashboards import auth, queries
from dashboards.labels import LANGUAGES, labels
from dashboards.source import DataSource, read_only_engine, store_exists
from warehouse.accounts import Account as Viewer
from warehouse.accounts import Role
from warehouse.store import Warehouse

LANGUAGE_KEY = "language"
# The list date picker of the pages that show one day's list, and the last date picked there: kept apart from
# the widget's own state (which ends with its page), so the choice carries to the other pages.
LIST_DATE_KEY = "list_date"
CHOSEN_DATE_KEY = "chosen_list_date"


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


def _login_form(data: DataSource, words: dict[str, str]) -> None:
    """The login form; on success the viewer's name goes into the session and the app reruns."""
    st.title(words["app_title"])
    with st.form("login"):
        st.subheader(words["login_title"])
        name = st.text_input(words["user_name"], key="login_name")
        password = st.text_input(words["password"], type="password", key="login_password")
        submitted = st.form_submit_button(words["login"])
    if submitted:
        viewer = auth.login(data, name, password)
        if viewer is not None:
            st.session_state[auth.SESSION_KEY] = viewer.name
            st.rerun()
        st.error(words["login_failed"])
    if not auth.has_users(data):
        st.info(words["no_users"])


def _sidebar_user(viewer: Viewer, words: dict[str, str]) -> None:
    """Who is logged in, with which role and districts, and the logout button."""
    districts = words["all_districts"] if viewer.every_district else "、".join(viewer.districts)
    st.sidebar.caption(
        f"{words['signed_in_as']}: **{viewer.name}** ({words[f'role_{viewer.role}']}) · {districts}"
    )
    if st.sidebar.button(words["logout"], key="logout"):
        st.session_state.pop(auth.SESSION_KEY, None)
        st.rerun()


def start() -> PageContext | None:
    """Language, then the login gate and the sidebar: the page context, or None (nothing else is shown)."""
    data = source()
    words = _sidebar_language(data.settings.language)
    if not store_exists(data.settings):
        st.title(words["app_title"])
        st.info(words["no_store"])
        return None
    viewer = auth.current(data, st.session_state.get(auth.SESSION_KEY))
    if viewer is None:
        st.session_state.pop(auth.SESSION_KEY, None)
        _login_form(data, words)
        return None
    _sidebar_user(viewer, words)
    return PageContext(viewer, data, words, language(data.settings.language))


def page() -> PageContext:
    """The context for a page script; stops the script when nobody is logged in."""
    data = source()
    viewer = auth.current(data, st.session_state.get(auth.SESSION_KEY))
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
                held=held.get("as_of", ""), as_of=pointer["as_of"], reasons=" ".join(held.get("reasons", []))
            )
        )


def list_date(page: PageContext) -> date | None:
    """The list date picker of the pages that show one day's list: the date last picked on any of them, at
    first the list `latest` points to (with a warning when that list is stale); None (and a note) before
    any list."""
    words = page.words
    dates = queries.list_dates(page.viewer, page.source)
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
