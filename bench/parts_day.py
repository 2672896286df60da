"""The whole day by district parts (`python -m bench.parts_bench --day`): a fresh process runs the score
flow (`pipelines.score_flow`: features, intake, call links, linked-call features, grievances, dormant
cases, scoring, routing, publishing) for the day after the simulated city's period, over the whole store
(`--parts 1`) or by parts, and reports its wall seconds, its peak resident memory and a hash of every
file it published (the same for every number of parts).

The champion is a model trained once by the demo on a tiny city (`MODEL_CITY`, its home under the work
folder): scoring reads the features the model reads, whatever city it was trained on. Each run scores a
private copy of the city's store (publishing writes lists and call links into it, and a later run must
not recall the links an earlier one stored).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from bench.features_bench import _status_kib, period_end

MODEL_KEY = "parts-day-bench-key-0123456789abcdef"


def model_home(work: Path) -> Path:
    """The home of a champion trained by the demo on a tiny city (made once under `work`)."""
    from cities.demo import SimulationConfig
    from contracts.settings import Settings
    from pipelines.demo_flow import demo_flow

    home = work / "model-home"
    if (home / "trained").exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    demo_flow(
        SimulationConfig(seed=3, n_cases=700, days=240, messiness=0.01),
        Settings(home=home, pseudonym_key=MODEL_KEY),
    )
    (home / "trained").touch()
    return home


def run_settings(work: Path, store: Path, parts: int) -> object:
    """Settings of one run: a fresh home, a private copy of the city's store, the tiny city's champion."""
    from contracts.settings import Settings

    home = work / f"day-run-{parts}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copyfile(store, home / "warehouse.db")
    models = work / "model-home"
    return Settings(
        home=home,
        warehouse_url=f"sqlite:///{home / 'warehouse.db'}",
        mlflow_tracking_uri=f"sqlite:///{models / 'mlflow.db'}",
        pseudonym_key=MODEL_KEY,
        district_parts=parts,
    )


def measure_day(work: Path, store: Path, parts: int) -> dict[str, object]:
    """In this process: the score flow of the day after the period, over the whole store or by parts."""
    from pipelines.score_flow import score_flow

    settings = run_settings(work, store, parts)
    started = time.perf_counter()
    report = score_flow(period_end(), settings)
    seconds = time.perf_counter() - started
    digest = hashlib.sha256()
    for name in sorted(report.paths):
        if name != "manifest":
            digest.update(name.encode() + report.paths[name].read_bytes())
    return {
        "parts": parts,
        "listed": len(report.listed),
        "grievances": report.manifest["grievances"],
        "seconds": round(seconds, 1),
        "peak_gib": round((_status_kib("VmHWM") or 0) / 2**20, 2),
        "published_sha256": digest.hexdigest(),
        "input_fingerprint": report.manifest["input_fingerprint"],
    }
