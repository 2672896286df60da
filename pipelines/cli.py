"""The `fengqiao` command line: simulate, ingest, train, score, demo."""

from __future__ import annotations

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
from rich.progress import track
from rich.table import Table

from contracts.evaluation import LIFT_KEY
from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from pipelines.prefect_runtime import prepare_prefect, wait_for_server
from warehouse.accounts import Role

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
        "users",
        "dashboard",
        "grievances",
    }
)

AsOf = Annotated[
    str, typer.Option("--as-of", help="As-of date YYYY-MM-DD (the instant 00:00 Asia/Shanghai).")
]


def _settings(context: typer.Context) -> Settings:
    """Settings from env/.env with this call's global options on top."""
    return Settings(**context.obj)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Show a problem the user can fix as one clear line and exit 1, without a traceback; first, wait for
    Prefect's temporary server if the command started it (`prepare_prefect`)."""
    try:
        wait_for_server()
        yield
    except (LookupError, ValueError, FileNotFoundError, RuntimeError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error


def _parse_date(text: str) -> date:
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
        with _user_errors():
            prepare_prefect(_settings(context), command=context.invoked_subcommand)


def _table(frame: pd.DataFrame, title: str, columns: dict[str, str] | None = None) -> Table:
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


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder for the exports (and truth/ for evaluation only).")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    cases: Annotated[int, typer.Option(help="Number of cases.")] = 20_000,
    days: Annotated[int, typer.Option(help="Length of the simulated period in days.")] = 540,
    start: Annotated[str, typer.Option(help="First day YYYY-MM-DD.")] = "2025-01-01",
    messiness: Annotated[float, typer.Option(help="Share of rows deliberately broken (0 = clean).")] = 0.0,
    grievances: Annotated[
        int, typer.Option(help="Group grievances (many callers naming one employer, project, estate).")
    ] = 2,
    plain_grievances: Annotated[
        bool,
        typer.Option(
            "--plain-grievances",
            help="Name each grievance's thing one clean way, with no generic calls (as before issue 17).",
        ),
    ] = False,
) -> None:
    """Write a simulated city's case log, case events and hotline exports (CSV)."""
    from cities.demo import SimulationConfig, simulate_city, write_city

    config = SimulationConfig(
        seed=seed,
        n_cases=cases,
        days=days,
        start=_parse_date(start),
        messiness=messiness,
        grievances=grievances,
    )
    if plain_grievances:
        config = config.plain_grievances()
    with console.status("Simulating the city..."):
        paths = write_city(simulate_city(config), out)
    for name, path in paths.items():
        console.print(f"[green]{name}[/green]: {path}")


@app.command()
def ingest(
    context: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or glob patterns to ingest.")],
    kind: Annotated[
        RecordKind | None, typer.Option(help="Record kind of every file (else told by name/columns).")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding (else UTF-8, then GB18030).")] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet to read (else the first).")] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Column-mapping file (TOML or YAML) for your own headings.")
    ] = None,
    rotate_key: Annotated[
        bool,
        typer.Option(
            "--rotate-key",
            help="Re-pseudonymise the store under the key now set, from every raw export ever ingested "
            "(all given here); refused, changing nothing, if a stored case or call is not in them.",
        ),
    ] = False,
) -> None:
    """Validate, pseudonymise and store delivered files; bad rows go to quarantine."""
    from pipelines.runtime import check_key, open_warehouse, pseudonym_key, rotate_pseudonyms

    settings = _settings(context)
    with _user_errors():
        key, _ = pseudonym_key(settings)
        if rotate_key:
            report = rotate_pseudonyms(
                paths, settings, kind=kind, encoding=encoding, sheet=sheet, mapping_file=mapping
            )
            console.print(
                "[green]key rotated[/green]: every case and call re-pseudonymised under the new key"
            )
        else:
            with open_warehouse(settings).transaction() as connection:
                check_key(connection, key)  # before Prefect starts: a different key is refused at once
            from pipelines.ingest_flow import ingest_flow

            report = ingest_flow(
                paths, settings, kind=kind, encoding=encoding, sheet=sheet, mapping_file=mapping
            )
    _print_ingest(report)
    if report.failed:
        raise typer.Exit(code=1)


def _print_ingest(report: Any) -> None:
    from ingest.run import skipped

    title = f"Ingest run {report.run_id}: read = accepted + updated + duplicates + quarantined"
    columns = {
        "source_file": "file",
        "read": "read",
        "accepted": "accepted",
        "updated": "updated",
        "duplicates": "duplicates",
        "quarantined": "quarantined",
    }
    console.print(_table(report.accounting, title, columns))
    released = int(report.accounting["released"].sum()) if len(report.accounting) else 0
    if released:
        console.print(f"{released} earlier quarantine entries released by re-ingesting their files")
    for name, reason in report.failed.items():
        console.print(f"[red]refused[/red] {name}: {reason}")
    for name in skipped(report):
        console.print(f"[yellow]skipped[/yellow] {name}: not a cases, case_events or hotline file")
    if report.released_events:
        console.print(f"{report.released_events} held events released: their cases have arrived")
    quarantined = int(report.accounting["quarantined"].sum()) if len(report.accounting) else 0
    if quarantined:
        console.print(f"{quarantined} rows in quarantine: see `fengqiao quarantine`")


@app.command()
def quarantine(
    context: typer.Context,
    file: Annotated[str | None, typer.Option(help="Only rows from this file name.")] = None,
    released: Annotated[bool, typer.Option(help="Show released entries too.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    export: Annotated[Path | None, typer.Option(help="Write all matching entries to this CSV file.")] = None,
) -> None:
    """List quarantined rows: file, row, field, value (pseudonymised where personal) and reason."""
    from pipelines.runtime import open_warehouse
    from warehouse.tables import quarantine as table

    frame = open_warehouse(_settings(context)).read_table(table)
    if not released:
        frame = frame[frame["released_at"].isna()]
    if file:
        frame = frame[frame["source_file"] == file]
    frame = frame.sort_values(["source_file", "row", "field"])
    summary = frame.groupby(["source_file", "field"]).size().rename("rows").reset_index()
    console.print(_table(summary, "Quarantine by file and field"))
    columns = {"source_file": "file", "row": "row", "field": "field", "value": "value", "reason": "reason"}
    console.print(
        _table(frame.head(limit), f"First {min(limit, len(frame))} of {len(frame)} entries", columns)
    )
    if export:
        from contracts.spreadsheet import neutralised

        neutralised(frame).to_csv(export, index=False, encoding="utf-8-sig")
        console.print(f"written to {export}")


@app.command()
def train(context: typer.Context, as_of: AsOf) -> None:
    """Train on what was known before the date, validate on later matured dates, register the champion."""
    from pipelines.train_flow import train_flow

    as_of_date = _parse_date(as_of)
    with _user_errors():
        report = train_flow(as_of_date, _settings(context))
    _print_training(report)


def _print_training(report: Any) -> None:
    summary = report.summary
    rows = pd.DataFrame(
        [
            {
                "scorer": scorer,
                "precision@k": summary.get(f"{scorer}.precision_at_k"),
                "spread": summary.get(f"{scorer}.precision_at_k_std"),
                "recall@k": summary.get(f"{scorer}.recall_at_k"),
                "ROC AUC": summary.get(f"{scorer}.roc_auc"),
                "ECE": summary.get(f"{scorer}.ece"),
            }
            for scorer in ("model", "rule")
        ]
    )
    console.print(
        _table(
            report.grid.drop(columns=["estimator", "why"], errors="ignore"),
            "Model grid: precision at the top, mean over folds",
        )
    )
    console.print(
        _table(
            rows,
            f"Held-out validation of {report.candidate} ({report.n_snapshots} snapshots, "
            f"base rate {report.base_rate:.3f})",
        )
    )
    if (lift := summary.get(LIFT_KEY)) is not None:
        console.print(f"Model precision at the top of the list is {lift:.2f}x the rule's.")
    flagged = report.fairness[report.fairness["status"] == "flagged"]
    console.print(f"Fairness audit: {len(flagged)} group(s) flagged, details in the model card.")
    console.print(f"Registered [bold]{report.model_version}[/bold]: {report.decision}")


@app.command()
def models(context: typer.Context) -> None:
    """List registered model versions with their aliases and promotion decisions."""
    from pipelines.runtime import registry

    with _user_errors():
        table = registry(_settings(context)).versions()
    if table.empty:
        console.print("No model registered yet: run `fengqiao train --as-of DATE`.")
        return
    shown = [c for c in ("version", "created", "aliases", "promoted", "decision") if c in table]
    console.print(_table(table[shown], "Registered models"))


@app.command()
def promote(
    context: typer.Context, version: Annotated[str, typer.Argument(help="Version number to make champion.")]
) -> None:
    """Make a registered version the champion (deliberately; `fengqiao rollback` undoes it)."""
    from pipelines.runtime import registry

    with _user_errors():
        registry(_settings(context)).promote(version.removeprefix("v"))
    console.print(f"Version {version} is now champion.")


@app.command()
def rollback(context: typer.Context) -> None:
    """Move the champion back to the version it replaced."""
    from pipelines.runtime import registry

    with _user_errors():
        version = registry(_settings(context)).rollback()
    console.print(f"Champion rolled back to version {version}.")


@app.command()
def score(
    context: typer.Context, as_of: AsOf, top: Annotated[int, typer.Option(help="Rows to show.")] = 15
) -> None:
    """Score every case open at the date with the champion and publish the ranked list."""
    from pipelines.score_flow import score_flow

    as_of_date = _parse_date(as_of)
    with _user_errors():
        report = score_flow(as_of_date, _settings(context))
    _print_list(report, top)


def _print_list(report: Any, top: int) -> None:
    shown = {
        "rank": "#",
        "case_id": "case",
        "district": "district",
        "category": "category",
        "score": "score",
        "band": "band",
        "unit": "unit",
        "due_date": "due",
        "reasons": "reasons",
    }
    console.print(_table(report.listed.head(top), f"Risk list {report.manifest['as_of']} (top {top})", shown))
    console.print(f"{report.manifest['cases']} open cases; bands {report.manifest['bands']}")
    for name, path in report.paths.items():
        console.print(f"{name}: {path}")


@app.command()
def grievances(
    context: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Day to publish (YYYY-MM-DD).")] = "",
    first: Annotated[str, typer.Option("--from", help="First day of a range (YYYY-MM-DD).")] = "",
    last: Annotated[str, typer.Option("--to", help="Last day of a range (YYYY-MM-DD).")] = "",
    top: Annotated[int, typer.Option(help="Grievances to show.")] = 15,
) -> None:
    """Publish the emerging grievances of a day (or of each day from --from to --to) from the stored
    records alone: hotline records suffice, no case register or model is needed; lists stay as they are."""
    from pipelines.grievance_flow import days_from, publish_day_grievances
    from pipelines.runtime import load_sources, open_warehouse

    one_day, a_range = bool(as_of), bool(first and last)
    if one_day == a_range or bool(first) != bool(last):
        raise typer.BadParameter("give --as-of DATE, or --from DATE and --to DATE")
    settings = _settings(context)
    with _user_errors():
        days = [_parse_date(as_of)] if as_of else days_from(_parse_date(first), _parse_date(last))
        with console.status("Reading the stored records..."):
            known = load_sources(open_warehouse(settings))
        if known.hotline.empty:
            console.print("[yellow]no hotline record is stored yet: `fengqiao ingest` them first[/yellow]")
        shown = (
            track(days, "Publishing grievances", console=console, transient=True) if len(days) > 1 else days
        )
        published = [publish_day_grievances(day, known, settings) for day in shown]
    if one_day:
        _print_grievances(published[0], top)
    else:
        _print_grievance_days(published)
        console.print(f"files: {settings.lists_dir}")


GRIEVANCE_SHOWN = {
    "thing": "thing",
    "district": "district",
    "category": "category",
    "distinct_callers": "callers",
    "new_callers": "new",
    "calls": "calls",
    "surge": "surge",
}


def _print_grievances(published: Any, top: int) -> None:
    frame = published.grievances
    day = published.as_of.isoformat()
    if frame.empty:
        console.print(f"No emerging grievance on {day}.")
    else:
        shown = frame.head(top).assign(surge=frame["surge"].map({True: "SURGE", False: ""}))
        first = f", the first {top}" if len(frame) > top else ""
        title = f"Emerging grievances {day}: {len(frame)}, {len(published.surges)} surging{first}"
        console.print(_table(shown, title, GRIEVANCE_SHOWN))
    for name, path in published.paths.items():
        console.print(f"{name}: {path}")


def _print_grievance_days(published: list[Any]) -> None:
    from pipelines.grievance_flow import surge_names

    rows = pd.DataFrame(
        [
            {
                "day": p.as_of.isoformat(),
                "grievances": len(p.grievances),
                "surging": len(p.surges),
                "what surges": surge_names(p.grievances),
            }
            for p in published
        ]
    )
    console.print(_table(rows, f"Emerging grievances, {len(published)} days"))


@app.command("run-daily")
def run_daily(
    context: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Day to run (YYYY-MM-DD); default today.")] = "",
    override: Annotated[bool, typer.Option(help="Publish even if the health checks say hold.")] = False,
) -> None:
    """Ingest the inbox, score, check drift/volume/quarantine, publish or hold, write the run report."""
    from pipelines.daily_flow import daily_flow

    day = _parse_date(as_of) if as_of else None
    with _user_errors():
        report = daily_flow(day, _settings(context), override=override)
    _print_daily([report])


@app.command()
def backfill(
    context: typer.Context,
    first: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    override: Annotated[bool, typer.Option(help="Publish even if the health checks say hold.")] = False,
) -> None:
    """Run past days in order (without the inbox); days already published with the same inputs are skipped."""
    from pipelines.daily_flow import backfill_flow

    with _user_errors():
        reports = backfill_flow(_parse_date(first), _parse_date(last), _settings(context), override=override)
    _print_daily(reports)


@app.command()
def rehearse(
    context: typer.Context,
    days: Annotated[int, typer.Option(help="Days of daily runs.")] = 30,
    drift_start: Annotated[int, typer.Option(help="Day (from 0) the drifted week starts.")] = 14,
    cases: Annotated[int, typer.Option(help="Number of simulated cases.")] = 20_000,
    city_days: Annotated[int, typer.Option(help="Simulated days in all.")] = 540,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 7,
) -> None:
    """Rehearse daily operations on the demo city: a month of deliveries and runs, one drifted week."""
    from cities.demo import SimulationConfig
    from pipelines.rehearsal import RehearsalPlan, rehearsal_flow

    config = SimulationConfig(seed=seed, n_cases=cases, days=city_days, messiness=0.002)
    with _user_errors():
        reports = rehearsal_flow(
            config, RehearsalPlan(days=days, drift_start_day=drift_start), _settings(context)
        )
    _print_daily(reports)


def _print_daily(reports: list[Any]) -> None:
    from pipelines.daily_flow import NO_MODEL

    rows = pd.DataFrame(
        [
            {
                "day": r.as_of.isoformat(),
                "status": r.status,
                "read": sum(f.get("read", 0) for f in r.report.get("ingest", [])),
                "yesterday's records": r.report.get("volume", {}).get("yesterday"),
                "open cases": r.report.get("open_cases"),
                "high": r.report.get("bands", {}).get("high"),
                "dormant": r.report.get("dormant_cases"),
                "grievances": r.report.get("grievances", {}).get("clusters"),
                "surging": r.report.get("grievances", {}).get("surges"),
                "why held": " ".join(r.report.get("verdict", {}).get("reasons", [])),
            }
            for r in reports
        ]
    )
    console.print(_table(rows, "Daily runs"))
    for r in reports:
        if r.status == NO_MODEL:
            console.print(f"[yellow]{r.report['reason']}[/yellow]")
        for refused in r.report.get("refused", []):
            console.print(
                f"[red]refused[/red] {r.as_of}: {refused.get('file')} -> {refused.get('moved_to')}: "
                f"{refused.get('reason')}"
            )
    if reports:
        console.print(f"reports: {reports[-1].path.parent}")


@app.command()
def serve(context: typer.Context) -> None:
    """Serve the daily run and the weekly retraining on their schedules until interrupted."""
    from pipelines.serve import serve_schedules

    settings = _settings(context)
    console.print(
        f"serving 'daily/daily' ({settings.daily_cron}) and 'train/weekly-retrain' "
        f"({settings.retrain_cron}), Asia/Shanghai; Ctrl-C stops"
    )
    serve_schedules(settings)


@app.command()
def deploy(
    context: typer.Context,
    pool: Annotated[str, typer.Option(help="Process work pool (created if missing) the workers poll.")],
    source: Annotated[
        str | None,
        typer.Option(help="Where workers fetch the code: a folder or a git URL (default: this checkout)."),
    ] = None,
    ref: Annotated[str | None, typer.Option(help="Branch of the git repository given as --source.")] = None,
) -> None:
    """Register the daily run and weekly retraining on a work pool of the Prefect server (PREFECT_API_URL)."""
    from pipelines.deploy import deploy_to_pool

    settings = _settings(context)
    with _user_errors():
        done = deploy_to_pool(settings, pool, source, ref)
    if done.pool_created:
        console.print(f"work pool '{done.pool}' (process) created")
    for name in done.names:
        console.print(f"[green]{name}[/green] on '{done.pool}' at {done.api_url}, code from {done.source}")
    for name in done.passwords_removed:
        console.print(
            f"[yellow]{name}: its password is not stored in the deployment; give the workers "
            f"PGPASSWORD or ~/.pgpass[/yellow]"
        )
    console.print(
        f"start workers with FENGQIAO_PSEUDONYM_KEY set: prefect worker start --pool {done.pool}\n"
        f"a run now: prefect deployment run daily/daily --param as_of=YYYY-MM-DD"
    )


@app.command()
def ablation(context: typer.Context, as_of: AsOf) -> None:
    """Compare held-out precision of the foundation features, + each feature family, and all of them."""
    from pipelines.train_flow import ablation_flow

    as_of_date = _parse_date(as_of)
    with _user_errors():
        table = ablation_flow(as_of_date, _settings(context))
    console.print(_table(table, f"Ablation as of {as_of_date} (held-out dates, top share of the list)"))


@app.command()
def dictionary(
    out: Annotated[Path, typer.Option(help="Where to write the Markdown page.")] = Path(
        "docs/feature-dictionary.md"
    ),
) -> None:
    """Write the feature dictionary (every feature: meaning, window, kind, how it reads as a reason)."""
    from features.dictionary import dictionary_markdown
    from features.matrix import ALL_FAMILIES, feature_docs

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dictionary_markdown(feature_docs(ALL_FAMILIES)), encoding="utf-8")
    console.print(f"{len(feature_docs(ALL_FAMILIES))} features written to {out}")


@app.command()
def demo(
    context: typer.Context,
    cases: Annotated[int, typer.Option(help="Number of simulated cases.")] = 20_000,
    days: Annotated[int, typer.Option(help="Simulated days.")] = 540,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 7,
    messiness: Annotated[float, typer.Option(help="Share of deliberately broken rows.")] = 0.002,
) -> None:
    """Simulate a city, ingest it, train, and publish today's list: the whole product end to end."""
    from cities.demo import SimulationConfig
    from pipelines.demo_flow import demo_flow

    settings = _settings(context)
    with _user_errors():
        report = demo_flow(
            SimulationConfig(seed=seed, n_cases=cases, days=days, messiness=messiness), settings
        )
    _print_ingest(report.ingest)
    _print_training(report.train)
    _print_list(report.score, 15)
    console.print(f"demo exports: {report.data_dir}")
    console.print(f"store: {settings.warehouse_url}")
    console.print(f"MLflow: mlflow ui --backend-store-uri {settings.mlflow_tracking_uri}")
    if settings.pseudonym_key is None:
        console.print(
            f"[yellow]pseudonymisation key generated for the demo at {settings.local_key_file}[/yellow]"
        )


users_app = typer.Typer(help="Dashboard accounts: add, list, remove.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _read_password(name: str) -> str:
    """A new password: prompted twice, hidden, on a terminal; else the first line of standard input."""
    if sys.stdin.isatty():
        return typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="User name to log in with.")],
    role: Annotated[
        Role, typer.Option(help="admin (everything), analyst (own districts) or viewer (read-only).")
    ],
    district: Annotated[
        list[str] | None, typer.Option("--district", help="A district the user sees (repeat for several).")
    ] = None,
    new_district: Annotated[
        bool,
        typer.Option(
            "--new-district", help="Accept districts no stored case or call names yet (else refused: typos)."
        ),
    ] = False,
) -> None:
    """Add a dashboard user; the password is prompted for (or read from standard input), never an argument.
    A district the store does not know is refused, with the closest known names, unless --new-district."""
    from pipelines.runtime import open_warehouse
    from warehouse.accounts import add_account, check_access, check_districts, known_districts

    with _user_errors():
        districts = tuple(district or ())
        check_access(name, role, districts)
        warehouse = open_warehouse(_settings(context))
        if districts and not new_district:
            with warehouse.transaction() as connection:
                check_districts(districts, known_districts(connection))
        password = _read_password(name)
        with warehouse.transaction() as connection:
            account = add_account(connection, name, role, districts, password)
    where = "、".join(account.districts) or "every district"
    console.print(f"user [bold]{account.name}[/bold] added: {account.role} ({where})")


@users_app.command("list")
def users_list(context: typer.Context) -> None:
    """List dashboard users with their roles and districts (never their passwords)."""
    from pipelines.runtime import open_warehouse
    from warehouse.accounts import list_accounts

    with open_warehouse(_settings(context)).transaction() as connection:
        table = list_accounts(connection)
    if table.empty:
        console.print("No users yet: add one with `fengqiao users add NAME --role ROLE`.")
        return
    console.print(_table(table, "Dashboard users"))


@users_app.command("remove")
def users_remove(
    context: typer.Context, name: Annotated[str, typer.Argument(help="User name to remove.")]
) -> None:
    """Remove a dashboard user (the feedback they recorded stays, under their name)."""
    from pipelines.runtime import open_warehouse
    from warehouse.accounts import remove_account

    with open_warehouse(_settings(context)).transaction() as connection:
        removed = remove_account(connection, name)
    if not removed:
        console.print(f"[red]error:[/red] no user {name!r}")
        raise typer.Exit(code=1)
    console.print(f"user {name} removed")


# What the dashboard process must share with this one: the store, the registry, the question the model
# answers, the language, the login throttle, the idle timeout and the dormant cases.
DASHBOARD_SETTINGS = frozenset(
    {
        "home",
        "warehouse_url",
        "mlflow_tracking_uri",
        "language",
        "horizon_days",
        "escalation_events",
        "model_name",
        "experiment_name",
        "login_max_failures",
        "login_backoff_seconds",
        "session_idle_minutes",
        "dormant_days",
    }
)


def dashboard_command(port: int, address: str) -> list[str]:
    """The `streamlit run` command line for the dashboard app (found beside this package, not imported);
    errors reach the browser without their details (the app says what happened; the log has the rest)."""
    script = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
        "--client.disableDataExport",  # tables' own CSV download would write formulas as they are
        "true",
    ]


@app.command()
def dashboard(
    context: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for the network).")
    ] = "localhost",
) -> None:
    """Start the analysts' dashboard (Streamlit) on the current settings; Ctrl-C stops it."""
    settings = _settings(context)
    root = str(Path(__file__).resolve().parents[1])
    paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = {
        **os.environ,
        **settings.environment(DASHBOARD_SETTINGS),
        "PYTHONPATH": os.pathsep.join(paths),
    }
    console.print(f"dashboard on http://{address}:{port} (store {settings.warehouse_url}); Ctrl-C stops")
    # This process becomes Streamlit, so signals (Ctrl-C, a service manager's SIGTERM) reach it directly.
    command = dashboard_command(port, address)
    os.execve(command[0], command, environment)


if __name__ == "__main__":
    app()
