"""Charts drawn in the reader's browser (Vega-Lite through Altair), so Chinese district and category names
use the reader's own fonts; every title, legend, date and number in the chosen language.

Pure: frames and words in, a chart out (the pages show it with `st.altair_chart`). Empty frames are the
pages' business: they say "no data" instead of drawing an empty chart.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

# d3's zh-CN and en-US number and time locales (month and weekday names, the currency sign).
_ZH_MONTHS = [f"{m}月" for m in ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")]
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
LOCALES: dict[str, dict[str, Any]] = {
    "zh": {
        "number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]},
        "time": {
            "dateTime": "%x %A %X",
            "date": "%Y年%-m月%-d日",
            "time": "%H:%M:%S",
            "periods": ["上午", "下午"],
            "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
            "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
            "months": _ZH_MONTHS,
            "shortMonths": _ZH_MONTHS,
        },
    },
    "en": {
        "number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]},
        "time": {
            "dateTime": "%x, %X",
            "date": "%-m/%-d/%Y",
            "time": "%-I:%M:%S %p",
            "periods": ["AM", "PM"],
            "days": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
            "shortDays": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
            "months": list(_EN_MONTHS),
            "shortMonths": [month[:3] for month in _EN_MONTHS],
        },
    },
}
# Date labels on a time axis, and a full date in tooltips.
AXIS_DATES = {"zh": "%Y年%-m月%-d日", "en": "%b %-d, %Y"}
FULL_DATE = "%Y-%m-%d"
PERCENT = ".0%"
RATIO = ".2f"
RATIO_DOMAIN = (0.2, 5.0)  # the fairness chart's axis: ratios beyond it are drawn at its ends
ROW_HEIGHT = 26
LABEL_LIMIT = 320  # pixels of a category label before it is cut
MAX_MARKED_DATES = 30  # a line over more dates than this is drawn without a dot per date
# The ratios of the fairness audit drawn per group: with labels, and without (only the listing share).
LABELLED_RATIOS = ("recall_ratio", "calibration_ratio")
UNLABELLED_RATIOS = ("share_listed_ratio",)
DRIFT_STATUSES = ("ok", "warn", "alert")
DRIFT_COLOURS = ("#2ca02c", "#ff7f0e", "#d62728")


def _language(language: str) -> str:
    """A language the charts know (Chinese for anything else)."""
    return language if language in LOCALES else "zh"


def _finished(chart: alt.TopLevelMixin, language: str, height: int | alt.Step = 280) -> alt.TopLevelMixin:
    """A chart with the language's number and time locale, at the given height (or height per row)."""
    return chart.properties(height=height).configure(locale=LOCALES[_language(language)])


def _date_axis(language: str) -> alt.Axis:
    """A time axis with dates written the language's way."""
    return alt.Axis(format=AXIS_DATES[_language(language)], labelAngle=0, labelOverlap=True)


def trend_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    colour: str,
    titles: tuple[str, str, str],
    language: str,
    percent: bool = False,
    order: list[str] | None = None,
) -> alt.TopLevelMixin:
    """A value over time, one line per group (summed per date and group); bars per group when there is only
    one date. `titles` are the x axis', the y axis' and the legend's; `order` the groups' (else by name)."""
    x_title, y_title, colour_title = titles
    data = frame.groupby([x, colour], as_index=False)[y].sum()
    value_format = PERCENT if percent else ",d"
    value = alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=value_format))
    tooltip = [
        alt.Tooltip(f"{x}:T", title=x_title, format=FULL_DATE),
        alt.Tooltip(f"{colour}:N", title=colour_title),
        alt.Tooltip(f"{y}:Q", title=y_title, format=value_format),
    ]
    if data[x].nunique() <= 1:
        chart = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X(f"{colour}:N", title=colour_title, sort="-y", axis=alt.Axis(labelAngle=0)),
                y=value,
                color=alt.Color(f"{colour}:N", title=colour_title, legend=None),
                tooltip=tooltip,
            )
        )
    else:
        chart = (
            alt.Chart(data)
            .mark_line(point=data[x].nunique() <= MAX_MARKED_DATES)
            .encode(
                x=alt.X(f"{x}:T", title=x_title, axis=_date_axis(language)),
                y=value,
                color=alt.Color(f"{colour}:N", title=colour_title, sort=order),
                tooltip=tooltip,
            )
        )
    return _finished(chart, language)


def calibration_chart(calibration: pd.DataFrame, words: dict[str, str], language: str) -> alt.TopLevelMixin:
    """Observed escalation rate against predicted probability by bins of equal size, with the diagonal of
    perfect calibration."""
    top = float(max(calibration["predicted"].max(), calibration["observed"].max())) * 1.05
    model, perfect = words["scorer_model"], words["chart_perfect"]
    axes = {
        "x": alt.X("predicted:Q", title=words["chart_predicted"], axis=alt.Axis(format=PERCENT)),
        "y": alt.Y("observed:Q", title=words["chart_observed"], axis=alt.Axis(format=PERCENT)),
        "color": alt.Color(
            "series:N",
            title=None,
            scale=alt.Scale(domain=[model, perfect], range=["#1f77b4", "grey"]),
            legend=alt.Legend(orient="top-left"),
        ),
    }
    diagonal = pd.DataFrame({"predicted": [0.0, top], "observed": [0.0, top], "series": perfect})
    line = alt.Chart(diagonal).mark_line(strokeDash=[4, 4]).encode(**axes)
    bins = (
        alt.Chart(calibration[["predicted", "observed", "n"]].assign(series=model))
        .mark_line(point=True)
        .encode(
            **axes,
            tooltip=[
                alt.Tooltip("predicted:Q", title=words["chart_predicted"], format=".1%"),
                alt.Tooltip("observed:Q", title=words["chart_observed"], format=".1%"),
                alt.Tooltip("n:Q", title=words["chart_cases"], format=",d"),
            ],
        )
    )
    return _finished(alt.layer(line, bins), language, height=320)


def _scorer_order(words: dict[str, str]) -> list[str]:
    """The model first, then the rule (legend order and colours)."""
    return [words["scorer_model"], words["scorer_rule"]]


def scorer_names(scorers: pd.Series, words: dict[str, str]) -> pd.Series:
    """The model and the rule in words (other scorers as named)."""
    return scorers.map(lambda name: words.get(f"scorer_{name}", name))


def depth_chart(
    curve: pd.DataFrame, base_rate: float | None, words: dict[str, str], language: str
) -> alt.TopLevelMixin:
    """Precision at each depth of the list, model against rule, with the base rate as a dashed line."""
    data = curve.assign(scorer=scorer_names(curve["scorer"], words))
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("fraction:Q", title=words["chart_depth"], axis=alt.Axis(format=PERCENT)),
            y=alt.Y("precision:Q", title=words["chart_share_escalated"], axis=alt.Axis(format=PERCENT)),
            color=alt.Color("scorer:N", title=words["chart_scorer"], sort=_scorer_order(words)),
            tooltip=[
                alt.Tooltip("scorer:N", title=words["chart_scorer"]),
                alt.Tooltip("fraction:Q", title=words["chart_depth"], format=PERCENT),
                alt.Tooltip("precision:Q", title=words["chart_share_escalated"], format=".1%"),
            ],
        )
    )
    if base_rate is None:
        return _finished(lines, language)
    base = (
        alt.Chart(pd.DataFrame({"precision": [base_rate]}))
        .mark_rule(strokeDash=[4, 4], color="grey")
        .encode(
            y="precision:Q",
            tooltip=[alt.Tooltip("precision:Q", title=words["chart_base_rate"], format=".1%")],
        )
    )
    return _finished(alt.layer(lines, base), language)


def dated_precision_chart(
    validation: pd.DataFrame, words: dict[str, str], language: str, top: str
) -> alt.TopLevelMixin:
    """Precision at the top of the list on each held-out date, model against rule."""
    data = validation.assign(
        as_of=pd.to_datetime(validation["as_of"]), scorer=scorer_names(validation["scorer"], words)
    )
    title = words["metric_precision_at_k"].format(top=top)
    return trend_chart(
        data,
        "as_of",
        "precision_at_k",
        "scorer",
        (words["chart_held_out_date"], title, words["chart_scorer"]),
        language,
        percent=True,
        order=_scorer_order(words),
    )


def fairness_ratios(part: pd.DataFrame) -> tuple[str, ...]:
    """The ratios of an audit table the fairness chart draws: recall and calibration when it has labels, else
    the listing share (none when the table lacks them)."""
    has_labels = "positives" in part and bool(part["positives"].notna().any())
    return tuple(ratio for ratio in (LABELLED_RATIOS if has_labels else UNLABELLED_RATIOS) if ratio in part)


def _fairness_points(part: pd.DataFrame, words: dict[str, str]) -> pd.DataFrame:
    """One row per group and drawn ratio: the group's label, the ratio's name, its value and interval, and
    whether the group was judged."""
    judged = part["status"] != "insufficient"
    label = part["group"].astype(str) + judged.map({True: "", False: words["fairness_too_few"]})
    rows = [
        pd.DataFrame(
            {
                "group": label,
                "ratio_name": words[f"ratio_{ratio}"],
                "ratio": pd.to_numeric(part[ratio], errors="coerce"),
                "lo": pd.to_numeric(part.get(f"{ratio}_lo", part[ratio]), errors="coerce"),
                "hi": pd.to_numeric(part.get(f"{ratio}_hi", part[ratio]), errors="coerce"),
                "judged": judged,
            }
        )
        for ratio in fairness_ratios(part)
    ]
    points = pd.concat(rows, ignore_index=True).dropna(subset=["ratio"]).reset_index(drop=True)
    low, high = RATIO_DOMAIN  # drawn within the axis (a log scale has no 0): the tooltip tells the value
    return points.assign(**{f"{c}_drawn": points[c].clip(low, high) for c in ("ratio", "lo", "hi")})


def fairness_chart(part: pd.DataFrame, words: dict[str, str], language: str) -> alt.TopLevelMixin:
    """For the groups of one attribute: each drawn ratio to the whole population with its 95% interval, on a
    log scale around 1; groups too small to judge drawn faint. The table must have `fairness_ratios`."""
    points = _fairness_points(part, words)
    order = list(dict.fromkeys(points["group"]))
    y = alt.Y("group:N", title=None, sort=order, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    x_axis = alt.Axis(values=[0.25, 0.5, 0.8, 1, 1.25, 2, 4], format="~g")
    names = list(dict.fromkeys(points["ratio_name"]))
    offset = alt.YOffset("ratio_name:N", title=words["chart_ratio_metric"], sort=names)
    colour = alt.Color(
        "ratio_name:N", title=words["chart_ratio_metric"], sort=names, legend=alt.Legend(orient="top")
    )
    opacity = alt.Opacity("judged:N", scale=alt.Scale(domain=[True, False], range=[1.0, 0.3]), legend=None)
    tooltip = [
        alt.Tooltip("group:N", title=words["fairness_group"]),
        alt.Tooltip("ratio_name:N", title=words["chart_ratio_metric"]),
        alt.Tooltip("ratio:Q", title=words["chart_ratio_value"], format=RATIO),
        alt.Tooltip("lo:Q", title=words["chart_interval_low"], format=RATIO),
        alt.Tooltip("hi:Q", title=words["chart_interval_high"], format=RATIO),
    ]
    base = alt.Chart(points).encode(y=y, yOffset=offset, color=colour, opacity=opacity, tooltip=tooltip)
    scale = alt.Scale(type="log", domain=list(RATIO_DOMAIN))
    x = alt.X("lo_drawn:Q", title=words["chart_ratio_to_overall"], scale=scale, axis=x_axis)
    whiskers = base.mark_rule(strokeWidth=2).encode(x=x, x2="hi_drawn:Q")
    dots = base.mark_point(filled=True, size=60).encode(x=alt.X("ratio_drawn:Q", scale=scale))
    one = alt.Chart(pd.DataFrame({"ratio": [1.0]})).mark_rule(strokeDash=[4, 4], color="grey")
    one = one.encode(x="ratio:Q")
    step = alt.Step(ROW_HEIGHT // max(len(names), 1))  # the height of one ratio of one group
    return _finished(alt.layer(one, whiskers, dots), language, height=step)


def drift_chart(drift: pd.DataFrame, words: dict[str, str], language: str) -> alt.TopLevelMixin:
    """The population stability index of each compared feature, largest first, coloured by status."""
    data = drift[drift["psi"].notna()].assign(
        status_name=lambda frame: frame["status"].map(lambda s: words.get(f"drift_{s}", s))
    )
    domain = [words[f"drift_{status}"] for status in DRIFT_STATUSES]
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("psi:Q", title=words["drift_psi"]),
            y=alt.Y("feature:N", title=None, sort="-x", axis=alt.Axis(labelLimit=LABEL_LIMIT)),
            color=alt.Color(
                "status_name:N",
                title=words["drift_status_title"],
                scale=alt.Scale(domain=domain, range=list(DRIFT_COLOURS)),
            ),
            tooltip=[
                alt.Tooltip("feature:N", title=words["drift_feature"]),
                alt.Tooltip("psi:Q", title=words["drift_psi"], format=".2f"),
                alt.Tooltip("status_name:N", title=words["drift_status_title"]),
            ],
        )
    )
    return _finished(chart, language, height=alt.Step(ROW_HEIGHT))
