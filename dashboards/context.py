"""What every page shares (Streamlit glue): settings from FENGQIAO_* variables, the read-only source,
the writer for feedback, the language, and the logged-in viewer; the login form and the sidebar."""

from __future__ import annotations

from dataclasses import dataclass

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
