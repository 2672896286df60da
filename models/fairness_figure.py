"""The fairness audit's picture: ratios per group with their intervals, group names drawn in a CJK font
or else in pinyin. Built without pyplot (safe under any backend); kept apart from the audit, which every
list runs, so that scoring never loads matplotlib."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from models.fairness import OVERALL, judged_bounds

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Arial Unicode MS",
)
RATIO_NAMES = {
    "share_listed_ratio": "share listed ratio",
    "recall_ratio": "recall ratio",
    "fpr_ratio": "false-positive ratio",
    "calibration_ratio": "calibration ratio",
}


def label_fonts() -> list[str] | None:
    """A font list that draws Chinese group names and Latin text: an installed CJK font, then DejaVu Sans;
    None when no CJK font is installed."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = [name for name in _CJK_FONTS if name in installed]
    return [*found[:1], "DejaVu Sans"] if found else None


def drawable_name(group: str, fonts: list[str] | None) -> str:
    """A group's name as the figure can draw it: as it is with a CJK font, else in pinyin (东湖区 ->
    Dong Hu Qu), never as boxes."""
    if fonts or group.isascii():
        return group
    from pypinyin import lazy_pinyin  # imported here: only figures on a server without CJK fonts need it

    return " ".join(lazy_pinyin(group)).title()


def fairness_figure(table: pd.DataFrame) -> Figure:
    """Ratios per group with 95% interval whiskers, one panel per attribute, the bounds band shaded.

    With labels it shows recall_ratio and calibration_ratio, without labels share_listed_ratio (no
    interval). Insufficient groups are drawn in grey. Log scale, so 0.8 and 1.25 sit symmetrically
    around 1. Built without pyplot (safe under any backend); the caller closes it.
    """
    lower, upper = judged_bounds(table)
    has_labels = bool(table["positives"].notna().any())
    metrics = (
        {"recall_ratio": "tab:blue", "calibration_ratio": "tab:orange"}
        if has_labels
        else {"share_listed_ratio": "tab:purple"}
    )
    groups = table[table["attribute"] != OVERALL]
    attributes = list(dict.fromkeys(groups["attribute"]))
    sizes = [max(1, int((groups["attribute"] == a).sum())) for a in attributes] or [1]
    figure = Figure(figsize=(7.5, 1.2 + 0.38 * sum(sizes) + 0.6 * len(sizes)), layout="constrained")
    axes_list = figure.subplots(len(sizes), 1, squeeze=False, gridspec_kw={"height_ratios": sizes})[:, 0]
    shown = (
        groups[[c for m in metrics for c in (m, f"{m}_lo", f"{m}_hi") if c in groups]]
        .to_numpy(dtype=float)
        .ravel()
    )
    shown = shown[np.isfinite(shown) & (shown > 0)]
    left = float(np.clip(np.min(shown, initial=lower / 1.6), 0.05, None))
    right = float(np.clip(np.max(shown, initial=upper * 1.6), None, 20.0))

    fonts = label_fonts()
    ticks = [t for t in (0.1, 0.25, 0.5, lower, 1.0, upper, 2.0, 4.0, 10.0) if left <= t <= right]
    offsets = np.linspace(-0.15, 0.15, len(metrics)) if len(metrics) > 1 else np.zeros(1)
    for axes, attribute in zip(axes_list, attributes or [""], strict=True):
        part = groups[groups["attribute"] == attribute].reset_index(drop=True)
        y = np.arange(len(part))[::-1].astype(float)
        insufficient = (part["status"] == "insufficient").to_numpy()
        axes.axvspan(lower, upper, color="tab:green", alpha=0.12)
        axes.axvline(1.0, color="grey", linewidth=0.8, linestyle="--")
        for offset, (metric, colour) in zip(offsets, metrics.items(), strict=True):
            ratio = part[metric].to_numpy(dtype=float)
            colours = np.where(insufficient, "lightgrey", colour)
            if f"{metric}_lo" in part:
                axes.hlines(
                    y + offset, part[f"{metric}_lo"], part[f"{metric}_hi"], colors=colours, linewidth=1.5
                )
            axes.scatter(np.clip(ratio, left, right), y + offset, c=colours, s=28, zorder=3)
        axes.set_xscale("log")
        axes.set_xlim(left, right)
        axes.set_xticks(ticks, [f"{t:g}" for t in ticks])
        axes.minorticks_off()
        axes.set_yticks(
            y,
            [
                f"{drawable_name(str(g), fonts)} (n={n}{', too few' if bad else ''})"
                for g, n, bad in zip(part["group"], part["n"], insufficient, strict=True)
            ],
            **({"fontfamily": fonts} if fonts else {}),
        )
        for tick, bad in zip(axes.yaxis.get_major_ticks(len(y)), insufficient, strict=True):
            if bad:
                tick.label1.set_color("grey")
        axes.set_ylim(-0.7, len(part) - 0.3)
        axes.set_title(f"by {attribute}" if attribute else "no groups", fontsize=10)
    handles = [Patch(color="tab:green", alpha=0.12, label=f"bounds {lower:g} to {upper:g}")]
    handles += [Line2D([], [], color=c, marker="o", label=RATIO_NAMES[m]) for m, c in metrics.items()]
    handles.append(Line2D([], [], color="lightgrey", marker="o", label="too few cases to judge"))
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    axes_list[-1].set_xlabel(
        "ratio (recall: group / overall; calibration: observed / predicted), lines: 95% intervals"
        if has_labels
        else "share of the group listed / share of all cases listed (higher risk is listed more)"
    )
    figure.suptitle("Fairness audit of the list", fontsize=11)
    return figure
