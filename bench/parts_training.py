"""The training matrix by district parts (`python -m bench.parts_bench --train`): a fresh process builds the
training flow's matrix (`pipelines.train_flow.matrix_as_of`, the families training builds by default:
linked calls, activity and intake too) as of the day after the simulated city's period, over the whole
store (`--parts 1`) or by parts (`pipelines.train_parts`), and reports its wall seconds, its peak resident
memory, its size and a hash of the matrix (the same for every number of parts).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from bench.features_bench import _status_kib, period_end


def measure_training(work: Path, store: Path, parts: int) -> dict[str, object]:
    """In this process: the training matrix as of the day after the period, over the whole store or by
    parts (the store is only read; the parts' files go to a fresh home under `work`)."""
    import pandas as pd

    from contracts.settings import Settings
    from pipelines.train_flow import matrix_as_of, training_families

    home = work / f"train-run-{parts}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    settings = Settings(home=home, warehouse_url=f"sqlite:///{store}", district_parts=parts)
    started = time.perf_counter()
    dates, matrix = matrix_as_of(period_end(), settings, training_families(settings))
    seconds = time.perf_counter() - started
    digest = pd.util.hash_pandas_object(matrix, index=False).sum()
    return {
        "parts": parts,
        "snapshots": len(dates),
        "rows": len(matrix),
        "columns": matrix.shape[1],
        "matrix_mib": round(matrix.memory_usage(deep=True).sum() / 2**20),
        "seconds": round(seconds, 1),
        "peak_gib": round((_status_kib("VmHWM") or 0) / 2**20, 2),
        "matrix_hash": int(digest),
        "dtypes_sha256": hashlib.sha256(" ".join(map(str, matrix.dtypes)).encode()).hexdigest()[:16],
    }
