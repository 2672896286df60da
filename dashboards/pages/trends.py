"""Trends: listed and escalated cases over time by district or category, and how past lists did."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import context, present, queries

GROUPS = ("district", "category")


def _chart(frame: pd.DataFrame, index: str, group: str, value: str, words: dict[str, str]) -> None:
    """A line chart of one value over time, one line per group (bars for a single date; a note if empty)."""
    if frame.empty:
        st.caption(words["no_data"])
        return
    table = frame.pivot_table(index=index, columns=group, values=value, aggfunc="sum", fill_value=0)
    if len(table) > 1:
        st.line_chart(table, height=280)
    else:
        st.bar_chart(table.iloc[-1].rename(value), height=280)


def main() -> None:
    """The page."""
    page = context.page()
    words, viewer, data = page.words, page.viewer, page.source
    st.header(words["page_trends"])
    group = st.radio(
        words["group_by"], GROUPS, format_func=lambda g: words[g], horizontal=True, key="trend_group"
    )
    listed = queries.listed_trend(viewer, data)
    escalations = queries.escalation_trend(viewer, data)
    left, right = st.columns(2)
    with left:
        st.subheader(words["listed_trend"])
        worked = listed[listed["band"].isin(queries.WORKED_BANDS)]
        _chart(worked, "as_of", group, "cases", words)
    with right:
        st.subheader(words["escalation_trend"])
        _chart(escalations, "week", group, "escalations", words)
    st.subheader(words["realised"])
    st.caption(words["realised_help"].format(horizon=data.settings.horizon_days))
    realised = queries.realised_precision(viewer, data)
    if realised.empty:
        st.caption(words["no_data"])
    else:
        st.line_chart(realised.pivot_table(index="as_of", columns="band", values="rate"), height=240)
        st.dataframe(
            present.localise(realised.assign(as_of=realised["as_of"].dt.date), words), hide_index=True
        )
    outcomes = queries.city_outcomes(viewer, data)
    if len(outcomes):
        st.subheader(words["city_outcomes"])
        st.dataframe(outcomes, hide_index=True)


if __name__ == "__main__":
    main()
