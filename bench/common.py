"""What every benchmark shares: the machine and code it records, and measuring in a fresh process."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def code_fingerprint(packages: tuple[str, ...]) -> str:
    """A hash of the measured packages' code, to notice edits during a benchmark."""
    digest = hashlib.sha256()
    for path in sorted(p for package in packages for p in (REPO / package).rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def code_state(packages: tuple[str, ...]) -> dict[str, object]:
    """The commit, uncommitted changes to the measured packages, and their fingerprint (read-only git)."""

    def git(*arguments: str) -> str | None:
        done = subprocess.run(
            ["git", "--no-optional-locks", *arguments], cwd=REPO, capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--", *packages)
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": status.splitlines() if status else [],
        "fingerprint": code_fingerprint(packages),
    }


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu, ram_kib = platform.processor() or platform.machine(), 0
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), cpu)
        with open("/proc/meminfo") as handle:
            ram_kib = next(int(ln.split()[1]) for ln in handle if ln.startswith("MemTotal"))
    except (OSError, StopIteration, ValueError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gib": round(ram_kib / 1024**2, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("numpy", "pandas", "pyarrow", "sqlalchemy")},
        "sqlite": sqlite3.sqlite_version,
    }


def reference_seconds(repeats: int = 3) -> float:
    """Seconds this machine takes for a fixed single-core workload (a pure-Python loop of 5 million additions
    and NumPy sorting 2 million floats; the fastest of `repeats`): benchmark figures of other days or
    machines compare in its proportion (the same code took 1.5 times longer on one machine of this
    workplace than on another, a day apart)."""
    import numpy as np

    values = np.random.default_rng(0).random(2_000_000)
    best = float("inf")
    for _ in range(repeats):
        clock = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        np.sort(values)
        best = min(best, time.perf_counter() - clock)
    return best


def run_captured(command: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """COMMAND in a fresh process from the repository root, with ENV, its output captured as text."""
    return subprocess.run(list(command), cwd=REPO, env=dict(env), capture_output=True, text=True, check=False)


def run_measurement(
    module: str, arguments: Sequence[str], env: Mapping[str, str] | None = None, what: str | None = None
) -> dict[str, object]:
    """`python -m MODULE ARGUMENTS` in a fresh process (ENV, default this one's, with the repository on
    PYTHONPATH); the last JSON line it printed. Exits with the output's tail if it failed or printed none,
    its whole output kept in a file the message names (a failure's cause is often far from the tail)."""
    base = os.environ if env is None else env
    path = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    done = run_captured([sys.executable, "-m", module, *arguments], {**base, "PYTHONPATH": path})
    found = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not found:
        what = what or f"python -m {module} {' '.join(arguments)}"
        kept = Path(tempfile.gettempdir()) / f"{module}-{os.getpid()}-{time.time_ns()}.failed.log"
        kept.write_text(f"{what}\n{done.stdout}\n{done.stderr}", encoding="utf-8")
        raise SystemExit(
            f"{what} failed (exit {done.returncode}), whole output in {kept}:\n"
            f"{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    return json.loads(found[-1])


def markdown_table(frame: Any) -> str:
    """A small DataFrame as a Markdown table, floats to three decimals (no extra dependency)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |\n|" + "---|" * len(frame.columns) + "\n"
    cells = frame.map(lambda v: f"{v:.3f}" if isinstance(v, float) else str(v))
    return header + "".join("| " + " | ".join(row) + " |\n" for row in cells.to_numpy().tolist())
