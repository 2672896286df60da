"""One case: profile, why it is listed, its timeline (newest first), what was done and the form to add to
it, and its risk over past lists. The case is the one in the address (`?case=ID`, so a link to it works
and survives a reload or the login), else the last one opened; a case outside the user's districts is
refused."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.exc import OperationalError

from dashboards import audit, auth, context, present, queries
from dashboards.feedback import ACTIONS, record_feedback

CASE_KEY = "case_id"
CASE_PARAM = "case"
FLASH_KEY = "feedback_saved"
# The case whose opening (or refusal) was last written to the audit log in this session (a rerun is not a
# new opening).
AUDITED_KEY = "audited_case"
PROFILE_FIELDS = ("district", "town", "category", "source", "opened_at", "party_count", "amount")
TIMELINE_ROWS = 12  # rows the timeline shows before it scrolls
ROW_PIXELS = 35


def _list_date(page: context.PageContext) -> date | None:
    """The list the analyst was looking at (the date last picked on a list page), else the latest one."""
    chosen = st.session_state.get(context.CHOSEN_DATE_KEY)
    if chosen:
        return chosen
    dates = queries.list_dates(page.viewer, page.source)
    return dates[0] if dates else None


def _choose_case(page: context.PageContext, as_of: date | None) -> str | None:
    """The case to show: the one in the address, else the last opened, else the list's first; another of
    the list's cases can be chosen here (the address follows, so it can be shared or reloaded)."""
    listed = queries.risk_list(page.viewer, page.source, as_of)["case_id"].tolist() if as_of else []
    current = st.query_params.get(CASE_PARAM) or st.session_state.get(CASE_KEY)
    options = [current, *[c for c in listed if c != current]] if current else listed
    if not options:
        return None
    case_id = st.selectbox(page.words["choose_case"], options, index=0)
    st.session_state[CASE_KEY] = case_id
    if st.query_params.get(CASE_PARAM) != case_id:
        st.query_params[CASE_PARAM] = case_id
    return case_id


def _profile(profile: pd.Series, words: dict[str, str]) -> None:
    """The case as registered, on one line (stored texts as plain text), and its description."""
    st.subheader(words["profile"])
    cells = present.profile_cells(profile, words, PROFILE_FIELDS)
    st.markdown(" · ".join(f"**{label}** {present.plain(text)}" for label, text in cells if text))
    if isinstance(profile["description"], str):
        st.text(profile["description"])


def _reasons(history: pd.DataFrame, words: dict[str, str]) -> None:
    """Why the case is listed now (its latest list's reasons, one per line)."""
    if history.empty:
        return
    latest = history.sort_values("as_of").iloc[-1]
    items = present.reason_items(latest["reasons"])
    st.subheader(words["current_reasons"])
    st.info("\n".join(f"- {present.plain(item)}" for item in items) or words["no_reasons"])


def _history(history: pd.DataFrame, words: dict[str, str]) -> None:
    """The case's score over past lists (newest first), collapsed."""
    if history.empty:
        return
    with st.expander(f"{words['score_history']} ({len(history)})"):
        if len(history) > 1:
            st.line_chart(history.set_index("as_of")["score"], height=200)
        st.dataframe(
            present.history_table(history, words),
            hide_index=True,
            placeholder="",
            column_config={words["score"]: st.column_config.NumberColumn(format="%.3f")},
        )


def _timeline(page: context.PageContext, case_id: str) -> None:
    """The case's events and calls, newest first, in a box that scrolls."""
    words = page.words
    frame = queries.case_timeline(page.viewer, page.source, case_id)
    st.subheader(f"{words['timeline']} ({len(frame)})")
    shown = present.timeline_table(frame, words)
    if shown.empty:
        st.caption(words["no_data"])
        return
    st.dataframe(
        shown,
        hide_index=True,
        placeholder="",
        height=ROW_PIXELS * (min(len(shown), TIMELINE_ROWS) + 1) + 3,
        column_config={words["text"]: st.column_config.TextColumn(width="large")},
        key="timeline_table",
    )


def _feedback_form(page: context.PageContext, case_id: str, as_of: date | None) -> None:
    """Record an action with a note (analysts and admins; numbers in the note are masked)."""
    words = page.words
    if not page.viewer.can_write:
        st.caption(words["read_only"])
        return
    with st.form("feedback_form", clear_on_submit=True):
        st.markdown(f"**{words['record_feedback']}**")
        action = st.selectbox(
            words["action"], ACTIONS, format_func=lambda a: words[f"action_{a}"], key="fb_action"
        )
        note = st.text_area(words["note"], help=words["note_help"], key="fb_note", height=90)
        submitted = st.form_submit_button(words["save"], type="primary")
    if submitted:
        try:
            record_feedback(context.writer(), page.viewer, case_id, action, note, as_of)
        except OperationalError:
            st.error(words["store_busy"])
            return
        st.session_state[FLASH_KEY] = True
        st.rerun()


def _feedback(page: context.PageContext, case_id: str, as_of: date | None) -> None:
    """What was done so far, and the form to add to it."""
    words = page.words
    st.subheader(words["feedback"])
    if st.session_state.pop(FLASH_KEY, False):
        st.success(words["saved"])
    _feedback_form(page, case_id, as_of)
    done = queries.case_feedback(page.viewer, page.source, case_id)
    if done.empty:
        st.caption(words["no_feedback"])
    else:
        st.dataframe(
            present.feedback_table(done, words), hide_index=True, placeholder="", key="feedback_table"
        )


def _audit(page: context.PageContext, case_id: str, event: str) -> bool:
    """Write who opened (or was refused) which case to the audit log, once per case in a session; False, with
    the error shown, when the store cannot take it (the case is then not shown)."""
    if st.session_state.get(AUDITED_KEY) == (case_id, event):
        return True
    try:
        address = auth.client_address()
        audit.append(context.writer(), event, context.now(), address, page.viewer.name, case_id)
    except OperationalError:
        st.error(page.words["store_busy"])
        return False
    st.session_state[AUDITED_KEY] = (case_id, event)
    return True


def main() -> None:
    """The page."""
    page = context.page()
    words = page.words
    title, chooser = st.columns([3, 1], vertical_alignment="bottom")
    title.header(words["page_case"])
    as_of = _list_date(page)
    with chooser:
        case_id = _choose_case(page, as_of)
    if case_id is None:
        st.info(words["no_list"])
        return
    profile = queries.case_profile(page.viewer, page.source, case_id)
    if profile.empty:
        _audit(page, case_id, audit.CASE_REFUSED)
        st.warning(words["case_refused"].format(case_id=present.plain(case_id)))
        return
    if not _audit(page, case_id, audit.CASE_OPENED):
        return
    _profile(profile.iloc[0], words)
    history = queries.score_history(page.viewer, page.source, case_id)
    left, right = st.columns([3, 2])
    with left:
        _reasons(history, words)
        _timeline(page, case_id)
    with right:
        _feedback(page, case_id, as_of)
    _history(history, words)


if __name__ == "__main__":
    context.guarded(main)
