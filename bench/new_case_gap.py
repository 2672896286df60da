"""Is issue 16's new-case target (recall in the top 5% among new cases within 0.1 of that among ongoing
cases) reachable on a city at all? Measured on the city's own true probabilities, without the product.

For each of the generalization benchmark's 7 evaluation dates (same cities, dates and new/ongoing split):
how the true probabilities of new cases compare with the top 5%'s cut-off, the truth's expected recall
among new and ongoing cases (sum of true probabilities in the top over the sum in the group), and the
cheapest list that meets the target with perfect knowledge: the top 5% made of the m riskiest new cases
and the k − m riskiest ongoing ones, m the smallest (from the truth's own top's count up) for which the
expected gap (ongoing − new) is at most 0.1. Its cost is its expected and realised P@5% against the
truth's own top.

    python -m bench.new_case_gap --scenarios demo-default,demo-default~1 --work-dir /tmp/ncg
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.generalization import _chosen, exported_openings, read_truth
from bench.generalization_figures import (
    TARGET_RECALL_GAP,
    TOP_FRACTION,
    case_ages,
    evaluation_dates,
    opening_times,
    top_k,
)
from bench.generalization_scenarios import all_scenarios


def _expected_recalls(p: np.ndarray, new: np.ndarray, chosen: np.ndarray) -> tuple[float, float]:
    """Expected recall among new and ongoing cases of a chosen set (true probabilities as weights)."""
    return (
        float(p[chosen & new].sum() / max(p[new].sum(), 1e-12)),
        float(p[chosen & ~new].sum() / max(p[~new].sum(), 1e-12)),
    )


def date_gap_figures(day: pd.DataFrame, fraction: float = TOP_FRACTION) -> dict[str, Any]:
    """One date's figures from its open cases (`p_escalation`, `escalated`, `new`): the truth's top and
    the cheapest top of the same size whose expected new-case recall is within the target of ongoing."""
    p = day["p_escalation"].to_numpy(float)
    y = day["escalated"].to_numpy(bool)
    new = day["new"].to_numpy(bool)
    k = top_k(len(day), fraction)
    order_new = np.flatnonzero(new)[np.argsort(-p[new], kind="stable")]
    order_old = np.flatnonzero(~new)[np.argsort(-p[~new], kind="stable")]
    truth_top = np.zeros(len(p), bool)
    truth_top[np.argsort(-p, kind="stable")[:k]] = True
    cut = float(np.sort(p)[::-1][k - 1])
    rec_new, rec_old = _expected_recalls(p, new, truth_top)
    constrained = None
    for m in range(int((truth_top & new).sum()), min(k, int(new.sum())) + 1):
        top = np.zeros(len(p), bool)
        top[order_new[:m]] = True
        top[order_old[: k - m]] = True
        c_new, c_old = _expected_recalls(p, new, top)
        if c_old - c_new <= TARGET_RECALL_GAP:
            constrained = {
                "m": m,
                "expected_recall_new": c_new,
                "expected_recall_ongoing": c_old,
                "expected_p_at_k": float(p[top].mean()),
                "realised_p_at_k": float(y[top].mean()),
                "new_expected_escalations": float(p[top & new].sum()),
                "new_escalated": int((top & new & y).sum()),
                "realised_recall_new": float(top[y & new].mean()) if (y & new).any() else None,
                "realised_recall_ongoing": float(top[y & ~new].mean()) if (y & ~new).any() else None,
            }
            break
    return {
        "n": len(p),
        "k": k,
        "new_cases": int(new.sum()),
        "new_in_truth_top": int((truth_top & new).sum()),
        "cut_off": cut,
        "mean_p_new": float(p[new].mean()) if new.any() else None,
        "mean_p_ongoing": float(p[~new].mean()),
        "max_p_new": float(p[new].max()) if new.any() else None,
        "escalated_new": int((y & new).sum()),
        "escalated_ongoing": int((y & ~new).sum()),
        "truth_expected_p_at_k": float(p[truth_top].mean()),
        "truth_realised_p_at_k": float(y[truth_top].mean()),
        "truth_expected_recall_new": rec_new,
        "truth_expected_recall_ongoing": rec_old,
        "truth_realised_recall_new": float(truth_top[y & new].mean()) if (y & new).any() else None,
        "truth_realised_recall_ongoing": float(truth_top[y & ~new].mean()) if (y & ~new).any() else None,
        "constrained": constrained,
    }


def city_figures(folder: Path) -> list[dict[str, Any]]:
    """Every evaluation date's figures for a written city (its `truth/escalation.csv` and `cases.csv`)."""
    truth = read_truth(folder / "truth" / "escalation.csv")
    exported = exported_openings(folder / "cases.csv")
    no_store = pd.DataFrame({"case_id": pd.Series(dtype=str), "opened_at": pd.Series(dtype=str)})
    opened = opening_times(no_store, exported)
    rows = []
    for d in evaluation_dates(sorted(set(truth["as_of"]))):
        day = truth[truth["as_of"] == d].reset_index(drop=True)
        day["new"] = case_ages(d, day["case_id"].map(opened)) == "new"
        rows.append({"as_of": d.isoformat(), **date_gap_figures(day)})
    return rows


def _known_mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Sums and means over dates: share of new cases, of escalations that are new, the truth's expected
    recalls, and the constrained top's cost against the truth (ratio of mean P@5%)."""
    met = [r for r in rows if r["constrained"]]

    def mean(key: str, items: Sequence[dict[str, Any]] = rows) -> float:
        return float(np.mean([r[key] for r in items]))

    return {
        "dates": len(rows),
        "new_share_of_open": sum(r["new_cases"] for r in rows) / sum(r["n"] for r in rows),
        "new_share_of_escalations": sum(r["escalated_new"] for r in rows)
        / max(1, sum(r["escalated_new"] + r["escalated_ongoing"] for r in rows)),
        "mean_p_new": mean("mean_p_new"),
        "mean_p_ongoing": mean("mean_p_ongoing"),
        "max_p_new_over_cut_off": float(np.mean([r["max_p_new"] / r["cut_off"] for r in rows])),
        "new_in_truth_top": mean("new_in_truth_top"),
        "truth_expected_recall_new": mean("truth_expected_recall_new"),
        "truth_expected_recall_ongoing": mean("truth_expected_recall_ongoing"),
        "dates_target_reachable": len(met),
        "constrained_realised_recall_new": _known_mean(
            [r["constrained"]["realised_recall_new"] for r in met]
        ),
        "constrained_realised_recall_ongoing": _known_mean(
            [r["constrained"]["realised_recall_ongoing"] for r in met]
        ),
        "constrained_new_expected_escalations": float(
            sum(r["constrained"]["new_expected_escalations"] for r in met)
        ),
        "constrained_new_escalated": sum(r["constrained"]["new_escalated"] for r in met),
        "constrained_m": float(np.mean([r["constrained"]["m"] for r in met])) if met else None,
        "constrained_expected_ratio": float(
            np.mean([r["constrained"]["expected_p_at_k"] for r in met]) / mean("truth_expected_p_at_k", met)
        )
        if met
        else None,
        "constrained_realised_ratio": float(
            np.mean([r["constrained"]["realised_p_at_k"] for r in met]) / mean("truth_realised_p_at_k", met)
        )
        if met
        else None,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Write (or reuse) each named city under --work-dir and print its per-date and summary figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", required=True, help="comma-separated scenarios, name~k for a draw")
    parser.add_argument("--cases", type=int, default=8_000)
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--work-dir", type=Path, required=True, help="cities are written (or reused) here")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the figures")
    args = parser.parse_args(argv)
    scenarios, _ = all_scenarios(args.cases, args.days)
    results = {}
    for scenario in _chosen(scenarios, args.scenarios):
        folder = args.work_dir / scenario.name / "city"
        if not (folder / "truth" / "escalation.csv").exists():
            scenario.write(folder)
        rows = city_figures(folder)
        results[scenario.name] = {"summary": summary(rows), "dates": rows}
        print(json.dumps({scenario.name: results[scenario.name]["summary"]}), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
