"""Commands that read or steer what is stored, without a flow: quarantine, models, promotion, rollback,
the feature dictionary, the settings in effect."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli_base import app, console, settings_of, table_of, user_errors

RECORDS = "Records and models (analysts, operators)"


@app.command(rich_help_panel=RECORDS)
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

    frame = open_warehouse(settings_of(context)).read_table(table)
    if not released:
        frame = frame[frame["released_at"].isna()]
    if file:
        frame = frame[frame["source_file"] == file]
    frame = frame.sort_values(["source_file", "row", "field"])
    summary = frame.groupby(["source_file", "field"]).size().rename("rows").reset_index()
    console.print(table_of(summary, "Quarantine by file and field"))
    columns = {"source_file": "file", "row": "row", "field": "field", "value": "value", "reason": "reason"}
    console.print(
        table_of(frame.head(limit), f"First {min(limit, len(frame))} of {len(frame)} entries", columns)
    )
    if export:
        from contracts.spreadsheet import neutralised

        neutralised(frame).to_csv(export, index=False, encoding="utf-8-sig")
        console.print(f"written to {export}")


@app.command(rich_help_panel=RECORDS)
def models(context: typer.Context) -> None:
    """List registered model versions with their aliases and promotion decisions."""
    from pipelines.runtime import registry

    with user_errors():
        table = registry(settings_of(context)).versions()
    if table.empty:
        console.print("No model registered yet: run `fengqiao train --as-of DATE`.")
        return
    shown = [c for c in ("version", "created", "aliases", "promoted", "decision") if c in table]
    console.print(table_of(table[shown], "Registered models"))


@app.command(rich_help_panel=RECORDS)
def promote(
    context: typer.Context, version: Annotated[str, typer.Argument(help="Version number to make champion.")]
) -> None:
    """Make a registered version the champion (deliberately; `fengqiao rollback` undoes it)."""
    from pipelines.runtime import registry

    with user_errors():
        registry(settings_of(context)).promote(version.removeprefix("v"))
    console.print(f"Version {version} is now champion.")


@app.command(rich_help_panel=RECORDS)
def rollback(context: typer.Context) -> None:
    """Move the champion back to the version it replaced."""
    from pipelines.runtime import registry

    with user_errors():
        version = registry(settings_of(context)).rollback()
    console.print(f"Champion rolled back to version {version}.")


@app.command(rich_help_panel=RECORDS)
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


@app.command(name="settings", rich_help_panel=RECORDS)
def settings_command(
    context: typer.Context,
    markdown: Annotated[
        Path | None, typer.Option(help="Write the reference page of every setting here instead.")
    ] = None,
) -> None:
    """Show the settings in effect by group, beside their defaults (secrets only as set or not); or write
    their reference page."""
    import pandas as pd

    from contracts.settings import Settings
    from contracts.settings_groups import SETTING_GROUPS, settings_markdown, shown, variable

    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(settings_markdown(), encoding="utf-8")
        console.print(f"{len(Settings.model_fields)} settings written to {markdown}")
        return
    settings = settings_of(context)
    for chinese, english, names in SETTING_GROUPS:
        rows = [
            {
                "setting": name,
                "value": shown(getattr(settings, name)),
                "default": shown(field.default),
                "variable": variable(name),
            }
            for name, field in ((n, Settings.model_fields[n]) for n in names)
        ]
        console.print(table_of(pd.DataFrame(rows), f"{chinese} {english}"))
