"""The model: the champion, its card, validation, calibration and fairness, analysts' feedback rates, and the
latest daily-run and drift reports; every metric named in the user's words, charts drawn in the browser.

An analyst sees their own districts and the city's totals only. What is read from the registry is cached
per model version (a run's files never change); which version is champion is looked up once a minute.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboards import audit, charts, context, present, queries
from dashboards.source import DataSource
from warehouse.accounts import Role

FEEDBACK_DAYS = 90
AUDIT_ROWS = 200
CHAMPION_CHECK_SECONDS = 60  # a promotion or rollback shows on the page within this time
MISSING = "—"
PERCENT_METRICS = ("precision_at_k", "recall_at_k", "precision_at_list_k", "recall_at_list_k")
FAIRNESS_ATTRIBUTES = ("district", "category")
FAIRNESS_RATIOS = ("share_listed_ratio", "recall_ratio", "fpr_ratio", "calibration_ratio")


@st.cache_data(ttl=CHAMPION_CHECK_SECONDS, show_spinner=False)
def _champion_version(_source: DataSource, tracking_uri: str, model_name: str) -> str | None:
    """The champion's version number in a registry, looked up at most once a minute."""
    return queries.champion_version(_source)


@st.cache_data(max_entries=8, show_spinner=False)
def _model_files(
    _source: DataSource, tracking_uri: str, model_name: str, version: str
) -> tuple[str, dict[str, bytes]]:
    """A version's label and run files, read from the registry once per version."""
    return queries.model_files(_source, version)


def _view(page: context.PageContext) -> queries.ModelView | None:
    """The champion as this viewer may see it (None before any model is registered)."""
    settings = page.source.settings
    version = _champion_version(page.source, settings.mlflow_tracking_uri, settings.model_name)
    if version is None:
        return None
    label, files = _model_files(page.source, settings.mlflow_tracking_uri, settings.model_name, version)
    hidden = queries.hidden_districts(page.viewer, page.source)
    mask = page.words["other_district"]
    return queries.model_view_of(page.viewer, label, files, page.language, hidden, mask)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: object) -> str:
    return MISSING if _missing(value) else f"{float(value):.1%}"  # type: ignore[arg-type]


def decimal(value: object) -> str:
    return MISSING if _missing(value) else f"{float(value):.3f}"  # type: ignore[arg-type]


def ratio(value: object) -> str:
    return MISSING if _missing(value) else f"{float(value):.2f}"  # type: ignore[arg-type]


def _metric_format(metric: str) -> Callable[[object], str]:
    """How a validation metric is written: shares as percentages, scores with three decimals."""
    if metric == "lift":
        return lambda value: MISSING if _missing(value) else f"×{float(value):.2f}"  # type: ignore[arg-type]
    return percent if metric in PERCENT_METRICS else decimal


def _mean_std(mean: object, std: object, fmt: Callable[[object], str]) -> str:
    """'mean ± std' ('mean' alone without a deviation, '—' without a mean)."""
    if _missing(mean):
        return MISSING
    return fmt(mean) if _missing(std) else f"{fmt(mean)} ± {fmt(std)}"


def summary_table(summary: pd.DataFrame, words: dict[str, str], top: str, k: int) -> pd.DataFrame:
    """The validation metrics in words: name, model, rule and what the metric means."""
    rows = []
    for row in summary.itertuples(index=False):
        fmt = _metric_format(row.metric)
        rows.append(
            {
                words["metric"]: words[f"metric_{row.metric}"].format(top=top, k=k),
                words["model_model"]: _mean_std(row.model, row.model_std, fmt),
                words["model_rule"]: _mean_std(row.rule, row.rule_std, fmt),
                words["model_explanation"]: words[f"metric_{row.metric}_help"].format(top=top, k=k),
            }
        )
    return pd.DataFrame(rows)


def grid_table(grid: pd.DataFrame, words: dict[str, str], top: str) -> pd.DataFrame:
    """The candidates compared in training: name in words, precision at the top (mean ± std), the chosen."""
    return pd.DataFrame(
        {
            words["model_candidate"]: grid["candidate"].map(lambda c: words.get(f"candidate_{c}", c)),
            words["metric_precision_at_k"].format(top=top): [
                _mean_std(mean, std, percent)
                for mean, std in zip(grid["precision_at_k"], grid["precision_at_k_std"], strict=True)
            ],
            words["model_chosen"]: grid["chosen"].map({True: words["model_chosen_mark"], False: ""}),
        }
    )


def _with_interval(value: object, low: object, high: object) -> str:
    """'1.07 [1.03–1.11]' ('1.07' without an interval)."""
    if _missing(value):
        return MISSING
    return ratio(value) if _missing(low) or _missing(high) else f"{ratio(value)} [{ratio(low)}–{ratio(high)}]"


def _rate_and_ratio(row: pd.Series, rate: str, name: str) -> str:
    """'28.3% (1.00 [0.92–1.07])': a group's rate and its ratio to the whole population."""
    if _missing(row.get(rate)):
        return MISSING
    interval = _with_interval(row.get(name), row.get(f"{name}_lo"), row.get(f"{name}_hi"))
    return f"{percent(row[rate])} ({interval})"


def _group_name(attribute: str, group: str, words: dict[str, str]) -> str:
    """A group as users name it ('all cases', 'new', a category in the language, a district's own name)."""
    if attribute == "overall":
        return words["fairness_all"]
    prefix = {"new_vs_ongoing": "age_", "category": "category_"}.get(attribute)
    return words.get(f"{prefix}{group}", group) if prefix else group


def fairness_table(fairness: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """The fairness audit in words: each group's rates and ratios to the whole population, the verdict and
    what needs attention."""
    rows = []
    for _, row in fairness.iterrows():
        flagged = [words[f"ratio_{name}"] for name in str(row.get("flagged") or "").split(",") if name]
        rows.append(
            {
                words["model_attribute"]: words.get(f"attribute_{row['attribute']}", row["attribute"]),
                words["fairness_group"]: _group_name(row["attribute"], row["group"], words),
                words["chart_cases"]: int(row["n"]),
                words["fairness_share"]: _rate_and_ratio(row, "share_listed", "share_listed_ratio"),
                words["fairness_recall"]: _rate_and_ratio(row, "recall", "recall_ratio"),
                words["fairness_fpr"]: _rate_and_ratio(row, "fpr", "fpr_ratio"),
                words["fairness_predicted_observed"]: (
                    f"{percent(row.get('predicted'))} / {percent(row.get('observed'))}"
                ),
                words["fairness_calibration"]: _with_interval(
                    *(row.get(f"calibration_ratio{end}") for end in ("", "_lo", "_hi"))
                ),
                words["fairness_verdict"]: words.get(f"fairness_status_{row['status']}", row["status"]),
                words["fairness_flagged"]: "、".join(flagged),
            }
        )
    return pd.DataFrame(rows)


def subsets_table(subsets: pd.DataFrame, words: dict[str, str], top: str) -> pd.DataFrame:
    """The validation metrics on parts of the held-out data (new vs ongoing, each district and category)."""
    return pd.DataFrame(
        {
            words["model_attribute"]: subsets["subset_kind"].map(lambda k: words.get(f"attribute_{k}", k)),
            words["fairness_group"]: [
                _group_name(kind, group, words)
                for kind, group in zip(subsets["subset_kind"], subsets["subset"], strict=True)
            ],
            words["chart_cases"]: subsets["n"].astype(int),
            words["model_positives"]: subsets["positives"].astype(int),
            words["metric_precision_at_k"].format(top=top): subsets["precision_at_k"].map(percent),
            words["metric_recall_at_k"].format(top=top): subsets["recall_at_k"].map(percent),
            words["metric_roc_auc"]: subsets["roc_auc"].map(decimal),
        }
    )


def reports_table(reports: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """The daily runs' reports in words."""
    shown = reports.assign(status=reports["status"].map(lambda s: words.get(f"run_status_{s}", s)))
    names = {
        "as_of": words["as_of"],
        "status": words["status"],
        "model_version": words["model_version"],
        "open_cases": words["open_cases"],
        "high": words["high_cases"],
        "reasons": words["model_held_reasons"],
        "warnings": words["warnings"],
    }
    return shown.fillna("").rename(columns=names)


def drift_table(drift: pd.DataFrame, words: dict[str, str], phrases: dict[str, str]) -> pd.DataFrame:
    """The drift of each compared feature in words: what it is, its kind, PSI, status, what moved most."""
    return pd.DataFrame(
        {
            words["drift_feature"]: drift["column"].map(lambda column: phrases.get(column, column)),
            words["drift_kind"]: drift["kind"].map(lambda kind: words.get(f"feature_kind_{kind}", kind)),
            words["drift_psi"]: drift["psi"].map(ratio),
            words["drift_status_title"]: drift["status"].map(lambda s: words.get(f"drift_{s}", s)),
            words["drift_top_shift"]: drift.get("top_shift", pd.Series("", index=drift.index)).fillna(""),
        }
    )


def _chart(chart: object) -> None:
    st.altair_chart(chart, width="stretch")  # type: ignore[arg-type]


def _validation(view: queries.ModelView, page: context.PageContext, top: str) -> None:
    """The validation metrics, precision on each held-out date, calibration and precision by depth."""
    words, language, k = page.words, page.language, page.source.settings.list_k
    st.subheader(words["validation"])
    st.caption(words["model_validation_help"].format(top=top))
    st.dataframe(summary_table(view.summary, words, top, k), hide_index=True)
    if "validation_by_date" in view.tables:
        st.markdown(f"**{words['model_precision_by_date'].format(top=top)}**")
        _chart(charts.dated_precision_chart(view.tables["validation_by_date"], words, language, top))
    left, right = st.columns(2)
    with left:
        st.subheader(words["calibration"])
        st.caption(words["model_calibration_help"])
        if "calibration" in view.tables:
            _chart(charts.calibration_chart(view.tables["calibration"], words, language))
    with right:
        st.subheader(words["model_precision_by_depth"])
        st.caption(words["model_depth_help"])
        if "precision_by_depth" in view.tables:
            curve = view.tables["precision_by_depth"]
            _chart(charts.depth_chart(curve, view.base_rate, words, language))
    if "model_grid" in view.tables:
        st.subheader(words["model_grid"])
        st.caption(words["model_grid_help"].format(top=top))
        st.dataframe(grid_table(view.tables["model_grid"], words, top), hide_index=True)


def _fairness(view: queries.ModelView, page: context.PageContext, top: str) -> None:
    """The fairness audit as charts per attribute, its table, and the results by group."""
    words = page.words
    st.subheader(words["fairness"])
    st.caption(words["model_fairness_help"].format(top=top))
    fairness = view.tables.get("fairness", pd.DataFrame(columns=["attribute"]))
    for attribute in FAIRNESS_ATTRIBUTES:
        part = fairness[fairness["attribute"] == attribute]
        part = part.assign(group=[_group_name(attribute, group, words) for group in part["group"]])
        if len(part) and charts.fairness_ratios(part):
            st.markdown(f"**{words['model_fairness_by'].format(attribute=words[f'attribute_{attribute}'])}**")
            _chart(charts.fairness_chart(part, words, page.language))
    if len(fairness):
        with st.expander(words["model_fairness_table"]):
            st.dataframe(fairness_table(fairness, words), hide_index=True)
    if "subsets" in view.tables:
        st.subheader(words["subsets"])
        st.dataframe(subsets_table(view.tables["subsets"], words, top), hide_index=True)


def _champion(page: context.PageContext) -> queries.ModelView | None:
    """The champion's version, card, validation and fairness (the champion as shown; None before any)."""
    words = page.words
    with st.spinner(words["loading_model"]):
        view = _view(page)
    if view is None:
        st.info(words["no_model"])
        return None
    st.metric(words["champion"], view.version)
    if view.trained_as_of:
        st.caption(words["model_trained_on"].format(as_of=view.trained_as_of))
    if not page.viewer.every_district:
        st.caption(words["model_scope"])
    with st.expander(words["model_card"]):
        st.markdown(view.card)
    top = f"{page.source.settings.list_top_fraction:.0%}"
    _validation(view, page, top)
    _fairness(view, page, top)
    return view


def _operations(page: context.PageContext, view: queries.ModelView | None) -> None:
    """Feedback rates, the daily runs and the latest drift (features named by the champion's dictionary)."""
    words, viewer, data = page.words, page.viewer, page.source
    st.subheader(words["feedback_rates"].format(days=FEEDBACK_DAYS))
    rates = queries.feedback_rates(viewer, data, FEEDBACK_DAYS)
    if rates.empty:
        st.caption(words["no_data"])
    else:
        st.dataframe(
            present.localise(rates, words),
            hide_index=True,
            column_config={
                words["action_rate"]: st.column_config.NumberColumn(format="percent"),
                words["override_rate"]: st.column_config.NumberColumn(format="percent"),
            },
        )
    st.subheader(words["run_reports"])
    reports = queries.run_reports(viewer, data, mask=words["other_district"])
    if len(reports):
        st.dataframe(reports_table(reports, words), hide_index=True)
    else:
        st.caption(words["no_data"])
    as_of, drift = queries.latest_drift(viewer, data, mask=words["other_district"])
    if as_of is not None and len(drift):
        st.subheader(words["drift"].format(as_of=as_of))
        st.caption(words["model_drift_help"])
        phrases = queries.feature_phrases(view, page.language) | {"score": words["drift_score"]}
        shown = drift.assign(feature=drift["column"].map(lambda column: phrases.get(column, column)))
        if shown["psi"].notna().any():
            _chart(charts.drift_chart(shown, words, page.language))
        st.dataframe(drift_table(drift, words, phrases), hide_index=True)


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
    view = _champion(page)
    _operations(page, view)
    _audit_log(page)


if __name__ == "__main__":
    context.guarded(main)
