"""The `fengqiao` command line's frame: the app, its global options, settings, dates, errors and tables."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from contracts.settings import Settings
from pipelines.entry import RUN_GC_THRESHOLDS
from pipelines.prefect_runtime import prepare_prefect, wait_for_server, without_unasked_heartbeats

app = typer.Typer(
    help="Fengqiao (枫桥): early warning for grassroots dispute mediation.", no_args_is_help=True
)


console = Console()


# Files the commands create are the owner's only (the home holds personal data and password hashes).
PRIVATE_UMASK = 0o077


# Commands that never run a flow: they do not import Prefect, so its settings are not prepared for them.
NO_FLOW_COMMANDS = frozenset(
    {
        "simulate",
        "quarantine",
        "models",
        "promote",
        "rollback",
        "dictionary",
        "settings",
        "users",
        "dashboard",
        "grievances",
    }
)


AsOf = Annotated[
    str, typer.Option("--as-of", help="As-of date YYYY-MM-DD (the instant 00:00 Asia/Shanghai).")
]


def skip_exit_collection() -> None:
    """Close the store's connections, then leave the heap to the operating system at exit: without this
    the interpreter's last cyclic collections take seconds after a flow (4.1 s of a 2,000-case `score`'s
    23.7 s at load 6), and they were what closed the connections (SQLite's WAL file folded back)."""
    if (store := sys.modules.get("warehouse.store")) is not None:  # a command that opened no store: none
        store.dispose_engines()
    gc.disable()
    gc.freeze()


def settings_of(context: typer.Context) -> Settings:
    """Settings from env/.env with this call's global options on top."""
    return Settings(**context.obj)


@contextmanager
def ready_to_run() -> Iterator[None]:
    """For the block, a command's work: wait for Prefect's server if this command started it
    (`prepare_prefect`), move what the command's imports made into the collector's permanent generation
    (`gc.freeze`: every full collection of the run, Python's own and `release_memory`'s after a read,
    traversed them again, 0.22 s each in a `score`), collect less often (`pipelines.entry.RUN_GC_THRESHOLDS`,
    which the `fengqiao` executable sets before its imports) and run flows without Prefect's heartbeats
    unless asked for (`without_unasked_heartbeats`); the collector as it was again at the end (a caller
    that goes on, such as a test's command runner, collects as before)."""
    before = gc.get_threshold()
    wait_for_server()
    gc.freeze()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        with without_unasked_heartbeats():
            yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@contextmanager
def user_errors() -> Iterator[None]:
    """Run the block `ready_to_run`, showing a problem the user can fix as one clear line and exiting 1,
    without a traceback."""
    try:
        with ready_to_run():
            yield
    except (LookupError, ValueError, FileNotFoundError, RuntimeError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error


def parse_date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as error:
        raise typer.BadParameter(f"{text!r} is not a date in YYYY-MM-DD form") from error


@app.callback()
def main(
    context: typer.Context,
    home: Annotated[Path | None, typer.Option(help="Home folder (env FENGQIAO_HOME).")] = None,
    warehouse_url: Annotated[str | None, typer.Option(help="Store URL (env FENGQIAO_WAREHOUSE_URL).")] = None,
    mlflow_tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow URI (env FENGQIAO_MLFLOW_TRACKING_URI).")
    ] = None,
    horizon_days: Annotated[
        int | None, typer.Option(help="Label horizon in days (env FENGQIAO_HORIZON_DAYS).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (env FENGQIAO_SEED).")] = None,
    language: Annotated[str | None, typer.Option(help="Language of reasons: zh or en.")] = None,
    task_runner: Annotated[
        str | None,
        typer.Option(help="Training snapshots built 'local'ly or on 'dask' (env FENGQIAO_TASK_RUNNER)."),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(help="Dask scheduler; empty starts a local cluster (env FENGQIAO_DASK_ADDRESS)."),
    ] = None,
) -> None:
    """Global options override the environment; the environment overrides defaults."""
    os.umask(PRIVATE_UMASK)
    atexit.unregister(skip_exit_collection)
    atexit.register(skip_exit_collection)  # before the handlers the command registers, so it runs after them
    given = {
        "home": home,
        "warehouse_url": warehouse_url,
        "mlflow_tracking_uri": mlflow_tracking_uri,
        "horizon_days": horizon_days,
        "seed": seed,
        "language": language,
        "task_runner": task_runner,
        "dask_address": dask_address,
    }
    context.obj = {key: value for key, value in given.items() if value is not None}
    if context.invoked_subcommand not in NO_FLOW_COMMANDS:
        with user_errors():
            prepare_prefect(settings_of(context), command=context.invoked_subcommand)


def table_of(frame: pd.DataFrame, title: str, columns: dict[str, str] | None = None) -> Table:
    """A rich table of a frame (optionally a renamed subset of its columns)."""
    columns = columns or {c: c for c in frame.columns}
    table = Table(title=title, title_justify="left")
    for header in columns.values():
        table.add_column(header, overflow="fold")
    for row in frame[list(columns)].itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return "" if value is None else str(value)
