"""One case: profile, why it is listed, its risk over past lists, its timeline, and what was done."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.exc import OperationalError

from dashboards import audit, auth, context, present, queries
from dashboards.feedback import ACTIONS, record_feedback

CASE_KEY = "case_id"
FLASH_KEY = "feedback_saved"
# The case whose opening was last written to the audit log in this session (a rerun is not a new opening).
AUDITED_KEY = "audited_case"
PROFILE_FIELDS = ("district", "town", "category", "source", "opened_at", "party_count", "amount")


def _list_date(page: context.PageContext) -> date | None:
    """The list the analyst was looking at (the date last picked on a list page), else the latest one."""
    chosen = st.session_state.get(context.CHOSEN_DATE_KEY)
    if chosen:
        return chosen
    dates = queries.list_dates(page.viewer, page.source)
    return dates[0] if dates else None


def _choose_case(page: context.PageContext, as_of: date | None) -> str | None:
    """The case to show: picked on the list, or chosen here among the list's cases."""
    listed = queries.risk_list(page.viewer, page.source, as_of)["case_id"].tolist() if as_of else []
    current = st.session_state.get(CASE_KEY) or st.query_params.get("case")
    options = [current, *[c for c in listed if c != current]] if current else listed
    if not options:
        return None
    case_id = st.selectbox(page.words["choose_case"], options, index=0)
    st.session_state[CASE_KEY] = case_id
    return case_id


def _profile(profile: pd.Series, words: dict[str, str]) -> None:
    """The case as registered."""
    st.subheader(words["profile"])
    cells = st.columns(len(PROFILE_FIELDS))
    for slot, name in zip(cells, PROFILE_FIELDS, strict=True):
        value = profile[name]
        if isinstance(value, pd.Timestamp):
            value = value.strftime("%Y-%m-%d")
        slot.markdown(f"**{words[name]}**")
        slot.text("" if pd.isna(value) else str(value))
    if isinstance(profile["description"], str):
        st.markdown(f"**{words['description']}**")
        st.text(profile["description"])


def _history(history: pd.DataFrame, words: dict[str, str]) -> None:
    """Why the case is listed now, and its score over past lists."""
    if history.empty:
        return
    st.subheader(words["current_reasons"])
    st.info(present.plain(history["reasons"].iloc[-1]))
    st.subheader(words["score_history"])
    if len(history) > 1:
        st.line_chart(history.set_index("as_of")["score"], height=200)
    shown = history[["as_of", "rank", "score", "band", "model_version"]].assign(
        as_of=history["as_of"].dt.date
    )
    st.dataframe(present.localise(shown, words), hide_index=True)


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
        note = st.text_area(words["note"], help=words["note_help"], key="fb_note")
        submitted = st.form_submit_button(words["save"])
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
    done = queries.case_feedback(page.viewer, page.source, case_id)
    if done.empty:
        st.caption(words["no_feedback"])
    else:
        shown = done[["recorded_at", "user_name", "action", "note", "list_as_of"]].rename(
            columns={"user_name": "user"}
        )
        st.dataframe(present.localise(shown, words), hide_index=True)
    _feedback_form(page, case_id, as_of)


def _audit_opening(page: context.PageContext, case_id: str) -> bool:
    """Write who opened which case to the audit log (once per case opened in a session); False, with the
    error shown, when the store cannot take it (the case is then not shown)."""
    if st.session_state.get(AUDITED_KEY) == case_id:
        return True
    try:
        address = auth.client_address()
        audit.append(context.writer(), audit.CASE_OPENED, context.now(), address, page.viewer.name, case_id)
    except OperationalError:
        st.error(page.words["store_busy"])
        return False
    st.session_state[AUDITED_KEY] = case_id
    return True


def main() -> None:
    """The page."""
    page = context.page()
    words = page.words
    st.header(words["page_case"])
    as_of = _list_date(page)
    case_id = _choose_case(page, as_of)
    profile = queries.case_profile(page.viewer, page.source, case_id) if case_id else pd.DataFrame()
    if profile.empty:
        st.warning(words["case_not_found"])
        return
    if not _audit_opening(page, str(case_id)):
        return
    _profile(profile.iloc[0], words)
    _history(queries.score_history(page.viewer, page.source, case_id), words)
    st.subheader(words["timeline"])
    timeline = queries.case_timeline(page.viewer, page.source, case_id).drop(columns=["district"])
    st.dataframe(present.localise(timeline, words), hide_index=True)
    _feedback(page, case_id, as_of)


if __name__ == "__main__":
    main()
