"""Fairness audit of a risk list by district and category: who gets listed, who is missed, who is
mis-scored.

Run on every evaluation (labels known: recall, false-positive rate and calibration per group) and on
every published list (no labels: only the share of each group that is listed). Pure: numpy and pandas
only (its picture: `models.fairness_figure`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.sampling import WEIGHT

BOUNDS = (0.8, 1.25)
OVERALL = "overall"
ALL = "all"
LABEL_RATIOS = ("recall_ratio", "fpr_ratio", "calibration_ratio")
RATIOS = ("share_listed_ratio", *LABEL_RATIOS)
COLUMNS = (
    "attribute",
    "group",
    "n",
    "n_listed",
    "share_listed",
    "share_listed_ratio",
    "positives",
    "recall",
    "recall_ratio",
    "recall_ratio_lo",
    "recall_ratio_hi",
    "fpr",
    "fpr_ratio",
    "fpr_ratio_lo",
    "fpr_ratio_hi",
    "predicted",
    "observed",
    "calibration_ratio",
    "calibration_ratio_lo",
    "calibration_ratio_hi",
    "status",
    "flagged",
)
FLAG_COLUMNS = ("attribute", "group", "metric", "ratio", "lo", "hi")
MISSING_GROUP = "(missing)"
# Largest number of resampled row indices held at once (bootstrap replicates are drawn in chunks).
_MAX_DRAWS = 1_000_000
_NAN = float("nan")


def _divide(numerator: np.ndarray | float, denominator: np.ndarray | float) -> np.ndarray:
    """Element-wise division where a zero (or missing) denominator gives NaN, never inf."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    return np.where(np.isfinite(out), out, np.nan)


def judged_bounds(table: pd.DataFrame) -> tuple[float, float]:
    """The bounds an audit table was judged with (kept in `table.attrs`), else BOUNDS."""
    lower, upper = table.attrs.get("bounds", BOUNDS)
    return float(lower), float(upper)


def _label_values(frame: pd.DataFrame, label: str) -> np.ndarray:
    values = pd.to_numeric(frame[label], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        examples = frame[label][bad].astype(str).unique()[:5].tolist()
        raise ValueError(f"column {label!r} must hold 0 or 1 in every row; found {examples}")
    return values


def _ratios(sums: np.ndarray, overall: dict[str, float]) -> dict[str, np.ndarray]:
    """Label-based rates and ratios from per-replicate sums (columns: pos, neg, listed_pos,
    listed_neg, score; one row per replicate)."""
    pos, neg, listed_pos, listed_neg, score = sums.T
    return {
        "recall_ratio": _divide(_divide(listed_pos, pos), overall["recall"]),
        "fpr_ratio": _divide(_divide(listed_neg, neg), overall["fpr"]),
        "calibration_ratio": _divide(pos, score),  # observed rate / mean score: the n cancels
    }


def _bootstrap(
    values: np.ndarray, rows: np.ndarray, overall: dict[str, float], n_boot: int, rng: np.random.Generator
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of the label-based ratios, resampling `rows` with replacement.

    The overall rates in the denominators are held fixed. Replicates are drawn as whole index
    matrices (in chunks that bound memory) and summed as draw counts times row values, so there is
    no Python loop per replicate.
    """
    m = len(rows)
    if n_boot <= 0 or m == 0:
        return {metric: (_NAN, _NAN) for metric in LABEL_RATIOS}
    chunk = max(1, _MAX_DRAWS // m)
    own = values[rows]
    draws = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        picks = rng.integers(0, m, size=(size, m)) + (np.arange(size) * m)[:, None]
        counts = np.bincount(picks.ravel(), minlength=size * m).reshape(size, m)
        draws.append(counts @ own)  # per replicate: how often each row was drawn, times its values
    ratios = _ratios(np.concatenate(draws), overall)
    intervals = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all replicates NaN -> NaN interval
        for metric, replicate in ratios.items():
            lo, hi = np.nanquantile(replicate, [0.025, 0.975])
            intervals[metric] = (float(lo), float(hi))
    return intervals


def _flags(row: dict[str, object], bounds: tuple[float, float]) -> str:
    lower, upper = bounds
    names = []
    for metric in RATIOS:
        value = float(row[metric])  # type: ignore[arg-type]
        if not np.isnan(value) and (value < lower or value > upper):
            names.append(metric)
    return ",".join(names)


def fairness_audit(
    frame: pd.DataFrame,
    *,
    groups: Sequence[str] = ("district", "category"),
    label: str | None = "label",
    min_cases: int = 50,
    min_positives: int = 10,
    n_boot: int = 200,
    seed: int = 0,
    bounds: tuple[float, float] = BOUNDS,
) -> pd.DataFrame:
    """Listing, recall, false-positive rate and calibration of every group, against the whole population.

    `frame` has one row per (as-of date, case) with the group columns, a boolean `listed` (the case
    was in the top of that day's list), a float `score` (calibrated probability) and, where known,
    a 0/1 `label` (escalated within the horizon). Without labels (`label` None or the column absent)
    every label-based column is NaN and only `share_listed_ratio` can flag.

    Returns the "overall"/"all" row, then one row per (attribute, group) in the order of `groups`
    and of the group names (missing names become "(missing)"), with the columns in `COLUMNS`.
    `share_listed_ratio`, `recall_ratio` and `fpr_ratio` are the group's rate over the overall rate;
    `calibration_ratio` is the group's own observed escalation rate over its mean score (1 = well
    calibrated within the group). A point ratio outside `bounds` (inclusive) is named in `flagged`.
    `share_listed_ratio` flags are informative only: groups with higher risk are legitimately
    listed more often, so they never count as significant (see `significant_flags`).

    A group is "insufficient" (not judged: empty `flagged`, its ratios still reported) when it has
    fewer than `min_cases` rows or, with labels, fewer than `min_positives` positives; otherwise
    "flagged" when any ratio is named, else "ok". `*_lo`/`*_hi` are 95% percentile bootstrap
    intervals (`n_boot` resamples of the group's rows, overall rates fixed, one numpy Generator
    seeded with `seed`). A zero denominator gives NaN. The bounds are kept in `table.attrs["bounds"]`.

    With a `WEIGHT` column (held-out rows of a subsampled matrix) each row stands for its weight of
    cases: every count, rate and mean is weighted (the counts rounded to whole cases), and a bootstrap
    resample draws rows with their weights.
    """
    if isinstance(groups, str):
        groups = (groups,)
    groups = tuple(groups)
    missing = [c for c in (*groups, "listed", "score") if c not in frame.columns]
    if missing:
        raise ValueError(f"fairness_audit needs the columns {missing}")
    has_labels = label is not None and label in frame.columns

    listed = frame["listed"].fillna(False).to_numpy(dtype=bool)
    score = pd.to_numeric(frame["score"]).to_numpy(dtype=float)
    labels = _label_values(frame, str(label)) if has_labels else np.full(len(frame), np.nan)
    pos = labels == 1
    neg = labels == 0
    values = np.column_stack([pos, neg, listed & pos, listed & neg, score]).astype(float)
    weights = frame[WEIGHT].to_numpy(dtype=float) if WEIGHT in frame.columns else None
    if weights is not None:
        values *= weights[:, None]
    cases = np.ones(len(frame)) if weights is None else weights

    total = values.sum(axis=0)
    n_all = len(frame)
    overall = {
        "share": float(_divide(listed.sum(), n_all))
        if weights is None
        else float(_divide(cases[listed].sum(), cases.sum())),
        "recall": float(_divide(total[2], total[0])),
        "fpr": float(_divide(total[3], total[1])),
    }
    rng = np.random.default_rng(seed)

    def row(attribute: str, group: str, rows: np.ndarray) -> dict[str, object]:
        n = len(rows) if weights is None else float(cases[rows].sum())
        n_listed = int(listed[rows].sum()) if weights is None else float(cases[rows][listed[rows]].sum())
        share = float(_divide(n_listed, n))
        sums = values[rows].sum(axis=0)
        positives, negatives, listed_pos, listed_neg, score_sum = sums
        point = {metric: float(v[0]) for metric, v in _ratios(sums[None, :], overall).items()}
        record: dict[str, object] = {
            "attribute": attribute,
            "group": group,
            "n": n,
            "n_listed": n_listed,
            "share_listed": share,
            "share_listed_ratio": float(_divide(share, overall["share"])),
            "predicted": float(_divide(score_sum, n)),
        }
        if has_labels:
            interval = _bootstrap(values, rows, overall, n_boot, rng)
            record |= {
                "positives": float(positives),
                "recall": float(_divide(listed_pos, positives)),
                "fpr": float(_divide(listed_neg, negatives)),
                "observed": float(_divide(positives, n)),
            }
            for metric in LABEL_RATIOS:
                record |= {
                    metric: point[metric],
                    f"{metric}_lo": interval[metric][0],
                    f"{metric}_hi": interval[metric][1],
                }
        # judged on the rows held, not the weighted count: a subsampled group of few rows stays too small
        held_positives = int(pos[rows].sum())
        insufficient = len(rows) < min_cases or (has_labels and held_positives < min_positives)
        record["flagged"] = "" if insufficient else _flags({**{m: _NAN for m in RATIOS}, **record}, bounds)
        record["status"] = "insufficient" if insufficient else ("flagged" if record["flagged"] else "ok")
        return record

    records = [row(OVERALL, ALL, np.arange(n_all))]
    for attribute in groups:
        names = frame[attribute].astype("string").fillna(MISSING_GROUP).to_numpy(dtype=object)
        positions = pd.Series(np.arange(n_all)).groupby(names, sort=True).indices
        for group in sorted(positions):
            records.append(row(attribute, str(group), np.asarray(positions[group])))

    table = pd.DataFrame.from_records(records).reindex(columns=list(COLUMNS))
    table[["n", "n_listed"]] = table[["n", "n_listed"]].round().astype("int64")
    numeric = [c for c in COLUMNS if c not in ("attribute", "group", "n", "n_listed", "status", "flagged")]
    table[numeric] = table[numeric].astype(float)
    table.attrs["bounds"] = (float(bounds[0]), float(bounds[1]))
    return table


def significant_flags(table: pd.DataFrame) -> pd.DataFrame:
    """Judged groups whose recall, false-positive or calibration ratio is outside the bounds with
    95% confidence (the whole bootstrap interval is outside): one row per (attribute, group, metric).

    The overall row and "insufficient" groups are never included; `share_listed_ratio` has no
    interval and is informative only. Bounds come from `table.attrs["bounds"]` (else BOUNDS).
    """
    lower, upper = judged_bounds(table)
    judged = table[(table["attribute"] != OVERALL) & (table["status"] != "insufficient")]
    found = [
        {
            "attribute": entry["attribute"],
            "group": entry["group"],
            "metric": metric,
            "ratio": float(entry[metric]),
            "lo": float(entry[f"{metric}_lo"]),
            "hi": float(entry[f"{metric}_hi"]),
        }
        for _, entry in judged.iterrows()
        for metric in LABEL_RATIOS
        if entry[f"{metric}_lo"] > upper or entry[f"{metric}_hi"] < lower
    ]
    return pd.DataFrame(found, columns=list(FLAG_COLUMNS))


def _describe(flags: pd.DataFrame) -> str:
    return "; ".join(
        f"{f.metric} of {f.attribute}={f.group} ({f.ratio:.2f}, 95% CI {f.lo:.2f}-{f.hi:.2f})"
        for f in flags.itertuples(index=False)
    )


def fairness_passes(challenger: pd.DataFrame, champion: pd.DataFrame | None) -> tuple[bool, str]:
    """Whether a new model's audit is acceptable, and one sentence saying why.

    Against a champion: it passes when it has no more significant flags than the champion. Without
    a champion: it passes when no judged group's calibration ratio is significantly outside the
    bounds (calibration within every group is what a good model must have).
    """
    lower, upper = judged_bounds(challenger)
    band = f"[{lower:g}, {upper:g}]"
    flags = significant_flags(challenger)
    if champion is None:
        calibration = flags[flags["metric"] == "calibration_ratio"]
        others = flags[flags["metric"] != "calibration_ratio"]
        if len(calibration):
            return False, (
                f"Fails: calibration is significantly outside {band} in {len(calibration)} group(s): "
                f"{_describe(calibration)}."
            )
        note = f" (other significant flags: {_describe(others)})" if len(others) else ""
        return True, f"Passes: no judged group's calibration ratio is significantly outside {band}{note}."
    rivals = significant_flags(champion)
    passed = len(flags) <= len(rivals)

    def count(table: pd.DataFrame) -> str:
        return f"{len(table)} significant flag(s)" + (f" ({_describe(table)})" if len(table) else "")

    verdict = "Passes" if passed else "Fails"
    return passed, f"{verdict}: the challenger has {count(flags)} against the champion's {count(rivals)}."
