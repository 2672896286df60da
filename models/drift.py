"""Drift and health watch: is today's input like the training data, and is the run itself healthy?

At training time `reference_profile` summarises the training features and scores in a small,
JSON-serialisable dict (stored in the model's metadata). Every daily run compares its feature frame
and scores with it (`drift_table`: population stability index per column), checks its input volume
and quarantine rate against recent runs (`volume_abnormal`, `quarantine_abnormal`) and turns all of
that into one `HealthVerdict`: hold publication (keep yesterday's list, marked stale) or not, why,
and what to look at. Pure: numpy, pandas and matplotlib only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

WARN_PSI = 0.1
HOLD_PSI = 0.2
HOLD_FEATURE_SHARE = 0.3
KINDS = ("numeric", "flag", "categorical")
COLUMNS = ("column", "kind", "psi", "noise", "status", "top_shift")
PROFILE_FORMAT = "fengqiao.drift_profile/1"
MISSING = "(missing)"
OTHER = "(other)"
MAX_LEVELS = 30
HISTORY_RUNS = 28
MAD_SCALE = 1.4826
STATUS_COLOURS = {"ok": "tab:green", "warn": "tab:orange", "alert": "tab:red"}
_TRUE = frozenset({"1", "true", "t", "yes", "y"})
_FALSE = frozenset({"0", "false", "f", "no", "n"})


# --- levels and bins -------------------------------------------------------------------------------


def _number(value: float) -> str:
    """A bin edge as short text: integers without decimals, others with 4 significant digits."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def _bin_labels(edges: Sequence[float]) -> list[str]:
    """Right-closed interval labels for the bins between -inf, the cut points and +inf."""
    bounds = [-math.inf, *edges, math.inf]
    labels = [f"({_number(lo)}, {_number(hi)}]" for lo, hi in pairwise(bounds)]
    labels[-1] = labels[-1][:-1] + ")"  # nothing equals +inf's bin edge
    return [*labels, MISSING]


def _as_float(series: pd.Series) -> np.ndarray:
    """Values as floats; missing or non-numeric values become NaN."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _numeric_counts(
    values: np.ndarray, edges: Sequence[float], weights: np.ndarray | None = None
) -> np.ndarray:
    """Counts (sums of weights, when given) per right-closed bin (searchsorted on the cut points), then
    the missing count."""
    missing = np.isnan(values)
    bins = np.searchsorted(np.asarray(edges, dtype=float), values[~missing], side="left")
    if weights is not None:
        counts = np.bincount(bins, weights=weights[~missing], minlength=len(edges) + 1)
        return np.append(counts, weights[missing].sum()).astype(float)
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return np.append(counts, missing.sum()).astype(float)


def _level_name(value: Any) -> str:
    """One level as text; whole floats as integers so an int column and a float column agree."""
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _flag_name(value: Any) -> str:
    """A flag value as "0" or "1" (numbers: non-zero is "1"; yes/no and true/false words too)."""
    if isinstance(value, bool | np.bool_ | int | np.integer | float | np.floating):
        return "1" if value else "0"
    text = str(value).strip().lower()
    return "1" if text in _TRUE else "0" if text in _FALSE else str(value)


def _level_counts(
    series: pd.Series, kind: str, weights: np.ndarray | None = None
) -> tuple[list[str], np.ndarray, float]:
    """Distinct levels (as text) with their counts (sums of weights, when given), and the missing count:
    one pass by value_counts (a grouped sum when weighted)."""
    if weights is None:
        counted = series.value_counts(dropna=True, sort=False)
        missing: float = int(series.isna().sum())
    else:
        weight = pd.Series(weights, index=series.index)
        counted = weight.groupby(series, dropna=True, sort=False, observed=True).sum()
        missing = float(weight[series.isna().to_numpy()].sum())
    name = _flag_name if kind == "flag" else _level_name
    names = [name(value) for value in counted.index]  # a loop over distinct values, never rows
    merged = pd.Series(counted.to_numpy(dtype=float), index=names).groupby(level=0, sort=False).sum()
    return merged.index.tolist(), merged.to_numpy(dtype=float), missing


def _categorical_reference(
    series: pd.Series, kind: str, weights: np.ndarray | None = None
) -> tuple[list[str], np.ndarray]:
    """Reference levels and counts: flags "0", "1"; categoricals their 30 most frequent levels; then
    "(other)" (everything else, also levels first seen later) and "(missing)"."""
    names, counts, missing = _level_counts(series, kind, weights)
    order = sorted(range(len(names)), key=lambda i: (-counts[i], names[i]))
    if kind == "flag":
        kept = ["0", "1"]
    else:
        kept = [names[i] for i in order if counts[i] > 0 and names[i] not in (OTHER, MISSING)][:MAX_LEVELS]
    levels = [*kept, OTHER, MISSING]
    return levels, _assign(levels, names, counts, missing)


def _assign(levels: Sequence[str], names: Sequence[str], counts: np.ndarray, missing: float) -> np.ndarray:
    """Counts per reference level; names not among the levels are pooled into "(other)"."""
    position = {level: i for i, level in enumerate(levels)}
    other = position[OTHER]
    where = np.array([position.get(n, other) if n != MISSING else other for n in names], dtype=int)
    out = np.bincount(where, weights=counts, minlength=len(levels)) if len(names) else np.zeros(len(levels))
    out[position[MISSING]] += missing
    return out


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.full(len(counts), np.nan)


# --- reference and comparison ----------------------------------------------------------------------


def reference_profile(
    frame: pd.DataFrame, kinds: Mapping[str, str], bins: int = 10, weights: np.ndarray | None = None
) -> dict[str, Any]:
    """The training reference of every column in `kinds` (column -> "numeric" | "flag" | "categorical"),
    as a small JSON-serialisable dict to store with the model.

    Numeric: cut points at the 1/bins ... (bins-1)/bins quantiles of the non-missing values (actual
    values, deduplicated, so a count that is mostly 0 gets fewer bins), bins right-closed between
    -inf, the cut points and +inf, plus a "(missing)" bin. Flag: "0", "1", "(other)", "(missing)".
    Categorical: the 30 most frequent levels, "(other)" for the rest, "(missing)". Each column keeps
    its kind, `levels` (bin labels), `shares` (summing to 1) and, if numeric, `edges` (the cut points;
    the infinite outer edges are implied, so the dict is strict JSON). Also stores `n` and `bins`.
    With row `weights` (a subsampled matrix's), the quantiles and shares are weighted and `n` is the
    weights' effective size (Kish: (Σw)² / Σw²), what the sampling noise of the shares is judged by.
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    if len(frame) == 0:
        raise ValueError("cannot profile an empty reference frame")
    absent = [c for c in kinds if c not in frame.columns]
    if absent:
        raise ValueError(f"reference_profile: columns {absent} are not in the frame")
    quantiles = np.arange(1, bins) / bins
    columns: dict[str, dict[str, Any]] = {}
    for column, kind in kinds.items():
        if kind not in KINDS:
            raise ValueError(f"column {column!r}: kind must be one of {KINDS}, got {kind!r}")
        if kind == "numeric":
            values = _as_float(frame[column])
            present = values[~np.isnan(values)]
            weighted = {} if weights is None else {"weights": weights[~np.isnan(values)]}
            cuts = np.unique(
                np.quantile(present, quantiles, method="inverted_cdf", **weighted) if len(present) else []
            )
            edges = cuts[np.isfinite(cuts)].tolist()  # -inf and +inf are always the outer edges
            levels = _bin_labels(edges)
            counts = _numeric_counts(values, edges, weights)
            entry: dict[str, Any] = {"kind": kind, "edges": [float(e) for e in edges]}
        else:
            levels, counts = _categorical_reference(frame[column], kind, weights)
            entry = {"kind": kind}
        entry |= {"levels": levels, "shares": [float(s) for s in _shares(counts)]}
        columns[str(column)] = entry
    n = len(frame) if weights is None else round(float(weights.sum()) ** 2 / float(np.sum(weights**2)))
    return {"format": PROFILE_FORMAT, "n": n, "bins": bins, "columns": columns}


def psi(expected: Sequence[float], actual: Sequence[float], epsilon: float = 1e-4) -> float:
    """Population stability index sum((a - e) * ln(a / e)) over matching bins, shares floored at
    `epsilon`. Counts are accepted too (each side is divided by its total); an empty side gives NaN."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(f"psi needs two sequences of the same length, got {e.shape} and {a.shape}")
    if e.sum() <= 0 or a.sum() <= 0:
        return math.nan
    e = np.maximum(e / e.sum(), epsilon)
    a = np.maximum(a / a.sum(), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def _status(value: float) -> str:
    if math.isnan(value):
        return "missing"
    return "alert" if value >= HOLD_PSI else "warn" if value >= WARN_PSI else "ok"


def sampling_noise(bins: int, n_current: int, n_reference: int) -> float:
    """The PSI two samples of these sizes from one distribution rarely exceed (about 1 in 40).

    PSI between samples of one distribution is about chi-square with bins - 1 degrees of freedom
    times (1/n + 1/N): its mean plus two standard deviations. Statuses judge the PSI above this
    level, so a small city's or district's few open cases do not read as drift.
    """
    if bins < 2 or n_current < 1 or n_reference < 1:
        return 0.0
    freedom = bins - 1
    return (freedom + 2 * math.sqrt(2 * freedom)) * (1 / n_current + 1 / n_reference)


def drift_table(profile: Mapping[str, Any], current: pd.DataFrame) -> pd.DataFrame:
    """PSI of every profiled column: today's `current` frame against the reference `profile`.

    One row per profiled column with `column`, `kind`, `psi`, `noise` (the PSI sampling alone gives
    at these sizes), `status` ("ok"; "warn" at psi - noise >= WARN_PSI; "alert" at psi - noise >=
    HOLD_PSI; "missing" with psi NaN when the column is not in `current` or
    `current` has no rows) and `top_shift`, the bin or level whose share moved most, e.g.
    "(2, 5]: 12.0% -> 30.5%". Levels never seen in the reference count as "(other)". Sorted by psi,
    largest first, missing last.
    """
    records = []
    for column, entry in profile["columns"].items():
        kind = entry["kind"]
        record: dict[str, Any] = {"column": column, "kind": kind, "psi": math.nan}
        if column not in current.columns:
            records.append(record | {"status": "missing", "top_shift": "column not in today's data"})
            continue
        if len(current) == 0:
            records.append(record | {"status": "missing", "top_shift": "no rows today"})
            continue
        levels = entry["levels"]
        if kind == "numeric":
            counts = _numeric_counts(_as_float(current[column]), entry["edges"])
        elif kind in ("flag", "categorical"):
            counts = _assign(levels, *_level_counts(current[column], kind))
        else:
            raise ValueError(f"profile column {column!r} has an unknown kind {kind!r}")
        expected = np.asarray(entry["shares"], dtype=float)
        actual = _shares(counts)
        value = psi(expected, actual)
        noise = sampling_noise(
            int(np.count_nonzero((expected > 0) | (actual > 0))), len(current), profile["n"]
        )
        moved = int(np.argmax(np.abs(actual - expected)))
        shift = f"{levels[moved]}: {expected[moved]:.1%} -> {actual[moved]:.1%}"
        record |= {"psi": value, "noise": noise, "status": _status(value - noise), "top_shift": shift}
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    table["psi"] = table["psi"].astype(float)
    table = table.sort_values("psi", ascending=False, na_position="last", kind="stable")
    return table.reset_index(drop=True)


# --- run health ------------------------------------------------------------------------------------


def _recent(history: Sequence[float]) -> np.ndarray:
    """The last HISTORY_RUNS values of a history, without missing ones."""
    values = np.asarray(list(history)[-HISTORY_RUNS:], dtype=float)
    return values[np.isfinite(values)]


def _median_mad(values: np.ndarray) -> tuple[float, float]:
    """Median and the scaled median absolute deviation (MAD x 1.4826, a robust standard deviation)."""
    median = float(np.median(values))
    return median, float(np.median(np.abs(values - median))) * MAD_SCALE


def volume_abnormal(
    history: Sequence[float],
    today: float,
    min_history: int = 7,
    tolerance: float = 4.0,
    baseline: str = "the last {n} runs",
) -> tuple[bool, str]:
    """Whether today's input volume is abnormal against its history (at most the last 28 values; the daily
    run gives the same weekday of the 8 weeks before), and one sentence why.

    `baseline` says in words what the history is (with `{n}` for its length). Abnormal when
    |today - median| > tolerance * max(1.4826 * MAD, 10% of the median, 1), or when
    today is 0 while the median is above 0. With fewer than `min_history` runs it is never abnormal.
    """
    if not math.isfinite(today):
        raise ValueError(f"today's volume must be a number, got {today}")
    values = _recent(history)
    if len(values) < min_history:
        return False, (
            f"Input volume of {today:g} not judged: not enough history ({len(values)} runs, "
            f"{min_history} needed)."
        )
    median, spread = _median_mad(values)
    allowed = tolerance * max(spread, 0.1 * median, 1.0)
    window = f"the median of {median:g} over {baseline.format(n=len(values))}"
    if today == 0 and median > 0:
        return True, f"No input today (volume 0), against {window}."
    if abs(today - median) > allowed:
        direction = "above" if today > median else "below"
        return True, (
            f"Input volume of {today:g} is abnormal: {abs(today - median):g} {direction} {window}, "
            f"more than the allowed deviation of {allowed:.3g}."
        )
    return False, f"Input volume of {today:g} is normal: within {allowed:.3g} of {window}."


def quarantine_abnormal(
    history_rates: Sequence[float], today_rate: float, min_history: int = 7, ceiling: float = 0.05
) -> tuple[bool, str]:
    """Whether today's quarantine rate (quarantined / delivered rows) is abnormal, and one sentence why.

    Abnormal when it is above max(ceiling, median + 4 * 1.4826 * MAD of the last 28 rates); with fewer
    than `min_history` rates only the ceiling applies.
    """
    if not math.isfinite(today_rate):
        raise ValueError(f"today's quarantine rate must be a number, got {today_rate}")
    values = _recent(history_rates)
    if len(values) < min_history:
        limit = ceiling
        basis = f"the ceiling of {ceiling:.1%} (not enough history for more: {len(values)} runs)"
    else:
        median, spread = _median_mad(values)
        limit = max(ceiling, median + 4 * spread)
        basis = (
            f"the higher of the ceiling {ceiling:.1%} and the usual {median:.1%} + 4 x {spread:.1%} "
            f"of the last {len(values)} runs"
        )
    if today_rate > limit:
        return True, f"Quarantine rate of {today_rate:.1%} is abnormal: above {limit:.1%}, {basis}."
    return False, f"Quarantine rate of {today_rate:.1%} is normal: at most {limit:.1%}, {basis}."


@dataclass(frozen=True)
class HealthVerdict:
    """Whether to hold today's publication, why, and what to look at anyway."""

    hold: bool
    reasons: tuple[str, ...]  # why publication is held (empty when not held)
    warnings: tuple[str, ...]  # things to look at that do not hold publication

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON-serialisable values."""
        return {"hold": self.hold, "reasons": list(self.reasons), "warnings": list(self.warnings)}


def _named(rows: pd.DataFrame, limit: int = 8) -> str:
    """Columns with their PSI, e.g. "amount (0.45), district (0.31) and 2 more"."""
    names = [f"{r.column} ({r.psi:.2f})" for r in rows.head(limit).itertuples(index=False)]
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return ", ".join(names) + more


def health_verdict(
    drift: pd.DataFrame,
    score_column: str,
    volume: tuple[bool, str],
    quarantine: tuple[bool, str],
    override: bool = False,
) -> HealthVerdict:
    """Hold publication or not, from the drift table and the volume and quarantine checks.

    Holds when the score's status is "alert" (PSI beyond sampling noise >= HOLD_PSI), when
    HOLD_FEATURE_SHARE or more of the other profiled columns present today are at "alert", or when
    volume or quarantine is abnormal. Warns for
    each other column at warn or alert level, for missing columns and for checks without enough
    history. With `override`, never holds: each would-be reason becomes a warning "overridden: ...".
    """
    reasons: list[str] = []
    warnings: list[str] = []
    score = drift[drift["column"] == score_column]
    features = drift[drift["column"] != score_column]
    present = features[features["status"] != "missing"]
    strong = present[present["status"] == "alert"]

    if score.empty or score["status"].iloc[0] == "missing":
        warnings.append(f"Score drift could not be checked: {score_column!r} is not in today's drift table.")
    else:
        row = score.iloc[0]
        sentence = (
            f"the score distribution has shifted from the training reference "
            f"(PSI {row['psi']:.2f}; most moved {row['top_shift']})"
        )
        if row["status"] == "alert":
            reasons.append(f"{sentence[0].upper()}{sentence[1:]}, at or above the hold level {HOLD_PSI:g}.")
        elif row["status"] == "warn":
            warnings.append(
                f"{sentence[0].upper()}{sentence[1:]}, at or above the warning level {WARN_PSI:g}."
            )

    held_features = len(present) > 0 and len(strong) >= HOLD_FEATURE_SHARE * len(present) - 1e-9
    if held_features:
        reasons.append(
            f"{len(strong)} of {len(present)} features ({len(strong) / len(present):.0%}) have shifted "
            f"strongly from the training reference (PSI >= {HOLD_PSI:g}; publication is held at "
            f"{HOLD_FEATURE_SHARE:.0%} or more): {_named(strong)}."
        )
    for row in present[present["status"].isin(("warn", "alert"))].itertuples(index=False):
        if held_features and row.status == "alert":
            continue  # already named in the reason
        level = "strongly " if row.status == "alert" else ""
        warnings.append(
            f"Feature {row.column} has {level}shifted from the training reference "
            f"(PSI {row.psi:.2f}; most moved {row.top_shift})."
        )
    missing = features[features["status"] == "missing"]
    if len(missing):
        warnings.append(
            f"{len(missing)} profiled feature(s) could not be compared (absent or no rows today): "
            f"{', '.join(map(str, missing['column']))}."
        )

    for abnormal, sentence in (volume, quarantine):
        if abnormal:
            reasons.append(sentence)
        elif "not enough history" in sentence:
            warnings.append(sentence)

    if override and reasons:
        return HealthVerdict(False, (), (*(f"overridden: {r}" for r in reasons), *warnings))
    return HealthVerdict(bool(reasons), tuple(reasons), tuple(warnings))


def drift_figure(drift: pd.DataFrame, top: int = 20) -> Figure:
    """Horizontal bars of PSI for the `top` most drifted columns, coloured by status, with lines at
    the warning and hold levels. Built without pyplot (safe under any backend); the caller closes it."""
    shown = drift[drift["psi"].notna()].sort_values("psi", ascending=False, kind="stable").head(top)
    missing = int(drift["psi"].isna().sum())
    figure = Figure(figsize=(7.5, 1.6 + 0.3 * max(len(shown), 1)), layout="constrained")
    axes = figure.add_subplot()
    y = np.arange(len(shown))[::-1].astype(float)
    psi_values = shown["psi"].to_numpy(dtype=float)
    colours = [STATUS_COLOURS.get(s, "grey") for s in shown["status"]]
    axes.barh(y, psi_values, color=colours, height=0.7)
    axes.set_yticks(y, [str(c) for c in shown["column"]], fontsize=8)
    for level, style in ((WARN_PSI, ":"), (HOLD_PSI, "--")):
        axes.axvline(level, color="grey", linestyle=style, linewidth=1)
    axes.set_xlim(0, max(float(np.max(psi_values, initial=0.0)) * 1.1, HOLD_PSI * 1.5))
    if shown.empty:
        axes.text(0.5, 0.5, "no column could be compared", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel(f"population stability index (warn at {WARN_PSI:g}, hold at {HOLD_PSI:g})")
    handles = [Patch(color=c, label=s) for s, c in STATUS_COLOURS.items()]
    axes.legend(handles=handles, loc="lower right", fontsize=8)
    note = f"; {missing} column(s) missing" if missing else ""
    figure.suptitle(f"Drift against the training reference (top {len(shown)}{note})", fontsize=11)
    return figure
