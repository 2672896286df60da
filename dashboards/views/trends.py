"""Trends: listed and escalated cases over time by district or category, and how past lists did; charts drawn
in the browser with titles, legends and dates in the user's language."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, context, present, queries

GROUPS = ("district", "category")
# The daily run's realised quality of past lists: column -> label key, and the columns that are shares.
OUTCOME_COLUMNS = {
    "as_of": "list_date",
    "model_version": "model_version",
    "n": "outcome_n",
    "positives": "outcome_positives",
    "k": "outcome_k",
    "precision_at_k": "outcome_precision",
    "recall_at_k": "outcome_recall",
    "mean_score": "outcome_mean_score",
    "observed_rate": "outcome_observed",
    "ece": "outcome_ece",
}
OUTCOME_SHARES = ("precision_at_k", "recall_at_k", "mean_score", "observed_rate")


def _in_words(frame: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """A trend frame with its categories in the language (districts keep their own names)."""
    return frame.assign(category=frame["category"].map(lambda name: words.get(f"category_{name}", name)))


def _chart(
    frame: pd.DataFrame, x: str, y: str, colour: str, titles: tuple[str, str, str], page: context.PageContext
) -> None:
    """A value over time per group, or a note when there is nothing to draw."""
    if frame.empty:
        st.caption(page.words["no_data"])
        return
    chart = charts.trend_chart(frame, x, y, colour, titles, page.language)
    st.altair_chart(chart, width="stretch")  # type: ignore[arg-type]


def _realised(page: context.PageContext) -> None:
    """How many of each band's listed cases escalated within the horizon, per past list."""
    words, data = page.words, page.source
    st.subheader(words["realised"])
    st.caption(words["realised_help"].format(horizon=data.settings.horizon_days))
    realised = queries.realised_precision(page.viewer, data)
    if realised.empty:
        st.caption(words["no_data"])
        return
    shown = realised.assign(band=realised["band"].map(lambda band: words.get(f"band_{band}", band)))
    titles = (words["list_date"], words["trend_rate"], words["band"])
    bands = [words[f"band_{band}"] for band in ("high", "medium", "low")]
    chart = charts.trend_chart(shown, "as_of", "rate", "band", titles, page.language, True, bands)
    st.altair_chart(chart, width="stretch")  # type: ignore[arg-type]
    table = realised.assign(as_of=realised["as_of"].dt.strftime("%Y-%m-%d"))
    st.dataframe(
        present.localise(table.rename(columns={"as_of": "list_date"}), words),
        hide_index=True,
        column_config={words["rate"]: st.column_config.NumberColumn(format="percent")},
    )


def outcomes_table(outcomes: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """The daily run's quality of past lists with its columns in words (unknown columns left out)."""
    shown = outcomes[[column for column in OUTCOME_COLUMNS if column in outcomes.columns]]
    return shown.rename(columns={column: words[key] for column, key in OUTCOME_COLUMNS.items()})


def _outcomes(page: context.PageContext) -> None:
    """The city's realised list quality as the daily run measures it (city totals: shown to everyone)."""
    words = page.words
    outcomes = queries.city_outcomes(page.viewer, page.source)
    if outcomes.empty:
        return
    st.subheader(words["city_outcomes"])
    shares = {
        words[OUTCOME_COLUMNS[column]]: st.column_config.NumberColumn(format="percent")
        for column in OUTCOME_SHARES
    }
    st.dataframe(outcomes_table(outcomes, words), hide_index=True, column_config=shares)


def main() -> None:
    """The page."""
    page = context.page()
    words, viewer, data = page.words, page.viewer, page.source
    st.header(words["page_trends"])
    group = st.radio(
        words["group_by"], GROUPS, format_func=lambda g: words[g], horizontal=True, key="trend_group"
    )
    listed = _in_words(queries.listed_trend(viewer, data), words)
    escalations = _in_words(queries.escalation_trend(viewer, data), words)
    left, right = st.columns(2)
    with left:
        st.subheader(words["listed_trend"])
        worked = listed[listed["band"].isin(queries.WORKED_BANDS)]
        titles = (words["list_date"], words["trend_cases"], words[group])
        _chart(worked, "as_of", "cases", group, titles, page)
    with right:
        st.subheader(words["escalation_trend"])
        titles = (words["trend_week"], words["trend_escalations"], words[group])
        _chart(escalations, "week", "escalations", group, titles, page)
    _realised(page)
    _outcomes(page)


if __name__ == "__main__":
    context.guarded(main)
