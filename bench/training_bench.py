"""Training and daily-run benchmark at city size: the model grid with rolling-origin validation, then a day.

From the repository root::

    python -m bench.training_bench [--cases 200000] [--calls 5000000] [--dates 26] [--out bench]

Uses the stored tables that ``bench.features_bench`` prepares (simulated two-year city, pseudonymised,
hotline padded to ``--calls``; cached under ``--work-dir``). In one fresh process it then times, with
the configured settings (3 candidates, 3 folds, sigmoid calibration):

- ``matrix``: the training matrix over ``--dates`` weekly snapshot dates ending 30 days before the end;
- ``train``: ``models.train.train`` — every candidate on every fold, the choice, the final refit;
- ``day``: what the daily run computes for the day after the period: features of the open cases,
  scores, reasons and bands (``rank_cases``), the list's fairness audit and the drift table against
  the training reference (no ingest, no files: those are measured by ``bench.ingest_bench``).

It records wall and CPU seconds per stage and the process's peak memory, and writes
``training_results.json`` and ``training_results.md`` into ``--out``. Targets (issue 8): training with
rolling-origin validation under 5 minutes, the daily run under 30 s, peak memory under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import REPO, code_state, machine
from bench.features_bench import _paths, _status_kib, _timed, matrix_dates, period_end, prepare

TARGETS = {"train": 300.0, "day": 30.0}
MEMORY_TARGET_GIB = 4.0


def measure(work: Path, n_dates: int) -> dict[str, object]:
    """Load the stored tables and time the matrix, the training and one day's scoring and checks."""
    import pandas as pd

    from contracts.settings import Settings
    from contracts.timeparse import as_of_instant
    from features.matrix import build_features, feature_docs, training_matrix
    from features.sources import Sources
    from models.drift import drift_table, reference_profile
    from models.fairness import fairness_audit
    from models.metrics import top_k
    from models.scoring import rank_cases
    from models.train import train
    from pipelines.train_flow import model_grid, training_plan

    settings = Settings(home=work / "home")
    sources = Sources.ordered(**{f: pd.read_parquet(p) for f, p in _paths(work).items()})
    dates = matrix_dates(n_dates)
    events = [str(t) for t in settings.escalation_events]
    matrix, matrix_s, matrix_cpu = _timed(
        lambda: training_matrix(sources, dates, settings.horizon_days, events)
    )
    assert isinstance(matrix, pd.DataFrame)
    result, train_s, train_cpu = _timed(
        lambda: train(matrix, model_grid(settings, feature_docs()), training_plan(settings))
    )
    docs = result.candidate.docs
    names = list(result.feature_names)
    kinds = {d.name: d.kind for d in docs if d.kind != "text"}
    reference = reference_profile(
        matrix[list(kinds)].assign(score=result.model.predict_proba(matrix[names])[:, 1]),
        {**kinds, "score": "numeric"},
    )
    day = period_end() + timedelta(days=1)

    def one_day() -> dict[str, int]:
        known = sources.known_before(as_of_instant(day))
        features = build_features(known, day)
        listed = rank_cases(
            result.model,
            features,
            docs,
            model_version="bench",
            as_of=day,
            band_high=settings.band_high,
            band_medium=settings.band_medium,
            language=settings.language,
            high_capacity=settings.band_high_capacity,
        )
        working = listed.assign(listed=listed["rank"] <= top_k(len(listed), settings.list_top_fraction))
        fairness_audit(working, label=None, min_cases=settings.fairness_min_cases)
        drift_table(reference, features.merge(listed[["case_id", "score"]], on="case_id"))
        return {"open_cases": len(listed)}

    day_result, day_s, day_cpu = _timed(one_day)
    return {
        "rows": {"matrix": len(matrix), "snapshots": len(dates)},
        "chosen": result.candidate.name,
        "grid": result.grid.drop(columns=["estimator"]).to_dict(orient="records"),
        "day": day_result,
        "seconds": {"matrix": round(matrix_s, 1), "train": round(train_s, 1), "day": round(day_s, 1)},
        "cpu_seconds": {
            "matrix": round(matrix_cpu, 1),
            "train": round(train_cpu, 1),
            "day": round(day_cpu, 1),
        },
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "vm_hwm_gib": round((_status_kib("VmHWM") or 0) / 2**20, 2),
    }


def describe(results: dict[str, object]) -> str:
    """One paragraph: command, machine, city and sizes."""
    where, size, rows = results["machine"], results["parameters"], results["rows"]
    return (
        f"`python -m bench.training_bench` on {where['cpu_model']} ({where['usable_cores']} cores), "
        f"{results['date']}; city: {size['cases']:,} cases, {size['calls']:,} hotline records over two "
        f"years; {rows['snapshots']} weekly snapshots, {rows['matrix']:,} training rows; the day scores "
        f"{results['day']['open_cases']:,} open cases."
    )


def markdown(results: dict[str, object]) -> str:
    """The figures as Markdown."""
    seconds, cpu = results["seconds"], results["cpu_seconds"]
    peak = results["peak_rss_gib"]
    met = {stage: "met" if seconds[stage] < limit else "**not met**" for stage, limit in TARGETS.items()}
    lines = [
        "# Training and daily-run benchmark at city size",
        "",
        describe(results),
        "",
        "| stage | wall s | CPU s | target |",
        "|---|---:|---:|---|",
        f"| training matrix ({results['rows']['snapshots']} dates) | {seconds['matrix']} | {cpu['matrix']} | "
        "(features bench: < 180 s) |",
        f"| model grid: 3 candidates × 3 rolling folds + final refit | {seconds['train']} | {cpu['train']} | "
        f"< {TARGETS['train']:.0f} s: {met['train']} |",
        f"| one day: features, scores, reasons, bands, fairness, drift | {seconds['day']} | {cpu['day']} | "
        f"< {TARGETS['day']:.0f} s: {met['day']} |",
        "",
        f"Peak memory of the process: {peak} GiB (target < {MEMORY_TARGET_GIB:.0f} GB: "
        f"{'met' if peak < MEMORY_TARGET_GIB else '**not met**'}). Chosen candidate: {results['chosen']}.",
        "",
        "| candidate | precision at top 5% (mean over folds) | sd | chosen |",
        "|---|---:|---:|---|",
        *(
            f"| {g['candidate']} | {g['precision_at_k']:.3f} | {g['precision_at_k_std']:.3f} | "
            f"{'✓' if g['chosen'] else ''} |"
            for g in results["grid"]
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Prepare (or reuse) the city, measure in this process, write the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--dates", type=int, default=26)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/fengqiao-bench-features"))
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    args = parser.parse_args(argv)
    prepared = prepare(args.cases, args.calls, args.seed, args.chunk_rows, args.work_dir, regenerate=False)
    print(
        f"city ready ({'reused' if prepared['reused'] else 'prepared'}): {prepared['rows']}", file=sys.stderr
    )
    figures = measure(args.work_dir, args.dates)
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.training_bench " + " ".join(argv or sys.argv[1:]),
        "machine": machine(),
        "code": code_state(("contracts", "features", "models", "pipelines")),
        "parameters": {"cases": args.cases, "calls": args.calls, "dates": args.dates, "seed": args.seed},
        **figures,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "training_results.json").write_text(
        json.dumps(results, indent=2, default=str), encoding="utf-8"
    )
    (args.out / "training_results.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
