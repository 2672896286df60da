"""Pictures a person would rather look at than read: precision by date, calibration."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure


def precision_by_date_figure(validation: pd.DataFrame, top_fraction: float) -> Figure:
    """Precision at the top share of the list on each held-out date, model against rule."""
    figure, axes = plt.subplots(figsize=(7, 3.5))
    for scorer, group in validation.groupby("scorer"):
        axes.plot(pd.to_datetime(group["as_of"]), group["precision_at_k"], marker="o", label=scorer)
    axes.set_title(f"Precision at the top {top_fraction:.0%} of the list, held-out dates")
    axes.set_ylabel("share that escalated")
    axes.set_ylim(bottom=0)
    axes.legend()
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def calibration_figure(calibration: pd.DataFrame) -> Figure:
    """Observed escalation rate against predicted probability, by equal-count bins."""
    figure, axes = plt.subplots(figsize=(4, 4))
    top = float(max(calibration["predicted"].max(), calibration["observed"].max())) * 1.05
    axes.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
    axes.plot(calibration["predicted"], calibration["observed"], marker="o", label="model")
    axes.set_xlabel("predicted probability")
    axes.set_ylabel("observed escalation rate")
    axes.set_title("Calibration on held-out dates")
    axes.legend()
    figure.tight_layout()
    return figure


def precision_curve_figure(curve: pd.DataFrame, base_rate: float) -> Figure:
    """Precision at each depth of the list (top share), model against rule, with the base rate."""
    figure, axes = plt.subplots(figsize=(6, 3.5))
    for scorer, group in curve.groupby("scorer"):
        axes.plot(group["fraction"] * 100, group["precision"], marker=".", label=scorer)
    axes.axhline(base_rate, linestyle="--", color="grey", label="base rate")
    axes.set_xlabel("top % of the list worked through")
    axes.set_ylabel("share that escalated")
    axes.set_title("Precision by list depth, held-out dates")
    axes.set_ylim(bottom=0)
    axes.legend()
    figure.tight_layout()
    return figure


def importance_figure(importance: pd.DataFrame, top: int = 15) -> Figure:
    """Mean absolute push on the log-odds of the most influential features."""
    shown = importance.head(top).iloc[::-1]
    figure, axes = plt.subplots(figsize=(6, 0.3 * len(shown) + 1.2))
    axes.barh(shown["feature"], shown["importance"])
    axes.set_xlabel("mean |contribution to log-odds|, held-out cases")
    axes.set_title("What drives the scores")
    figure.tight_layout()
    return figure
