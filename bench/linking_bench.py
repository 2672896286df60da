"""Speed of call-to-case linking: one day's calls of a city-size store, and the linked-call family over
the snapshot dates of a training run on the demo city.

Day (the issue's target: under 10 s on the 2-core machine). Reuses the city `bench.features_bench`
prepares and caches as Parquet (200,000 cases, 1.94 M case events, 5,000,000 hotline records over two
years; made by `python -m bench.features_bench --prepare-only` when missing). Each repeat is a fresh
process that loads the three tables into `features.sources.Sources` (not timed) and times
`features.call_linking.day_links(sources, as_of)`: the calls without a case number that became known
on the day before `--as-of`, each against every case of its district open at the call's time, from
what was known at as_of 00:00 — what the daily run stores. Nothing is remembered between repeats (fresh
processes). The parts are timed too: candidates (the calls, the cases that may be candidates, their
status, which pairs are candidates), texts and signals (n-grams, named things, phones, cosines), choice
and evidence.

Family (`--family`): the demo city (seed 7, 20,000 cases, 540 days, simulated as
`bench.linking_quality` does), `features.linked_activity.build` on each weekly snapshot date of a
training as of the demo's last day (the dates `fengqiao train` uses with the default settings), oldest
first, twice: as a training run builds it (a day's decisions are remembered, `link_memo.MEMO`, and
reused by the later dates whose window holds the day), and with nothing remembered (the memo cleared
before every date: each date decides its 30 days afresh). Seconds per date (wall and CPU).

    python -m bench.linking_bench                  # day: 3 repeats, as of 2026-12-01
    python -m bench.linking_bench --family         # family on the demo city
    python -m bench.linking_bench --both           # both, one results page

Writes bench/linking_results.md and .json (the other mode's last figures are kept; `summary.median_seconds`
is the day's median, which bench.summary reads).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import REPO, code_state, machine, run_measurement
from bench.features_bench import _paths

TARGET_SECONDS = 10.0
DAY_AS_OF = date(2026, 12, 1)
WORK = Path("/tmp/fengqiao-bench-features")
CODE_PACKAGES = ("contracts", "features")


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- one day at city size


def run_day(work: Path, as_of: date) -> dict[str, object]:
    """In this (fresh) process: load the city, time day_links and its parts."""
    import numpy as np
    import pandas as pd

    from features import call_linking as cl
    from features.sources import Sources

    started = time.perf_counter()
    try:  # as the store is loaded (the columns the features read, repetitive text as categoricals)
        from bench.features_bench import load_sources

        sources, loader = load_sources(work), "bench.features_bench.load_sources"
    except ImportError:  # an older features bench: every column, plain strings
        sources = Sources.ordered(**{field: pd.read_parquet(path) for field, path in _paths(work).items()})
        loader = "Sources.ordered(read_parquet)"
    load_seconds = time.perf_counter() - started
    parts: dict[str, float] = {}
    sizes: dict[str, int] = {}

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            out = function(*args, **kwargs)
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - began
            return out

        return wrapper

    sizes.update(calls_decided=0, cases_in_pool=0, candidate_cases=0, candidate_pairs=0, districts=0)

    class TimedLinker(cl.LinkInputs):
        def __init__(self, *args, **kwargs) -> None:
            began = time.perf_counter()
            super().__init__(*args, **kwargs)
            parts["candidates"] = parts.get("candidates", 0.0) + time.perf_counter() - began
            sizes.update(calls_decided=len(self.calls), cases_in_pool=len(self.cases))

        narrow = timed("texts_and_signals", cl.LinkInputs.narrow)
        read_documents = timed("texts_and_signals", cl.LinkInputs.read_documents)

    blocks_of = cl.candidate_blocks

    def counted_blocks(*args, **kwargs):
        blocks = blocks_of(*args, **kwargs)
        sizes["candidate_cases"] += int(sum(len(b.cases) for b in blocks))
        sizes["candidate_pairs"] += int(sum(int(b.valid.sum()) for b in blocks))
        sizes["districts"] += len(blocks)
        return blocks

    cl.LinkInputs = TimedLinker
    cl.candidate_blocks = timed("candidates", counted_blocks)
    cl.fill_signals = timed("texts_and_signals", cl.fill_signals)
    cl._links = timed("choice_and_evidence", cl._links)
    cpu, began = _cpu(), time.perf_counter()
    links = cl.day_links(sources, as_of)
    seconds, cpu = time.perf_counter() - began, _cpu() - cpu
    return {
        "as_of": as_of.isoformat(),
        "loader": loader,
        "load_seconds": round(load_seconds, 2),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "parts": {k: round(v, 3) for k, v in parts.items()},
        **sizes,
        "links": len(links),
        "mean_confidence": round(float(np.mean(links["confidence"])), 3) if len(links) else None,
        "store_rows": {
            "cases": len(sources.cases),
            "events": len(sources.events),
            "hotline": len(sources.hotline),
        },
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "load_average_after": _load_average(),
    }


def _child(arguments: list[str]) -> dict[str, object]:
    """python -m bench.linking_bench ARGUMENTS in a fresh process; its last JSON line."""
    return run_measurement("bench.linking_bench", arguments)


def day_benchmark(args: argparse.Namespace) -> dict[str, object]:
    """Prepare (or reuse) the city, then --repeats fresh-process runs of one day."""
    meta_path = args.work_dir / "stored" / "meta.json"
    if not (meta_path.exists() and all(p.exists() for p in _paths(args.work_dir).values())):
        print(f"preparing the city under {args.work_dir} (bench.features_bench)", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.features_bench",
                "--prepare-only",
                "--work-dir",
                str(args.work_dir),
            ],
            cwd=REPO,
            check=True,
        )
    meta = json.loads(meta_path.read_text())
    runs = []
    for repeat in range(args.repeats):
        before = _load_average()
        run = _child(["--run-day", "--as-of", args.as_of.isoformat(), "--work-dir", str(args.work_dir)])
        run["load_average_before"] = before
        runs.append(run)
        print(
            f"day run {repeat + 1}: {run['seconds']} s (cpu {run['cpu_seconds']} s), {run['links']} links",
            flush=True,
        )
    median = statistics.median(r["seconds"] for r in runs)
    return {
        "as_of": args.as_of.isoformat(),
        "city": {
            "parameters": meta.get("parameters"),
            "rows": meta.get("rows"),
            "prepared_at": meta.get("prepared_at"),
        },
        "runs": runs,
        "median_seconds": median,
        "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "target_seconds": TARGET_SECONDS,
        "met": median < TARGET_SECONDS,
    }


# ---------------------------------------------------------------- the family over a training run's dates


def family_benchmark() -> dict[str, object]:
    """linked_activity.build over the demo's training dates: remembering decisions, and not."""
    from bench.linking_quality import simulated_sources
    from contracts.settings import Settings
    from contracts.timeparse import as_of_instant
    from features import link_memo, link_text, linked_activity
    from features.cohort import open_cases
    from models.date_policy import snapshot_dates

    started = time.perf_counter()
    sources, _ = simulated_sources(7, 20_000, 540)
    simulate_seconds = time.perf_counter() - started
    settings = Settings()
    as_of = date(2025, 1, 1) + timedelta(days=540)
    first_case = sources.cases["opened_at"].min().date()
    first = max(
        first_case + timedelta(days=settings.burn_in_days),
        as_of - timedelta(days=settings.training_window_days),
    )
    dates = snapshot_dates(first, as_of - timedelta(days=settings.horizon_days), settings.snapshot_every_days)
    inputs = []
    for day in dates:
        instant = as_of_instant(day)
        known = sources.known_before(instant)
        inputs.append((open_cases(known, instant), known, instant))
    passes: dict[str, dict[str, object]] = {}
    for name, forget in (("remembered", False), ("afresh", True)):
        load_before = _load_average()
        link_memo.MEMO.clear()
        link_text.things_of.cache_clear()
        wall, cpu = [], []
        for cohort, known, instant in inputs:
            if forget:
                link_memo.MEMO.clear()
            began, cpu_began = time.perf_counter(), _cpu()
            linked_activity.build(cohort, known, instant)
            wall.append(time.perf_counter() - began)
            cpu.append(_cpu() - cpu_began)
        passes[name] = {
            "total_seconds": round(sum(wall), 2),
            "per_date_mean_seconds": round(statistics.mean(wall), 3),
            "per_date_median_seconds": round(statistics.median(wall), 3),
            "first_date_seconds": round(wall[0], 3),
            "per_date_mean_cpu_seconds": round(statistics.mean(cpu), 3),
            "load_average_before": load_before,
            "load_average_after": _load_average(),
        }
        print(f"family, {name}: {passes[name]['per_date_mean_seconds']} s per date", flush=True)
    link_memo.MEMO.clear()
    return {
        "city": {"seed": 7, "cases": 20_000, "days": 540, "simulate_seconds": round(simulate_seconds, 1)},
        "dates": [dates[0].isoformat(), dates[-1].isoformat(), len(dates)],
        "open_cases_per_date_mean": round(statistics.mean(len(c) for c, _, _ in inputs)),
        "passes": passes,
    }


# ---------------------------------------------------------------- report


def _day_lines(day: dict) -> list[str]:
    rows = day["city"]["rows"] or {}
    lines = [
        "## One day's calls against a city (`python -m bench.linking_bench`)",
        "",
        f"Store: {rows.get('cases', 0):,} cases, {rows.get('events', 0):,} case events, "
        f"{rows.get('hotline', 0):,} hotline records (bench.features_bench's city). "
        f"`day_links(sources, {day['as_of']})`: the calls without a case number that became known the "
        "day before, decided from what was known at 00:00. Each run is a fresh process; loading "
        f"(`{day['runs'][0].get('loader', '?')}`) is not timed.",
        "",
        f"**Median of {len(day['runs'])}: {day['median_seconds']:.2f} s** "
        f"(CPU {day['median_cpu_seconds']:.2f} s); target < {day['target_seconds']:.0f} s: "
        f"**{'met' if day['met'] else 'not met'}**.",
        "",
        "| run | seconds | CPU s | candidates | texts and signals | choice and evidence | calls | "
        "candidate cases | candidate pairs | links | peak RSS | load before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for number, run in enumerate(day["runs"], 1):
        parts = run["parts"]
        cells = [
            str(number),
            f"{run['seconds']:.2f}",
            f"{run['cpu_seconds']:.2f}",
            *(f"{parts.get(k, 0):.2f}" for k in ("candidates", "texts_and_signals", "choice_and_evidence")),
            *(f"{run[k]:,}" for k in ("calls_decided", "candidate_cases", "candidate_pairs", "links")),
            f"{int(run['peak_rss_kib']) / 1024**2:.1f} GiB",
            str(run["load_average_before"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _family_lines(family: dict) -> list[str]:
    passes = family["passes"]
    lines = [
        "## The linked-call family over a training run's dates (`--family`)",
        "",
        f"Demo city (seed 7, 20,000 cases, 540 days); `linked_activity.build` on {family['dates'][2]} "
        f"weekly dates {family['dates'][0]} .. {family['dates'][1]}, oldest first "
        f"(~{family['open_cases_per_date_mean']:,} open cases a date).",
        "",
        "| | seconds per date (mean) | median | first date | CPU per date | total | load after |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    labels = {
        "remembered": "as training runs it (each day decided once)",
        "afresh": "nothing remembered (every date decides its 30 days)",
    }
    for name, label in labels.items():
        p = passes[name]
        cells = [
            label,
            f"{p['per_date_mean_seconds']:.3f}",
            f"{p['per_date_median_seconds']:.3f}",
            f"{p['first_date_seconds']:.2f}",
            f"{p['per_date_mean_cpu_seconds']:.3f}",
            f"{p['total_seconds']:.1f}",
            str(p["load_average_after"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def markdown(results: dict) -> str:
    """The results page."""
    run_on, code = results["machine"], results["code"]
    lines = [
        "# Call-to-case linking speed",
        "",
        f"Command: `{results['command']}`. Measured {results['measured_at']} on {run_on['cpu_model']} "
        f"({run_on['usable_cores']} usable cores, {run_on['ram_gib']} GiB; the box is shared with other "
        f"work, see the load averages), code {code['commit']} (+{len(code['uncommitted'])} uncommitted "
        f"files in contracts/ features/, fingerprint {code['fingerprint']}).",
        "",
    ]
    if results.get("day"):
        lines += _day_lines(results["day"])
    if results.get("family"):
        lines += _family_lines(results["family"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.linking_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeats", type=int, default=3, help="fresh-process runs of the day")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=DAY_AS_OF, help="the run's date (YYYY-MM-DD)"
    )
    parser.add_argument("--work-dir", type=Path, default=WORK, help="bench.features_bench's work dir")
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="where the results go")
    parser.add_argument("--family", action="store_true", help="only the family on the demo city")
    parser.add_argument("--both", action="store_true", help="the day and the family")
    parser.add_argument("--run-day", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.work_dir = args.work_dir.resolve()
    if args.run_day:
        print(json.dumps(run_day(args.work_dir, args.as_of)), flush=True)
        return
    path = args.out / "linking_results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    if not args.family or args.both:
        results["day"] = day_benchmark(args)
    if args.family or args.both:
        results["family"] = family_benchmark()
    if results.get("day"):  # what bench.summary reads
        day = results["day"]
        results["summary"] = {
            "median_seconds": day["median_seconds"],
            "median_cpu_seconds": day["median_cpu_seconds"],
            "target_seconds": day["target_seconds"],
            "met": day["met"],
        }
    results.update(
        command="python -m bench.linking_bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        measured_at=time.strftime("%Y-%m-%d %H:%M %Z"),
        machine=machine(),
        code=code_state(CODE_PACKAGES),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    (args.out / "linking_results.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
