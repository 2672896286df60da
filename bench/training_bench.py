"""Training and daily-run benchmark at city size: the model grid with rolling-origin validation, then a day.

From the repository root::

    python -m bench.training_bench [--cases 200000] [--calls 5000000] [--dates 48] [--repeats 3] [--out bench]
                                   [--set trees_max_iter=100 ...]

Uses the stored tables that ``bench.features_bench`` prepares (simulated two-year city, pseudonymised,
hotline padded to ``--calls``; cached under ``--work-dir``). Each run is a fresh process that, with the
configured settings (3 candidates, 3 folds, sigmoid calibration; ``--set`` overrides a setting):

- ``load``: reads the stored tables as the training flow does (``pipelines.runtime.load_sources``: the
  columns of ``features.sources.STORE_COLUMNS``, repetitive text as categoricals, knowledge-time order);
- ``matrix``: the training matrix over ``--dates`` weekly snapshot dates ending 30 days before the end;
- ``train``: ``models.train.train`` — every candidate on every fold (the folds in ``training_jobs``
  processes, whose CPU seconds are counted), the choice, the final refit;
- ``day``: what the daily run computes for the day after the period: features of the open cases,
  scores, reasons and bands (``rank_cases``), the list's fairness audit and the drift table against
  the training reference (no ingest, no files: those are measured by ``bench.ingest_bench``);
- ``grievances``: the day's emerging grievances (``pipelines.grievance_flow.day_grievances``), the other
  half of what the daily run publishes (the daily run's figure is ``day`` + ``grievances``).

It records wall and CPU seconds per stage, each stage's peak memory (the process's high-water mark,
reset before the stage) and the load average of the (shared) machine, and writes the medians over the
runs to ``training_results.json`` and ``training_results.md`` in ``--out``. Targets (issue 20): training
with rolling-origin validation (matrix + grid) at most 200 s, the daily run at most 15 s, peak memory at
most 3 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from bench.common import REPO, code_state, machine, run_measurement
from bench.features_bench import _status_kib, _timed, load_sources, matrix_dates, period_end, prepare

TRAINING_TARGET_SECONDS = 200.0  # matrix + grid (issue 20)
DAY_TARGET_SECONDS = 15.0
MEMORY_TARGET_GIB = 3.0
STAGES = ("load", "matrix", "train", "load_day", "day", "grievances")


def _reset_peak() -> bool:
    """Reset this process's memory high-water mark (Linux: /proc/self/clear_refs); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _children_cpu_seconds() -> float:
    """CPU seconds of this process's ended child processes (training's fold workers end with it)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stage(call: Callable[[], object]) -> tuple[object, dict[str, float]]:
    """call(): its result, wall and CPU seconds (of its worker processes too), and the peak memory (GiB)
    of this process while it ran."""
    _reset_peak()
    children = _children_cpu_seconds()
    result, wall, cpu = _timed(call)
    cpu += _children_cpu_seconds() - children
    peak = (_status_kib("VmHWM") or 0) / 2**20
    return result, {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "peak_gib": round(peak, 2)}


def _overrides(pairs: list[str]) -> dict[str, str]:
    """--set KEY=VALUE pairs as a dict (values are parsed by Settings)."""
    return dict(pair.split("=", 1) for pair in pairs)


def measure(
    work: Path,
    n_dates: int,
    overrides: dict[str, str],
    family_names: list[str] | None = None,
    release: bool = True,
) -> dict[str, object]:
    """In this process: load the stored tables, then time the matrix, the training and one day (with the
    named feature families; default `features.matrix.FAMILIES`, optional ones may be named). With
    `release`, the memory of the dropped store goes back to the system before the grid
    (`pipelines.runtime.release_memory`)."""
    import pandas as pd

    from contracts.settings import Settings
    from contracts.timeparse import as_of_instant
    from features.known import cut
    from features.matrix import ALL_FAMILIES, FAMILIES, build_features, feature_docs, training_matrix
    from features.sources import STORE_COLUMNS
    from models.drift import drift_table, reference_profile
    from models.fairness import fairness_audit
    from models.matrix_dtypes import compact_matrix
    from models.metrics import top_k
    from models.scoring import rank_cases
    from models.train import train
    from pipelines.configuration import model_grid, training_plan
    from pipelines.grievance_flow import day_grievances
    from pipelines.runtime import release_memory

    settings = Settings(home=work / "home", **overrides)  # type: ignore[arg-type]
    named = {f.__name__.rsplit(".", 1)[-1]: f for f in ALL_FAMILIES}
    families = list(FAMILIES) if family_names is None else [named[name] for name in family_names]
    stages: dict[str, dict[str, float]] = {}
    sources, stages["load"] = _stage(lambda: load_sources(work, STORE_COLUMNS))
    rss_after_load = (_status_kib("VmRSS") or 0) / 2**20
    dates = matrix_dates(n_dates)
    events = [str(t) for t in settings.escalation_events]
    matrix, stages["matrix"] = _stage(
        lambda: compact_matrix(training_matrix(sources, dates, settings.horizon_days, events, families))
    )
    assert isinstance(matrix, pd.DataFrame)
    del sources  # as in the training flow, whose loaded store is gone once the matrix is built,
    if release:  # and which should then give its memory back (see --keep-heap)
        release_memory()
    grid = model_grid(settings, feature_docs(families))
    result, stages["train"] = _stage(partial(train, matrix, grid, training_plan(settings)))
    docs = result.candidate.docs
    names = list(result.feature_names)
    kinds = {d.name: d.kind for d in docs if d.kind != "text"}
    reference = reference_profile(
        matrix[list(kinds)].assign(score=result.model.predict_proba(matrix[names])[:, 1]),
        {**kinds, "score": "numeric"},
    )
    matrix_rows, matrix_mib = len(matrix), round(matrix.memory_usage(deep=True).sum() / 2**20)
    del matrix  # the daily run is its own process: it has the model, not the matrix, and loads the store
    release_memory()
    sources, stages["load_day"] = _stage(lambda: load_sources(work, STORE_COLUMNS))
    day = period_end() + timedelta(days=1)

    def one_day() -> dict[str, int]:
        known = sources.known_before(as_of_instant(day))
        features = build_features(known, day, families)
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

    day_result, stages["day"] = _stage(one_day)
    clusters, stages["grievances"] = _stage(lambda: day_grievances(cut(sources, day), settings))
    assert isinstance(day_result, dict) and isinstance(clusters, pd.DataFrame)
    day_result["grievances"] = len(clusters)
    return {
        "families": [f.__name__.rsplit(".", 1)[-1] for f in families],
        "rows": {"matrix": matrix_rows, "snapshots": len(dates)},
        "matrix_mib": matrix_mib,
        "chosen": result.candidate.name,
        "negative_rate": result.negative_rate,
        "training_max_rows": settings.training_max_rows,
        "searches": {
            e.candidate.name: {"trials": e.search.trials, "timed_out": e.search.timed_out}
            for e in result.evaluations
            if e.search is not None
        },
        "grid": result.grid.drop(columns=["estimator"]).to_dict(orient="records"),
        "day": day_result,
        "stages": stages,
        "rss_after_load_gib": round(rss_after_load, 2),
        "peak_gib": max(stage["peak_gib"] for stage in stages.values()),
    }


def summarise(runs: list[dict[str, object]]) -> dict[str, object]:
    """Medians over the runs of every stage's seconds, the worst peak memory, the training total."""

    def median(stage: str, key: str) -> float:
        return round(statistics.median(float(r["stages"][stage][key]) for r in runs), 1)  # type: ignore[index]

    seconds = {stage: median(stage, "seconds") for stage in STAGES}
    training = round(
        statistics.median(
            float(r["stages"]["matrix"]["seconds"]) + float(r["stages"]["train"]["seconds"]) for r in runs
        ),
        1,
    )  # type: ignore[index]
    return {
        "runs": len(runs),
        "seconds": seconds,
        "cpu_seconds": {stage: median(stage, "cpu_seconds") for stage in STAGES},
        "each_run_seconds": {stage: [r["stages"][stage]["seconds"] for r in runs] for stage in STAGES},  # type: ignore[index]
        "training_seconds": training,
        "stage_peak_gib": {
            stage: max(float(r["stages"][stage]["peak_gib"]) for r in runs) for stage in STAGES
        },  # type: ignore[index]
        "peak_gib": max(float(r["peak_gib"]) for r in runs),  # type: ignore[arg-type]
        "meets": {
            "training": training <= TRAINING_TARGET_SECONDS,
            "day": seconds["day"] + seconds["grievances"] <= DAY_TARGET_SECONDS,
            "memory": max(float(r["peak_gib"]) for r in runs) <= MEMORY_TARGET_GIB,  # type: ignore[arg-type]
        },
    }


def describe(results: dict[str, object]) -> str:
    """One paragraph: command, machine, city and sizes."""
    where, size, last = results["machine"], results["parameters"], results["runs"][-1]  # type: ignore[index]
    rows = last["rows"]
    overrides = size.get("settings") or {}
    changed = f" with settings {', '.join(f'{k}={v}' for k, v in overrides.items())}" if overrides else ""
    return (
        f"`{results['command']}` on {where['cpu_model']} ({where['usable_cores']} cores, "
        f"{where['ram_gib']} GiB), {results['date']}{changed}; city: {size['cases']:,} cases, "
        f"{size['calls']:,} hotline records over two years; {rows['snapshots']} weekly snapshots, "
        f"{rows['matrix']:,} training rows ({last['matrix_mib']:,} MiB) with the feature families "
        f"{', '.join(last['families'])}; the day scores "
        f"{last['day']['open_cases']:,} open cases."
    )


def _share(rate: float) -> str:
    """The share of non-escalations fitted on, as read in the results."""
    return "all" if rate >= 1.0 else f"{rate:.1%}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def markdown(results: dict[str, object]) -> str:
    """The figures as Markdown."""
    summary = results["summary"]
    seconds, cpu, peaks, each = (
        summary["seconds"],  # type: ignore[index]
        summary["cpu_seconds"],  # type: ignore[index]
        summary["stage_peak_gib"],  # type: ignore[index]
        summary["each_run_seconds"],  # type: ignore[index]
    )
    meets = summary["meets"]  # type: ignore[index]
    runs = results["runs"]
    last = runs[-1]  # type: ignore[index]

    def row(stage: str, name: str, target: str) -> str:
        runs_text = ", ".join(f"{s}" for s in each[stage])
        return f"| {name} | {seconds[stage]} ({runs_text}) | {cpu[stage]} | {peaks[stage]} | {target} |"

    loads = ", ".join(f"{r['load_average_before'][0]:.1f}" for r in runs)  # type: ignore[index]
    lines = [
        "# Training and daily-run benchmark at city size",
        "",
        describe(results),
        "",
        f"Median of {summary['runs']} run(s), each a fresh process (each run's figure in brackets); "  # type: ignore[index]
        "peak memory is the process's high-water mark during the stage, worst run.",
        "",
        "| stage | wall s | CPU s | peak GiB | target |",
        "|---|---:|---:|---:|---|",
        row("load", "load the store (columns read, compact dtypes)", ""),
        row("matrix", f"training matrix ({last['rows']['snapshots']} dates)", ""),
        row("train", "model grid: the configured candidates × 3 rolling folds + final refit", ""),
        f"| **training: matrix + grid** | **{summary['training_seconds']}** | "  # type: ignore[index]
        f"{round(cpu['matrix'] + cpu['train'], 1)} | | <= {TRAINING_TARGET_SECONDS:.0f} s: "
        f"{_verdict(meets['training'])} |",
        row("load_day", "the daily run's own load of the store", ""),
        row("day", "one day: features, scores, reasons, bands, fairness, drift", ""),
        row(
            "grievances",
            "the day's emerging grievances",
            f"day + grievances <= {DAY_TARGET_SECONDS:.0f} s: {_verdict(meets['day'])}",
        ),
        "",
        f"Peak memory of the process: {summary['peak_gib']} GiB "  # type: ignore[index]
        f"(target <= {MEMORY_TARGET_GIB:.0f} GiB: "
        f"{_verdict(meets['memory'])}); resident after loading: {last['rss_after_load_gib']} GiB. "
        f"Chosen candidate: {last['chosen']}. Non-escalations fitted on: "
        f"{_share(last.get('negative_rate', 1.0))} (above {last.get('training_max_rows', 0):,} matrix rows "
        "models fit on every escalation and a weighted sample of the others; folds are judged on every row).",
        "",
        "| candidate | precision at top 5% (mean over folds) | sd | chosen |",
        "|---|---:|---:|---|",
        *(
            f"| {g['candidate']} | {g['precision_at_k']:.3f} | {g['precision_at_k_std']:.3f} | "
            f"{'✓' if g['chosen'] else ''} |"
            for g in last["grid"]
        ),
        "",
        f"1-minute load average before each run (2 cores shared with other work): {loads}; "
        f"after the last: {results['load_average_at_end'][0]:.1f}.",  # type: ignore[index]
        "",
        *before_and_after(results),
    ]
    return "\n".join(lines)


# The issue-8 starting point: one run of `python -m bench.training_bench --dates 48` at commit 02a40e9
# (every stored column loaded, the feature families before the issue-8 speed-ups), 2026-11-26.
BEFORE = {"commit": "02a40e9", "matrix": 174.5, "train": 253.7, "day": 16.8, "peak_gib": 5.93}


def before_and_after(results: dict[str, object]) -> list[str]:
    """Markdown lines comparing the medians with the issue-8 starting point."""
    summary = results["summary"]
    seconds = summary["seconds"]  # type: ignore[index]
    now = {**seconds, "training": summary["training_seconds"], "peak_gib": summary["peak_gib"]}  # type: ignore[index]
    was = {**BEFORE, "training": round(BEFORE["matrix"] + BEFORE["train"], 1)}
    names = {
        "matrix": "training matrix, s",
        "train": "model grid, s",
        "training": "training (matrix + grid), s",
        "day": "one day, s",
        "peak_gib": "peak memory, GiB",
    }
    return [
        f"Before (one run at commit {BEFORE['commit']}, every stored column loaded) and now (medians):",
        "",
        "| figure | before | now | ratio |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {was[k]} | {now[k]} | {now[k] / was[k]:.2f} |" for k, name in names.items()),
        "",
    ]


def _run_child(args: argparse.Namespace) -> dict[str, object]:
    """One measurement in a fresh process (so that its peak memory is its own)."""
    command = ["--run-one", "--work-dir", str(args.work_dir)]
    command += ["--dates", str(args.dates), *(f"--set={pair}" for pair in args.set)]
    command += ["--families", args.families] if args.families else []
    command += ["--keep-heap"] if args.keep_heap else []
    return run_measurement("bench.training_bench", command)


def main(argv: list[str] | None = None) -> None:
    """Prepare (or reuse) the city, measure in fresh processes, write the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--dates", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=1, help="runs, each in a fresh process (medians)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting to override"
    )
    parser.add_argument(
        "--families", help="comma-separated feature families (default: features.matrix.FAMILIES)"
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/fengqiao-bench-features"))
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument(
        "--keep-heap",
        action="store_true",
        help="do not give the dropped store's memory back before the grid (no release_memory)",
    )
    parser.add_argument("--render", action="store_true", help="only rewrite the .md from the .json in --out")
    parser.add_argument("--run-one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads((args.out / "training_results.json").read_text(encoding="utf-8"))
        (args.out / "training_results.md").write_text(markdown(results), encoding="utf-8")
        return
    if args.run_one:
        names = args.families.split(",") if args.families else None
        figures = measure(args.work_dir, args.dates, _overrides(args.set), names, not args.keep_heap)
        print(json.dumps(figures, default=str), flush=True)
        return
    prepared = prepare(args.cases, args.calls, args.seed, args.chunk_rows, args.work_dir, regenerate=False)
    print(
        f"city ready ({'reused' if prepared['reused'] else 'prepared'}): {prepared['rows']}", file=sys.stderr
    )
    runs = []
    for repeat in range(1, args.repeats + 1):
        before = [round(x, 2) for x in os.getloadavg()]
        runs.append({"repeat": repeat, "load_average_before": before, **_run_child(args)})
        print(f"run {repeat}: {runs[-1]['stages']}, peak {runs[-1]['peak_gib']} GiB", file=sys.stderr)
    summary = summarise(runs)
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.training_bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "code": code_state(("contracts", "features", "models", "pipelines")),
        "parameters": {
            "cases": args.cases,
            "calls": args.calls,
            "dates": args.dates,
            "seed": args.seed,
            "settings": _overrides(args.set),
            "families": args.families or "default",
            "release_memory_before_grid": not args.keep_heap,
        },
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "summary": summary,
        # the medians and the worst peak again, where bench.summary reads them
        "seconds": summary["seconds"],
        "cpu_seconds": summary["cpu_seconds"],
        "peak_rss_gib": summary["peak_gib"],
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "training_results.json").write_text(
        json.dumps(results, indent=2, default=str), encoding="utf-8"
    )
    (args.out / "training_results.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
