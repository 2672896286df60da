"""Commands that run flows, for operators and data scientists: simulate, ingest, train, score, grievances,
the daily run, backfills (of lists and of call links), rehearsals, schedules, deployment, ablation and the
demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track

from contracts.vocabulary import RecordKind
from pipelines.cli_base import (
    AsOf,
    app,
    console,
    parse_date,
    ready_to_run,
    settings_of,
    table_of,
    user_errors,
)
from pipelines.cli_printing import (
    print_daily,
    print_grievance_days,
    print_grievances,
    print_ingest,
    print_list,
    print_training,
)
from pipelines.prefect_runtime import start_prefect

FLOWS = "Flows (operators, data scientists)"


@app.command(rich_help_panel=FLOWS)
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
        start=parse_date(start),
        messiness=messiness,
        grievances=grievances,
    )
    if plain_grievances:
        config = config.plain_grievances()
    with console.status("Simulating the city..."):
        paths = write_city(simulate_city(config), out)
    for name, path in paths.items():
        console.print(f"[green]{name}[/green]: {path}")


@app.command(rich_help_panel=FLOWS)
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
    from pipelines.ingest_ahead import IngestCall, ingest_ahead
    from pipelines.runtime import check_key, open_warehouse, pseudonym_key, rotate_pseudonyms

    settings = settings_of(context)
    with user_errors():
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
            start_prefect(settings)  # the server starts while the files are ingested, uncommitted
            call = IngestCall(
                tuple(paths), settings, key, kind=kind, encoding=encoding, sheet=sheet, mapping_file=mapping
            )
            with ingest_ahead(call):  # committed by the flow's task, else rolled back
                from pipelines.ingest_flow import ingest_flow

                with ready_to_run():  # the flow's code is imported: Prefect is there
                    report = ingest_flow(
                        paths, settings, kind=kind, encoding=encoding, sheet=sheet, mapping_file=mapping
                    )
    print_ingest(report)
    if report.failed:
        raise typer.Exit(code=1)


@app.command(rich_help_panel=FLOWS)
def train(context: typer.Context, as_of: AsOf) -> None:
    """Train on what was known before the date, validate on later matured dates, register the champion."""
    from pipelines.train_flow import train_flow

    as_of_date = parse_date(as_of)
    with user_errors():
        report = train_flow(as_of_date, settings_of(context))
    print_training(report)


@app.command(rich_help_panel=FLOWS)
def score(
    context: typer.Context, as_of: AsOf, top: Annotated[int, typer.Option(help="Rows to show.")] = 15
) -> None:
    """Score every case open at the date with the champion and publish the ranked list."""
    from pipelines.score_helper import score_helper

    as_of_date = parse_date(as_of)
    settings = settings_of(context)
    with score_helper(settings, as_of_date):  # links and grievances on the other core while this one works
        from pipelines.score_flow import score_flow

        with user_errors():
            report = score_flow(as_of_date, settings)
    print_list(report, top)


@app.command(rich_help_panel=FLOWS)
def grievances(
    context: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Day to publish (YYYY-MM-DD).")] = "",
    first: Annotated[str, typer.Option("--from", help="First day of a range (YYYY-MM-DD).")] = "",
    last: Annotated[str, typer.Option("--to", help="Last day of a range (YYYY-MM-DD).")] = "",
    top: Annotated[int, typer.Option(help="Grievances to show.")] = 15,
) -> None:
    """Publish the emerging grievances of a day (or of each day from --from to --to) from the stored
    records alone: hotline records suffice, no case register or model is needed; lists stay as they are."""
    from features.known import cut
    from pipelines.grievance_flow import days_from, publish_day_grievances
    from pipelines.runtime import stored_sources

    one_day, a_range = bool(as_of), bool(first and last)
    if one_day == a_range or bool(first) != bool(last):
        raise typer.BadParameter("give --as-of DATE, or --from DATE and --to DATE")
    settings = settings_of(context)
    with user_errors():
        days = [parse_date(as_of)] if as_of else days_from(parse_date(first), parse_date(last))
        with console.status("Reading the stored records..."):
            known = stored_sources(settings)
        if known.hotline.empty:
            console.print("[yellow]no hotline record is stored yet: `fengqiao ingest` them first[/yellow]")
        shown = (
            track(days, "Publishing grievances", console=console, transient=True) if len(days) > 1 else days
        )
        published = [publish_day_grievances(cut(known, day), settings) for day in shown]
    if one_day:
        print_grievances(published[0], top)
    else:
        print_grievance_days(published)
        console.print(f"files: {settings.lists_dir}")


@app.command("run-daily", rich_help_panel=FLOWS)
def run_daily(
    context: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Day to run (YYYY-MM-DD); default today.")] = "",
    override: Annotated[bool, typer.Option(help="Publish even if the health checks say hold.")] = False,
) -> None:
    """Ingest the inbox, score, check drift/volume/quarantine, publish or hold, write the run report."""
    from pipelines.daily_flow import daily_flow

    day = parse_date(as_of) if as_of else None
    with user_errors():
        report = daily_flow(day, settings_of(context), override=override)
    print_daily([report])


@app.command(rich_help_panel=FLOWS)
def backfill(
    context: typer.Context,
    first: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    override: Annotated[bool, typer.Option(help="Publish even if the health checks say hold.")] = False,
) -> None:
    """Run past days in order (without the inbox); days already published with the same inputs are skipped."""
    from pipelines.daily_flow import backfill_flow

    with user_errors():
        reports = backfill_flow(parse_date(first), parse_date(last), settings_of(context), override=override)
    print_daily(reports)


@app.command(rich_help_panel=FLOWS)
def links(
    context: typer.Context,
    first: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
) -> None:
    """Decide and store the call links of past days that have none (a store ingested with its history), by
    district parts: later daily runs and training read them instead of deciding them again."""
    from pipelines.link_flow import link_backfill_flow

    with user_errors():
        done = link_backfill_flow(parse_date(first), parse_date(last), settings_of(context))
    console.print(
        f"call links of {done.first} to {done.last}: {done.days_decided:,} part-days decided in "
        f"{done.parts_decided} of {done.parts} district parts, {done.links:,} links stored in "
        f"{done.seconds:,} s"
    )


@app.command(rich_help_panel=FLOWS)
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
    with user_errors():
        reports = rehearsal_flow(
            config, RehearsalPlan(days=days, drift_start_day=drift_start), settings_of(context)
        )
    print_daily(reports)


@app.command(rich_help_panel=FLOWS)
def serve(context: typer.Context) -> None:
    """Serve the daily run and the weekly retraining on their schedules until interrupted."""
    from pipelines.serve import serve_schedules

    settings = settings_of(context)
    console.print(
        f"serving 'daily/daily' ({settings.daily_cron}) and 'train/weekly-retrain' "
        f"({settings.retrain_cron}), Asia/Shanghai; Ctrl-C stops"
    )
    serve_schedules(settings)


@app.command(rich_help_panel=FLOWS)
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

    settings = settings_of(context)
    with user_errors():
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


@app.command(rich_help_panel=FLOWS)
def ablation(context: typer.Context, as_of: AsOf) -> None:
    """Compare held-out precision of the foundation features, + each feature family, and all of them."""
    from pipelines.train_flow import ablation_flow

    as_of_date = parse_date(as_of)
    with user_errors():
        table = ablation_flow(as_of_date, settings_of(context))
    console.print(table_of(table, f"Ablation as of {as_of_date} (held-out dates, top share of the list)"))


@app.command(rich_help_panel=FLOWS)
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

    settings = settings_of(context)
    with user_errors():
        report = demo_flow(
            SimulationConfig(seed=seed, n_cases=cases, days=days, messiness=messiness), settings
        )
    print_ingest(report.ingest)
    print_training(report.train)
    print_list(report.score, 15)
    console.print(f"demo exports: {report.data_dir}")
    console.print(f"store: {settings.warehouse_url}")
    console.print(f"MLflow: mlflow ui --backend-store-uri {settings.mlflow_tracking_uri}")
    if settings.pseudonym_key is None:
        console.print(
            f"[yellow]pseudonymisation key generated for the demo at {settings.local_key_file}[/yellow]"
        )
