"""Every read the dashboard makes: functions of (viewer, source, ...) that return frames.

District restriction is enforced here, on the server: every query carries the viewer's districts in
its SQL and its result is checked again, so no page can receive a row of a district its user is not
assigned to. No query selects a pseudonym column; texts are the ones stored, masked at ingest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, func, literal, or_, select, true

from contracts.evaluation import LIFT_KEY, MODEL_NAME, NEW_CASE_DAYS, RULE_NAME, VALIDATION_METRICS
from contracts.timeparse import as_of_instant
from dashboards.source import DataSource
from warehouse.accounts import Account as Viewer
from warehouse.dashboard_tables import feedback
from warehouse.lists import (
    published_grievance_dates,
    read_dormant,
    read_manifest,
    read_outcomes,
    read_pointer,
)
from warehouse.tables import call_links, case_events, cases, hotline, list_manifests, lists
from warehouse.tables import grievances as grievances_table

# The list's columns the Today page reads (of the contract's `LIST_COLUMNS`).
SHOWN_LIST_COLUMNS = (
    "rank",
    "case_id",
    "district",
    "town",
    "category",
    "opened_at",
    "score",
    "band",
    "reasons",
)
PROFILE_COLUMNS = (
    "case_id",
    "opened_at",
    "district",
    "town",
    "category",
    "source",
    "party_count",
    "amount",
    "description",
)
# The published grievance columns the dashboard reads (not the ids of every touched case: only the open
# ones, which are then narrowed to the viewer's own list).
GRIEVANCE_COLUMNS = (
    "cluster_id",
    "thing",
    "thing_kind",
    "district",
    "category",
    "calls",
    "distinct_callers",
    "new_callers",
    "prior_calls",
    "growth",
    "cases",
    "open_case_ids",
    "first_seen",
    "surge",
    "surge_reason",
    "summary",
)
WORKED_BANDS = ("high", "medium")
DORMANT_COLUMNS = ("case_id", "district", "category", "opened_at", "last_activity_at", "days_inactive")
# The tables a training run logs that the Model page reads (`<name>.json`), and all the files it reads.
LOGGED_TABLES = (
    "model_grid",
    "calibration",
    "fairness",
    "subsets",
    "precision_by_depth",
    "validation_by_date",
    "feature_dictionary",
)
MODEL_FILES = (
    "model_card.md",
    "model_card.en.md",
    "fengqiao_model.json",
    *(f"{name}.json" for name in LOGGED_TABLES),
)
# The validation metrics the Model page shows, each for the model and for the rule it is compared with.
SUMMARY_METRICS = VALIDATION_METRICS


def _in_districts(column: Any, viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition that restricts a district column to what the viewer may see."""
    return true() if viewer.every_district else column.in_(viewer.districts)


def _guard(frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """The same restriction checked again on a result (a second line of defence)."""
    if "district" not in frame.columns or viewer.every_district:
        return frame
    return frame[frame["district"].isin(viewer.districts)].reset_index(drop=True)


def latest_pointer(source: DataSource) -> dict[str, Any] | None:
    """The `latest` pointer: the list that is today's (and whether it is stale, and why)."""
    return read_pointer(source.settings.lists_dir)


def list_dates(viewer: Viewer, source: DataSource) -> list[date]:
    """Dates with a published list, newest first."""
    frame = source.read(select(list_manifests.c.as_of).order_by(list_manifests.c.as_of.desc()))
    return [pd.Timestamp(d).date() for d in frame["as_of"]]


def grievance_dates(viewer: Viewer, source: DataSource) -> list[date]:
    """Dates whose emerging grievances are published, with a list or alone (before any model), newest
    first."""
    published = set(published_grievance_dates(source.settings.lists_dir))
    return sorted(published | set(list_dates(viewer, source)), reverse=True)


def feedback_summary(viewer: Viewer, source: DataSource) -> pd.DataFrame:
    """Per case: how many actions were recorded, and the latest one (what, when, by whom)."""
    f = feedback.c
    query = select(f.case_id, f.district, f.action, f.user_name, f.recorded_at).where(
        _in_districts(f.district, viewer)
    )
    frame = _guard(source.read(query.order_by(f.id), dates=("recorded_at",)), viewer)
    grouped = frame.groupby("case_id")
    summary = pd.DataFrame(
        {
            "actions": grouped.size(),
            "last_action": grouped["action"].last(),
            "last_action_at": grouped["recorded_at"].last(),
            "last_user": grouped["user_name"].last(),
        }
    )
    return summary.rename_axis("case_id").reset_index()


def risk_list(viewer: Viewer, source: DataSource, as_of: date) -> pd.DataFrame:
    """The published list of a date for the viewer's districts, best first, with new/ongoing and what
    has been done so far."""
    c = lists.c
    query = select(*(c[name] for name in SHOWN_LIST_COLUMNS)).where(
        c.as_of == as_of, _in_districts(c.district, viewer)
    )
    frame = _guard(source.read(query.order_by(c.rank), dates=("opened_at",)), viewer)
    recent = frame["opened_at"] >= as_of_instant(as_of) - pd.Timedelta(days=NEW_CASE_DAYS)
    frame["case_age"] = np.where(recent, "new", "ongoing")
    frame = frame.merge(feedback_summary(viewer, source), on="case_id", how="left")
    frame["actions"] = frame["actions"].fillna(0).astype(int)
    return frame


@dataclass(frozen=True)
class Dormant:
    """A list's dormant cases as the viewer may see them: how many, after how many days without activity,
    and the rows (None when the list came without a dormant-cases file: older lists)."""

    count: int
    days: int
    rows: pd.DataFrame | None


def dormant_cases(viewer: Viewer, source: DataSource, as_of: date) -> Dormant:
    """The open cases published as dormant with a date's list (no recorded activity for the manifest's
    `dormant_days`, not scored), restricted to the viewer's districts exactly as the list rows are. The
    count is the manifest's for users who see every district, else the number of their own rows."""
    about = read_manifest(source.settings.lists_dir, as_of)
    days = int(about.get("dormant_days", source.settings.dormant_days))
    frame = read_dormant(source.settings.lists_dir, as_of, DORMANT_COLUMNS)
    if frame is None:
        return Dormant(0, days, None)
    for column in ("opened_at", "last_activity_at"):
        frame[column] = pd.to_datetime(frame[column])
    rows = _guard(frame[frame["district"].map(viewer.sees)].reset_index(drop=True), viewer)
    rows = rows.sort_values(["days_inactive", "case_id"], ascending=[False, True], ignore_index=True)
    count = int(about.get("dormant_cases", len(frame))) if viewer.every_district else len(rows)
    return Dormant(count, days, rows)


def _case_ids(text: str) -> list[str]:
    """The case ids of a published comma-joined cell ('' holds none)."""
    return [case_id for case_id in text.split(",") if case_id]


def grievances(viewer: Viewer, source: DataSource, as_of: date) -> pd.DataFrame:
    """The emerging grievances published for a date (with its list or alone), for the viewer's districts:
    surges first, then by distinct callers and calls. `open_case_ids` keeps only the touched open cases on
    the viewer's own list of that date (a call received in one district may be linked to a case of
    another; none without a list), `open_on_list` counts them."""
    g, c = grievances_table.c, lists.c
    query = (
        select(*(g[name] for name in GRIEVANCE_COLUMNS))
        .where(g.as_of == as_of, _in_districts(g.district, viewer))
        .order_by(g.surge.desc(), g.distinct_callers.desc(), g.calls.desc(), g.cluster_id)
    )
    frame = _guard(source.read(query, dates=("first_seen",)), viewer)
    visible = set(
        source.read(select(c.case_id).where(c.as_of == as_of, _in_districts(c.district, viewer)))["case_id"]
    )
    own = frame["open_case_ids"].map(lambda text: [i for i in _case_ids(text) if i in visible])
    return frame.assign(
        open_case_ids=own.map(",".join),
        open_on_list=own.map(len).astype(int),
        surge=frame["surge"].astype(bool),
    )


def surging_things(listed: pd.DataFrame, clusters: pd.DataFrame) -> pd.Series:
    """Per row of a list: the things of the surging grievances that touch the case ('、'-joined; '' for
    none)."""
    surges = clusters[clusters["surge"]]
    pairs = pd.DataFrame(
        [
            (case_id, thing)
            for ids, thing in zip(surges["open_case_ids"], surges["thing"], strict=True)
            for case_id in _case_ids(ids)
        ],
        columns=["case_id", "thing"],
    )
    things = pairs.groupby("case_id")["thing"].agg("、".join).to_dict()
    return listed["case_id"].map(lambda case_id: things.get(case_id, "")).astype(object)


def grievance_cases(listed: pd.DataFrame, open_case_ids: str) -> pd.DataFrame:
    """The rows of a list (rank order) that are open cases of one grievance."""
    return listed[listed["case_id"].isin(_case_ids(open_case_ids))].reset_index(drop=True)


def filter_list(frame: pd.DataFrame, **chosen: tuple[str, ...]) -> pd.DataFrame:
    """The rows whose columns hold one of the chosen values (an empty choice keeps every row)."""
    keep = pd.Series(True, index=frame.index)
    for column, values in chosen.items():
        if values:
            keep &= frame[column].isin(values)
    return frame[keep].reset_index(drop=True)


def case_district(viewer: Viewer, source: DataSource, case_id: str) -> str | None:
    """The case's district when the viewer may see the case, else None."""
    c = cases.c
    frame = source.read(select(c.district).where(c.case_id == case_id, _in_districts(c.district, viewer)))
    return None if frame.empty else str(frame["district"].iloc[0])


def case_profile(viewer: Viewer, source: DataSource, case_id: str) -> pd.DataFrame:
    """The case as registered (one row, or none when the viewer may not see it)."""
    c = cases.c
    query = select(*(c[name] for name in PROFILE_COLUMNS)).where(
        c.case_id == case_id, _in_districts(c.district, viewer)
    )
    return _guard(source.read(query, dates=("opened_at",)), viewer)


def case_timeline(viewer: Viewer, source: DataSource, case_id: str) -> pd.DataFrame:
    """The case's events and hotline calls in time order: when, kind, what, text (masked), district. Calls
    quoting the case number are of kind 'call'; calls without one that a daily run's linker attached to the
    case (`call_links`: stored with the list, or for past days by training or `fengqiao links`) are of kind
    'linked_call', each once."""
    district = case_district(viewer, source, case_id)
    if district is None:
        return pd.DataFrame(columns=["at", "kind", "what", "text", "district"])
    e, h = case_events.c, hotline.c
    events = select(
        e.event_at.label("at"),
        literal("event").label("kind"),
        e.event_type.label("what"),
        e.note.label("text"),
        literal(district).label("district"),
    ).where(e.case_id == case_id)
    calls = select(
        h.received_at.label("at"),
        literal("call").label("kind"),
        h.channel.label("what"),
        h.text.label("text"),
        h.district,
    ).where(h.case_id == case_id, _in_districts(h.district, viewer))
    link = call_links.c
    linked = (
        select(
            h.received_at.label("at"),
            literal("linked_call").label("kind"),
            h.channel.label("what"),
            h.text.label("text"),
            h.district,
            h.call_id,
        )
        .join_from(call_links, hotline, link.call_id == h.call_id)
        .where(
            link.case_id == case_id,
            or_(h.case_id.is_(None), h.case_id != case_id),
            _in_districts(h.district, viewer),
        )
    )
    linked_calls = source.read(linked, dates=("at",)).drop_duplicates("call_id").drop(columns="call_id")
    parts = [source.read(events, dates=("at",)), source.read(calls, dates=("at",)), linked_calls]
    frame = pd.concat([part for part in parts if len(part)] or parts[:1], ignore_index=True)
    return _guard(frame.sort_values("at", kind="stable", ignore_index=True), viewer)


def score_history(viewer: Viewer, source: DataSource, case_id: str) -> pd.DataFrame:
    """The case's rank, score, band and reasons on every published list it was on."""
    c = lists.c
    query = select(c.as_of, c.rank, c.score, c.band, c.reasons, c.model_version, c.district).where(
        c.case_id == case_id, _in_districts(c.district, viewer)
    )
    return _guard(source.read(query.order_by(c.as_of), dates=("as_of",)), viewer)


def case_feedback(viewer: Viewer, source: DataSource, case_id: str) -> pd.DataFrame:
    """What analysts recorded about the case, newest first."""
    f = feedback.c
    query = select(f.recorded_at, f.user_name, f.action, f.note, f.list_as_of, f.district).where(
        f.case_id == case_id, _in_districts(f.district, viewer)
    )
    return _guard(source.read(query.order_by(f.id.desc()), dates=("recorded_at",)), viewer)


def listed_trend(viewer: Viewer, source: DataSource) -> pd.DataFrame:
    """Listed cases per list date, district, category and band."""
    c = lists.c
    query = (
        select(c.as_of, c.district, c.category, c.band, func.count().label("cases"))
        .where(_in_districts(c.district, viewer))
        .group_by(c.as_of, c.district, c.category, c.band)
    )
    return _guard(source.read(query, dates=("as_of",)), viewer)


def _escalations(viewer: Viewer, source: DataSource) -> pd.DataFrame:
    """Every escalation event of the viewer's cases: case, when, type, district, category."""
    e, c = case_events.c, cases.c
    kinds = [str(t) for t in source.settings.escalation_events]
    query = (
        select(e.case_id, e.event_at, e.event_type, c.district, c.category)
        .join_from(case_events, cases, e.case_id == c.case_id)
        .where(e.event_type.in_(kinds), _in_districts(c.district, viewer))
    )
    return _guard(source.read(query, dates=("event_at",)), viewer)


def escalation_trend(viewer: Viewer, source: DataSource) -> pd.DataFrame:
    """Escalation events per week (starting Monday), district and category."""
    frame = _escalations(viewer, source)
    frame["week"] = frame["event_at"].dt.to_period("W-SUN").dt.start_time
    return frame.groupby(["week", "district", "category"]).size().rename("escalations").reset_index()


def realised_precision(viewer: Viewer, source: DataSource) -> pd.DataFrame:
    """For each list whose horizon has passed (by the latest list's date): per band, how many of the
    viewer's listed cases escalated within the horizon after the list's date."""
    columns = ["as_of", "band", "listed", "escalated", "rate"]
    dates = list_dates(viewer, source)
    if not dates:
        return pd.DataFrame(columns=columns)
    horizon = timedelta(days=source.settings.horizon_days)
    c = lists.c
    query = select(c.as_of, c.case_id, c.band, c.district).where(
        c.as_of <= dates[0] - horizon, _in_districts(c.district, viewer)
    )
    listed = _guard(source.read(query, dates=("as_of",)), viewer)
    if listed.empty:
        return pd.DataFrame(columns=columns)
    events = _escalations(viewer, source)[["case_id", "event_at"]]
    merged = listed.merge(events, on="case_id", how="left")
    merged["hit"] = (merged["event_at"] >= merged["as_of"]) & (merged["event_at"] < merged["as_of"] + horizon)
    cases_hit = merged.groupby(["as_of", "band", "case_id"])["hit"].any().reset_index()
    table = cases_hit.groupby(["as_of", "band"])["hit"].agg(listed="size", escalated="sum").reset_index()
    table["rate"] = table["escalated"] / table["listed"]
    return table[columns]


def city_outcomes(viewer: Viewer, source: DataSource) -> pd.DataFrame:
    """The daily run's realised quality of past lists: city totals only (no district's figures), so every
    user may read them."""
    return read_outcomes(source.settings.reports_dir)


def feedback_rates(viewer: Viewer, source: DataSource, days: int = 90) -> pd.DataFrame:
    """Per district and category, of the cases listed high or medium in the last `days` days: how many
    got an action (action rate) and how many were last judged 'not a risk' (override rate)."""
    columns = ["district", "category", "listed", "acted", "action_rate", "not_a_risk", "override_rate"]
    dates = list_dates(viewer, source)
    if not dates:
        return pd.DataFrame(columns=columns)
    c = lists.c
    query = (
        select(c.case_id, c.district, c.category)
        .where(
            c.as_of > dates[0] - timedelta(days=days),
            c.band.in_(WORKED_BANDS),
            _in_districts(c.district, viewer),
        )
        .distinct()
    )
    listed = _guard(source.read(query), viewer).drop_duplicates("case_id")
    merged = listed.merge(feedback_summary(viewer, source), on="case_id", how="left")
    merged["acted"] = merged["actions"].fillna(0) > 0
    merged["not_a_risk"] = merged["last_action"] == "not_a_risk"
    table = (
        merged.groupby(["district", "category"])
        .agg(listed=("case_id", "size"), acted=("acted", "sum"), not_a_risk=("not_a_risk", "sum"))
        .reset_index()
    )
    table["action_rate"] = table["acted"] / table["listed"]
    table["override_rate"] = table["not_a_risk"] / table["listed"]
    return table[columns]


@dataclass(frozen=True)
class ModelView:
    """The champion as the Model page shows it to one viewer: what it was trained on, its card, its validation
    metrics and its logged tables, with other districts' figures left out."""

    version: str
    card: str
    summary: pd.DataFrame
    trained_as_of: str | None = None
    base_rate: float | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def champion_version(source: DataSource) -> str | None:
    """The version number the champion alias points at (None before any model is registered)."""
    return source.registry().champion_version()


def model_files(source: DataSource, version: str) -> tuple[str, dict[str, bytes]]:
    """A registered version's label and the files of its training run that the Model page reads (the slow
    part: cache it per version, a run's files never change)."""
    return source.registry().run_files(MODEL_FILES, version)


def hidden_districts(viewer: Viewer, source: DataSource) -> frozenset[str]:
    """The store's districts the viewer may not see (none for users who see every district): what city-wide
    texts and tables shown to the viewer must leave out."""
    if viewer.every_district:
        return frozenset()
    names = source.read(select(cases.c.district).distinct())["district"].dropna().astype(str)
    return frozenset(name for name in names if not viewer.sees(name))


def _cells(line: str) -> set[str]:
    """The stripped cells of a Markdown table row."""
    return {cell.strip() for cell in line.strip().strip("|").split("|")}


def without_districts(text: str, hidden: Collection[str], mask: str) -> str:
    """A (Markdown) text without the table rows that have a hidden district as a cell, and with every other
    mention of one replaced by `mask`."""
    if not hidden:
        return text
    names = set(hidden)
    kept = "".join(
        line
        for line in text.splitlines(keepends=True)
        if not (line.lstrip().startswith("|") and _cells(line) & names)
    )
    pattern = re.compile("|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)))
    return pattern.sub(mask, kept)


def _masked(
    frame: pd.DataFrame, columns: tuple[str, ...], hidden: Collection[str], mask: str
) -> pd.DataFrame:
    """A frame whose text columns name no hidden district (each mention replaced by `mask`)."""
    if not hidden:
        return frame
    shown = frame.copy()
    for column in columns:
        if column in shown.columns:
            shown[column] = shown[column].map(
                lambda text: without_districts(text, hidden, mask) if isinstance(text, str) else text
            )
    return shown


def validation_summary(summary: Mapping[str, float]) -> pd.DataFrame:
    """The validation metrics of a model's metadata, one row each: the model's and the rule's mean over the
    held-out dates and their standard deviations (NaN where a scorer has none), then the model's lift over
    the rule at the top of the list."""
    columns = ["metric", "model", "model_std", "rule", "rule_std"]
    rows = [
        {
            "metric": metric,
            **{
                f"{column}{suffix}": summary.get(f"{scorer}.{metric}{suffix}", np.nan)
                for column, scorer in (("model", MODEL_NAME), ("rule", RULE_NAME))
                for suffix in ("", "_std")
            },
        }
        for metric in SUMMARY_METRICS
        if f"{MODEL_NAME}.{metric}" in summary
    ]
    if LIFT_KEY in summary:
        rows.append({"metric": "lift", "model": summary[LIFT_KEY]})
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[1:]})


def _logged_table(payload: bytes) -> pd.DataFrame:
    """A table MLflow logged as JSON (columns and data)."""
    data = json.loads(payload)
    return pd.DataFrame(data["data"], columns=data["columns"])


def _own_groups(table: pd.DataFrame, kind_column: str, group_column: str, viewer: Viewer) -> pd.DataFrame:
    """A by-group table without the rows of districts the viewer may not see."""
    other = (table[kind_column] == "district") & ~table[group_column].map(viewer.sees)
    return table[~other].reset_index(drop=True)


def model_view_of(
    viewer: Viewer,
    label: str,
    files: Mapping[str, bytes],
    language: str,
    hidden: Collection[str] = (),
    mask: str = "…",
) -> ModelView:
    """What the viewer may see of a version's run files: the card in the language without the `hidden`
    districts (their table rows left out, other mentions masked), the validation summary, and the logged
    tables without other districts' groups."""
    card = files.get("model_card.en.md" if language == "en" else "model_card.md", b"").decode()
    metadata = json.loads(files.get("fengqiao_model.json", b"{}"))
    tables = {name: _logged_table(files[f"{name}.json"]) for name in LOGGED_TABLES if f"{name}.json" in files}
    if "fairness" in tables:
        tables["fairness"] = _own_groups(tables["fairness"], "attribute", "group", viewer)
    if "subsets" in tables:
        tables["subsets"] = _own_groups(tables["subsets"], "subset_kind", "subset", viewer)
    return ModelView(
        version=label,
        card=without_districts(card, hidden, mask),
        summary=validation_summary(metadata.get("summary", {})),
        trained_as_of=metadata.get("as_of"),
        base_rate=metadata.get("base_rate"),
        tables=tables,
    )


def model_view(viewer: Viewer, source: DataSource, language: str, mask: str = "…") -> ModelView | None:
    """The champion as the viewer may see it; None before any model is registered."""
    version = champion_version(source)
    if version is None:
        return None
    label, files = model_files(source, version)
    return model_view_of(viewer, label, files, language, hidden_districts(viewer, source), mask)


def run_reports(viewer: Viewer, source: DataSource, limit: int = 30, mask: str = "…") -> pd.DataFrame:
    """The latest daily-run reports, newest first: status, model, open cases and high cases of the city, why
    held, warnings (other districts' names masked for a restricted viewer)."""
    paths = sorted(source.settings.reports_dir.glob("????-??-??.json"), reverse=True)[:limit]
    rows = []
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        verdict = report.get("verdict", {})
        rows.append(
            {
                "as_of": report.get("as_of"),
                "status": report.get("status"),
                "model_version": report.get("model_version"),
                "open_cases": report.get("open_cases"),
                "high": report.get("bands", {}).get("high"),
                "reasons": " ".join(verdict.get("reasons", [])),
                "warnings": " ".join(verdict.get("warnings", [])),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["as_of", "status", "model_version", "open_cases", "high", "reasons", "warnings"]
    )
    return _masked(frame, ("reasons", "warnings"), hidden_districts(viewer, source), mask)


def latest_drift(viewer: Viewer, source: DataSource, mask: str = "…") -> tuple[str | None, pd.DataFrame]:
    """The newest daily report's date and its drift table (feature, kind, PSI, status, what moved most; other
    districts' names masked for a restricted viewer)."""
    paths = sorted(source.settings.reports_dir.glob("????-??-??.json"))
    if not paths:
        return None, pd.DataFrame()
    report = json.loads(paths[-1].read_text(encoding="utf-8"))
    drift = pd.DataFrame(report.get("drift", []))
    return paths[-1].stem, _masked(drift, ("top_shift",), hidden_districts(viewer, source), mask)


def feature_phrases(view: ModelView | None, language: str) -> dict[str, str]:
    """Each feature of the model as users read it, from the dictionary logged with it: in Chinese its reason
    on the list with the value left open (e.g. '调解失败…次'), in English its meaning (without the remark in
    brackets). None without a model, or for a model logged without its dictionary (then names are shown)."""
    table = None if view is None else view.tables.get("feature_dictionary")
    if table is None:
        return {}
    if language == "en":
        return dict(zip(table["name"], table["meaning"].str.split(" (", regex=False).str[0], strict=True))
    return dict(zip(table["name"], table["reason_zh"].str.replace("{value}", "…", regex=False), strict=True))
