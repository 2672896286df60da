"""Does fitting the chosen model again on every snapshot after its calibration (`refit_final`) bring its
list nearer the truth? On the feature lab's cities (prepared in `--work-dir`, as `bench.feature_lab` does)
the grid of `--candidates` is trained as of the generalization benchmark's training date, and its choice is
fitted before the calibration block (as without `refit_final`) and then again on every snapshot; both score
the benchmark's 7 evaluation dates against the truth. One JSON line per city: × truth realised and
expected (the mean true probability of the top 5%), and the mean score over the mean true probability.

    python -m bench.refit_check --work-dir /tmp/lab --scenarios hawkes_calls,demo-default
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.feature_lab import _expected_p_at, _p_at, lab_city
from bench.generalization_scenarios import all_scenarios


def check(scenario: Any, work_dir: Path, candidates: Sequence[str]) -> dict[str, Any]:
    """The chosen candidate fitted before calibration and refitted, against the city's truth."""
    from features.matrix import OPTIONAL_FAMILIES, families_with, feature_docs
    from models.date_policy import final_split
    from models.train import fit_calibrated, refit_calibrated, train
    from pipelines.configuration import model_grid, training_plan

    city = lab_city(scenario, work_dir)
    settings, truth, dates, snapshots = city.settings, city.truth, city.dates, city.snapshots
    matrix, frames = city.matrix, city.frames
    plan = training_plan(settings)
    grid = model_grid(
        settings.model_copy(update={"candidates": tuple(candidates)}),
        feature_docs(families_with(OPTIONAL_FAMILIES)),
    )
    candidate = replace(train(matrix, grid, plan).candidate, tuning=None)
    fitting, calibrating = final_split(snapshots, plan.date_policy)
    before = fit_calibrated(matrix, candidate, fitting, calibrating, plan)
    after = refit_calibrated(matrix, before, candidate, snapshots, calibrating, plan)
    truths = {d: truth[truth["as_of"] == d].set_index("case_id") for d in dates}
    ceiling = np.mean([_p_at(t["p_escalation"], t) for t in truths.values()])
    expected_ceiling = np.mean([_expected_p_at(t["p_escalation"], t) for t in truths.values()])

    def judged(model: Any) -> dict[str, float]:
        names = list(candidate.feature_names)
        scores = {}
        for d in dates:
            scores[d] = pd.Series(model.predict_proba(frames[d][names])[:, 1], index=frames[d]["case_id"])
        return {
            "x_truth": round(float(np.mean([_p_at(scores[d], truths[d]) for d in dates]) / ceiling), 3),
            "expected_x_truth": round(
                float(np.mean([_expected_p_at(scores[d], truths[d]) for d in dates]) / expected_ceiling), 3
            ),
            "mean_score_over_truth": round(
                float(np.mean([scores[d].reindex(truths[d].index).mean() for d in dates]))
                / float(np.mean([truths[d]["p_escalation"].mean() for d in dates])),
                3,
            ),
        }

    return {
        "scenario": scenario.name,
        "candidate": candidate.name,
        "fit_dates": len(fitting),
        "calibration_dates": len(calibrating),
        "snapshots": len(snapshots),
        "before_calibration": judged(before),
        "refit": judged(after),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the check on the chosen scenarios, one JSON line each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work-dir", type=Path, required=True, help="the feature lab's folder (kept)")
    parser.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    parser.add_argument("--candidates", default="logistic_blend", help="the grid (default: logistic_blend)")
    parser.add_argument("--cases", type=int, default=8_000)
    parser.add_argument("--days", type=int, default=540)
    args = parser.parse_args(argv)
    scenarios = all_scenarios(args.cases, args.days)[0]
    chosen = set(filter(None, args.scenarios.split(",")))
    for scenario in scenarios:
        if not chosen or scenario.name in chosen:
            result = check(scenario, args.work_dir, args.candidates.split(","))
            print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
