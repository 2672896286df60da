"""How the product does on cities it was not designed on: the generalization benchmark (issue 16).

For every scenario (a simulated city with its truth), the product runs as a new deployment would: the
city's three exports are ingested into a fresh home, the model grid is trained as of a date and the
champion scores the open cases on 7 dates two weeks apart, the first being the training date. On each
date the published list is compared with the city's truth (`truth/escalation.csv`: every open case's
true escalation probability and whether it escalated within the 30-day horizon): precision in the top 5%
of the open cases (P@5%) of the product's list, of the cases ranked by their true probabilities (the
ceiling) and of the rule baseline (`models.rules`: most case-linked calls in 7 days, then the category's
rate). Also, per date, the recall in the top 5% among the escalating new cases (opened fewer than
`contracts.evaluation.NEW_CASE_DAYS` days before the date) and among the ongoing ones, for the product and the
truth. Writes bench/generalization.md and .json.

    python -m bench.generalization                              # every scenario, 8,000 cases, 540 days
    python -m bench.generalization --scenarios demo-default,demo-messy --cases 4000 --days 400
    python -m bench.generalization --render                     # the md again from the json

Scenarios: the demo simulator (`cities.demo`) at several settings of its `SimulationConfig`, and
the scenarios of the separately written generator in `cities/` when that package is importable.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import json
import math
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import REPO, code_state, machine
from contracts.evaluation import NEW_CASE_DAYS
from contracts.timeparse import as_of_instant, parse_datetimes
from models.metrics import top_k

SCORE_DATES = 7
STEP_DAYS = 14
TOP_FRACTION = 0.05
RANKINGS = ("product", "truth", "rule")
TRUTH_COLUMNS = ("as_of", "case_id", "p_escalation", "escalated")
EXPORTS = ("cases", "case_events", "hotline")
# Targets of issue 16, on every scenario and on the mean over scenarios.
TARGET_TRUTH, TARGET_RULE, TARGET_MEAN_TRUTH = 0.85, 1.6, 0.90
# and recall in the top 5% among new cases within this of that among ongoing cases (the product's).
TARGET_RECALL_GAP = 0.1
AGES = ("new", "ongoing")
RECALL_RANKINGS = ("product", "truth")
BENCH_KEY = "generalization-benchmark-key-not-a-secret-0123456789"
DEMO_FAMILY = "demo simulator"
CITIES_FAMILY = "cities generator"


# ---------------------------------------------------------------- metrics (pure)


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
    and to the rule (ratios of the means), base rate and open cases per date; when the dates have them,
    the mean recalls among new and ongoing escalating cases (over the dates that have such cases), the
    product's gap (ongoing minus new) and the escalating new and ongoing cases per date."""
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
    if dates and all(m in d for d in dates for m in RECALLS):
        figures.update({m: _mean_of_known([d[m] for d in dates]) for m in RECALLS})
        figures.update({m: float(np.mean([d[m] for d in dates])) for m in COUNTS})
        new, ongoing = figures["product_recall_new"], figures["product_recall_ongoing"]
        figures["recall_gap"] = None if new is None or ongoing is None else ongoing - new
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


def overall(scenarios: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean over scenarios of every measure, the worst scenario (lowest ratio to the truth, then to the
    rule) and whether the issue's targets are met."""
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
    that among ongoing cases, its gap (ongoing minus new) and the scenarios without the figure."""
    known = [s for s in scenarios if s.get("recall_gap") is not None]
    lacking = [s["name"] for s in scenarios if s.get("recall_gap") is None]
    if not known:
        return {"scenario": None, "recall_gap": None, "lacking": lacking}
    furthest = max(known, key=lambda s: (abs(s["recall_gap"]), s["name"]))
    return {"scenario": furthest["name"], "recall_gap": furthest["recall_gap"], "lacking": lacking}


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


# ---------------------------------------------------------------- the Markdown table (pure)


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _expected(figures: dict[str, Any]) -> str:
    """The expected ratio to the truth, n/a for results written before it was measured."""
    return _times(figures["expected_ratio_to_truth"]) if "expected_ratio_to_truth" in figures else "n/a"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else "met" if ok else "**not met**"


def _field(figures: dict[str, Any], key: str, digits: int = 2) -> str:
    """A figure that results written before it existed lack: 'n/a' there, '–' when it is None."""
    return "n/a" if key not in figures else _num(figures[key], digits)


def _pair(figures: dict[str, Any], first: str, second: str, digits: int = 2) -> str:
    return f"{_field(figures, first, digits)} / {_field(figures, second, digits)}"


def _recall_target(summary: dict[str, Any]) -> str:
    """The line on the recall target: met or not, and the worst gap (n/a for results without it)."""
    gap = summary.get("worst_recall_gap")
    if gap is None:
        return f"recall among new cases within {TARGET_RECALL_GAP} of ongoing: n/a (not measured here)."
    worst = (
        f"worst gap (ongoing − new) {round(gap['recall_gap'], 2) + 0.0:+.2f} on **{gap['scenario']}**"
        if gap["recall_gap"] is not None
        else "no scenario has both figures"
    )
    lacking = f"; without the figure: {', '.join(gap['lacking'])}" if gap["lacking"] else ""
    return (
        f"recall among new cases within {TARGET_RECALL_GAP} of ongoing: "
        f"{_mark(summary['met'].get('every_recall_gap'))} ({worst}{lacking})."
    )


def _ingested(accounting: dict[str, dict[str, int]] | None) -> str:
    """What the ingest read and quarantined, per kind of record."""
    if not accounting:
        return ""
    parts = [f"{kind} {a['read']:,} read, {a['quarantined']:,} quarantined" for kind, a in accounting.items()]
    return " Ingest: " + "; ".join(parts) + "."


def render(results: dict[str, Any]) -> str:
    """The results as Markdown: the table a person reads, then the targets, per-date figures and notes."""
    scenarios, summary = results["scenarios"], results.get("summary") or {}
    lines = [
        "# Generalization: the product on cities it was not designed on",
        "",
        f"`{results['command']}` ({results['date']}; {results['settings']['cases']:,} cases and "
        f"{results['settings']['days']} days per city unless a scenario says otherwise). Each city is "
        "ingested into a fresh home, trained as of its first date and scored on "
        f"{results['settings']['score_dates']} dates {results['settings']['step_days']} days apart; "
        f"P@{results['settings']['top_fraction']:.0%} is the share of the top "
        f"{results['settings']['top_fraction']:.0%} of each date's open cases that escalate within "
        f"{results['settings']['horizon_days']} days (the city's truth), mean over the dates.",
        "",
        "| scenario | generator | open cases / date | base rate | product P@5% "
        "| truth P@5% (ceiling) | rule P@5% | × truth | × rule | expected × truth | recall new "
        "| recall ongoing | chosen | minutes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in scenarios:
        lines.append(
            f"| {s['name']} | {s['family']} | {s['open_cases']:,.0f} | {_num(s['base_rate'])} | "
            f"**{_num(s['product'])}** | {_num(s['truth'])} | {_num(s['rule'])} | "
            f"{_times(s['ratio_to_truth'])} | {_times(s['ratio_to_rule'])} | "
            f"{_expected(s)} | "
            f"{_field(s, 'product_recall_new')} | {_field(s, 'product_recall_ongoing')} | {s['candidate']} | "
            f"{s['seconds']['total'] / 60:.1f} |"
        )
    if summary:
        m = summary["mean"]
        lines.append(
            f"| **mean of {summary['scenarios']}** | | {m['open_cases']:,.0f} | {_num(m['base_rate'])} | "
            f"**{_num(m['product'])}** | {_num(m['truth'])} | {_num(m['rule'])} | "
            f"{_times(m['ratio_to_truth'])} | {_times(m['ratio_to_rule'])} | "
            f"{_expected(m)} | "
            f"{_field(m, 'product_recall_new')} | {_field(m, 'product_recall_ongoing')} | | |"
        )
        wt, wr = summary["worst_ratio_to_truth"], summary["worst_ratio_to_rule"]
        met = summary["met"]
        lines += [
            "",
            f"Worst scenario against the truth: **{wt['scenario']}** ({_times(wt['ratio_to_truth'])}); "
            f"against the rule: **{wr['scenario']}** ({_times(wr['ratio_to_rule'])}).",
            "",
            f"Targets of issue 16: every scenario ≥ {TARGET_TRUTH}× the truth: "
            f"{_mark(met['every_ratio_to_truth'])}; every scenario ≥ {TARGET_RULE}× the rule: "
            f"{_mark(met['every_ratio_to_rule'])}; mean ≥ {TARGET_MEAN_TRUTH}× the truth: "
            f"{_mark(met['mean_ratio_to_truth'])}; {_recall_target(summary)}",
            "",
            "Expected × truth: the mean true probability of the product's top "
            f"{results['settings']['top_fraction']:.0%} over that of the truth's top, mean over the dates: "
            "the same ratio without the noise of which cases happened to escalate (with ~100 listed cases a "
            "date, the realised ratio moves by about ±0.05 from draw to draw).",
            "",
            "Recall new / ongoing: the share of the cases escalating within the horizon that are in the "
            f"product's top {results['settings']['top_fraction']:.0%}, among cases opened fewer than "
            f"{NEW_CASE_DAYS} days before the date (new) and older ones (ongoing), mean over the dates with "
            "such cases. Few cases escalate while new (see the per-date counts), so the new figure is noisy. "
            "n/a: the results were written before this was measured; –: no escalating case of the kind.",
        ]
    lines += ["", "## Scenarios", ""]
    lines += [f"- **{s['name']}** ({s['family']}): {s['description']}" for s in scenarios]
    lines += [f"- {note}" for note in results.get("notes", [])]
    lines += ["", "## Per date", ""]
    for s in scenarios:
        lines += [
            f"**{s['name']}**: trained as of {s['train_as_of']} ({s['model_version']}, "
            f"{s['candidate']}); wall time simulate {s['seconds']['simulate']:.0f} s, ingest "
            f"{s['seconds']['ingest']:.0f} s, train {s['seconds']['train']:.0f} s, score "
            f"{s['seconds']['score']:.0f} s.{_ingested(s.get('ingest'))}",
            "",
            "| as_of | open cases | k | base rate | product | truth | rule | on the list "
            "| listed, no truth | product recall new / ongoing | truth recall new / ongoing "
            "| escalating new / ongoing |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {d['as_of']} | {d['n']:,} | {d['k']} | {_num(d['base_rate'])} | {_num(d['product'])} | "
                f"{_num(d['truth'])} | {_num(d['rule'])} | {d['on_list']:,} | {d['listed_without_truth']:,} "
                f"| {_pair(d, 'product_recall_new', 'product_recall_ongoing')} | "
                f"{_pair(d, 'truth_recall_new', 'truth_recall_ongoing')} | "
                f"{_pair(d, 'escalated_new', 'escalated_ongoing', 0)} |"
                for d in s["dates"]
            ),
            "",
        ]
        if "escalated_new" in s:
            lines += [
                "Mean over the dates: product recall new / ongoing "
                f"{_pair(s, 'product_recall_new', 'product_recall_ongoing')}, truth "
                f"{_pair(s, 'truth_recall_new', 'truth_recall_ongoing')}; escalating new / ongoing cases "
                f"per date {_pair(s, 'escalated_new', 'escalated_ongoing', 1)}.",
                "",
            ]
    lines += [
        "## How it is measured",
        "",
        "- The cases of a date are the city's open cases in its truth. The product's ranking is the "
        "published list's order; open cases not on the list (dormant cases, listed apart, or cases the "
        "store does not hold as open) rank below it. Listed cases without a truth row are left out.",
        "- The rule ranks the same cases by `models.rules.rule_scores` on the point-in-time features of "
        "the date (a case without features ranks last); the ceiling ranks them by `p_escalation`.",
        "- Equal scores are ordered by a hash of the case id (`tie_order`), so every figure is reproducible.",
        "- Ratios are of the means over dates; the mean row averages the scenarios' figures and ratios.",
        "",
        f"Machine: {results['machine']['cpu_model']}, {results['machine']['usable_cores']} usable cores; "
        f"code {results['code']['commit']} (fingerprint {results['code']['fingerprint']}, "
        f"{len(results['code']['uncommitted'])} uncommitted files in the measured packages).",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """A named city: which generator, what it is, and how to write its exports and truth into a folder."""

    name: str
    family: str
    description: str
    config: dict[str, Any]
    write: Callable[[Path], object]


def demo_scenarios(cases: int, days: int) -> list[Scenario]:
    """The demo simulator at settings its `SimulationConfig` allows, which change the city's draw, size,
    record quality and group grievances (the mechanics, vocabularies and texts stay the simulator's)."""
    from cities.demo import SimulationConfig, simulate_city, write_city

    variants = {
        "demo-default": ({"seed": 7}, "the demo city's settings (seed 7, clean records, 2 grievances)"),
        "demo-seed-31": ({"seed": 31}, "another draw of the same city (seed 31)"),
        "demo-messy": (
            {"seed": 11, "messiness": 0.05},
            "messy exports: 5% of rows broken or duplicated (quarantined at ingest, so some events, "
            "escalations and closings go missing; seed 11)",
        ),
        "demo-grievances": (
            {"seed": 23, "grievances": 8},
            "8 group grievances instead of 2, so more risk comes from clusters of callers (seed 23)",
        ),
        "demo-small": (
            {"seed": 5, "n_cases": max(1, cases // 2)},
            f"half the cases ({max(1, cases // 2):,}), a smaller city with fewer escalations to learn from",
        ),
    }
    scenarios = []
    for name, (changes, description) in variants.items():
        config = SimulationConfig(**{"n_cases": cases, "days": days, **changes})
        scenarios.append(
            Scenario(
                name,
                DEMO_FAMILY,
                description,
                _plain(dataclasses.asdict(config)),
                lambda out, config=config: write_city(simulate_city(config), out),
            )
        )
    return scenarios


def cities_scenarios(cases: int, days: int) -> tuple[list[Scenario], str | None]:
    """The scenarios of the separately written generator (`cities`), sized like the others where its
    configurations have `n_cases`/`days` fields; no scenarios and the reason when it is not usable."""
    try:
        scenarios = _find(("cities", "cities.scenario"), "scenarios")
        generate = _find(("cities", "cities.hawkes"), "simulate_city")
        write = _find(("cities", "cities.hawkes"), "write_city")
    except ImportError as error:
        return [], f"the `cities` generator is not usable ({error}): demo-simulator scenarios only"
    found = []
    for name, config in dict(scenarios()).items():
        sized = sized_config(config, cases, days)
        found.append(
            Scenario(
                str(name),
                CITIES_FAMILY,
                describe_config(sized),
                _plain(_as_dict(sized)),
                lambda out, sized=sized: write(generate(sized), out),
            )
        )
    return found, None


def _find(modules: Sequence[str], name: str) -> Callable[..., Any]:
    """The first of the modules' callables called `name` (ImportError when none has it)."""
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if callable(getattr(module, name, None)):
            return getattr(module, name)
    raise ImportError(f"none of {', '.join(modules)} has {name}()")


def sized_config(config: Any, cases: int, days: int) -> Any:
    """The configuration with `n_cases` and `days` set, when it has those fields."""
    changes = {k: v for k, v in {"n_cases": cases, "days": days}.items() if hasattr(config, k)}
    if not changes:
        return config
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.replace(config, **changes)
    if hasattr(config, "model_copy"):
        return config.model_copy(update=changes)
    return config


def _as_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if hasattr(config, "model_dump"):
        return config.model_dump()
    return {"config": repr(config)}


def describe_config(config: Any) -> str:
    """What sets a generated city apart: its settings that differ from the generator's defaults."""
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        return repr(config)
    changed = [
        f"{f.name}={getattr(config, f.name)}"
        for f in dataclasses.fields(config)
        if f.name not in ("name", "n_cases", "days")
        and (f.name == "signal" or f.default is dataclasses.MISSING or getattr(config, f.name) != f.default)
    ]
    kind = type(config).__name__
    return f"{kind}: " + ("; ".join(changed) if changed else "the generator's defaults")


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values (dates and other objects as text)."""
    return json.loads(json.dumps(values, default=str))


def all_scenarios(cases: int, days: int) -> tuple[list[Scenario], list[str]]:
    """Every scenario, and notes on what could not be included."""
    cities, problem = cities_scenarios(cases, days)
    return demo_scenarios(cases, days) + cities, [problem] if problem else []


# ---------------------------------------------------------------- running the product


def read_truth(path: Path) -> pd.DataFrame:
    """A city's truth table, checked: as_of (date), case_id (text), p_escalation, escalated (bool)."""
    truth = pd.read_csv(path, dtype={"case_id": str})
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise ValueError(f"{path}: truth table lacks the columns {missing}")
    truth["as_of"] = pd.to_datetime(truth["as_of"]).dt.date
    flags = {"true": True, "false": False, "1": True, "0": False}
    truth["escalated"] = truth["escalated"].astype(str).str.lower().map(flags)
    if truth["escalated"].isna().any():
        line = int(truth.index[truth["escalated"].isna()][0]) + 2
        raise ValueError(f"{path}: line {line}: field escalated is not true/false")
    return truth


def exported_openings(path: Path) -> pd.DataFrame:
    """`case_id` and `opened_at` (text) of a city's exported cases; no rows when the file does not name
    those columns (then only the store says when cases were opened). Malformed lines are skipped."""
    try:
        return pd.read_csv(path, dtype=str, usecols=["case_id", "opened_at"], on_bad_lines="skip")
    except ValueError:
        return pd.DataFrame({"case_id": pd.Series(dtype=str), "opened_at": pd.Series(dtype=str)})


def _settings(home: Path) -> Any:
    from contracts.settings import Settings

    return Settings(home=home, pseudonym_key=BENCH_KEY)


def run_scenario(scenario: Scenario, work_dir: Path) -> dict[str, Any]:
    """Write the city, ingest it into a fresh home, train as of the first truth date of the evaluation,
    score the evaluation dates and compare each list with the truth and the rule."""
    from features import context, hotline_activity
    from features.matrix import build_features
    from models.rules import RULE_FEATURE, RULE_TIEBREAK, rule_scores
    from pipelines.ingest_flow import ingest_flow
    from pipelines.runtime import load_sources, open_warehouse
    from pipelines.score_flow import score_flow
    from pipelines.train_flow import train_flow

    folder = work_dir / scenario.name
    data, home = folder / "city", folder / "home"
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty: give a new --work-dir (every home must be fresh)")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    scenario.write(data)
    seconds["simulate"] = time.perf_counter() - clock
    truth = read_truth(data / "truth" / "escalation.csv")
    dates = evaluation_dates(sorted(set(truth["as_of"])))
    settings = _settings(home)

    clock = time.perf_counter()
    ingested = ingest_flow([data / f"{name}.csv" for name in EXPORTS], settings)
    failed = ingested.accounting[ingested.accounting["status"] == "failed"]
    if len(failed):
        raise RuntimeError(f"{scenario.name}: ingest refused {failed['source_file'].tolist()}")
    seconds["ingest"] = time.perf_counter() - clock
    accounting = {
        str(row.kind): {
            "read": int(row.read),
            "quarantined": int(row.quarantined),
            "duplicates": int(row.duplicates),
        }
        for row in ingested.accounting.itertuples()
    }

    clock = time.perf_counter()
    trained = train_flow(dates[0], settings)
    seconds["train"] = time.perf_counter() - clock

    clock = time.perf_counter()
    lists = {d: score_flow(d, settings).listed for d in dates}
    seconds["score"] = time.perf_counter() - clock

    sources = load_sources(open_warehouse(settings))
    opened = opening_times(sources.cases, exported_openings(data / "cases.csv"))
    rows = []
    for d in dates:
        day = truth[truth["as_of"] == d][["case_id", "p_escalation", "escalated"]].reset_index(drop=True)
        known = sources.known_before(as_of_instant(d))
        features = build_features(known, d, (hotline_activity, context))
        rule = pd.Series(rule_scores(features[[RULE_FEATURE, RULE_TIEBREAK]]), index=features["case_id"])
        day["truth"] = day["p_escalation"].astype(float)
        day["rule"] = day["case_id"].map(rule).fillna(-1.0).to_numpy(dtype=float)
        day["product"] = list_scores(day["case_id"], lists[d])
        day["case_age"] = case_ages(d, day["case_id"].map(opened))
        listed = set(lists[d]["case_id"].astype(str))
        rows.append(
            {
                "as_of": d.isoformat(),
                **date_figures(day),
                "on_list": int(day["case_id"].isin(listed).sum()),
                "listed_without_truth": len(listed - set(day["case_id"])),
            }
        )
    seconds["total"] = sum(seconds.values())
    return {
        "name": scenario.name,
        "family": scenario.family,
        "description": scenario.description,
        "config": scenario.config,
        "train_as_of": dates[0].isoformat(),
        "model_version": trained.model_version,
        "candidate": trained.candidate,
        "grid": [
            {k: v for k, v in g.items() if k != "estimator"} for g in trained.grid.to_dict(orient="records")
        ],
        "training_snapshots": trained.n_snapshots,
        "training_base_rate": trained.base_rate,
        "ingest": accounting,
        "dates": rows,
        **scenario_figures(rows),
        "seconds": seconds,
    }


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen scenarios (or re-render) and write bench/generalization.md and .json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    parser.add_argument("--cases", type=int, default=8_000, help="cases per city (default 8,000)")
    parser.add_argument("--days", type=int, default=540, help="days of exports per city (default 540)")
    parser.add_argument("--work-dir", type=Path, default=None, help="folder for the cities and homes (kept)")
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="where the md and json go")
    parser.add_argument("--render", action="store_true", help="only rewrite the md from the json")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    json_path, md_path = args.out / "generalization.json", args.out / "generalization.md"
    if args.render:
        md_path.write_text(render(json.loads(json_path.read_text(encoding="utf-8"))), encoding="utf-8")
        print(md_path.read_text(encoding="utf-8"))
        return
    scenarios, notes = all_scenarios(args.cases, args.days)
    if args.list:
        for s in scenarios:
            print(f"{s.name:24} {s.family:18} {s.description}")
        for note in notes:
            print(note)
        return
    chosen = _chosen(scenarios, args.scenarios)
    # Prefect reads its settings when first imported: a loaded machine needs more than its 20 s default
    # for the temporary server, which this process starts once for every scenario.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory(prefix="fengqiao-generalization-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        results = []
        for scenario in chosen:
            print(f"== {scenario.name} ({scenario.family}) in {work_dir / scenario.name}", flush=True)
            try:
                results.append(run_scenario(scenario, work_dir))
            except Exception as error:  # one failed city must not lose the others' figures
                traceback.print_exc()
                notes.append(f"{scenario.name} failed, not in the table: {type(error).__name__}: {error}")
                continue
            shown = ("name", *MEASURES, "product_recall_new", "product_recall_ongoing")
            print(json.dumps({k: results[-1].get(k) for k in shown}, default=str), flush=True)
    settings = _settings(Path(scratch))
    figures = {
        "command": "python -m bench.generalization"
        + (f" --scenarios {args.scenarios}" if args.scenarios else "")
        + f" --cases {args.cases} --days {args.days}",
        "date": date.today().isoformat(),
        "settings": {
            "cases": args.cases,
            "days": args.days,
            "score_dates": SCORE_DATES,
            "step_days": STEP_DAYS,
            "top_fraction": TOP_FRACTION,
            "horizon_days": settings.horizon_days,
            "candidates": list(settings.candidates),
        },
        "notes": notes,
        "scenarios": results,
        "summary": overall(results),
        "machine": machine(),
        "code": code_state(("contracts", "features", "models", "pipelines", "ingest", "cities")),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    md_path.write_text(render(figures), encoding="utf-8")
    print(render(figures))


def _chosen(scenarios: list[Scenario], names: str) -> list[Scenario]:
    """The scenarios named (all when none), in the order given; an unknown name is an error."""
    if not names:
        return scenarios
    by_name = {s.name: s for s in scenarios}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {sorted(by_name)}")
    return [by_name[n] for n in wanted]


if __name__ == "__main__":
    main()
