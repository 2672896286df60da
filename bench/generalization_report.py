"""The generalization benchmark's results as Markdown (pure): the table a person reads, the targets, the
figures per date and how they are measured."""

from __future__ import annotations

import math
from typing import Any

from bench.generalization_figures import (
    TARGET_MEAN_TRUTH,
    TARGET_RECALL_GAP,
    TARGET_RULE,
    TARGET_TRUTH,
    pooled,
)
from contracts.evaluation import NEW_CASE_DAYS


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
    truth_gap = gap.get("truth_recall_gap")
    ceiling = f", where the truth's own top has {_signed(truth_gap)}" if truth_gap is not None else ""
    worst = (
        f"worst gap (ongoing − new) {_signed(gap['recall_gap'])} on **{gap['scenario']}**{ceiling}"
        if gap["recall_gap"] is not None
        else "no scenario has both figures"
    )
    lacking = f"; without the figure: {', '.join(gap['lacking'])}" if gap["lacking"] else ""
    return (
        f"recall among new cases within {TARGET_RECALL_GAP} of ongoing: "
        f"{_mark(summary['met'].get('every_recall_gap'))} ({worst}{lacking})."
    )


def _truth_check(scenarios: list[dict[str, Any]]) -> str:
    """The line on whether each city's true probabilities are exact: their top's mean over its realised
    precision (n/a for results written before it was measured)."""
    checks = ", ".join(f"{s['name']} {_field(s, 'truth_top_calibration')}" for s in scenarios)
    return (
        "Truth check (the mean true probability of the truth's top over its realised P@5%; about 1 where a "
        "generator's probabilities are exact, give or take 0.06 of noise): "
        f"{checks}. Where it is well above 1 (the demo simulator's closed-form `p_escalation`, "
        "1 − exp(−horizon × today's hazard), without `truth_paths`: it ignores the tension's return towards "
        "its base and closings within the horizon), the expected ratio is biased and the "
        "realised ratio is the one to judge by."
    )


def _signed(value: float) -> str:
    return f"{round(value, 2) + 0.0:+.2f}"


def _ingested(accounting: dict[str, dict[str, int]] | None) -> str:
    """What the ingest read and quarantined, per kind of record."""
    if not accounting:
        return ""
    parts = [f"{kind} {a['read']:,} read, {a['quarantined']:,} quarantined" for kind, a in accounting.items()]
    return " Ingest: " + "; ".join(parts) + "."


def _pooled_lines(scenarios: list[dict[str, Any]]) -> list[str]:
    """Rows for the cities drawn more than once, each over the dates of all its draws (what the mean, the
    worst and the targets use for them)."""
    lines = []
    for s in (p for p in pooled(scenarios) if p.get("draws")):
        lines.append(
            f"| {s['name']}, {s['draws']} draws pooled | {s['family']} | {s['open_cases']:,.0f} | "
            f"{_num(s['base_rate'])} | **{_num(s['product'])}** | {_num(s['truth'])} | {_num(s['rule'])} | "
            f"{_times(s['ratio_to_truth'])} | {_times(s['ratio_to_rule'])} | {_expected(s)} | "
            f"{_field(s, 'product_recall_new')} | {_field(s, 'product_recall_ongoing')} | {s['candidate']} | "
            f"{s['seconds']['total'] / 60:.1f} |"
        )
    return lines


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
    lines += _pooled_lines(scenarios)
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
            _truth_check(scenarios),
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
