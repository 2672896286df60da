"""The daily run: deliveries in, the champion's list out only when inputs look healthy, a report always.

For an as-of date D: ingest what is waiting in the inbox, score the cases open (and not dormant) at D,
compare the features, the scores, the day's input volume and quarantine rate with what is normal,
then either publish the list (files, store, `latest` pointer last) or hold it (yesterday's list stays,
marked stale, with the reasons), update the outcomes of past lists whose horizon has passed, count each
unit's work (cases assigned, overdue, actions recorded the day before), write the run report and alert
the operators on holds, drift and failures.

Before any model is trained (no champion), no list is scored: the day's emerging grievances are published
alone from the records (hotline records suffice), `latest` stays as it is, and the report says why.

A delivery never stops a day. A file ingest refuses goes to `inbox/failed/<D>/` with its reason beside
it (`<name>.reason.txt`) and the others are ingested as usual. Should ingest itself raise, each file is
ingested again alone: the ones that go in are filed under `done/`, the ones that raise again under
`failed/<D>/` (so no file fails every day after), and the day's list is held with the error as its
reason. A run that fails anywhere still writes its report and marks `latest` stale with the reason.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from prefect import flow, get_run_logger, task
from sqlalchemy.exc import OperationalError

from contracts.routing import UNIT_SUMMARY_COLUMNS, unit_summary, work_status
from contracts.settings import Settings
from contracts.timeparse import as_of_instant, local_now
from features.cohort import escalation_labels
from features.known import KnownBefore
from models.champion import Champion
from models.drift import (
    HealthVerdict,
    drift_figure,
    drift_table,
    health_verdict,
    quarantine_abnormal,
    volume_abnormal,
)
from models.outcomes import realised_quality
from pipelines.alerts import send_alert
from pipelines.champions import champion
from pipelines.day_list import (
    ScoredDay,
    champion_day,
    day_known,
    log_published,
    previous,
    publish,
    score_day,
)
from pipelines.day_window import escalation_events
from pipelines.grievance_flow import PublishedGrievances, days_from, publish_day_grievances
from pipelines.ingest_flow import ingest_flow
from pipelines.runtime import KeyMismatchError, MissingKeyError, open_warehouse, registry
from pipelines.tasks import IO_TASK, PURE_TASK
from warehouse.atomic_files import remove_leftovers, write_atomic
from warehouse.dashboard_tables import feedback
from warehouse.day_window import known_times
from warehouse.lists import (
    catch_up_latest,
    grievance_summary,
    mark_stale,
    newest_list_date,
    published_list_dates,
    read_assignments,
    read_list,
    read_outcomes,
    read_pointer,
    write_outcomes,
)

__all__ = ["NO_MODEL", "DailyReport", "backfill_flow", "daily_flow"]

SCORE_COLUMN = "score"
VOLUME_DAYS = 28
VOLUME_WEEKS = 8
VOLUME_MIN_WEEKS = 4
OUTCOME_REFRESH_DAYS = 60
NO_MODEL = "no_model"  # a day's status when no champion exists yet: grievances published, no list
NO_MODEL_MESSAGE = (
    "no list was scored for {as_of}: no model is trained yet (ingest the case register and run "
    "`fengqiao train --as-of DATE`); the day's emerging grievances were published from the records alone"
)


@dataclass(frozen=True)
class DailyReport:
    """What a daily run did: published, held or skipped (already published), and why."""

    as_of: date
    status: str
    report: dict[str, Any]
    path: Path


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox (not in its `done/` or `failed/` folders), in name order."""
    if not inbox.exists():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))


@dataclass
class Intake:
    """What became of the inbox's files: ingest's accounting, the files refused (with why and where they
    went) and, when ingest raised, the error and what was decided."""

    accounting: pd.DataFrame | None = None
    refused: list[dict[str, str]] = field(default_factory=list)
    ingest_error: dict[str, Any] | None = None


def _environmental(error: BaseException) -> bool:
    """An error of the machine, the store (disk, database) or the key (missing, short, not the store's),
    not of a delivered file: the files stay."""
    if isinstance(error, MissingKeyError | KeyMismatchError):
        return True
    if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError):
        return False
    return isinstance(error, OSError | OperationalError)


def take_in(files: list[Path], settings: Settings, allow_local_key: bool) -> Intake:
    """Ingest the inbox's files; if ingest raises, ingest each file alone to find the ones that make it
    raise (a machine or store error is raised as it is: the files stay for the next run)."""
    try:
        return Intake(ingest_flow(files, settings, allow_local_key=allow_local_key).accounting)
    except Exception as error:
        if _environmental(error):
            raise
        get_run_logger().error("ingest raised (%s): ingesting each file alone", error)
        accountings, crashed = [], []
        for path in files:
            try:
                accountings.append(ingest_flow([path], settings, allow_local_key=allow_local_key).accounting)
            except Exception as alone:
                if _environmental(alone):
                    raise
                crashed.append(
                    {"file": path.name, "reason": f"ingest raised: {type(alone).__name__}: {alone}"}
                )
        accounting = pd.concat(accountings, ignore_index=True) if accountings else None
        went_in = len(files) - len(crashed)
        decision = (
            f"each file was ingested again alone: {went_in} went in (filed under done/), {len(crashed)} "
            "raised again and were moved to failed/ so that later runs go on without them; "
            + ("the day goes on with what went in" if went_in else "nothing went in, so the list is held")
        )
        return Intake(
            accounting,
            crashed,
            {
                "error": f"{type(error).__name__}: {error}",
                "files": [c["file"] for c in crashed],
                "ingested_alone": went_in,
                "decision": decision,
            },
        )


@task(name="file-away-deliveries", **IO_TASK)
def file_away(intake: Intake, inbox: Path, as_of: date) -> list[dict[str, str]]:
    """Move ingested files to `done/<date>/` and refused ones to `failed/<date>/` with their reason beside
    them (`<name>.reason.txt`); the refused files, why and where they went."""
    refused = {r["file"]: r["reason"] for r in intake.refused}
    done: list[str] = []
    if intake.accounting is not None:
        for row in intake.accounting.itertuples():
            if row.status == "failed":
                refused[str(row.source_file)] = str(row.message) or "refused by ingest"
            else:
                done.append(str(row.source_file))
    moved = []
    for name, folder in [(n, "done") for n in done] + [(n, "failed") for n in refused]:
        source = inbox / name
        if not source.is_file():
            continue
        target = inbox / folder / as_of.isoformat()
        target.mkdir(parents=True, exist_ok=True)
        if name in refused:
            write_atomic(target / f"{name}.reason.txt", (refused[name] + "\n").encode())
            moved.append({"file": name, "reason": refused[name], "moved_to": str(target / name)})
        shutil.move(str(source), target / name)
    return moved


def daily_volumes(known: KnownBefore, days: int) -> pd.Series:
    """Records (cases, events, calls) that became known on each of the `days` days before the cut."""
    stamps = pd.concat([frame["known_at"] for frame in (known.cases, known.events, known.hotline)])
    return volumes_of(stamps, known.instant, days)


def day_volumes(known: KnownBefore, days: int, settings: Settings) -> pd.Series:
    """`daily_volumes` of the cut; by district parts (`known` is the day's window) read from the store."""
    if settings.district_parts <= 1:
        return daily_volumes(known, days)
    start = known.instant - pd.Timedelta(days=days)
    return volumes_of(known_times(open_warehouse(settings), start), known.instant, days)


def volumes_of(stamps: pd.Series, end: pd.Timestamp, days: int) -> pd.Series:
    """How many of the knowledge times fall on each of the `days` days before `end`."""
    start = end - pd.Timedelta(days=days)
    stamps = stamps[(stamps >= start) & (stamps < end)]
    counts = stamps.dt.floor("D").value_counts()
    index = pd.date_range(start, end - pd.Timedelta(days=1), freq="D")
    return counts.reindex(index, fill_value=0).astype(float)


def previous_reports(reports_dir: Path, before: date, runs: int) -> list[dict[str, Any]]:
    """The latest `runs` daily reports before a date, oldest first."""
    earlier = [p for p in sorted(reports_dir.glob("????-??-??.json")) if date.fromisoformat(p.stem) < before]
    return [json.loads(path.read_text(encoding="utf-8")) for path in earlier[-runs:]]


def quarantine_rate(accounting: pd.DataFrame | None) -> float | None:
    """Share of the run's read records that went to quarantine (None when nothing was ingested)."""
    if accounting is None or accounting.empty or accounting["read"].sum() == 0:
        return None
    return float(accounting["quarantined"].sum() / accounting["read"].sum())


@task(name="check-health", **PURE_TASK)
def check_health(
    day: ScoredDay,
    model: Champion,
    volumes: pd.Series,
    rate: float | None,
    history: list[dict[str, Any]],
    override: bool,
) -> tuple[HealthVerdict, pd.DataFrame, dict[str, Any]]:
    """Drift of features and scores against the training reference, input volume (`volumes`: records
    known on each day before the cut, `day_volumes`) and quarantine rate."""
    profile = model.metadata.get("reference")
    if profile:
        drift = drift_table(profile, day.features.merge(day.listed[["case_id", SCORE_COLUMN]], on="case_id"))
    else:
        drift = pd.DataFrame(columns=["column", "kind", "psi", "status", "top_shift"])
    same_weekday = volumes.iloc[-8::-7].iloc[::-1]  # the same weekday as yesterday, in earlier weeks
    volume = volume_abnormal(
        same_weekday.tolist(),
        float(volumes.iloc[-1]),
        min_history=VOLUME_MIN_WEEKS,
        baseline="the same weekday of the {n} weeks before",
    )
    past_rates = [r["quarantine"]["rate"] for r in history if r.get("quarantine", {}).get("rate") is not None]
    quarantine = (
        (False, "nothing ingested in this run") if rate is None else quarantine_abnormal(past_rates, rate)
    )
    verdict = health_verdict(drift, SCORE_COLUMN, volume, quarantine, override=override)
    if not profile:
        verdict = HealthVerdict(
            verdict.hold,
            verdict.reasons,
            (*verdict.warnings, f"{model.version} has no drift reference: retrain it"),
        )
    facts = {
        "volume": {"yesterday": float(volumes.iloc[-1]), "check": volume[1]},
        "quarantine": {"rate": rate, "check": quarantine[1]},
    }
    return verdict, drift, facts


@task(name="hold-list", **IO_TASK)
def hold(as_of: date, reasons: list[str], settings: Settings) -> dict[str, Any] | None:
    """Keep the latest published list in place, marked stale, with why today's was held."""
    return mark_stale(settings.lists_dir, as_of, reasons)


@task(name="update-outcomes", **IO_TASK)
def update_outcomes(known: KnownBefore, settings: Settings) -> pd.DataFrame:
    """Realised precision and calibration of every published list whose horizon has passed by the cut's
    date, from the escalations in the cut.

    Lists whose horizon ended in the last OUTCOME_REFRESH_DAYS are computed again on every run, so
    escalations recorded late still count; older results are final.
    """
    as_of = known.as_of
    done = read_outcomes(settings.reports_dir)
    settled = as_of - timedelta(days=settings.horizon_days + OUTCOME_REFRESH_DAYS)
    if len(done):
        done = done[pd.to_datetime(done["as_of"]).dt.date < settled]
    seen = set(done["as_of"]) if len(done) else set()
    warehouse = open_warehouse(settings)
    events = known.events if settings.district_parts <= 1 else escalation_events(settings, known.instant)
    rows = []
    for listed_on in published_list_dates(settings.lists_dir):
        if listed_on.isoformat() in seen or listed_on + timedelta(days=settings.horizon_days) > as_of:
            continue
        listed = read_list(warehouse, listed_on)
        if listed.empty:
            continue
        labels = escalation_labels(
            pd.Index(listed["case_id"]),
            events,
            as_of_instant(listed_on),
            settings.horizon_days,
            [str(t) for t in settings.escalation_events],
        )["label_any"]
        quality = realised_quality(listed, labels, settings.list_top_fraction)
        rows.append(
            {"as_of": listed_on.isoformat(), "model_version": listed["model_version"].iloc[0], **quality}
        )
    table = pd.concat([done, pd.DataFrame(rows)], ignore_index=True) if rows else done
    if rows:
        table = table.sort_values("as_of", ignore_index=True)
        write_outcomes(settings.reports_dir, table)
    return table


def unit_report(status: pd.DataFrame, day_actions: pd.DataFrame, list_as_of: date) -> pd.DataFrame:
    """Per unit (by name): `unit_summary` of a list's assigned cases, and `actions`, the actions recorded
    for the unit in `day_actions` (one day's feedback: unit); a unit that acted but has no case on the
    list is counted too, and actions recorded for no unit are left out."""
    summary = unit_summary(status, list_as_of)
    counted = day_actions.dropna(subset=["unit"]).groupby("unit").size().rename("actions").reset_index()
    table = summary.merge(counted, on="unit", how="outer")
    numbers = [c for c in UNIT_SUMMARY_COLUMNS if c not in ("unit", "capacity", "over_capacity")]
    table[[*numbers, "actions"]] = table[[*numbers, "actions"]].fillna(0).astype("int64")
    table["capacity"] = table["capacity"].astype("Int64")
    table["over_capacity"] = table["over_capacity"].fillna(False).astype(bool)
    return table.sort_values("unit", ignore_index=True)


@task(name="count-unit-work", **IO_TASK)
def unit_work(as_of: date, settings: Settings) -> dict[str, Any]:
    """Each unit's work as the run of `as_of` sees it: on the newest list published by then, the cases
    assigned to it, new, acted on and overdue (no action since assigned, due before `as_of`), and the
    actions recorded for it on the day before `as_of`."""
    warehouse = open_warehouse(settings)
    shown = newest_list_date(warehouse, as_of)
    if shown is None:
        return {"list_as_of": None, "units": []}
    assigned = read_assignments(warehouse, shown)
    day_before = as_of - timedelta(days=1)
    since = min([day_before, *assigned["assigned_on"]])
    f = feedback.c
    actions = warehouse.read_table(
        feedback, (f.recorded_at >= as_of_instant(since)) & (f.recorded_at < as_of_instant(as_of))
    )
    status = work_status(assigned, actions, as_of)
    day_actions = actions[actions["recorded_at"] >= as_of_instant(day_before)]
    table = unit_report(status, day_actions, shown)
    return {
        "list_as_of": shown.isoformat(),
        "actions_recorded_on": day_before.isoformat(),
        "overdue": int(table["overdue"].sum()),
        "units": json.loads(table.to_json(orient="records", force_ascii=False)),
    }


@task(name="write-run-report", **IO_TASK)
def write_report(report: dict[str, Any], drift: pd.DataFrame, settings: Settings) -> Path:
    """The run's report as JSON (and its drift picture), replaced atomically."""
    as_of = report["as_of"]
    path = settings.reports_dir / f"{as_of}.json"
    write_atomic(path, json.dumps(report, ensure_ascii=False, indent=2, default=str).encode())
    if len(drift):
        figure = drift_figure(drift)
        try:
            figure.savefig(settings.reports_dir / f"{as_of}.drift.png", dpi=100)
        finally:
            plt.close(figure)
    return path


def already_published(day: ScoredDay, settings: Settings) -> bool:
    """Whether this exact list (same model, same rows) is already published for the day.

    The manifest, written after the list files and the store, holds the list's hash: a manifest
    with this hash means the whole publication completed. The list, not the input fingerprint,
    decides: records that arrive later but were known before the day (e.g. held events released
    when their case arrives) change the fingerprint, not the list.
    """
    path = settings.lists_dir / f"{day.as_of.isoformat()}.manifest.json"
    if not path.exists():
        return False
    published = json.loads(path.read_text(encoding="utf-8"))
    return all(published.get(k) == day.manifest.get(k) for k in ("model_version", "list_sha256"))


def finish_skipped(
    as_of: date, model_version: str, report: dict[str, Any], settings: Settings
) -> DailyReport:
    """A rerun of a day whose same list is published: complete what a run stopped after the manifest
    left undone (move `latest` to the list, write the day's report) and change nothing else.

    The report is written unless one already records this list as published (its facts stay)."""
    moved = catch_up_latest(settings.lists_dir, as_of, model_version)
    pointer = read_pointer(settings.lists_dir)
    reason = "the same list is already published"
    report.update(status="skipped", reason=reason, latest=pointer, latest_moved=moved)
    path = settings.reports_dir / f"{as_of.isoformat()}.json"
    written = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if written.get("status") != "published" or written.get("model_version") != model_version:
        report["finished_at"] = local_now().isoformat(timespec="seconds")
        path = write_report(report, pd.DataFrame(), settings)
    return DailyReport(as_of, "skipped", report, path)


def alert_surges(as_of: date, grievances: pd.DataFrame, settings: Settings) -> None:
    """Tell the team about grievances surging today (things and places, with their published numbers)."""
    surges = grievances[grievances["surge"]]
    if len(surges):
        columns = ["cluster_id", "thing", "district", "calls", "distinct_callers", "surge_reason"]
        payload = {"surges": json.loads(surges[columns].to_json(orient="records", force_ascii=False))}
        send_alert(settings.alert_webhook_url, "surge", as_of.isoformat(), payload)


def has_champion(settings: Settings) -> bool:
    """Whether a champion model is registered (none before the first training)."""
    return registry(settings).champion_version() is not None


@task(name="publish-grievances", **IO_TASK)
def publish_grievances_alone(known: KnownBefore, settings: Settings) -> PublishedGrievances:
    """Build the grievances of the cut's date and publish them without a list (retried whole: it is
    atomic)."""
    return publish_day_grievances(known, settings)


def publish_grievances_only(as_of: date, settings: Settings, report: dict[str, Any]) -> DailyReport:
    """A day without a champion: no list is scored, the day's grievances are published alone (the `latest`
    pointer stays as it is), surges are alerted, and the report says why there is no list."""
    published = publish_grievances_alone(day_known(settings, as_of), settings)
    message = NO_MODEL_MESSAGE.format(as_of=as_of.isoformat())
    get_run_logger().warning(message)
    report.update(
        {
            "status": NO_MODEL,
            "reason": message,
            "ingest": report.get("ingest", []),
            "refused": report.get("refused", []),
            "ingest_error": report.get("ingest_error"),
            "grievances": grievance_summary(published.grievances),
            "finished_at": local_now().isoformat(timespec="seconds"),
        }
    )
    alert_surges(as_of, published.grievances, settings)
    path = write_report(report, pd.DataFrame(), settings)
    return DailyReport(as_of, NO_MODEL, report, path)


@flow(name="daily")
def daily_flow(
    as_of: date | None = None,
    settings: Settings | None = None,
    override: bool = False,
    use_inbox: bool = True,
    allow_local_key: bool = False,
) -> DailyReport:
    """Run one day: ingest the inbox, score, check health, publish or hold, track outcomes, report.

    `override` publishes despite failed health checks (the checks are still reported);
    `allow_local_key` lets demos and rehearsals use the generated local pseudonymisation key.
    """
    settings = settings or Settings()
    as_of = as_of or local_now().date()
    logger = get_run_logger()
    report: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "started_at": local_now().isoformat(timespec="seconds"),
    }
    try:
        return _run_day(as_of, settings, override, use_inbox, allow_local_key, report)
    except Exception as error:
        logger.error("daily run for %s failed: %s", as_of, error)
        record_failure(report, error, settings)
        send_alert(settings.alert_webhook_url, "failed", as_of.isoformat(), {"error": str(error)})
        raise


def record_failure(report: dict[str, Any], error: BaseException, settings: Settings) -> None:
    """A failed run still leaves its report (what it got to, and the error) and marks `latest` stale,
    unless the day's list was already published (a failure after that, e.g. tracking outcomes, leaves
    the good list as it is)."""
    reason = f"the daily run failed: {type(error).__name__}: {error}"
    try:
        if report.get("status") == "published":
            report.update(error=reason)
        else:
            pointer = mark_stale(settings.lists_dir, date.fromisoformat(report["as_of"]), [reason])
            report.update(status="failed", error=reason, latest=pointer)
        report["finished_at"] = local_now().isoformat(timespec="seconds")
        path = settings.reports_dir / f"{report['as_of']}.json"
        write_atomic(path, json.dumps(report, ensure_ascii=False, indent=2, default=str).encode())
    except Exception as secondary:  # the original error is what the operator must see
        get_run_logger().error("could not record the failure: %s", secondary)


def ingest_hold(intake: Intake, override: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Extra (reasons, warnings) of the day's verdict when ingest raised: held when no file went in even
    alone (the day's inputs are missing), else a warning; with `override`, never held."""
    if intake.ingest_error is None:
        return (), ()
    files = ", ".join(intake.ingest_error["files"]) or "no file alone"
    sentence = (
        f"Ingest raised unexpectedly ({intake.ingest_error['error']}); made it raise: {files} "
        "(moved to inbox/failed/, see the report)"
    )
    if intake.ingest_error["ingested_alone"]:
        return (), (f"{sentence}; the other files went in.",)
    reason = f"{sentence}; nothing of the day's deliveries went in."
    return ((), (f"overridden: {reason}",)) if override else ((reason,), ())


def _run_day(
    as_of: date,
    settings: Settings,
    override: bool,
    use_inbox: bool,
    allow_local_key: bool,
    report: dict[str, Any],
) -> DailyReport:
    """The daily run's steps, in order; `report` is filled in as they go."""
    logger = get_run_logger()
    for folder in (settings.lists_dir, settings.reports_dir):
        remove_leftovers(folder)
    intake = Intake()
    files = inbox_files(settings.inbox_dir) if use_inbox else []
    if files:
        intake = take_in(files, settings, allow_local_key)
        report["ingest_error"] = intake.ingest_error
        report["ingest"] = (
            []
            if intake.accounting is None
            else json.loads(intake.accounting.to_json(orient="records", force_ascii=False))
        )
        report["refused"] = file_away(intake, settings.inbox_dir, as_of)
        for refused in report["refused"]:
            logger.error(
                "%s refused and moved to %s: %s", refused["file"], refused["moved_to"], refused["reason"]
            )
        if report["refused"]:
            payload = {"refused": report["refused"], "ingest_error": intake.ingest_error}
            send_alert(settings.alert_webhook_url, "refused", as_of.isoformat(), payload)
    accounting = intake.accounting
    if not has_champion(settings):
        return publish_grievances_only(as_of, settings, report)
    model = champion(settings)
    known, who_acts, built = champion_day(model, settings, as_of)  # by the flow, not in a task
    day = score_day(model, known, settings, previous(as_of, settings), who_acts, built)
    report.update(
        {
            "model_version": model.version,
            "ingest": report.get("ingest", []),
            "refused": report.get("refused", []),
            "ingest_error": intake.ingest_error,
            "open_cases": len(day.listed),
            "dormant_cases": len(day.dormant),
            "empty_reason": day.manifest["empty_reason"],
            "bands": day.manifest["bands"],
            "grievances": day.manifest["grievances"],
            "call_links": int((day.links["as_of"] == as_of).sum()),  # the day's own
            "input_fingerprint": day.manifest["input_fingerprint"],
        }
    )
    if already_published(day, settings):
        logger.info(
            "the same list for %s with %s is already published: nothing to do",
            as_of,
            model.version,
        )
        skipped = finish_skipped(as_of, model.version, report, settings)
        if skipped.report["latest_moved"]:
            logger.warning("the list for %s was published but `latest` never moved to it: moved now", as_of)
        return skipped
    history = previous_reports(settings.reports_dir, as_of, VOLUME_DAYS)
    volumes = day_volumes(known, VOLUME_WEEKS * 7 + 1, settings)
    verdict, drift, facts = check_health(day, model, volumes, quarantine_rate(accounting), history, override)
    reasons, warnings = ingest_hold(intake, override)
    if reasons or warnings:
        verdict = HealthVerdict(
            verdict.hold or bool(reasons), (*verdict.reasons, *reasons), (*verdict.warnings, *warnings)
        )
    report.update(facts)
    report["drift"] = json.loads(drift.head(15).to_json(orient="records", force_ascii=False))
    report["verdict"] = verdict.as_dict()
    if verdict.hold:
        pointer = hold(as_of, list(verdict.reasons), settings)
        report.update(status="held", latest=pointer)
        logger.warning("list for %s held: %s", as_of, " ".join(verdict.reasons))
        send_alert(settings.alert_webhook_url, "held", as_of.isoformat(), {"reasons": list(verdict.reasons)})
    else:
        publish(day, settings)
        log_published(day)
        report.update(status="published", latest=read_pointer(settings.lists_dir))
        alert_surges(as_of, day.grievances, settings)
    if verdict.warnings:
        logger.warning("health warnings for %s: %s", as_of, " | ".join(verdict.warnings))
        if not verdict.hold:
            send_alert(
                settings.alert_webhook_url,
                "warnings",
                as_of.isoformat(),
                {"warnings": list(verdict.warnings)},
            )
    outcomes = update_outcomes(known, settings)
    report["outcomes_tracked"] = len(outcomes)
    report["unit_work"] = unit_work(as_of, settings)
    if report["unit_work"].get("overdue"):
        logger.warning(
            "%d assigned cases are overdue (no action recorded by their due date): see unit_work",
            report["unit_work"]["overdue"],
        )
    report["finished_at"] = local_now().isoformat(timespec="seconds")
    path = write_report(report, drift, settings)
    return DailyReport(as_of, report["status"], report, path)


@flow(name="backfill")
def backfill_flow(
    first: date, last: date, settings: Settings | None = None, override: bool = False
) -> list[DailyReport]:
    """Run past days in order without the inbox; a day whose same list is already published is skipped."""
    settings = settings or Settings()
    return [daily_flow(day, settings, override=override, use_inbox=False) for day in days_from(first, last)]
