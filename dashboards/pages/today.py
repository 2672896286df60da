"""Today's list: the latest published list (or an earlier one) for the viewer's districts, filtered."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboards import context, present, queries

FILTERS = ("district", "town", "category", "band", "case_age")
CODED = {"band": "band_", "case_age": "age_"}
CASE_KEY = "case_id"


def _filters(frame: pd.DataFrame, words: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """One multi-select per filterable column; what each holds."""
    chosen = {}
    for column, slot in zip(FILTERS, st.columns(len(FILTERS)), strict=True):
        options = sorted(frame[column].dropna().unique().tolist())
        prefix = CODED.get(column)
        chosen[column] = tuple(
            slot.multiselect(
                words[column],
                options,
                key=f"filter_{column}",
                placeholder=words["any"],
                format_func=(lambda v, p=prefix: words.get(f"{p}{v}", v)) if prefix else str,
            )
        )
    return chosen


def _grievance_notice(clusters: pd.DataFrame, words: dict[str, str]) -> None:
    """How many emerging grievances came with the list (a warning when some surge), with a link to them."""
    if clusters.empty:
        return
    surges = int(clusters["surge"].sum())
    notice = words["grievance_notice"].format(n=len(clusters), m=surges)
    (st.warning if surges else st.info)(notice, icon=":material/campaign:")
    st.page_link("pages/grievances.py", label=words["see_grievances"], icon=":material/arrow_forward:")


def _dormant(page: context.PageContext, as_of: date) -> None:
    """The list's dormant cases, apart and collapsed: how many, why they are not scored, and the rows."""
    words = page.words
    dormant = queries.dormant_cases(page.viewer, page.source, as_of)
    with st.expander(f"{words['dormant_title']} ({dormant.count})", expanded=False):
        if dormant.rows is None:
            st.caption(words["dormant_none"])
            return
        st.caption(words["dormant_help"].format(days=dormant.days))
        st.metric(words["dormant_count"], dormant.count)
        if len(dormant.rows):
            shown = dormant.rows.assign(
                opened_at=dormant.rows["opened_at"].dt.strftime("%Y-%m-%d"),
                last_activity_at=dormant.rows["last_activity_at"].dt.strftime("%Y-%m-%d"),
            )
            st.dataframe(present.localise(shown, words), hide_index=True, key="dormant_table")


def main() -> None:
    """The page."""
    page = context.page()
    words, viewer, data = page.words, page.viewer, page.source
    st.header(words["page_today"])
    as_of = context.list_date(page)
    if as_of is None:
        return
    clusters = queries.grievances(viewer, data, as_of)
    _grievance_notice(clusters, words)
    frame = queries.risk_list(viewer, data, as_of)
    frame["grievance"] = queries.surging_things(frame, clusters)
    with st.expander(words["filters"], expanded=True):
        shown = queries.filter_list(frame, **_filters(frame, words))
    left, middle, right = st.columns(3)
    left.metric(words["cases_shown"], len(shown))
    middle.metric(words["high_cases"], int((shown["band"] == "high").sum()))
    right.metric(words["acted_cases"], int((shown["actions"] > 0).sum()))
    table = present.list_table(shown, words)
    picked = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="list_table",
        column_config={words["score"]: st.column_config.NumberColumn(format="%.3f")},
    )
    rows = picked.selection.rows if picked is not None else []
    if rows:
        st.session_state[CASE_KEY] = str(shown["case_id"].iloc[rows[0]])
        if st.button(words["open_case"], type="primary", key="open_case"):
            st.switch_page("pages/case.py")
    else:
        st.caption(words["select_row_hint"])
    stem = f"fengqiao-{as_of.isoformat()}"
    csv_column, excel_column = st.columns(2)
    csv_column.download_button(words["download_csv"], present.csv_bytes(table), f"{stem}.csv", "text/csv")
    excel_column.download_button(
        words["download_excel"],
        present.excel_bytes(table),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    _dormant(page, as_of)


if __name__ == "__main__":
    main()
