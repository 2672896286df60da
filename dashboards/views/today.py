"""Today's list: the latest published list (or an earlier one) for the viewer's districts, filtered; every
row's reasons in full beside the table, and each case one click away."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import context, present, queries

FILTERS = ("district", "town", "category", "band", "case_age")
CODED = {"band": "band_", "case_age": "age_", "category": "category_"}
CASE_KEY = "case_id"
TABLE_KEY = "list_table"
ROWS_SHOWN = 28  # rows the table shows before it scrolls (35 px each)
ROW_PIXELS = 35
# The table's columns, most needed first (the export keeps every column of present.LIST_SHOWN).
SHOWN_FIRST = ("rank", "case_id", "band", "score", "done_so_far", "reasons", "grievance", "case_age")
SHOWN_LAST = ("district", "town", "category", "opened_at")
WIDTHS = {"reasons": "large", "done_so_far": "medium"}


def _filters(frame: pd.DataFrame, words: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """One multi-select per filterable column (in a pop-over that names how many are set); what each holds."""
    active = sum(bool(st.session_state.get(f"filter_{column}")) for column in FILTERS)
    label = words["filters_active"].format(n=active) if active else words["filters"]
    chosen = {}
    with st.popover(label, icon=":material/filter_list:", width="stretch"):
        for column in FILTERS:
            options = sorted(frame[column].dropna().unique().tolist())
            prefix = CODED.get(column)
            chosen[column] = tuple(
                st.multiselect(
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
    st.page_link(
        context.page_script("grievances"), label=words["see_grievances"], icon=":material/arrow_forward:"
    )


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
                opened_at=present.when(dormant.rows["opened_at"]),
                last_activity_at=present.when(dormant.rows["last_activity_at"]),
            )
            st.dataframe(present.localise(shown, words), hide_index=True, key="dormant_table", placeholder="")


def _selected(picked: Any, size: int) -> int | None:
    """The selected row of the table, if it is still in it (a selection outlives a change of filter)."""
    rows = picked.selection.rows if picked is not None else []
    return rows[0] if rows and rows[0] < size else None


def _list_table(shown: pd.DataFrame, table: pd.DataFrame, words: dict[str, str]) -> int | None:
    """The list with each case number a link that opens the case in one click (a new tab), sized to show
    ROWS_SHOWN rows; the row ticked to read its reasons beside it (the first at first)."""
    display = table.assign(**{words["case_id"]: shown["case_id"].map(present.case_link)})
    order = [words[name] for name in (*SHOWN_FIRST, *SHOWN_LAST)]
    config: dict[str, Any] = {
        words[name]: st.column_config.Column(width=width) for name, width in WIDTHS.items()
    }
    config[words["case_id"]] = st.column_config.LinkColumn(
        display_text=r"case\?case=(.+)$", help=words["open_case_link_help"], width=125
    )
    config[words["score"]] = st.column_config.NumberColumn(format="%.3f", width="small")
    picked = st.dataframe(
        display,
        hide_index=True,
        column_order=order,
        column_config=config,
        height=ROW_PIXELS * (min(len(display), ROWS_SHOWN) + 1) + 3,
        on_select="rerun",
        selection_mode="single-row",
        selection_default={"selection": {"rows": [0]}},
        key=TABLE_KEY,
        placeholder="",
    )
    return _selected(picked, len(display))


def _reasons_beside(row: pd.Series | None, words: dict[str, str]) -> None:
    """The ticked case's reasons in full, what was done so far, the grievance it belongs to, and the link
    that opens it here."""
    with st.container(border=True):
        if row is None:
            st.caption(words["reasons_panel_hint"])
            return
        case_id = str(row["case_id"])
        band = words.get(f"band_{row['band']}", row["band"])
        st.markdown(f"**{present.plain(case_id)}** · {band} · {row['score']:.3f}")
        st.markdown(f"**{words['current_reasons']}**")
        items = present.reason_items(row["reasons"])
        st.markdown("\n".join(f"- {present.plain(item)}" for item in items) or words["no_reasons"])
        facts = [
            (words["done_so_far"], row["done_so_far"] or words["nothing_done"]),
            (words["grievance"], row["grievance"]),
            (words["district"], " ".join(str(v) for v in (row["district"], row["town"]) if v)),
            (words["category"], words.get(f"category_{row['category']}", row["category"])),
        ]
        st.markdown("  \n".join(f"**{label}** {present.plain(value)}" for label, value in facts if value))
        st.page_link(
            context.page_script("case"),
            label=words["open_case_page"].format(case_id=case_id),
            query_params={"case": case_id},
            icon=":material/open_in_new:",
        )


def main() -> None:
    """The page."""
    page = context.page()
    words, viewer, data = page.words, page.viewer, page.source
    st.header(words["page_today"])
    date_slot, filter_slot, counts_slot = st.columns([1, 1, 3], vertical_alignment="bottom")
    with date_slot:
        as_of = context.list_date(page)
    if as_of is None:
        return
    clusters = queries.grievances(viewer, data, as_of)
    frame = queries.risk_list(viewer, data, as_of)
    frame["grievance"] = queries.surging_things(frame, clusters)
    with filter_slot:
        shown = queries.filter_list(frame, **_filters(frame, words))
    counts_slot.markdown(
        words["list_counts"].format(
            shown=len(shown),
            high=int((shown["band"] == "high").sum()),
            acted=int((shown["actions"] > 0).sum()),
        )
    )
    _grievance_notice(clusters, words)
    table = present.list_table(shown, words)
    left, right = st.columns([5, 2])
    with left:
        row = _list_table(shown, table, words) if len(shown) else None
        st.caption(words["list_help"] if len(shown) else words["no_data"])
    with right:
        rows = present.blank(shown.assign(done_so_far=present.done_so_far(shown, words)))
        _reasons_beside(None if row is None else rows.iloc[row], words)
    if row is not None:
        st.session_state[CASE_KEY] = str(shown["case_id"].iloc[row])
    context.export_buttons(table, f"fengqiao-{as_of.isoformat()}", words)
    _dormant(page, as_of)


if __name__ == "__main__":
    context.guarded(main)
