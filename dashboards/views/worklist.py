"""A unit's worklist: the cases a list gave it (in the viewer's districts), its capacity in cases a day,
the overdue ones flagged and first, and a case opened in one step."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import context, present
from dashboards import worklist as work

CASE_KEY = "case_id"
UNIT_KEY = "worklist_unit"
COUNTS = ("assigned", "new_assigned", "acted", "overdue")


def _status(rows: pd.DataFrame, words: dict[str, str]) -> pd.Series:
    """Each case's state in words: overdue (by how many days), acted on, or still to do."""
    return pd.Series(
        [
            words["work_overdue"].format(days=days)
            if overdue
            else words["work_acted" if acted else "work_open"]
            for overdue, days, acted in zip(rows["overdue"], rows["days_overdue"], rows["acted"], strict=True)
        ],
        index=rows.index,
        dtype=object,
    )


def worklist_table(rows: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """A unit's cases as its staff read them: state, list row, dates, what was done, reasons."""
    shown = rows.assign(
        work_status=_status(rows, words),
        done_so_far=present.done_so_far(rows, words),
        assigned_on=present.when(rows["assigned_on"]),
        due_date=present.when(rows["due_date"]),
    )
    return present.localise(shown[list(work.WORKLIST_SHOWN)], words)


def units_table(units: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """Every unit's load: capacity, cases assigned, new, acted on, overdue, over capacity flagged."""
    flag = units["over_capacity"].map({True: words["over_capacity_flag"], False: ""}).astype(object)
    return present.localise(units.assign(over_capacity=flag)[list(work.UNITS_SHOWN)], words)


def _choose_unit(units: pd.DataFrame, words: dict[str, str]) -> str:
    """The unit whose worklist is shown (those with overdue cases say how many)."""
    overdue = dict(zip(units["unit"], units["overdue"], strict=True))
    return st.selectbox(
        words["unit"],
        units["unit"].tolist(),
        key=UNIT_KEY,
        format_func=lambda unit: (
            words["worklist_unit_option"].format(unit=unit, overdue=overdue[unit]) if overdue[unit] else unit
        ),
    )


def _unit_summary(unit: pd.Series, words: dict[str, str]) -> None:
    """The unit's capacity and counts, and warnings when it has overdue cases or more new cases than a day's
    capacity."""
    cells = st.columns(1 + len(COUNTS))
    cells[0].metric(words["capacity"], int(unit["capacity"]))
    for cell, name in zip(cells[1:], COUNTS, strict=True):
        cell.metric(words[name], int(unit[name]))
    if unit["overdue"]:
        st.error(words["overdue_notice"].format(n=int(unit["overdue"])), icon=":material/schedule:")
    if unit["over_capacity"]:
        notice = words["over_capacity_notice"].format(
            new=int(unit["new_assigned"]), capacity=int(unit["capacity"])
        )
        st.warning(notice, icon=":material/groups:")


def _worklist(rows: pd.DataFrame, table: pd.DataFrame, words: dict[str, str]) -> Any:
    """The unit's cases, each case number a link that opens the case in one click; a row can be ticked to
    open it here."""
    display = table.assign(**{words["case_id"]: rows["case_id"].map(present.case_link)})
    return st.dataframe(
        display,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="worklist_table",
        column_config={
            words["case_id"]: st.column_config.LinkColumn(
                display_text=r"case\?case=(.+)$", help=words.get("open_case_link_help")
            ),
            words["score"]: st.column_config.NumberColumn(format="%.3f"),
            words["reasons"]: st.column_config.Column(width="large"),
        },
    )


def _open_case(rows: pd.DataFrame, picked: Any, words: dict[str, str]) -> None:
    """The button that opens the selected case (a hint until one is selected)."""
    selected = [r for r in (picked.selection.rows if picked is not None else []) if r < len(rows)]
    if not selected:
        st.caption(words["select_row_hint"])
        return
    st.session_state[CASE_KEY] = str(rows["case_id"].iloc[selected[0]])
    if st.button(words["open_case"], type="primary", key="open_worklist_case"):
        st.switch_page(context.page_script("case"))


def main() -> None:
    """The page."""
    page = context.page()
    words = page.words
    st.header(words["page_worklist"])
    as_of = context.list_date(page)
    if as_of is None:
        return
    today = work.today()
    st.caption(words["worklist_help"].format(today=today.isoformat()))
    everything = work.worklists(page.viewer, page.source, as_of, today)
    if everything.empty:
        st.info(words["worklist_none"])
        return
    units = work.units(everything, as_of)
    unit = _choose_unit(units, words)
    st.subheader(words["worklist_unit_title"].format(unit=present.plain(unit)))
    _unit_summary(units.set_index("unit").loc[unit], words)
    rows = work.unit_worklist(everything, unit)
    table = worklist_table(rows, words)
    _open_case(rows, _worklist(rows, table, words), words)
    st.download_button(
        words["download_csv"],
        present.csv_bytes(table),
        f"fengqiao-worklist-{as_of.isoformat()}.csv",
        "text/csv",
        key="worklist_csv",
    )
    with st.expander(words["units_overview"], expanded=False):
        st.dataframe(units_table(units, words), hide_index=True, key="units_table")


if __name__ == "__main__":
    context.guarded(main)
