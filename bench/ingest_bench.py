"""Ingest benchmark: throughput and peak memory of N synthetic hotline records, CSV and Parquet, into SQLite.

From the repository root::

    python -m bench.ingest_bench [--records 1000000] [--repeats 3] [--chunk-rows 200000] [--messy 0.05]
    python -m bench.ingest_bench --profile [--records 1000000]

The first form generates the input once (``cities.bulk_hotline``, seeded, vectorised), then for each
repeat and format runs ``ingest.run.ingest_paths`` in a fresh subprocess (``--run-one``) into a fresh
SQLite store, timing the ingest call only and reading the subprocess's peak resident memory. With
``--messy SHARE`` (default 0.05) the same records are ingested once more as an export arrives in practice
(``cities.bulk_messy``: that share of rows defective, resent and resent changed), and the time per record
read is compared with the clean file's. It writes
``ingest_results.json`` and ``ingest_results.md`` into ``--out``. The second form runs one in-process
Parquet ingest under cProfile and writes ``profile_ingest.txt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bench.common import REPO, code_fingerprint, code_state, machine, run_measurement
from cities.bulk_hotline import GENERATOR_VERSION, hotline_table
from cities.bulk_messy import messy_hotline_table

KEY = b"bench-key"
CLEAN_FORMATS = ("csv", "parquet")
MESSY = "-messy"  # suffix of a format's messy file
TARGET_RECORDS_PER_SECOND = {"csv": 50_000, "parquet": 100_000}
TARGET_MESSY_SLOWDOWN = 2.0  # seconds per record read, messy over clean
CHANGED_WARNING = "the measured code changed during the benchmark; runs may mix versions, run it again"
TARGET_PEAK_MIB = 2048  # "< 2 GB", read as 2 GiB
CODE_PACKAGES = ("contracts", "ingest", "warehouse")
ACCOUNTING = ("read", "accepted", "updated", "duplicates", "quarantined")

# --------------------------------------------------------------------------------------------- input


def formats(messy: float) -> tuple[str, ...]:
    """The measured files: CSV and Parquet, and their messy versions when a share of rows is messy."""
    return (*CLEAN_FORMATS, *((f + MESSY for f in CLEAN_FORMATS) if messy > 0 else ()))


def expected_accounting(n: int, fmt: str, inputs: dict[str, object]) -> dict[str, int]:
    """What a correct ingest of the format's file reports: every clean record accepted."""
    clean = {"read": n, "accepted": n, "updated": 0, "duplicates": 0, "quarantined": 0}
    return {**clean, **inputs["expected"]} if fmt.endswith(MESSY) else clean  # type: ignore[dict-item]


def prepare_inputs(n: int, seed: int, work: Path, regenerate: bool, messy: float = 0.0) -> dict[str, object]:
    """The CSV and Parquet inputs in work/inputs (reused if made by this generator with the same n, seed,
    messy share)."""
    folder = work / "inputs"
    meta_path = folder / "meta.json"
    wanted = {"records": n, "seed": seed, "generator_version": GENERATOR_VERSION, "messy": messy}
    if not regenerate and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in wanted} == wanted and all(
            Path(p).exists() for p in meta["files"].values()
        ):
            return {**meta, "reused": True}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    timings = {}
    start = time.perf_counter()
    table = hotline_table(n, seed)
    tables, expected = {"": table}, {}
    if messy > 0:
        tables[MESSY], expected = messy_hotline_table(table, messy, seed)
    timings["generate"] = time.perf_counter() - start
    files = {}
    for suffix, contents in tables.items():
        files["csv" + suffix] = folder / f"hotline_bench{suffix}.csv"
        files["parquet" + suffix] = folder / f"hotline_bench{suffix}.parquet"
        start = time.perf_counter()
        options = pa_csv.WriteOptions(quoting_style="needed")
        pa_csv.write_csv(contents, files["csv" + suffix], write_options=options)
        timings["write_csv" + suffix] = time.perf_counter() - start
        start = time.perf_counter()
        pq.write_table(contents, files["parquet" + suffix])
        timings["write_parquet" + suffix] = time.perf_counter() - start
    meta = {
        **wanted,
        "expected": expected,
        "files": {k: str(v) for k, v in files.items()},
        "bytes": {k: v.stat().st_size for k, v in files.items()},
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "parquet": "pyarrow defaults (snappy), all columns string, null where absent",
        "csv": "UTF-8 without BOM, header row, text values quoted (pyarrow), empty where absent",
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return {**meta, "reused": False}


# ------------------------------------------------------------------------------------------- running


def _accounting(report: object) -> dict[str, int]:
    frame = report.accounting  # type: ignore[attr-defined]
    return {name: int(frame[name].sum()) for name in ACCOUNTING}


def _check_accounting(
    counts: dict[str, int], failed: dict[str, str], expected: dict[str, int], what: str
) -> None:
    if failed or any(counts[k] != v for k, v in expected.items()):
        raise SystemExit(
            f"{what}: accounting is wrong: expected {expected}, got {counts}"
            + (f"; failed files: {failed}" if failed else "")
        )


def _fresh_store(folder: Path) -> str:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return f"sqlite:///{folder / 'warehouse.db'}"


def _store_bytes(url: str) -> int:
    path = Path(url.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _vm_hwm_kib() -> int | None:
    """This address space's peak RSS (VmHWM, Linux), which unlike ru_maxrss is not inherited across exec."""
    try:
        with open("/proc/self/status") as handle:
            return next((int(ln.split()[1]) for ln in handle if ln.startswith("VmHWM:")), None)
    except OSError:
        return None


def prepare_in_child(args: argparse.Namespace) -> dict[str, object]:
    """The inputs, made in a separate process so that this (parent) process stays small.

    On Linux a process's ru_maxrss survives fork and exec, so a measured child would report the parent's
    peak if the parent had held the generated table.
    """
    arguments = [
        "--prepare",
        "--records",
        str(args.records),
        "--seed",
        str(args.seed),
        "--messy",
        str(args.messy),
    ]
    arguments += ["--work-dir", str(args.work_dir), *(["--regenerate"] if args.regenerate else [])]
    return run_measurement("bench.ingest_bench", arguments, what="generating the inputs")


def run_one(path: Path, url: str, chunk_rows: int, expected: dict[str, int]) -> dict[str, object]:
    """One measured ingest (in this process): wall time of ingest_paths only, this process's peak RSS."""
    from ingest.run import ingest_paths
    from warehouse import tables
    from warehouse.store import Warehouse

    warehouse = Warehouse(url)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    report = ingest_paths([path], warehouse, KEY, chunk_rows=chunk_rows)
    seconds = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    helper = resource.getrusage(resource.RUSAGE_CHILDREN)  # the ingest's helper process, once it ended
    cpu_seconds = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))
    helper_cpu_seconds = helper.ru_utime + helper.ru_stime
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    high_water_kib = _vm_hwm_kib()
    counts = _accounting(report)
    with warehouse.engine.connect() as connection:
        stored = connection.exec_driver_sql(f'SELECT count(*) FROM "{tables.hotline.name}"').scalar()
    warehouse.engine.dispose()
    _check_accounting(counts, report.failed, expected, path.name)
    if stored != expected["accepted"]:
        raise SystemExit(f"{path.name}: {stored:,} rows stored, expected {expected['accepted']:,}")
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds + helper_cpu_seconds, 3),
        "helper_cpu_seconds": round(helper_cpu_seconds, 3),
        "peak_rss_kib": peak_kib + helper.ru_maxrss,
        "ingest_peak_rss_kib": peak_kib,
        "helper_peak_rss_kib": helper.ru_maxrss,
        "vm_hwm_kib": high_water_kib,
        "stored": stored,
        "store_bytes": _store_bytes(url),
        **counts,
    }


def spawn(path: Path, url: str, chunk_rows: int, expected: dict[str, int]) -> dict[str, object]:
    """run_one in a fresh Python process; its JSON line."""
    arguments = [
        "--run-one",
        str(path),
        "--db",
        url,
        "--chunk-rows",
        str(chunk_rows),
        "--expect",
        json.dumps(expected),
    ]
    return run_measurement("bench.ingest_bench", arguments, what=f"the ingest of {path.name}")


def summarise(runs: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Per format: median time and throughput (records read per second), peak memory (median and worst
    run), and the targets; a messy format's throughput is judged against its clean format's."""
    summary: dict[str, dict[str, object]] = {}
    for fmt in dict.fromkeys(str(r["format"]) for r in runs):
        mine = [r for r in runs if r["format"] == fmt]
        read = int(mine[0]["read"])
        seconds = statistics.median(float(r["seconds"]) for r in mine)
        cpu = statistics.median(float(r["cpu_seconds"]) for r in mine)
        peaks = [int(r["peak_rss_kib"]) / 1024 for r in mine]
        high_water = [int(r["vm_hwm_kib"]) / 1024 for r in mine if r.get("vm_hwm_kib")]
        rate = read / seconds
        summary[fmt] = {
            "runs": len(mine),
            "records_read": read,
            "median_seconds": round(seconds, 3),
            "records_per_second": round(rate),
            "median_cpu_seconds": round(cpu, 3),
            "records_per_cpu_second": round(read / cpu),
            "peak_rss_mib_median": round(statistics.median(peaks), 1),
            "peak_rss_mib_max": round(max(peaks), 1),
            "vm_hwm_mib_max": round(max(high_water), 1) if high_water else None,
            "target_peak_mib": TARGET_PEAK_MIB,
            "meets_memory": max(peaks) < TARGET_PEAK_MIB,
        }
        clean = summary.get(fmt.removesuffix(MESSY))
        if fmt.endswith(MESSY) and clean is not None:
            slowdown = float(clean["records_per_second"]) / rate
            summary[fmt] |= {
                "slowdown": round(slowdown, 2),
                "target_slowdown": TARGET_MESSY_SLOWDOWN,
                "meets_throughput": slowdown <= TARGET_MESSY_SLOWDOWN,
            }
        elif fmt in TARGET_RECORDS_PER_SECOND:
            target = TARGET_RECORDS_PER_SECOND[fmt]
            summary[fmt] |= {"target_records_per_second": target, "meets_throughput": rate >= target}
    return summary


def _target(s: dict[str, object]) -> str:
    """A format's throughput target as the table shows it."""
    if "slowdown" in s:
        return f"≤ {TARGET_MESSY_SLOWDOWN:g}× clean per record ({s['slowdown']:.2f}×)"
    return f">= {int(s['target_records_per_second']):,}"  # type: ignore[call-overload]


def _markdown(results: dict[str, object]) -> str:
    params, inputs, summary, box = (
        results["parameters"],
        results["inputs"],
        results["summary"],
        results["machine"],
    )
    lines = [
        "# Ingest benchmark results",
        "",
        f"Produced {results['date']} by `{results['command']}` (from the repository root).",
        "",
        f"Machine: {box['cpu_model']}, {box['usable_cores']} cores, {box['ram_gib']} GiB RAM; Python "
        f"{box['python']}, pandas {box['pandas']}, pyarrow {box['pyarrow']}, SQLite {box['sqlite']}.",
        "",
        f"{params['records']:,} hotline records, chunk_rows {params['chunk_rows']:,}, {params['repeats']} "
        "repeat(s) per format, each a fresh subprocess into a fresh SQLite store; time is the "
        "`ingest_paths` call only; CPU is the subprocess's and its ingest helper's; peak memory is the "
        "subprocess's peak RSS plus its ingest helper's (`ru_maxrss` of each, added as if both peaked at "
        "once; worst run; the inputs are generated in another process, so the parent's memory does not "
        "leak into it).",
        "",
        "| format | input MB | records read | median s (each run) | median CPU s | records/s | target "
        "| peak memory MiB | target | meets targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for fmt, s in summary.items():
        ok = "yes" if s["meets_throughput"] and s["meets_memory"] else "**no**"
        each = ", ".join(f"{float(r['seconds']):.1f}" for r in results["runs"] if r["format"] == fmt)
        lines.append(
            f"| {fmt} | {inputs['bytes'][fmt] / 1e6:,.0f} | {s.get('records_read', params['records']):,} "
            f"| {s['median_seconds']:.1f} ({each}) | {s['median_cpu_seconds']:.1f} "
            f"| {s['records_per_second']:,} | {_target(s)} "
            f"| {s['peak_rss_mib_max']:,.0f} | < {TARGET_PEAK_MIB:,} | {ok} |"
        )
    if params.get("messy"):
        share = float(params["messy"])
        lines += [
            "",
            f"Messy files (`cities.bulk_messy`, share {share:g}): the same records with {share:.0%} of them "
            "defective (a year 9999 or 1900, free text for a time, an empty key: quarantined), "
            f"{share:.0%} sent again unchanged (duplicates) and {share:.0%} sent again changed (the first "
            "copy quarantined, the later kept), the resent rows up to 5,000 rows after the first; each "
            "run's accounting is checked against what a correct ingest reports.",
        ]
    code = results["code"]
    dirty = f", with uncommitted changes to {len(code['uncommitted'])} file(s)" if code["uncommitted"] else ""
    lines += ["", f"Code: commit {code['commit']}{dirty} (fingerprint {code['fingerprint']})."]
    if code["changed_during_benchmark"]:
        lines += ["", f"**Warning: {CHANGED_WARNING}**"]
    loads = ", ".join(f"{float(r['load_average_before']):.1f}" for r in results["runs"])
    lines += ["", f"1-minute load average before each run, in order: {loads}."]
    lines += ["", "Every run, the machine and the versions are in `ingest_results.json`.", ""]
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

    work, out, n = args.work_dir, args.out, args.records
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(f"generating {n:,} records", total=None)
        inputs = prepare_in_child(args)
        progress.update(task, total=1, completed=1, description=f"inputs ready ({n:,} records)")
        if inputs["reused"]:
            progress.console.print(
                f"reusing the inputs in {work / 'inputs'} (--regenerate to make them again)"
            )
        for fmt in formats(args.messy):
            progress.console.print(f"  {fmt}: {inputs['files'][fmt]}  {inputs['bytes'][fmt] / 1e6:,.1f} MB")
        plan = [(repeat, fmt) for repeat in range(1, args.repeats + 1) for fmt in formats(args.messy)]
        task = progress.add_task("ingest", total=len(plan))
        runs = []
        code = code_state(CODE_PACKAGES)
        for repeat, fmt in plan:
            progress.update(task, description=f"ingest {fmt} (repeat {repeat}/{args.repeats})")
            url = _fresh_store(work / "stores" / f"{fmt}-{repeat}")
            expected = expected_accounting(n, fmt, inputs)
            run = {
                "format": fmt,
                "repeat": repeat,
                "code_fingerprint": code_fingerprint(CODE_PACKAGES),
                "load_average_before": round(os.getloadavg()[0], 2),
                **spawn(Path(inputs["files"][fmt]), url, args.chunk_rows, expected),
            }
            _check_accounting({k: int(run[k]) for k in ACCOUNTING}, {}, expected, f"{fmt} repeat {repeat}")
            runs.append(run)
            shutil.rmtree(work / "stores" / f"{fmt}-{repeat}", ignore_errors=True)
            progress.console.print(
                f"  {fmt} #{repeat}: {run['seconds']:.1f} s (CPU {run['cpu_seconds']:.1f} s, load "
                f"{run['load_average_before']:.1f} before), {int(run['read']) / float(run['seconds']):,.0f} "
                "records/s, "
                f"peak {int(run['peak_rss_kib']) / 1024:,.0f} MiB"
            )
            progress.advance(task)

    summary = summarise(runs)
    fingerprints = {r["code_fingerprint"] for r in runs} | {
        code["fingerprint"],
        code_fingerprint(CODE_PACKAGES),
    }
    code["changed_during_benchmark"] = len(fingerprints) > 1
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.ingest_bench " + " ".join(args.argv),
        "machine": machine(),
        "parameters": {
            "records": n,
            "repeats": args.repeats,
            "chunk_rows": args.chunk_rows,
            "seed": args.seed,
            "messy": args.messy,
        },
        "inputs": {k: inputs[k] for k in ("bytes", "seconds", "csv", "parquet", "reused", "expected")},
        "code": code,
        "parent_peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "runs": runs,
        "summary": summary,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest_results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out / "ingest_results.md").write_text(_markdown(results))

    table = Table(title=f"ingest of {n:,} hotline records ({args.repeats} repeat(s), median)")
    for heading in ("format", "median s", "records/s", "target", "peak MiB", "target", "ok"):
        table.add_column(heading, justify="left" if heading in ("format", "ok") else "right")
    for fmt, s in summary.items():
        ok = s["meets_throughput"] and s["meets_memory"]
        table.add_row(
            fmt,
            f"{s['median_seconds']:.1f}",
            f"{s['records_per_second']:,}",
            _target(s),
            f"{s['peak_rss_mib_max']:,.0f}",
            f"< {TARGET_PEAK_MIB:,}",
            "[green]yes[/]" if ok else "[red]no[/]",
        )
    console.print(table)
    if code["changed_during_benchmark"]:
        console.print(f"[red]warning:[/] {CHANGED_WARNING}")
    console.print(f"wrote {out / 'ingest_results.json'} and {out / 'ingest_results.md'}")


def profile(args: argparse.Namespace, console: object) -> None:
    """One in-process Parquet ingest under cProfile: top 30 by cumulative and by own time."""
    with console.status(f"generating {args.records:,} records"):
        inputs = prepare_in_child(args)
    code = code_state(CODE_PACKAGES)
    from ingest.run import ingest_paths
    from warehouse.store import Warehouse

    path = Path(inputs["files"]["parquet"])
    url = _fresh_store(args.work_dir / "stores" / "profile")
    warehouse = Warehouse(url)
    profiler = cProfile.Profile()
    with console.status(f"profiling the ingest of {path.name}"):
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        profiler.enable()
        report = ingest_paths([path], warehouse, KEY, chunk_rows=args.chunk_rows)
        profiler.disable()
        seconds = time.perf_counter() - start
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    helper_cpu = sum(
        getattr(children_after, f) - getattr(children_before, f) for f in ("ru_utime", "ru_stime")
    )
    warehouse.engine.dispose()
    _check_accounting(
        _accounting(report), report.failed, expected_accounting(args.records, "parquet", inputs), path.name
    )
    changed = code_fingerprint(CODE_PACKAGES) != code["fingerprint"]
    dirty = f", with uncommitted changes to {len(code['uncommitted'])} file(s)" if code["uncommitted"] else ""
    raw = args.work_dir / "profile_ingest.prof"
    profiler.dump_stats(raw)
    stream = io.StringIO()
    stream.write(
        f"cProfile of one in-process ingest_paths([{path.name}], ...) of {args.records:,} hotline records, "
        f"chunk_rows {args.chunk_rows:,}, into a fresh SQLite store.\n"
        f"Produced {datetime.now().astimezone().isoformat(timespec='seconds')} by "
        f"`python -m bench.ingest_bench {' '.join(args.argv)}`; wall time under the profiler "
        f"{seconds:.1f} s (profiling adds overhead). Raw stats: {raw}\n"
        f"Code: commit {code['commit']}{dirty} (fingerprint {code['fingerprint']}).\n"
        f"Only this process is profiled: the ingest helper process that validates the chunks after the "
        f"first ahead of the writes (ingest/prefetch.py) used {helper_cpu:.1f} s CPU, not shown below.\n"
        + (f"WARNING: {CHANGED_WARNING}\n" if changed else "")
        + "\n"
        "=== top 30 by cumulative time ===\n"
    )
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stream.write("\n=== top 30 by own (total) time ===\n")
    stats.sort_stats("tottime").print_stats(30)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "profile_ingest.txt"
    target.write_text(stream.getvalue())
    shutil.rmtree(args.work_dir / "stores" / "profile", ignore_errors=True)
    if changed:
        console.print(f"[red]warning:[/] {CHANGED_WARNING}")
    console.print(f"profiled ingest: {seconds:.1f} s under cProfile; wrote {target}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="hotline records to generate")
    parser.add_argument("--repeats", type=int, default=3, help="measured ingests per format")
    parser.add_argument("--chunk-rows", type=int, default=200_000, help="chunk_rows passed to ingest_paths")
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="where results and profile go")
    parser.add_argument(
        "--work-dir", type=Path, default=Path("/tmp/fengqiao-bench"), help="inputs and stores"
    )
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument(
        "--messy",
        type=float,
        default=0.05,
        help="also ingest messy files with this share of rows defective, resent and resent changed (0: none)",
    )
    parser.add_argument("--expect", help=argparse.SUPPRESS)
    parser.add_argument("--regenerate", action="store_true", help="make the inputs even if cached")
    parser.add_argument(
        "--profile", action="store_true", help="profile one in-process Parquet ingest instead"
    )
    parser.add_argument("--run-one", type=Path, metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--db", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.records < 1 or args.repeats < 1 or args.chunk_rows < 1:
        parser.error("--records, --repeats and --chunk-rows must be >= 1")
    if not 0 <= args.messy < 1 / 3:
        parser.error("--messy must be at least 0 and below 1/3")
    if args.prepare:
        inputs = prepare_inputs(args.records, args.seed, args.work_dir.resolve(), args.regenerate, args.messy)
        print(json.dumps(inputs), flush=True)
        return
    if args.run_one is not None:
        if not args.db:
            parser.error("--run-one needs --db")
        expected = json.loads(args.expect) if args.expect else expected_accounting(args.records, "csv", {})
        print(json.dumps(run_one(args.run_one, args.db, args.chunk_rows, expected)), flush=True)
        return
    from rich.console import Console

    console = Console()
    args.work_dir = args.work_dir.resolve()
    args.out = args.out.resolve()
    if args.profile:
        profile(args, console)
    else:
        benchmark(args, console)


if __name__ == "__main__":
    main()
