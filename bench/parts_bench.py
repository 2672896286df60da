"""District parts benchmark: the peak memory of a day's features over the whole store and by parts.

From the repository root::

    python -m bench.parts_bench [--cases 200000] [--calls 5000000] [--parts 1 8] [--work-dir DIR] [--day]

Uses the city ``bench.features_bench`` prepares (Parquet under ``--work-dir``), copied once into a SQLite
store (``DIR/warehouse.db``, indexes rebuilt once as a bulk ingest does). Each measurement is a fresh
process that builds the features of the default families (`features.matrix.FAMILIES`, all of which a
part builds alone) for the day after the simulated period:

- ``--parts 1``: the store loaded as the flows load it (`pipelines.runtime.load_sources`), then
  `features.matrix.features_at` over the whole cut;
- ``--parts N``: the base rates from a narrow read of every district (the columns
  `features.context.base_rates` reads), then the parts one after another, each reading only its own rows
  (`pipelines.day_parts.parts_features`).

It prints, per run, the wall seconds, the process's peak resident memory (VmHWM) and a hash of the
feature frame (the same for every number of parts), and the machine's load average, and writes them to
``parts_results.json`` in ``--out``.

With ``--day``, each run is the whole day instead (`bench.parts_day`: the score flow, from features to
the published list, grievances and call links), written under ``"day"`` in the same file; with
``--train``, the training flow's matrix (`bench.parts_training`), under ``"training"``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.common import REPO, machine, run_measurement
from bench.features_bench import TABLES, _paths, _status_kib, period_end, prepare
from bench.parts_day import measure_day, model_home
from bench.parts_training import measure_training

# What `features.context.base_rates` reads of every district (and known_at, which every cut reads).
NARROW_COLUMNS = {
    "cases": ("case_id", "opened_at", "category", "known_at"),
    "events": ("case_id", "event_at", "event_type", "known_at"),
    "hotline": ("known_at",),
}


def fill_store(work: Path) -> Path:
    """The prepared city's stored tables copied into a SQLite store under `work` (once)."""
    import pandas as pd

    from contracts.vocabulary import RecordKind
    from warehouse import tables
    from warehouse.bulk_indexes import DeferredIndexes
    from warehouse.store import Warehouse, append

    path = work / "warehouse.db"
    if path.exists():
        return path
    partial = work / "warehouse.partial.db"
    partial.unlink(missing_ok=True)
    warehouse = Warehouse(f"sqlite:///{partial}")
    with warehouse.transaction() as connection:
        deferred = DeferredIndexes(connection)
        for field, file in _paths(work).items():
            table = tables.INPUT_TABLES[RecordKind(TABLES[field])]
            frame = pd.read_parquet(file)
            deferred.before_insert(table, len(frame))
            append(connection, table, frame)
            del frame
        deferred.rebuild()
    warehouse.engine.dispose()
    partial.rename(path)
    return path


def measure(store: Path, parts: int) -> dict[str, object]:
    """In this process: the day's features over the whole store (parts = 1) or by parts."""
    import pandas as pd

    from contracts.settings import Settings
    from contracts.timeparse import as_of_instant
    from features.context import base_rates
    from features.known import cut
    from features.matrix import FAMILIES, features_at
    from features.partition import district_groups
    from pipelines.day_parts import parts_features
    from pipelines.runtime import load_sources
    from warehouse.district_parts import district_rows
    from warehouse.store import Warehouse

    settings = Settings(home=store.parent / "home", warehouse_url=f"sqlite:///{store}")
    warehouse = Warehouse(settings.warehouse_url)
    instant = as_of_instant(period_end())
    started = time.perf_counter()
    if parts == 1:
        frame = features_at(cut(load_sources(warehouse), instant), FAMILIES, settings.dormant_days)
    else:
        rates = base_rates(load_sources(warehouse, NARROW_COLUMNS).known_before(instant), instant)
        groups = district_groups(district_rows(warehouse), parts)
        frame = parts_features(groups, instant, FAMILIES, rates, settings).features
    seconds = time.perf_counter() - started
    digest = pd.util.hash_pandas_object(frame.astype(str), index=False).sum()
    return {
        "parts": parts,
        "open_cases": len(frame),
        "seconds": round(seconds, 1),
        "peak_gib": round((_status_kib("VmHWM") or 0) / 2**20, 2),
        "frame_hash": int(digest),
    }


def main(argv: list[str] | None = None) -> None:
    """Prepare (or reuse) the city and its store, then measure each number of parts in a fresh process."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--parts", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/fengqiao-bench-parts"))
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument("--day", action="store_true", help="measure the whole day (bench.parts_day)")
    parser.add_argument(
        "--train", action="store_true", help="measure the training matrix (bench.parts_training)"
    )
    parser.add_argument("--run-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    store = args.work_dir / "warehouse.db"
    if args.run_one is not None:
        if args.train:
            found = measure_training(args.work_dir, store, args.run_one)
        else:
            found = (
                measure_day(args.work_dir, store, args.run_one) if args.day else measure(store, args.run_one)
            )
        print(json.dumps(found), flush=True)
        return
    prepare(args.cases, args.calls, args.seed, 200_000, args.work_dir, regenerate=False)
    fill_store(args.work_dir)
    if args.day:
        model_home(args.work_dir)
    runs = []
    for parts in args.parts:
        load = [round(x, 2) for x in os.getloadavg()]
        arguments = ["--work-dir", str(args.work_dir), "--run-one", str(parts)]
        arguments += ["--day"] * args.day + ["--train"] * args.train
        runs.append({**run_measurement("bench.parts_bench", arguments), "load_average_before": load})
        print(json.dumps(runs[-1]), file=sys.stderr)
    record(args, runs, argv)


def record(args: argparse.Namespace, runs: list[dict[str, object]], argv: list[str] | None) -> None:
    """Write the runs to ``parts_results.json`` (a day's runs under "day", the training matrix's under
    "training", the rest kept)."""
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.parts_bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "cases": args.cases,
        "calls": args.calls,
        "runs": runs,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "parts_results.json"
    if args.day or args.train:
        before = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        results = {**before, ("day" if args.day else "training"): results}
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
