"""How close the model comes to the best possible list on the demo city, whose simulator knows the truth.

Trains the configured model grid exactly as `fengqiao train` does (rolling-origin folds, calibration
on later dates) on a store filled by `fengqiao demo`, on snapshot dates that coincide with the
simulator's truth dates, and compares on the same held-out cases: precision at the top share of the
list of the champion candidate, of the rule baseline, and of ranking by the simulator's true
escalation probability (the ceiling). Writes bench/model_quality.md and .json.

    fengqiao demo                                   # fills .fengqiao/ (20,000 cases, 540 days)
    python -m bench.model_quality --home .fengqiao
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
from rich.progress import track

from bench.common import REPO, code_state
from contracts.settings import Settings
from features.known import cut
from features.matrix import feature_docs, training_matrix
from models.metrics import precision_at_k, top_k
from models.train import train
from pipelines.configuration import model_grid, training_plan
from pipelines.runtime import load_sources, open_warehouse
from pipelines.train_flow import training_dates

SCORERS = {"model": "score", "rule": "rule_score", "truth": "p_escalation"}


def precision_by_date(predictions: pd.DataFrame, top_fraction: float) -> pd.DataFrame:
    """Per held-out date: precision at the top share of each scorer's ranking of the same cases."""
    rows = []
    for as_of, day in predictions.groupby("as_of"):
        k = top_k(len(day), top_fraction)
        labels = day["label"].to_numpy()
        row = {"as_of": as_of, "n": len(day), "k": k}
        row.update(
            {name: precision_at_k(labels, day[column].to_numpy(), k) for name, column in SCORERS.items()}
        )
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    """Measure and write the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(".fengqiao"), help="home folder of a finished demo")
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    args = parser.parse_args()
    settings = Settings(home=args.home)
    truth = pd.read_csv(settings.home / "demo-city" / "truth" / "escalation.csv")
    truth["as_of"] = pd.to_datetime(truth["as_of"]).dt.date
    as_of = max(truth["as_of"]) + timedelta(days=settings.horizon_days)
    known = cut(load_sources(open_warehouse(settings)), as_of).sources
    dates = training_dates(known, as_of, settings)
    matrix = training_matrix(
        known,
        dates,
        settings.horizon_days,
        [str(t) for t in settings.escalation_events],
        progress=lambda items: track(list(items), description="Building training snapshots"),
    )
    result = train(matrix, model_grid(settings, feature_docs()), training_plan(settings))
    held = result.evaluation.predictions.merge(
        truth[["as_of", "case_id", "p_escalation"]], on=["as_of", "case_id"]
    )
    missing = len(result.evaluation.predictions) - len(held)
    table = precision_by_date(held, settings.list_top_fraction)
    means = {name: float(table[name].mean()) for name in SCORERS}
    spreads = {name: float(table[name].std(ddof=0)) for name in SCORERS}
    figures = {
        "as_of": as_of.isoformat(),
        "chosen": result.candidate.name,
        "grid": result.grid.drop(columns=["estimator"]).to_dict(orient="records"),
        "held_out_dates": [d.isoformat() for d in sorted(set(held["as_of"]))],
        "held_out_cases": len(held),
        "held_out_cases_without_truth": missing,
        "precision_at_top": means,
        "precision_at_top_std": spreads,
        "model_over_rule": means["model"] / means["rule"],
        "model_over_truth": means["model"] / means["truth"],
        "ece": result.summary["model.ece"],
        "code": code_state(("contracts", "features", "models", "pipelines")),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "model_quality.json").write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    (args.out / "model_quality.md").write_text(
        report(figures, table, settings.list_top_fraction), encoding="utf-8"
    )
    print(report(figures, table, settings.list_top_fraction))


def report(figures: dict, table: pd.DataFrame, top_fraction: float) -> str:
    """The figures as Markdown."""
    p, s = figures["precision_at_top"], figures["precision_at_top_std"]
    lines = [
        "# Model quality on the demo city against the simulator's truth",
        "",
        f"Training as of {figures['as_of']} (`python -m bench.model_quality`), chosen candidate "
        f"**{figures['chosen']}**; {len(figures['held_out_dates'])} held-out dates, "
        f"{figures['held_out_cases']:,} held-out case-snapshots"
        f" ({figures['held_out_cases_without_truth']} without a truth row, left out).",
        "",
        f"| ranking | precision at the top {top_fraction:.0%} (mean ± sd over dates) |",
        "|---|---|",
        *(f"| {name} | {p[name]:.3f} ± {s[name]:.3f} |" for name in SCORERS),
        "",
        f"Model / rule: **{figures['model_over_rule']:.2f}x** (target ≥ 1.5). "
        f"Model / truth: **{figures['model_over_truth']:.2f}x** (target ≥ 0.85). "
        f"Expected calibration error of the model on held-out dates: {figures['ece']:.4f}.",
        "",
        "| candidate | precision at the top (mean over folds) | sd | chosen |",
        "|---|---|---|---|",
        *(
            f"| {g['candidate']} | {g['precision_at_k']:.3f} | {g['precision_at_k_std']:.3f} | "
            f"{'✓' if g['chosen'] else ''} |"
            for g in figures["grid"]
        ),
        "",
        "Per date:",
        "",
        "| as_of | n | k | model | rule | truth |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.as_of} | {r.n:,} | {r.k} | {r.model:.3f} | {r.rule:.3f} | {r.truth:.3f} |"
            for r in table.itertuples()
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
