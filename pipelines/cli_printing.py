"""What the flow commands print: ingest accounting, the model grid, the list, grievances, daily runs."""

from __future__ import annotations

from typing import Any

import pandas as pd

from contracts.evaluation import LIFT_KEY
from pipelines.cli_base import console, table_of

GRIEVANCE_SHOWN = {
    "thing": "thing",
    "district": "district",
    "category": "category",
    "distinct_callers": "callers",
    "new_callers": "new",
    "calls": "calls",
    "surge": "surge",
}


def print_ingest(report: Any) -> None:
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
    console.print(table_of(report.accounting, title, columns))
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


def print_training(report: Any) -> None:
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
        table_of(
            report.grid.drop(columns=["estimator", "why"], errors="ignore"),
            "Model grid: precision at the top, mean over folds",
        )
    )
    console.print(
        table_of(
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


def print_list(report: Any, top: int) -> None:
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
    console.print(
        table_of(report.listed.head(top), f"Risk list {report.manifest['as_of']} (top {top})", shown)
    )
    console.print(f"{report.manifest['cases']} open cases; bands {report.manifest['bands']}")
    for name, path in report.paths.items():
        console.print(f"{name}: {path}")


def print_grievances(published: Any, top: int) -> None:
    frame = published.grievances
    day = published.as_of.isoformat()
    if frame.empty:
        console.print(f"No emerging grievance on {day}.")
    else:
        shown = frame.head(top).assign(surge=frame["surge"].map({True: "SURGE", False: ""}))
        first = f", the first {top}" if len(frame) > top else ""
        title = f"Emerging grievances {day}: {len(frame)}, {len(published.surges)} surging{first}"
        console.print(table_of(shown, title, GRIEVANCE_SHOWN))
    for name, path in published.paths.items():
        console.print(f"{name}: {path}")


def print_grievance_days(published: list[Any]) -> None:
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
    console.print(table_of(rows, f"Emerging grievances, {len(published)} days"))


def print_daily(reports: list[Any]) -> None:
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
    console.print(table_of(rows, "Daily runs"))
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
