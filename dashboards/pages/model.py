"""The model: the champion, its card, validation, calibration and fairness, analysts' feedback rates,
and the latest daily-run and drift reports."""

from __future__ import annotations

import streamlit as st

from dashboards import audit, context, present, queries
from warehouse.accounts import Role

FEEDBACK_DAYS = 90
AUDIT_ROWS = 200


def _champion(page: context.PageContext) -> None:
    """The champion's version, summary, card, tables and figures."""
    words, viewer = page.words, page.viewer
    with st.spinner(words["loading_model"]):
        view = context.model_view(
            page.source,
            page.source.settings.mlflow_tracking_uri,
            viewer.name,
            viewer.role.value,
            viewer.districts,
            page.language,
        )
    if view is None:
        st.info(words["no_model"])
        return
    st.metric(words["champion"], view.version)
    with st.expander(words["model_card"]):
        st.markdown(view.card)
    left, right = st.columns(2)
    with left:
        st.subheader(words["validation"])
        st.dataframe(present.localise(view.summary, words), hide_index=True, height=300)
        if "model_grid" in view.tables:
            st.subheader(words["model_grid"])
            st.dataframe(view.tables["model_grid"], hide_index=True)
    with right:
        st.subheader(words["calibration"])
        if "calibration" in view.figures:
            st.image(view.figures["calibration"])
        if "precision_by_depth" in view.figures:
            st.image(view.figures["precision_by_depth"])
    st.subheader(words["fairness"])
    if "fairness" in view.tables:
        st.dataframe(view.tables["fairness"], hide_index=True)
    if "fairness" in view.figures:
        st.image(view.figures["fairness"])
    if "subsets" in view.tables:
        st.subheader(words["subsets"])
        st.dataframe(view.tables["subsets"], hide_index=True)


def _operations(page: context.PageContext) -> None:
    """Feedback rates, the daily runs and the latest drift."""
    words, viewer, data = page.words, page.viewer, page.source
    st.subheader(words["feedback_rates"].format(days=FEEDBACK_DAYS))
    rates = queries.feedback_rates(viewer, data, FEEDBACK_DAYS)
    st.dataframe(
        present.localise(rates, words),
        hide_index=True,
        column_config={
            words["action_rate"]: st.column_config.NumberColumn(format="percent"),
            words["override_rate"]: st.column_config.NumberColumn(format="percent"),
        },
    )
    st.subheader(words["run_reports"])
    reports = queries.run_reports(viewer, data)
    if len(reports):
        st.dataframe(present.localise(reports, words), hide_index=True)
    else:
        st.caption(words["no_data"])
    as_of, drift, picture = queries.latest_drift(viewer, data)
    if as_of is not None:
        st.subheader(words["drift"].format(as_of=as_of))
        if len(drift):
            st.dataframe(drift, hide_index=True)
        if picture is not None:
            st.image(picture)


def _audit_log(page: context.PageContext) -> None:
    """The latest logins, refusals, logouts, idle timeouts and cases opened (administrators only)."""
    if page.viewer.role is not Role.ADMIN:
        return
    words = page.words
    with st.expander(words["audit_log"].format(n=AUDIT_ROWS)):
        events = audit.recent(page.source, AUDIT_ROWS)
        if events.empty:
            st.caption(words["no_data"])
        else:
            st.dataframe(present.audit_table(events, words), hide_index=True, key="audit_table")


def main() -> None:
    """The page."""
    page = context.page()
    st.header(page.words["page_model"])
    _champion(page)
    _operations(page)
    _audit_log(page)


if __name__ == "__main__":
    main()
