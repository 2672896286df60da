"""Features benchmark: point-in-time features for one as-of date and a 26-date training matrix at city size.

From the repository root::

    python -m bench.features_bench [--cases 200000] [--calls 5000000] [--dates 26] [--repeats 3] [--out bench]
    python -m bench.features_bench --prepare-only [--cases 200000] [--calls 5000000]

Preparation (once, cached as Parquet under ``--work-dir`` and reused while the parameters are the same):
simulate a two-year city with ``cities.demo.simulate_city``, turn its three text exports into the stored,
pseudonymised form with ``ingest.validate.validate_frame`` in chunks, and pad the hotline table to ``--calls``
records with copies of unlinked calls (new call ids, times moved within the period, no case id). Then every
measurement runs in a fresh subprocess that loads the Parquet files into ``features.sources.Sources`` as the
store is loaded (``load_sources``: the columns the features read, repetitive text as categoricals):
``build_features`` for one as-of date near the end (``--repeats`` times), each feature family's ``build``
for that date (``--repeats`` times), and ``training_matrix`` over ``--dates`` weekly dates ending 30 days
before the end (``--matrix-repeats`` times). It writes ``features_results.json`` and ``features_results.md``
into ``--out``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import REPO, code_fingerprint, code_state, machine

if TYPE_CHECKING:
    from features.sources import Sources

KEY = b"bench-key"
PREPARE_VERSION = 1
DAYS = 730  # two years
START = date(2025, 1, 1)  # SimulationConfig's default start
HORIZON_DAYS = 30
ESCALATION_TYPES = ("violence", "group_incident", "litigation")
# Sources field -> RecordKind value
TABLES = {"cases": "cases", "events": "case_events", "hotline": "hotline"}
TARGET_SECONDS = {"one_date": 10.0, "matrix": 180.0}
MODES = ("one_date", "families", "matrix")
CODE_PACKAGES = ("contracts", "features")
CHANGED_WARNING = "the measured code changed during the benchmark; runs may mix versions, run it again"
PAD_SHIFT_DAYS = 90  # padded calls are copies moved by up to this many days (wrapped into the period)


def period_end() -> date:
    """The first day after the simulated period."""
    return START + timedelta(days=DAYS)


def one_date() -> date:
    """The as-of date of the one-date measures: the last day of the period (everything before it is known)."""
    return period_end() - timedelta(days=1)


def matrix_dates(n: int) -> list[date]:
    """n weekly as-of dates, the last one HORIZON_DAYS before the end of the period (labels have matured)."""
    last = period_end() - timedelta(days=HORIZON_DAYS)
    return [last - timedelta(days=7 * k) for k in range(n - 1, -1, -1)]


# ------------------------------------------------------------------------------------------- prepare


def _say(message: str) -> None:
    """A progress line for the parent (it shows lines starting with '#')."""
    print(f"# {message}", flush=True)


def _table_columns(kind_value: str) -> list[str]:
    from contracts.vocabulary import RecordKind
    from warehouse import tables

    return [c.name for c in tables.INPUT_TABLES[RecordKind(kind_value)].columns]


def _stored(export: object, kind_value: str, chunk_rows: int) -> tuple[object, dict[str, object]]:
    """One export (text) -> stored form through validate_frame in chunks, as the store would hold it."""
    import pandas as pd

    from cities.demo import FILE_NAMES
    from contracts.vocabulary import RecordKind
    from ingest.validate import validate_frame

    kind = RecordKind(kind_value)
    text = export.fillna("").astype(str)  # type: ignore[attr-defined]
    text.insert(0, "_row", range(1, len(text) + 1))
    parts, quarantined = [], 0
    started = time.perf_counter()
    for first in range(0, len(text), chunk_rows):
        batch = validate_frame(text.iloc[first : first + chunk_rows], kind, FILE_NAMES[kind], KEY)
        parts.append(batch.records)
        quarantined += batch.quarantined_rows
        _say(f"validate {kind_value}: {min(first + chunk_rows, len(text)):,} / {len(text):,} rows")
    records = pd.concat(parts, ignore_index=True)
    seconds = time.perf_counter() - started
    before = len(records)
    # The latest delivery of a key wins, as in the store.
    records = records.drop_duplicates("record_key", keep="last", ignore_index=True)
    records["ingested_at"] = pd.Timestamp("2027-01-02 09:00:00").as_unit("us")
    records = records[_table_columns(kind_value)]
    info = {
        "delivered": len(text),
        "quarantined_rows": quarantined,
        "duplicate_keys_dropped": before - len(records),
        "stored": len(records),
        "validate_seconds": round(seconds, 2),
    }
    return records, info


def _pad_hotline(hotline: object, target: int, seed: int) -> tuple[object, dict[str, object]]:
    """Pad the stored hotline table to `target` records with copies of unlinked calls moved in time."""
    import numpy as np
    import pandas as pd

    from contracts.vocabulary import RecordKind
    from ingest.validate import row_hashes

    extra = target - len(hotline)  # type: ignore[arg-type]
    unlinked = hotline[hotline["case_id"].isna()]  # type: ignore[index]
    info = {"simulated": len(hotline), "unlinked_simulated": len(unlinked), "padded": max(extra, 0)}  # type: ignore[arg-type]
    if extra <= 0:
        return hotline, info
    started = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    copies = unlinked.iloc[rng.integers(0, len(unlinked), extra)].reset_index(drop=True)
    start = pd.Timestamp(START).as_unit("us")
    period = pd.Timedelta(days=DAYS)
    # Whole days (keeps the time-of-day pattern) plus up to +-30 minutes, wrapped into the period.
    shift = pd.to_timedelta(
        rng.integers(-PAD_SHIFT_DAYS, PAD_SHIFT_DAYS + 1, extra) * 86_400 + rng.integers(-1800, 1801, extra),
        unit="s",
    )
    received = start + ((copies["received_at"] - start + shift) % period)
    moved = received - copies["received_at"]
    copies["received_at"] = received
    copies["recorded_at"] = copies["recorded_at"] + moved
    copies["known_at"] = copies["known_at"] + moved
    copies["call_id"] = "HB" + pd.Series(np.arange(1, extra + 1)).astype(str).str.zfill(8)
    copies["record_key"] = copies["call_id"]
    copies["source_file"] = "hotline-padding.csv"
    hashed = [c for c in copies.columns if c not in ("record_key", "row_hash", "source_file", "ingested_at")]
    copies["row_hash"] = row_hashes(copies[hashed], RecordKind.HOTLINE)
    padded = pd.concat([hotline, copies], ignore_index=True)
    padded = padded.sort_values(["received_at", "call_id"], kind="stable", ignore_index=True)
    info["pad_seconds"] = round(time.perf_counter() - started, 2)
    return padded, info


def _paths(work: Path) -> dict[str, Path]:
    return {field: work / "stored" / f"{name}.parquet" for field, name in TABLES.items()}


def load_sources(work: Path, columns: dict[str, tuple[str, ...]] | None = None) -> Sources:
    """The stored tables as the product loads them (`pipelines.runtime.load_sources`): only the columns
    read (default: what the features read), repetitive text as categoricals, in knowledge-time order."""
    import pandas as pd

    from features.sources import CATEGORICAL_COLUMNS, FEATURE_COLUMNS, Sources, compact
    from pipelines.runtime import release_memory

    wanted = FEATURE_COLUMNS if columns is None else columns
    frames = {  # one table at a time: each is compacted before the next is read
        field: compact(pd.read_parquet(path, columns=list(wanted[field])), CATEGORICAL_COLUMNS[field])
        for field, path in _paths(work).items()
    }
    sources = Sources.ordered(**frames)
    del frames
    release_memory()
    return sources


def prepare(
    cases: int, calls: int, seed: int, chunk_rows: int, work: Path, regenerate: bool
) -> dict[str, object]:
    """Make (or reuse) the stored tables as Parquet; their sizes and how long each step took."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    wanted = {"cases": cases, "calls": calls, "days": DAYS, "seed": seed, "version": PREPARE_VERSION}
    meta_path = work / "stored" / "meta.json"
    paths = _paths(work)
    if not regenerate and meta_path.exists() and all(p.exists() for p in paths.values()):
        meta = json.loads(meta_path.read_text())
        if meta.get("parameters") == wanted:
            return {**meta, "reused": True}
    from cities.demo import SimulationConfig, simulate_city

    (work / "stored").mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    _say(f"simulating {cases:,} cases over {DAYS} days")
    city = simulate_city(SimulationConfig(n_cases=cases, days=DAYS, start=START, seed=seed))
    timings["simulate"] = time.perf_counter() - started
    exports = {"cases": city.cases, "events": city.case_events, "hotline": city.hotline}
    del city
    details: dict[str, object] = {}
    stored = {}
    for field, kind_value in TABLES.items():
        step = time.perf_counter()
        stored[field], details[field] = _stored(exports.pop(field), kind_value, chunk_rows)
        timings[f"validate_{field}"] = time.perf_counter() - step
    step = time.perf_counter()
    _say(f"padding the hotline from {len(stored['hotline']):,} to {calls:,} calls")
    stored["hotline"], details["hotline_padding"] = _pad_hotline(stored["hotline"], calls, seed)
    timings["pad_hotline"] = time.perf_counter() - step
    step = time.perf_counter()
    for field, frame in stored.items():
        _say(f"writing {paths[field].name}")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), paths[field])
    timings["write_parquet"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started
    linked = int(stored["hotline"]["case_id"].notna().sum())
    meta = {
        "parameters": wanted,
        "chunk_rows": chunk_rows,
        "rows": {field: len(frame) for field, frame in stored.items()},
        "hotline_linked_by_case_id": linked,
        "details": details,
        "files": {k: str(v) for k, v in paths.items()},
        "bytes": {k: v.stat().st_size for k, v in paths.items()},
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "prepared_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return {**meta, "reused": False}


# ------------------------------------------------------------------------------------------- measure


def _status_kib(field: str) -> int | None:
    """A field of /proc/self/status in KiB (VmRSS: now; VmHWM: this address space's peak)."""
    try:
        with open("/proc/self/status") as handle:
            return next((int(ln.split()[1]) for ln in handle if ln.startswith(field + ":")), None)
    except OSError:
        return None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(call: Callable[[], object]) -> tuple[object, float, float]:
    """call(): its result, wall seconds and CPU seconds."""
    gc.collect()
    cpu, start = _cpu_seconds(), time.perf_counter()
    result = call()
    return result, time.perf_counter() - start, _cpu_seconds() - cpu


def run_one(mode: str, work: Path, n_dates: int) -> dict[str, object]:
    """One measurement in this (fresh) process: load the stored tables, then time the mode's call."""
    import pandas as pd

    from features import matrix
    from features.cohort import open_cases
    from features.known import KnownBefore, cut
    from features.sources import Sources

    (sources, load_seconds, _) = _timed(lambda: load_sources(work))
    assert isinstance(sources, Sources)
    out: dict[str, object] = {
        "load_seconds": round(load_seconds, 3),
        "rss_after_load_kib": _status_kib("VmRSS"),
        "families": [family.__name__.rsplit(".", 1)[-1] for family in matrix.FAMILIES],
    }
    as_of = one_date()
    if mode == "one_date":
        frame, seconds, cpu = _timed(lambda: matrix.build_features(sources, as_of))
        assert isinstance(frame, pd.DataFrame)
        out.update(as_of=as_of.isoformat(), rows=len(frame), columns=frame.shape[1])
    elif mode == "families":
        steps: dict[str, float] = {}
        cpu_start = _cpu_seconds()
        cutting, steps["known_before"], _ = _timed(lambda: cut(sources, as_of))
        assert isinstance(cutting, KnownBefore)
        known, instant = cutting.sources, cutting.instant
        cohort, steps["open_cases"], _ = _timed(lambda: open_cases(known, instant))
        assert isinstance(cohort, pd.DataFrame)
        columns = {}
        for family in matrix.FAMILIES:
            name = family.__name__.rsplit(".", 1)[-1]
            built, steps[name], _ = _timed(lambda family=family: family.build(cohort, known, instant))
            assert isinstance(built, pd.DataFrame) and len(built) == len(cohort), name
            columns[name] = built.shape[1]
        seconds, cpu = sum(steps.values()), _cpu_seconds() - cpu_start
        out.update(
            as_of=as_of.isoformat(),
            rows=len(cohort),
            step_seconds={k: round(v, 3) for k, v in steps.items()},
            family_columns=columns,
        )
    else:
        dates = matrix_dates(n_dates)
        frame, seconds, cpu = _timed(
            lambda: matrix.training_matrix(sources, dates, HORIZON_DAYS, ESCALATION_TYPES)
        )
        assert isinstance(frame, pd.DataFrame)
        out.update(
            dates=[dates[0].isoformat(), dates[-1].isoformat(), len(dates)],
            rows=len(frame),
            columns=frame.shape[1],
            label_any_rate=round(float(frame["label_any"].mean()), 4) if len(frame) else None,
        )
    out.update(
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu, 3),
        peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,  # KiB on Linux; includes the load
        vm_hwm_kib=_status_kib("VmHWM"),
    )
    return out


# --------------------------------------------------------------------------------------- subprocesses


def _child(arguments: list[str], on_line: Callable[[str], None], what: str) -> dict[str, object]:
    """python -m bench.features_bench ARGUMENTS in a fresh process; '#' lines go to on_line; its JSON line."""
    command = [sys.executable, "-m", "bench.features_bench", *arguments]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    with subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        lines = []
        for line in process.stdout:
            if line.startswith("# "):
                on_line(line[2:].rstrip())
            lines.append(line)
        errors = process.stderr.read()
        code = process.wait()
    found = [line for line in lines if line.startswith("{")]
    if code != 0 or not found:
        raise SystemExit(f"{what} failed (exit {code}):\n{''.join(lines)[-2000:]}{errors[-4000:]}")
    return json.loads(found[-1])


# ------------------------------------------------------------------------------------------- report


def _mib(kib: object) -> float:
    return int(kib) / 1024  # type: ignore[call-overload]


def summarise(runs: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Per mode: median seconds (and per family step), peak memory (worst run), targets."""
    summary: dict[str, dict[str, object]] = {}
    for mode in MODES:
        mine = [r for r in runs if r["mode"] == mode]
        if not mine:
            continue
        seconds = statistics.median(float(r["seconds"]) for r in mine)
        entry: dict[str, object] = {
            "runs": len(mine),
            "median_seconds": round(seconds, 3),
            "median_cpu_seconds": round(statistics.median(float(r["cpu_seconds"]) for r in mine), 3),
            "median_load_seconds": round(statistics.median(float(r["load_seconds"]) for r in mine), 3),
            "peak_rss_mib_max": round(max(_mib(r["peak_rss_kib"]) for r in mine), 1),
            "rss_after_load_mib_median": round(
                statistics.median(_mib(r["rss_after_load_kib"]) for r in mine), 1
            ),
            "rows": mine[-1]["rows"],
        }
        if mode in TARGET_SECONDS:
            entry["target_seconds"] = TARGET_SECONDS[mode]
            entry["meets_target"] = seconds < TARGET_SECONDS[mode]
        if mode == "families":
            steps = list(mine[0]["step_seconds"])  # type: ignore[arg-type]
            entry["median_step_seconds"] = {
                s: round(statistics.median(float(r["step_seconds"][s]) for r in mine), 3)  # type: ignore[index]
                for s in steps
            }
        summary[mode] = entry
    return summary


def _markdown(results: dict[str, object]) -> str:
    params, prep, summary, box = (
        results["parameters"],
        results["prepared"],
        results["summary"],
        results["machine"],
    )
    rows = prep["rows"]
    pad = prep["details"]["hotline_padding"]
    runs = results["runs"]
    lines = [
        "# Features benchmark results",
        "",
        f"Produced {results['date']} by `{results['command']}` (from the repository root).",
        "",
        f"Machine: {box['cpu_model']}, {box['usable_cores']} cores, {box['ram_gib']} GiB RAM; Python "
        f"{box['python']}, pandas {box['pandas']}, numpy {box['numpy']}, pyarrow {box['pyarrow']}.",
        "",
        f"Data: a simulated city (`simulate_city`, seed {params['seed']}, {DAYS} days from {START}) in "
        f"stored form (`validate_frame`, chunks of {prep['chunk_rows']:,} rows): {rows['cases']:,} cases, "
        f"{rows['events']:,} case events, {rows['hotline']:,} hotline calls ({pad['simulated']:,} simulated "
        f"+ {pad['padded']:,} padding copies of unlinked calls moved up to +-{PAD_SHIFT_DAYS} days; "
        f"{prep['hotline_linked_by_case_id']:,} linked by case_id). Preparation took "
        f"{prep['seconds']['total']:,.0f} s (simulate {prep['seconds']['simulate']:,.0f} s), cached as "
        "Parquet" + (" (reused for this run)." if prep["reused"] else "."),
        "",
        "Each run is a fresh subprocess that loads the columns the features read from the Parquet files "
        "into `Sources`, compacted as the store's loader does (load not timed; "
        f"median {summary['one_date']['median_load_seconds']:.1f} s) and times one call. One date: "
        f"`build_features(sources, {results['one_date']})`. Matrix: `training_matrix(sources, dates, "
        f"{HORIZON_DAYS}, {ESCALATION_TYPES})` over {params['dates']} weekly dates "
        f"{results['matrix_dates'][0]} .. {results['matrix_dates'][1]}. Peak memory is the subprocess's "
        "peak RSS (`ru_maxrss`, worst run), which includes the loaded tables (RSS after loading shown too).",
        "",
        "| stage | runs | seconds, median (each run) | CPU s | target | meets | rows | RSS after load MiB "
        "| peak memory MiB |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    names = {
        "one_date": "one date: `build_features`",
        "families": "one date, step by step (sum)",
        "matrix": f"{params['dates']}-date `training_matrix`",
    }
    for mode in MODES:
        s = summary.get(mode)
        if s is None:
            continue
        each = ", ".join(f"{float(r['seconds']):.1f}" for r in runs if r["mode"] == mode)
        target = f"< {s['target_seconds']:.0f} s" if "target_seconds" in s else ""
        meets = ("yes" if s["meets_target"] else "**no**") if "meets_target" in s else ""
        lines.append(
            f"| {names[mode]} | {s['runs']} | {s['median_seconds']:.2f} ({each}) "
            f"| {s['median_cpu_seconds']:.1f} | {target} | {meets} | {s['rows']:,} "
            f"| {s['rss_after_load_mib_median']:,.0f} | {s['peak_rss_mib_max']:,.0f} |"
        )
    if "families" in summary:
        steps = summary["families"]["median_step_seconds"]
        total = sum(steps.values())
        lines += [
            "",
            f"Where the one-date time goes ({results['one_date']}, median of "
            f"{summary['families']['runs']} run(s); `family.build(cohort, known, instant)` after "
            "`known = features.known.cut(sources, as_of)` and `cohort = open_cases(known, instant)`):",
            "",
            "| step | seconds (median) | share |",
            "|---|---:|---:|",
        ]
        for step, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
            lines.append(f"| {step} | {seconds:.2f} | {seconds / total:.0%} |")
    code = results["code"]
    dirty = f", with uncommitted changes to {len(code['uncommitted'])} file(s)" if code["uncommitted"] else ""
    lines += [
        "",
        f"Code: commit {code['commit']}{dirty} (fingerprint {code['fingerprint']} of contracts/ and "
        f"features/); families: {', '.join(results['families'])}.",
    ]
    if code["changed_during_benchmark"]:
        lines += ["", f"**Warning: {CHANGED_WARNING}**"]
    loads = ", ".join(f"{r['mode']} {float(r['load_average_before'][0]):.1f}" for r in runs)
    lines += ["", f"1-minute load average before each run (2 cores, shared machine), in order: {loads}."]
    lines += ["", "Every run, the machine and the versions are in `features_results.json`.", ""]
    return "\n".join(lines)


def benchmark(args: argparse.Namespace, console: object) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("preparing", total=None)
        prep = _child(
            _prepare_arguments(args),
            lambda line: progress.update(task, description=f"preparing: {line}"),
            "preparing the stored tables",
        )
        progress.update(task, total=1, completed=1, description="stored tables ready")
        rows = prep["rows"]
        progress.console.print(
            f"{'reusing' if prep['reused'] else 'prepared'} {rows['cases']:,} cases, "
            f"{rows['events']:,} events, {rows['hotline']:,} calls in {args.work_dir / 'stored'} "
            f"(prepared in {prep['seconds']['total']:,.0f} s)"
        )
        if args.prepare_only:
            return
        plan = [(mode, r) for r in range(1, args.repeats + 1) for mode in ("one_date", "families")]
        plan += [("matrix", r) for r in range(1, args.matrix_repeats + 1)]
        task = progress.add_task("measuring", total=len(plan))
        runs = []
        code = code_state(CODE_PACKAGES)
        for mode, repeat in plan:
            progress.update(task, description=f"{mode} (repeat {repeat})")
            run = {
                "mode": mode,
                "repeat": repeat,
                "code_fingerprint": code_fingerprint(CODE_PACKAGES),
                "load_average_before": [round(x, 2) for x in os.getloadavg()],
                **_child(
                    ["--run-one", mode, "--work-dir", str(args.work_dir), "--dates", str(args.dates)],
                    lambda _line: None,
                    f"the {mode} measurement",
                ),
            }
            runs.append(run)
            steps = run.get("step_seconds")
            detail = (" (" + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()) + ")") if steps else ""
            progress.console.print(
                f"  {mode} #{repeat}: {run['seconds']:.1f} s{detail}, CPU {run['cpu_seconds']:.1f} s, "
                f"{run['rows']:,} rows, peak {_mib(run['peak_rss_kib']):,.0f} MiB, load "
                f"{run['load_average_before'][0]:.1f} before"
            )
            progress.advance(task)

    summary = summarise(runs)
    fingerprints = {r["code_fingerprint"] for r in runs} | {
        code["fingerprint"],
        code_fingerprint(CODE_PACKAGES),
    }
    code["changed_during_benchmark"] = len(fingerprints) > 1
    dates = matrix_dates(args.dates)
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.features_bench " + " ".join(args.argv),
        "machine": machine(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "parameters": {
            "cases": args.cases,
            "calls": args.calls,
            "days": DAYS,
            "dates": args.dates,
            "repeats": args.repeats,
            "matrix_repeats": args.matrix_repeats,
            "seed": args.seed,
            "chunk_rows": args.chunk_rows,
            "horizon_days": HORIZON_DAYS,
            "escalation_types": list(ESCALATION_TYPES),
        },
        "one_date": one_date().isoformat(),
        "matrix_dates": [dates[0].isoformat(), dates[-1].isoformat()],
        "families": runs[0]["families"] if runs else [],
        "prepared": prep,
        "code": code,
        "parent_peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "runs": runs,
        "summary": summary,
    }
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "features_results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out / "features_results.md").write_text(_markdown(results))

    table = Table(title=f"features on {rows['cases']:,} cases / {rows['hotline']:,} calls (median)")
    for heading in ("stage", "median s", "target", "MiB after load", "peak MiB", "ok"):
        table.add_column(heading, justify="left" if heading in ("stage", "ok") else "right")
    for mode in MODES:
        s = summary.get(mode)
        if s is None:
            continue
        ok = s.get("meets_target")
        table.add_row(
            mode,
            f"{s['median_seconds']:.2f}",
            f"< {s['target_seconds']:.0f}" if "target_seconds" in s else "",
            f"{s['rss_after_load_mib_median']:,.0f}",
            f"{s['peak_rss_mib_max']:,.0f}",
            "" if ok is None else ("[green]yes[/]" if ok else "[red]no[/]"),
        )
    if "families" in summary:
        for step, seconds in summary["families"]["median_step_seconds"].items():
            table.add_row(f"  {step}", f"{seconds:.2f}", "", "", "", "")
    console.print(table)  # type: ignore[attr-defined]
    if code["changed_during_benchmark"]:
        console.print(f"[red]warning:[/] {CHANGED_WARNING}")  # type: ignore[attr-defined]
    console.print(f"wrote {out / 'features_results.json'} and {out / 'features_results.md'}")  # type: ignore[attr-defined]


def _prepare_arguments(args: argparse.Namespace) -> list[str]:
    arguments = [
        "--prepare",
        "--cases",
        str(args.cases),
        "--calls",
        str(args.calls),
        "--seed",
        str(args.seed),
    ]
    arguments += ["--chunk-rows", str(args.chunk_rows), "--work-dir", str(args.work_dir)]
    return arguments + (["--regenerate"] if args.regenerate else [])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m bench.features_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cases", type=int, default=200_000, help="simulated cases (two years)")
    parser.add_argument("--calls", type=int, default=5_000_000, help="hotline records after padding")
    parser.add_argument("--dates", type=int, default=26, help="weekly as-of dates of the training matrix")
    parser.add_argument("--repeats", type=int, default=3, help="one-date runs (and step-by-step runs)")
    parser.add_argument("--matrix-repeats", type=int, default=1, help="training-matrix runs")
    parser.add_argument("--seed", type=int, default=7, help="simulation seed")
    parser.add_argument("--chunk-rows", type=int, default=500_000, help="rows per validate_frame call")
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="where the results go")
    parser.add_argument(
        "--work-dir", type=Path, default=Path("/tmp/fengqiao-bench-features"), help="the cached stored tables"
    )
    parser.add_argument("--regenerate", action="store_true", help="prepare the tables even if cached")
    parser.add_argument("--prepare-only", action="store_true", help="prepare (or check) the tables and stop")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-one", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    if min(args.cases, args.calls, args.dates, args.repeats, args.matrix_repeats, args.chunk_rows) < 1:
        parser.error("--cases, --calls, --dates, --repeats, --matrix-repeats and --chunk-rows must be >= 1")
    args.work_dir = args.work_dir.resolve()
    args.out = args.out.resolve()
    if args.prepare:
        meta = prepare(args.cases, args.calls, args.seed, args.chunk_rows, args.work_dir, args.regenerate)
        print(json.dumps(meta), flush=True)
        return
    if args.run_one is not None:
        print(json.dumps(run_one(args.run_one, args.work_dir, args.dates)), flush=True)
        return
    from rich.console import Console

    benchmark(args, Console())


if __name__ == "__main__":
    main()
