"""A demo-sized city end to end through the command line, as a new deployment runs it (issue 20).

From the repository root::

    python -m bench.deployment_bench                 # 20,000 cases over 540 days (about 6 minutes)
    python -m bench.deployment_bench --cases 2000    # a quick look

Simulates the demo city (``cities.demo``, seed 7) into ``--work-dir``, then runs, each in a fresh process
and a fresh home as a user types them, ``fengqiao ingest`` of the three exports, ``fengqiao train --as-of
T`` and ``fengqiao score --as-of`` for 7 dates 14 days apart from T (T is 84 days before the exports end).
Each command's wall time is split, from the timestamps of Prefect's own log lines, into: start (the
interpreter and imports, up to Prefect's first line), Prefect's temporary server (from "Starting temporary
server" to the first flow-run line: absent with ``PREFECT_API_URL`` and with the shared local server, the
default, which the first flow command starts, in a fresh Prefect home, and the others use; with
``--temporary-servers`` every command starts its own), the flow's work (to its last line) and exit
(printing, stopping the server, the interpreter's exit). Training's work is split further by its own
log lines: the matrix, the model grid and registering. Writes ``deployment_results.json`` and
``deployment_results.md`` to ``--out`` (target: <= 100 s in all on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.common import REPO, code_state, machine, reference_seconds, run_captured

TARGET_SECONDS = 100.0
SCORE_DATES = 7
SCORE_SPACING_DAYS = 14
LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) \| \w+\s*\| (.*)$")
SERVER_STARTS = "Starting temporary server"
FLOW_BEGINS = ("Beginning flow run", "Created flow run")
# Training's own log lines, in order: after the matrix, after the model grid, after registering.
TRAIN_MARKS = (("matrix", "training matrix:"), ("grid", "model grid ("), ("register", "registered "))


@dataclass
class CommandTime:
    """One command's wall time and where it went (seconds; None where the log did not say)."""

    command: str
    wall: float
    exit_code: int
    start: float | None = None
    server: float | None = None
    work: float | None = None
    exit: float | None = None
    stop: float | None = None
    phases: dict[str, float] = field(default_factory=dict)


def log_times(output: str, began: datetime) -> list[tuple[float, str]]:
    """Each Prefect log line's message with its time in seconds after `began` (same day, or the next)."""
    lines = []
    for text in output.splitlines():
        if match := LOG_LINE.match(text.strip()):
            clock = datetime.combine(began.date(), datetime.strptime(match[1], "%H:%M:%S.%f").time())
            if clock < began - timedelta(minutes=1):
                clock += timedelta(days=1)
            lines.append(((clock - began).total_seconds(), match[2]))
    return lines


def _first(lines: list[tuple[float, str]], *starts: str) -> float | None:
    return next((t for t, message in lines if any(s in message for s in starts)), None)


def split_times(command: str, wall: float, exit_code: int, lines: list[tuple[float, str]]) -> CommandTime:
    """A command's wall time split by its log lines: start (to the first flow-run line), of which the
    temporary server (from its start line), work (the flow, to its last line), exit, of which stopping the
    temporary server (from its stop line)."""
    timed = CommandTime(command, wall, exit_code)
    server_at, flow_at = _first(lines, SERVER_STARTS), _first(lines, *FLOW_BEGINS)
    if flow_at is None or not lines:
        return timed
    last = max(t for t, message in lines if "Stopping temporary server" not in message)
    timed.start = flow_at
    timed.server = flow_at - server_at if server_at is not None else 0.0
    timed.work = last - flow_at
    timed.exit = wall - last
    stopped_at = _first(lines, "Stopping temporary server")
    timed.stop = wall - stopped_at if stopped_at is not None else 0.0
    mark = flow_at
    for name, text in TRAIN_MARKS:
        if (at := _first(lines, text)) is not None:
            timed.phases[name] = at - mark
            mark = at
    return timed


def run_command(arguments: list[str], environment: dict[str, str]) -> CommandTime:
    """Run one `fengqiao` command in a fresh process and time it."""
    began, clock = datetime.now(), time.perf_counter()
    done = run_captured([str(Path(sys.executable).with_name("fengqiao")), *arguments], environment)
    wall = time.perf_counter() - clock
    output = done.stdout + "\n" + done.stderr
    if done.returncode != 0:
        print(output[-3000:], file=sys.stderr)
    return split_times(" ".join(arguments), wall, done.returncode, log_times(output, began))


def plan(start: date, days: int) -> tuple[date, list[date]]:
    """The training date and the scoring dates: 7 dates 14 days apart, the last where the exports end."""
    end = start + timedelta(days=days)
    trained = end - timedelta(days=SCORE_SPACING_DAYS * (SCORE_DATES - 1))
    return trained, [trained + timedelta(days=SCORE_SPACING_DAYS * i) for i in range(SCORE_DATES)]


def simulate(cases: int, days: int, seed: int, out: Path) -> tuple[list[Path], date, float]:
    """The demo city's three exports (messy as the demo's), its first day and the seconds it took."""
    from cities.demo import SimulationConfig, simulate_city, write_city

    config = SimulationConfig(seed=seed, n_cases=cases, days=days, messiness=0.002)
    clock = time.perf_counter()
    paths = write_city(simulate_city(config), out)
    files = [paths[name] for name in ("cases", "case_events", "hotline")]
    return files, config.start, time.perf_counter() - clock


def environment(home: Path, shared_server: bool) -> dict[str, str]:
    """The caller's environment with a fresh home, a fresh Prefect home and a pseudonymisation key (other
    Fengqiao settings off); the shared local server on or off, ending a minute after the last command."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("FENGQIAO_", "PREFECT_HOME"))}
    return {
        **kept,
        "FENGQIAO_HOME": str(home),
        "FENGQIAO_PSEUDONYM_KEY": secrets.token_hex(32),
        "PREFECT_HOME": str(home / "prefect"),
        "FENGQIAO_PREFECT_SHARED_SERVER": str(shared_server).lower(),
        "FENGQIAO_PREFECT_SERVER_IDLE_SECONDS": "60",
    }


def server_kind(shared_server: bool) -> str:
    """How the commands reached Prefect."""
    if os.environ.get("PREFECT_API_URL"):
        return "a lasting Prefect server (PREFECT_API_URL)"
    return "the shared local Prefect server" if shared_server else "temporary servers"


def run(args: argparse.Namespace) -> dict[str, object]:
    """Simulate, then ingest, train and score through the command line; the figures."""
    shutil.rmtree(args.work_dir, ignore_errors=True)
    files, start, simulated = simulate(args.cases, args.days, args.seed, args.work_dir / "city")
    trained, scored = plan(start, args.days)
    settings = environment(args.work_dir / "home", not args.temporary_servers)
    commands = [
        ["ingest", *map(str, files)],
        ["train", "--as-of", trained.isoformat()],
        *(["score", "--as-of", day.isoformat()] for day in scored),
    ]
    reference = reference_seconds()
    load = os.getloadavg()
    times = []
    for arguments in commands:
        times.append(timed := run_command(arguments, settings))
        print(f"{timed.command}: {timed.wall:.1f} s (server {timed.server})", flush=True)
    total = sum(t.wall for t in times)
    return {
        "cases": args.cases,
        "days": args.days,
        "seed": args.seed,
        "simulate_s": simulated,
        "prefect_api_url": bool(os.environ.get("PREFECT_API_URL")),
        "prefect_server": server_kind(not args.temporary_servers),
        "reference_s": reference,
        "load_before": load,
        "load_after": os.getloadavg(),
        "commands": [asdict(t) for t in times],
        "summary": {
            "total_s": total,
            "target_s": TARGET_SECONDS,
            "met": total <= TARGET_SECONDS,
            **{part: _sum(times, part) for part in ("start", "server", "work", "exit", "stop")},
            "train_phases": times[1].phases,
        },
        "machine": machine(),
        "code": code_state(("contracts", "warehouse", "ingest", "features", "models", "pipelines")),
        "measured_at": datetime.now().isoformat(timespec="seconds"),
    }


def _reference(results: dict) -> str:
    """The machine's speed as the page says it (results written before it was measured have none)."""
    if (reference := results.get("reference_s")) is None:
        return ""
    return (
        f" A fixed single-core workload (`bench.common.reference_seconds`) took {reference:.2f} s on this "
        "machine just before: figures of another day compare in its proportion."
    )


def _sum(times: list[CommandTime], part: str) -> float | None:
    values = [getattr(t, part) for t in times]
    return None if any(v is None for v in values) else sum(values)


def _short(command: str) -> str:
    return command if len(command) < 40 else command.split()[0] + " (3 files)"


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def markdown(results: dict) -> str:
    """The results page."""
    summary, code = results["summary"], results["code"]
    option = "" if results["cases"] == 20_000 else f" --cases {results['cases']} --days {results['days']}"
    servers = results.get("prefect_server") or (
        "a lasting Prefect server (PREFECT_API_URL)" if results["prefect_api_url"] else "temporary servers"
    )
    edited = " with uncommitted changes" if code["uncommitted"] else ""
    lines = [
        "# A demo-sized city end to end through the command line",
        "",
        f"Written by `python -m bench.deployment_bench{option}` on {results['measured_at']}: "
        f"{results['cases']:,} cases over {results['days']} days (seed {results['seed']}), each command in a "
        "fresh process in a fresh home, as a new deployment runs them. Load average "
        f"{results['load_before'][0]:.1f} before, {results['load_after'][0]:.1f} after; {servers}; code "
        f"{code['commit']}{edited}.{_reference(results)}",
        "",
        f"**In all {summary['total_s']:.1f} s** (target <= {summary['target_s']:.0f} s: "
        f"{'met' if summary['met'] else 'not met'}); simulating the city took {results['simulate_s']:.1f} s "
        "more (not counted).",
        "",
        "| command | wall s | to the flow s | of which Prefect server s | work s | exit s "
        "| of which after the server's stop line s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in results["commands"]:
        failed = "" if t["exit_code"] == 0 else f" (exit {t['exit_code']})"
        lines.append(
            f"| `{_short(t['command'])}`{failed} | "
            f"{t['wall']:.1f} | {_s(t['start'])} | {_s(t['server'])} | {_s(t['work'])} | {_s(t['exit'])} | "
            f"{_s(t['stop'])} |"
        )
    lines.append(
        f"| **all** | **{summary['total_s']:.1f}** | {_s(summary['start'])} | {_s(summary['server'])} | "
        f"{_s(summary['work'])} | {_s(summary['exit'])} | {_s(summary['stop'])} |"
    )
    phases = summary["train_phases"]
    if phases:
        lines += [
            "",
            "Training's work: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
            + " (loading the store and building the matrix; the model grid with its rolling folds and "
            "calibration; the model card, MLflow and the promotion decision).",
        ]
    lines += [
        "",
        "To the flow: the interpreter, imports and Prefect's temporary server, up to the first flow-run log "
        "line; of which Prefect server: from Prefect's 'Starting temporary server' line (with the early "
        "start, `prefect_early_start`, the server starts beside the command's imports, so the two "
        "overlap; the shared local server, started by the first command, `ingest`, once the store has "
        "accepted its key, prints no such line: its start-up is in that command's time to the flow). "
        "Work: the flow, to its last log line. Exit: printing and the interpreter's exit, of "
        "which the time after Prefect's 'Stopping temporary server' line (stopping it, at most 5 s before "
        "Prefect kills it, and the interpreter's own teardown).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write its files."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/fengqiao-bench-deployment"))
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument(
        "--temporary-servers", action="store_true", help="every command starts Prefect's temporary server"
    )
    args = parser.parse_args(argv)
    results = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "deployment_results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "deployment_results.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
