"""The generalization benchmark's measures (pure): precision and recall in the top share of a date's open
cases, the figures of a scenario over its dates, and the mean and worst over scenarios against issue 16's
targets."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from bench.generalization_scenarios import by_city
from contracts.evaluation import NEW_CASE_DAYS
from contracts.timeparse import as_of_instant, parse_datetimes
from models.metrics import top_k

SCORE_DATES = 7
STEP_DAYS = 14
TOP_FRACTION = 0.05
RANKINGS = ("product", "truth", "rule")
TRUTH_COLUMNS = ("as_of", "case_id", "p_escalation", "escalated")
TARGET_TRUTH, TARGET_RULE, TARGET_MEAN_TRUTH = 0.85, 1.6, 0.90
# and recall in the top 5% among new cases within this of that among ongoing cases (the product's).
TARGET_RECALL_GAP = 0.1
AGES = ("new", "ongoing")
RECALL_RANKINGS = ("product", "truth")


def tie_order(case_ids: Sequence[str]) -> np.ndarray:
    """A fixed pseudo-random order of case ids (a hash, unrelated to age or district) for breaking ties."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(str(c).encode(), digest_size=8).digest(), "big") for c in case_ids],
        dtype=np.uint64,
    )


def precision_at_share(
    labels: np.ndarray, scores: np.ndarray, case_ids: Sequence[str], fraction: float = TOP_FRACTION
) -> float:
    """Share of escalations among the top `fraction` of cases by score (at least one case); equal scores
    are ordered by `tie_order` of their case ids, so the figure is the same on every run."""
    labels = np.asarray(labels, dtype=float)
    if len(labels) == 0:
        return float("nan")
    top = in_top_share(scores, case_ids, fraction)
    return float(labels[top].sum() / top.sum())


def in_top_share(scores: np.ndarray, case_ids: Sequence[str], fraction: float = TOP_FRACTION) -> np.ndarray:
    """Whether each case is among the top `fraction` of cases by score (at least one case), equal scores
    ordered by `tie_order` of their case ids."""
    scores = np.asarray(scores, dtype=float)
    if np.isnan(scores).any():
        raise ValueError("scores hold NaN: give unranked cases the lowest score instead")
    top = np.zeros(len(scores), dtype=bool)
    if len(scores):
        top[np.lexsort((tie_order(case_ids), -scores))[: top_k(len(scores), fraction)]] = True
    return top


def recall_among(labels: np.ndarray, top: np.ndarray, group: np.ndarray) -> float | None:
    """Share of the group's escalations that are in the top (None when the group has no escalation)."""
    escalated = np.asarray(labels, dtype=bool) & np.asarray(group, dtype=bool)
    return float(top[escalated].mean()) if escalated.any() else None


def case_ages(as_of: date, opened_at: pd.Series) -> np.ndarray:
    """'new' for cases opened fewer than `contracts.evaluation.NEW_CASE_DAYS` days before the as-of instant
    (the product's own split), 'ongoing' for older ones, 'unknown' where the opening time is missing."""
    opened = pd.to_datetime(opened_at).to_numpy()
    age = as_of_instant(as_of).to_datetime64() - opened
    new = age < np.timedelta64(NEW_CASE_DAYS, "D")
    return np.where(pd.isna(opened), "unknown", np.where(new, "new", "ongoing"))


def opening_times(stored: pd.DataFrame, exported: pd.DataFrame) -> pd.Series:
    """When each case was opened, by case id: the store's `opened_at` (what the product sees), else the
    first parseable `opened_at` of the case in the city's exported cases (cases quarantined at ingest)."""
    kept = pd.Series(pd.to_datetime(stored["opened_at"]).to_numpy(), index=stored["case_id"].astype(str))
    raw = pd.Series(
        parse_datetimes(exported["opened_at"]).to_numpy(), index=exported["case_id"].astype(str)
    ).dropna()
    raw = raw[~raw.index.duplicated()]
    kept = kept[~kept.index.duplicated()]
    return kept.combine_first(raw).astype("datetime64[us]")


def list_scores(case_ids: Sequence[str], listed: pd.DataFrame) -> np.ndarray:
    """A score per case from a published list's ranks (rank 1 highest); cases not on the list score 0,
    below every listed case."""
    ranks = pd.Series(listed["rank"].to_numpy(dtype=float), index=listed["case_id"].astype(str))
    found = pd.Series(list(case_ids), dtype=str).map(ranks)
    return np.where(found.isna(), 0.0, len(listed) + 1 - found.fillna(0.0)).astype(float)


def date_figures(day: pd.DataFrame, fraction: float = TOP_FRACTION) -> dict[str, Any]:
    """One date's figures from its open cases (`case_id`, `escalated` and a score column per ranking);
    with a `case_age` column ('new', 'ongoing' or 'unknown'), also the recall in the top `fraction` among
    the escalating new and ongoing cases for the product and the truth, and how many there are."""
    labels = day["escalated"].to_numpy(dtype=float)
    ids = day["case_id"].astype(str).tolist()
    row: dict[str, Any] = {
        "n": len(day),
        "k": top_k(len(day), fraction),
        "base_rate": float(labels.mean()) if len(day) else float("nan"),
    }
    row.update({name: precision_at_share(labels, day[name].to_numpy(), ids, fraction) for name in RANKINGS})
    probabilities = day["truth"].to_numpy(dtype=float)
    row.update(
        {
            f"expected_{name}": float(probabilities[in_top_share(day[name].to_numpy(), ids, fraction)].mean())
            for name in RANKINGS
        }
    )
    if "case_age" in day:
        age = day["case_age"].to_numpy()
        for name in RECALL_RANKINGS:
            top = in_top_share(day[name].to_numpy(), ids, fraction)
            row.update({f"{name}_recall_{a}": recall_among(labels, top, age == a) for a in AGES})
        row.update({f"escalated_{a}": int(((age == a) & (labels > 0)).sum()) for a in (*AGES, "unknown")})
    return row


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when the denominator is zero or either is missing."""
    if denominator is None or numerator is None or not denominator or math.isnan(denominator):
        return None
    return float(numerator / denominator)


RECALLS = tuple(f"{name}_recall_{a}" for name in RECALL_RANKINGS for a in AGES)
COUNTS = tuple(f"escalated_{a}" for a in AGES)


def scenario_figures(dates: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A scenario's figures from its dates: mean P@5% of each ranking, the product's ratio to the truth
    and to the rule (ratios of the means), base rate and open cases per date; the expected ratios and
    the truth's own check (mean true probability of its top over its realised P@5%, 1 where the
    generator's probabilities are exact); when the dates have them,
    the mean recalls among new and ongoing escalating cases (over the dates that have such cases), the
    product's gap (ongoing minus new), the truth's own gap and the escalating new and ongoing cases per
    date."""
    means = {name: float(np.mean([d[name] for d in dates])) for name in RANKINGS}
    expected = {
        name: float(np.mean([d[f"expected_{name}"] for d in dates]))
        for name in RANKINGS
        if dates and all(f"expected_{name}" in d for d in dates)
    }
    figures = {
        **means,
        "product_sd": float(np.std([d["product"] for d in dates])),
        "ratio_to_truth": ratio(means["product"], means["truth"]),
        "ratio_to_rule": ratio(means["product"], means["rule"]),
        "base_rate": float(np.mean([d["base_rate"] for d in dates])),
        "open_cases": float(np.mean([d["n"] for d in dates])),
    }
    if len(expected) == len(RANKINGS):  # results of dates written before it was measured lack it
        figures["expected_ratio_to_truth"] = ratio(expected["product"], expected["truth"])
        figures["expected_ratio_to_rule"] = ratio(expected["product"], expected["rule"])
        figures["truth_top_calibration"] = ratio(expected["truth"], means["truth"])
    if dates and all(m in d for d in dates for m in RECALLS):
        figures.update({m: _mean_of_known([d[m] for d in dates]) for m in RECALLS})
        figures.update({m: float(np.mean([d[m] for d in dates])) for m in COUNTS})
        for name, key in (("product", "recall_gap"), ("truth", "truth_recall_gap")):
            new, ongoing = figures[f"{name}_recall_new"], figures[f"{name}_recall_ongoing"]
            figures[key] = None if new is None or ongoing is None else ongoing - new
    return figures


def _mean_of_known(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


EXPECTED = ("expected_ratio_to_truth", "expected_ratio_to_rule")
MEASURES = (
    "product",
    "truth",
    "rule",
    "ratio_to_truth",
    "ratio_to_rule",
    "base_rate",
    "open_cases",
)


def pooled(scenarios: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per city: a scenario drawn several times (`name~k`) has its figures computed again over the
    dates of every draw, with `draws` saying how many; a scenario drawn once is as it is."""
    return [
        rows[0]
        if len(rows) == 1
        else {
            "name": name,
            "family": rows[0]["family"],
            "draws": len(rows),
            "candidate": ", ".join(sorted({r["candidate"] for r in rows})),
            "seconds": {"total": sum(r["seconds"]["total"] for r in rows)},
            **scenario_figures([d for r in rows for d in r["dates"]]),
        }
        for name, rows in by_city(scenarios).items()
    ]


def overall(scenarios: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean over cities (the draws of one pooled, `pooled`) of every measure, the worst city (lowest ratio
    to the truth, then to the rule) and whether the issue's targets are met."""
    scenarios = pooled(scenarios)
    if not scenarios:
        return {}

    def mean(measure: str) -> float | None:
        values = [s[measure] for s in scenarios if s.get(measure) is not None]
        return float(np.mean(values)) if values else None

    def worst(measure: str) -> dict[str, Any]:
        scored = [s for s in scenarios if s.get(measure) is not None]
        if not scored:
            return {"scenario": None, measure: None}
        lowest = min(scored, key=lambda s: (s[measure], s["name"]))
        return {"scenario": lowest["name"], measure: lowest[measure]}

    measured = [m for m in (*EXPECTED, *RECALLS, *COUNTS) if any(m in s for s in scenarios)]
    means = {m: mean(m) for m in (*MEASURES, *measured)}
    low_truth, low_rule = worst("ratio_to_truth"), worst("ratio_to_rule")
    gap = worst_recall_gap(scenarios)
    return {
        "scenarios": len(scenarios),
        "mean": means,
        "worst_ratio_to_truth": low_truth,
        "worst_ratio_to_rule": low_rule,
        "worst_recall_gap": gap,
        "targets": {
            "every_ratio_to_truth": TARGET_TRUTH,
            "every_ratio_to_rule": TARGET_RULE,
            "mean_ratio_to_truth": TARGET_MEAN_TRUTH,
            "every_recall_gap": TARGET_RECALL_GAP,
        },
        "met": {
            "every_ratio_to_truth": _at_least(low_truth["ratio_to_truth"], TARGET_TRUTH),
            "every_ratio_to_rule": _at_least(low_rule["ratio_to_rule"], TARGET_RULE),
            "mean_ratio_to_truth": _at_least(means["ratio_to_truth"], TARGET_MEAN_TRUTH),
            "every_recall_gap": recall_gap_met(gap),
        },
    }


def worst_recall_gap(scenarios: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Of the scenarios with both product recalls, the one whose recall among new cases is furthest from
    that among ongoing cases, its gap (ongoing minus new), the truth's gap there (how far the ceiling itself
    is from the target) and the scenarios without the figure."""
    known = [s for s in scenarios if s.get("recall_gap") is not None]
    lacking = [s["name"] for s in scenarios if s.get("recall_gap") is None]
    if not known:
        return {"scenario": None, "recall_gap": None, "lacking": lacking}
    furthest = max(known, key=lambda s: (abs(s["recall_gap"]), s["name"]))
    return {
        "scenario": furthest["name"],
        "recall_gap": furthest["recall_gap"],
        "truth_recall_gap": furthest.get("truth_recall_gap"),
        "lacking": lacking,
    }


def recall_gap_met(gap: dict[str, Any]) -> bool | None:
    """Whether every scenario's |gap| is at most TARGET_RECALL_GAP: False as soon as one is over it, None
    when the others cannot tell (a scenario without the figure), else True."""
    if gap["recall_gap"] is not None and abs(gap["recall_gap"]) > TARGET_RECALL_GAP + 1e-12:
        return False
    return None if gap["lacking"] or gap["recall_gap"] is None else True


def _at_least(value: float | None, target: float) -> bool:
    return value is not None and value >= target


def evaluation_dates(
    truth_dates: Sequence[date], count: int = SCORE_DATES, step_days: int = STEP_DAYS
) -> list[date]:
    """The latest `count` dates `step_days` apart that all have truth; the first is the training date."""
    have = set(truth_dates)
    for first in sorted(have, reverse=True):
        dates = [first + timedelta(days=i * step_days) for i in range(count)]
        if all(d in have for d in dates):
            return dates
    raise ValueError(f"the truth has no {count} dates {step_days} days apart (dates: {len(have)})")
