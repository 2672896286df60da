"""Province benchmark (issue 20): a day and a training run by district parts over a store of ten cities.

From the repository root::

    python -m bench.province_bench                       # 11 copies: 2,125,805 cases, 55,000,000 calls
    python -m bench.province_bench --cases 3000 --calls 60000 --copies 3 --parts 3   # a quick look
    python -m bench.province_bench --prepare-only        # the city and the store only (reused later)

The city `bench.features_bench` prepares (`--cases` cases, its hotline padded to `--calls` calls, two
years; Parquet under `--work-dir`/city, reused while its parameters are the same) is copied `--copies`
times into one SQLite store: each copy's case, event and call identifiers get a prefix of their own
(`S00-`, `S01-`, ...), its pseudonyms another first byte and its districts a suffix, so the province has
`--copies` times the city's districts, cases, callers and calls, and no copy's records meet another's.
The copies are written a batch at a time (memory bounded by a batch, not the province), the store's
secondary indexes built once at the end. Then three fresh processes, each with `district_parts` =
`--parts` (`--task-runner dask` for a local Dask cluster): `link_backfill_flow` (`fengqiao links`) over
the days training and the day read (a store ingested with its history has no stored call links; once
stored, daily runs add each day's), `train_flow` as of the day after the period (the matrix by parts,
negatives sampled above `training_max_rows`, the model grid), then `score_flow` for that day with the
model it registered (features, links, grievances, scores, the published list). Each stage's figures are
kept as it finishes (`province_stages.json` in `--work-dir`); `--resume` keeps those already measured (with
the same parts, runner and copies), and a links stage resumed after an interruption decides, and measures,
only the part-days still without links. Without `--resume` the links an earlier run stored are dropped
first.
Each reports its wall seconds (a temporary Prefect server's start included) and the peak resident
memory of the largest single process (itself, or the largest of its worker processes). Results go to
`province_results.json` and `.md` in `--out`; `python -m bench.summary` copies the figures into
`results.json` under "province". Ingest speed is the city's (`bench.ingest_bench`): a province ingests
its exports a file at a time, at the rate measured there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import REPO, code_state, machine, run_measurement
from bench.features_bench import TABLES, _paths, _status_kib, period_end, prepare

KEY = "province-bench-key-0123456789abcdef"
BATCH_ROWS = 1_000_000
RECORD = "province_bench"  # the store_meta name of the store's record: copies, rows, seconds, city
TARGETS = {"daily_run_s": 600.0, "train_s": 3600.0, "peak_rss_gib": 8.0}
# In order, each in a fresh process: the call links of the days training and the day read (a store
# ingested with its history has none: decided once, `fengqiao links`), training, then the day.
STAGES = ("links", "train", "day")
STAGES_FILE = "province_stages.json"  # each stage's figures as it finishes (for --resume)
CODE_PACKAGES = ("contracts", "warehouse", "ingest", "features", "models", "pipelines")
IDENTIFIERS = {
    "cases": ("record_key", "case_id"),
    "events": ("record_key", "case_id"),
    "hotline": ("record_key", "call_id", "case_id"),
}
PSEUDONYMS = {
    "cases": ("reporter_name_pid", "reporter_phone_pid", "reporter_id_number_pid", "address_pid"),
    "events": (),
    "hotline": ("caller_name_pid", "caller_phone_pid"),
}


def copy_of(frame: Any, field: str, copy: int) -> Any:
    """One copy of a stored city table: identifiers prefixed, pseudonyms with another first byte and
    districts with a suffix of the copy's own (missing values stay missing)."""
    out = frame.copy()
    for column in IDENTIFIERS[field]:
        out[column] = f"S{copy:02d}-" + out[column]
    for column in PSEUDONYMS[field]:
        out[column] = f"{copy:02x}" + out[column].str[2:]
    if "district" in out.columns:
        out["district"] = out["district"] + f"{copy:02d}"
    return out


def fill_province(city: Path, store: Path, copies: int, batch_rows: int = BATCH_ROWS) -> dict[str, Any]:
    """The province's SQLite store: `copies` copies of the city's stored tables. Made once (a batch per
    transaction, secondary indexes dropped first and built once at the end); a store of the same city with
    fewer copies gains the missing ones (a copy and the store's record of it in one transaction, so an
    interrupted run leaves whole, recorded copies); any other is made again. The record (`RECORD` in the
    store's `store_meta`, mirrored in a JSON file beside it) names the city's parameters."""
    from warehouse.store import Warehouse, write_meta

    parameters = _city_parameters(city)
    made = _record(store)
    if made is not None and made.get("city") == parameters:
        if made["copies"] == copies:
            return {**made, "reused": True}
        if made["copies"] < copies:
            return _added_copies(city, store, made, copies, batch_rows)
    store.unlink(missing_ok=True)
    store.with_suffix(".json").unlink(missing_ok=True)
    partial = store.with_name(store.stem + ".partial.db")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    warehouse = Warehouse(f"sqlite:///{partial}")
    with warehouse.transaction() as connection:
        _indexes(connection, create=False)
    rows = {field: 0 for field in TABLES}
    for copy in range(copies):
        for field, added in _copy_into(warehouse, city, copy, copies, batch_rows):
            rows[field] += added
    found = {"copies": copies, "rows": rows, "seconds": 0.0, "city": parameters}
    with warehouse.transaction() as connection:
        _indexes(connection, create=True)
        found["seconds"] = round(time.perf_counter() - started, 1)
        write_meta(connection, RECORD, json.dumps(found))
    warehouse.engine.dispose()
    partial.rename(store)
    store.with_suffix(".json").write_text(json.dumps(found, indent=2), encoding="utf-8")
    return {**found, "reused": False}


def _city_parameters(city: Path) -> dict[str, Any]:
    """The parameters the copied city was made with (`bench.features_bench.prepare`'s record)."""
    return json.loads((city / "stored" / "meta.json").read_text(encoding="utf-8"))["parameters"]


def _record(store: Path) -> dict[str, Any] | None:
    """The province store's record of what it holds, or None (no store, or none recorded)."""
    from warehouse.store import Warehouse, read_meta

    if not store.exists():
        return None
    warehouse = Warehouse(f"sqlite:///{store}")
    with warehouse.engine.connect() as connection:
        found = read_meta(connection, RECORD)
    warehouse.engine.dispose()
    return None if found is None else json.loads(found)


def _added_copies(
    city: Path, store: Path, made: dict[str, Any], copies: int, batch_rows: int
) -> dict[str, Any]:
    """The store of `made["copies"]` copies with the others added, each with its record."""
    from warehouse.store import Warehouse, write_meta

    warehouse = Warehouse(f"sqlite:///{store}")
    found = dict(made)
    for copy in range(made["copies"], copies):
        started = time.perf_counter()
        with warehouse.transaction() as connection:
            added = _copy_into(warehouse, city, copy, copies, batch_rows, connection=connection)
            rows = {field: found["rows"][field] + count for field, count in added}
            seconds = round(found["seconds"] + time.perf_counter() - started, 1)
            found = {**found, "copies": copy + 1, "rows": rows, "seconds": seconds}
            write_meta(connection, RECORD, json.dumps(found))
        store.with_suffix(".json").write_text(json.dumps(found, indent=2), encoding="utf-8")
    warehouse.engine.dispose()
    return {**found, "reused": False, "added": copies - made["copies"]}


def _copy_into(
    warehouse: Any, city: Path, copy: int, copies: int, batch_rows: int, connection: Any = None
) -> list[tuple[str, int]]:
    """Append copy `copy` of the city's tables, a batch at a time: each batch in its own transaction, or
    all in the given `connection`'s. Returns the rows added per table."""
    import pyarrow.parquet as pq

    from warehouse.store import append

    added = []
    for field, file in _paths(city).items():
        count = 0
        for batch in pq.ParquetFile(file).iter_batches(batch_rows):
            frame = copy_of(batch.to_pandas(), field, copy)
            each = contextlib.nullcontext(connection) if connection is not None else warehouse.transaction()
            with each as writing:
                append(writing, _table(field), frame)
            count += len(frame)
            print(f"province store: {field} copy {copy + 1}/{copies}, {count:,} rows", file=sys.stderr)
        added.append((field, count))
    return added


def _table(field: str) -> Any:
    from contracts.vocabulary import RecordKind
    from warehouse import tables

    return tables.INPUT_TABLES[RecordKind(TABLES[field])]


def _indexes(connection: Any, create: bool) -> None:
    """Drop (or build) the secondary indexes of the copied tables."""
    from sqlalchemy.schema import DropIndex

    from warehouse.bulk_indexes import secondary_indexes

    for field in TABLES:
        for index in secondary_indexes(_table(field)):
            if create:
                index.create(connection, checkfirst=True)
            else:
                connection.execute(DropIndex(index, if_exists=True))


def run_settings(work: Path, store: Path, parts: int, runner: str) -> Any:
    """The settings of both runs: one home under `work`, the province's store, its parts and runner."""
    from contracts.settings import Settings

    return Settings(
        home=work / "home",
        warehouse_url=f"sqlite:///{store}",
        pseudonym_key=KEY,
        district_parts=parts,
        task_runner=runner,
    )


def largest_process_gib() -> float:
    """The peak resident memory of this process or of the largest of its finished child processes."""
    own = (_status_kib("VmHWM") or 0) * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return round(max(own, children) / 2**30, 2)


def measure(stage: str, work: Path, store: Path, parts: int, runner: str) -> dict[str, Any]:
    """In this process: training (`train`) or the day (`day`) on the province, by parts."""
    settings = run_settings(work, store, parts, runner)
    started = time.perf_counter()
    if stage == "links":
        from pipelines.link_flow import link_backfill_flow

        first, last = link_days(settings)
        done = link_backfill_flow(first, last, settings)
        found = {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "parts_decided": done.parts_decided,
            "days_decided": done.days_decided,
            "links": done.links,
        }
    elif stage == "train":
        from pipelines.train_flow import train_flow

        trained = train_flow(period_end(), settings)
        found: dict[str, Any] = {
            "model_version": trained.model_version,
            "candidate": trained.candidate,
            "snapshots": trained.n_snapshots,
        }
    else:
        from pipelines.score_flow import score_flow

        report = score_flow(period_end(), settings)
        clusters = report.manifest["grievances"]
        found = {
            "listed": len(report.listed),
            "grievances": clusters["clusters"],
            "surges": clusters["surges"],
        }
    return {
        "stage": stage,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_gib": largest_process_gib(),
        **found,
    }


def forget_links(store: Path) -> None:
    """Drop the call links an earlier run stored (the table is made again, empty, when the store opens)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(store)) as connection:
        connection.execute("DROP TABLE IF EXISTS call_links")
        connection.commit()


def link_days(settings: Any) -> tuple[date, date]:
    """The days whose call links the training and the day read: from the link window before the first
    snapshot date to the day before the period's end."""
    from pipelines.stored_links import LINK_WINDOW
    from pipelines.train_parts import stored_training_dates

    dates = stored_training_dates(settings, period_end())
    return dates[0] - LINK_WINDOW, period_end() - timedelta(days=1)


def figures(record: dict[str, Any]) -> dict[str, Any]:
    """The keys issue 20 asks for under "province" (ingest speed filled in by bench.summary)."""
    return {
        "cases": record["cases"],
        "calls": record["calls"],
        "daily_run_s": record["day"]["seconds"],
        "train_s": record["train"]["seconds"],
        "peak_rss_gib": max(record[stage]["peak_rss_gib"] for stage in STAGES),
        "link_backfill_s": record["links"]["seconds"],
    }


def markdown(record: dict[str, Any]) -> str:
    """The results as a page."""
    shown = figures(record)
    lines = [
        "# Province benchmark (issue 20)",
        "",
        f"`{record['command']}` ({record['date']}, code {record['code'].get('commit')}; "
        f"{record['machine'].get('usable_cores')} cores, {record['machine'].get('ram_gib')} GiB). "
        f"{record['copies']} copies of a city of {record['city_cases']:,} cases and {record['city_calls']:,} "
        f"calls: {shown['cases']:,} cases, {shown['calls']:,} calls, {record['districts']} districts, each "
        f"a part (at most {record['parts']}; {record['task_runner']}).",
        "",
        "| stage | figure | target | met |",
        "|---|---:|---:|---|",
    ]
    for key, label in (
        ("link_backfill_s", "call links of the history, once, s"),
        ("daily_run_s", "daily run, s"),
        ("train_s", "training, s"),
        ("peak_rss_gib", "peak, GiB"),
    ):
        if key not in TARGETS:
            lines.append(f"| {label} | {shown[key]:,} | none | |")
            continue
        met = "yes" if shown[key] <= TARGETS[key] else "no"
        lines.append(f"| {label} | {shown[key]:,} | {TARGETS[key]:,.0f} | {met} |")
    lines += [
        "",
        f"Store filled in {record['fill']['seconds']:,} s (rows: {record['fill']['rows']}). Call links of "
        f"{record['links']['first']} to {record['links']['last']}: {record['links']['links']:,} stored, "
        f"{record['links']['days_decided']:,} part-days decided in {record['links']['parts_decided']} "
        "parts (what the daily runs store with their lists; a store ingested with its history has none). "
        "Training: "
        f"{record['train']['model_version']} ({record['train']['candidate']}, {record['train']['snapshots']} "
        f"snapshot dates). The day listed {record['day']['listed']:,} cases and "
        f"{record['day']['grievances']} grievances ({record['day']['surges']} surging). "
        "Load averages before each run: "
        f"{record['load_before']}. Wall seconds include a temporary Prefect server's start.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Prepare the city, fill the province's store, then train and run the day in fresh processes."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200_000, help="cases of the copied city")
    parser.add_argument("--calls", type=int, default=5_000_000, help="calls of the copied city")
    parser.add_argument(
        "--copies",
        type=int,
        default=11,
        help="copies of the city (11: its 193,255 stored cases -> 2,125,805)",
    )
    parser.add_argument("--parts", type=int, default=100, help="district parts of both runs")
    parser.add_argument("--task-runner", choices=("local", "dask"), default="local")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/fengqiao-bench-province"))
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument("--prepare-only", action="store_true", help="make the city and the store, then stop")
    parser.add_argument(
        "--resume", action="store_true", help=f"keep the stages an earlier run measured ({STAGES_FILE})"
    )
    parser.add_argument("--run-one", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    store = args.work_dir / "province.db"
    if args.run_one:
        found = measure(args.run_one, args.work_dir, store, args.parts, args.task_runner)
        print(json.dumps(found), flush=True)
        return
    city = prepare(args.cases, args.calls, args.seed, 200_000, args.work_dir / "city", regenerate=False)
    fill = fill_province(args.work_dir / "city", store, args.copies)
    if args.prepare_only:
        print(json.dumps(fill))
        return
    measured = args.work_dir / STAGES_FILE
    run = {"parts": args.parts, "task_runner": args.task_runner, "copies": args.copies}
    kept = json.loads(measured.read_text(encoding="utf-8")) if args.resume and measured.exists() else {}
    if kept and kept.get("run") != run:
        raise SystemExit(f"{measured} was measured with {kept.get('run')}, not {run}: run without --resume")
    if not args.resume:  # a fresh measurement: no links stored by an earlier run
        forget_links(store)
    kept["run"] = run
    runs, loads = {}, {}
    for stage in STAGES:
        if stage in kept:  # measured by an earlier, interrupted run (--resume)
            runs[stage], loads[stage] = kept[stage]["run"], kept[stage]["load_before"]
            continue
        loads[stage] = [round(x, 2) for x in os.getloadavg()]
        arguments = ["--work-dir", str(args.work_dir), "--parts", str(args.parts)]
        arguments += ["--task-runner", args.task_runner, "--run-one", stage]
        runs[stage] = run_measurement("bench.province_bench", arguments)
        runs[stage]["code"] = code_state(CODE_PACKAGES).get("commit")
        kept[stage] = {"run": runs[stage], "load_before": loads[stage]}
        measured.write_text(json.dumps(kept, indent=2), encoding="utf-8")
        print(json.dumps(runs[stage]), file=sys.stderr)
    record = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.province_bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "code": code_state(CODE_PACKAGES),
        "machine": machine(),
        "city_cases": city["rows"]["cases"],
        "city_calls": city["rows"]["hotline"],
        "copies": args.copies,
        "cases": fill["rows"]["cases"],
        "calls": fill["rows"]["hotline"],
        "districts": _districts(store),
        "parts": args.parts,
        "task_runner": args.task_runner,
        "fill": fill,
        "load_before": loads,
        **runs,
    }
    record["province"] = figures(record)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "province_results.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), "utf-8")
    (args.out / "province_results.md").write_text(markdown(record), encoding="utf-8")
    print(markdown(record))


def _districts(store: Path) -> int:
    import sqlite3

    with sqlite3.connect(store) as connection:
        return int(connection.execute("SELECT count(DISTINCT district) FROM cases").fetchone()[0])


if __name__ == "__main__":
    main()
