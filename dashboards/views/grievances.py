"""Emerging grievances: many callers naming the same company, project, estate or village in a district,
published with a day's list or alone (surges first), and the open cases on that day's list each one touches.
Before any list is published (no model yet), the days whose grievances were published alone are shown."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import context, present, queries

COUNTS = ("distinct_callers", "new_callers", "calls", "cases", "open_on_list")  # narrow number columns


def _selected(picked: Any, size: int) -> list[int]:
    """The selected rows of a table that are still in it (a selection outlives a change of date)."""
    rows = picked.selection.rows if picked is not None else []
    return [row for row in rows if row < size]


def _summary(clusters: pd.DataFrame, words: dict[str, str]) -> None:
    """The counts above the table, and a banner when some grievances surge."""
    surges = int(clusters["surge"].sum())
    if surges:
        st.warning(words["surges_banner"].format(n=surges), icon=":material/warning:")
    left, middle, right = st.columns(3)
    left.metric(words["grievances_shown"], len(clusters))
    middle.metric(words["surges"], surges)
    right.metric(words["open_touched"], int(clusters["open_on_list"].sum()))


def _open_cases(page: context.PageContext, cluster: pd.Series, as_of: date, on_list: bool) -> None:
    """Why the chosen grievance is shown, and, when a list was published that day (`on_list`), its open
    cases as listed then, each case number a link that opens the case."""
    words = page.words
    thing = present.plain(cluster["thing"])
    st.subheader(words["grievance_cases"].format(thing=thing, as_of=as_of.isoformat()) if on_list else thing)
    for column in ("surge_reason", "summary"):
        if cluster[column]:
            st.markdown(f"**{words[column]}**")
            st.text(cluster[column])
    if not on_list:
        return
    listed = queries.risk_list(page.viewer, page.source, as_of)
    touched = queries.grievance_cases(listed, cluster["open_case_ids"])
    if touched.empty:
        st.caption(words["no_open_cases"])
        return
    table = present.list_table(touched, words, present.GRIEVANCE_CASES_SHOWN)
    st.dataframe(
        table.assign(**{words["case_id"]: touched["case_id"].map(present.case_link)}),
        hide_index=True,
        key="grievance_cases_table",
        placeholder="",
        column_config={
            words["case_id"]: st.column_config.LinkColumn(
                display_text=r"case\?case=(.+)$", help=words["open_case_link_help"]
            ),
            words["score"]: st.column_config.NumberColumn(format="%.3f"),
            words["reasons"]: st.column_config.TextColumn(width="large"),
        },
    )
    st.caption(words["open_case_link_help"])


def main() -> None:
    """The page."""
    page = context.page()
    words, viewer, data = page.words, page.viewer, page.source
    st.header(words["page_grievances"])
    with st.columns([1, 4])[0]:
        as_of = context.list_date(page, queries.grievance_dates(viewer, data))
    if as_of is None:
        return
    days = data.settings.grievance_window_days
    st.caption(words["grievances_help"].format(days=days))
    clusters = queries.grievances(viewer, data, as_of)
    if clusters.empty:
        st.info(words["no_grievances"])
        return
    _summary(clusters, words)
    table = present.grievance_table(clusters, words, days)
    picked = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="grievance_table",
        placeholder="",
        column_config={
            **{words[name]: st.column_config.NumberColumn(width="small") for name in COUNTS},
            words["growth"]: st.column_config.NumberColumn(format="%.1f", width="small"),
            words["prior_calls"].format(days=days): st.column_config.NumberColumn(width="small"),
        },
    )
    rows = _selected(picked, len(clusters))
    if rows:
        _open_cases(page, clusters.iloc[rows[0]], as_of, as_of in queries.list_dates(viewer, data))
    else:
        st.caption(words["select_grievance_hint"])
    context.export_buttons(table, f"fengqiao-grievances-{as_of.isoformat()}", words)


if __name__ == "__main__":
    context.guarded(main)
