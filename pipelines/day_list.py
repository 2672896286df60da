"""A day's list: the champion scores every case open and not dormant at the as-of date, the routing table
says who acts on its high and medium cases, and the list is checked and published with the dormant cases,
the day's grievances and call links beside it (used by `score_flow` and `daily_flow`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task

from contracts.records import check_list
from contracts.routing import Routing, assign_units, assignment_rows, check_routed, load_routing
from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from features import linked_activity
from features.known import KnownBefore, cut
from features.matrix import families_reading
from features.sources import Sources
from models.champion import Champion
from models.fairness import fairness_audit
from models.metrics import top_k
from models.scoring import rank_cases
from pipelines.champions import champion_features
from pipelines.day_parts import DayFeatures, day_features, parted_day_features
from pipelines.day_window import city_base_rates, day_window
from pipelines.grievance_flow import day_grievances, surge_names
from pipelines.runtime import open_warehouse
from pipelines.score_helper import give_links, taken_grievances
from pipelines.stored_links import LINK_WINDOW, recall_links
from pipelines.tasks import IO_TASK, PURE_TASK, load_store
from warehouse.call_links import unlinked_days
from warehouse.day_window import stored_fingerprint, stored_places
from warehouse.fingerprints import records_fingerprint
from warehouse.lists import manifest, previous_assignments, publish_day


def input_fingerprint(known: Sources | KnownBefore) -> str:
    """A hash of exactly which record versions a list was built from (`warehouse.fingerprints`)."""
    return records_fingerprint((known.cases, known.events, known.hotline))


def day_fingerprint(known: KnownBefore, settings: Settings) -> str:
    """`input_fingerprint` of the cut: from the cut itself, or by district parts (when `known` is only the
    day's window) from narrow sorted reads of the store."""
    if settings.district_parts <= 1:
        return input_fingerprint(known)
    return stored_fingerprint(open_warehouse(settings), known.instant)


@dataclass(frozen=True)
class ScoredDay:
    """A day's list before publishing (with who acts on its cases), the features and scores it came from
    and its description."""

    as_of: date
    listed: pd.DataFrame
    features: pd.DataFrame
    audit: pd.DataFrame
    manifest: dict
    grievances: pd.DataFrame
    links: pd.DataFrame
    dormant: pd.DataFrame
    assignments: pd.DataFrame


def list_audit(listed: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Fairness audit of a published list (no outcomes yet): share of each district and category listed."""
    working = listed.assign(listed=listed["rank"] <= top_k(len(listed), settings.list_top_fraction))
    return fairness_audit(working, label=None, min_cases=settings.fairness_min_cases, seed=settings.seed)


def routing(settings: Settings, stored: Sources | KnownBefore) -> Routing:
    """The configured routing table (the shipped default when none is), checked against the districts and
    towns of every stored case (not only those known before a day being rerun: a rule for a place whose
    cases came later is no mistake): RoutingError names the file, the rule and the field of a mistake."""
    return load_routing(settings.routing_file, stored.cases["district"], stored.cases["town"].dropna())


def day_known(settings: Settings, as_of: date) -> KnownBefore:
    """What a day is built from: the store as known before the as-of date (by district parts, only the
    day's window: `pipelines.day_window`)."""
    if settings.district_parts <= 1:
        return cut(load_store(settings), as_of)
    return day_window(settings, as_of)


def day_inputs(settings: Settings, as_of: date) -> tuple[KnownBefore, Routing]:
    """Over the whole store (`district_parts` = 1): the store as known before the as-of date and the
    routing table checked against every stored case (by district parts: `champion_day`)."""
    stored = load_store(settings)
    return cut(stored, as_of), routing(settings, stored)


def stored_routing(settings: Settings) -> Routing:
    """`routing` checked against the districts and towns of every stored case as the database lists them."""
    districts, towns = stored_places(open_warehouse(settings))
    return load_routing(settings.routing_file, districts, towns)


@task(name="read-previous-assignments", **IO_TASK)
def previous(as_of: date, settings: Settings) -> pd.DataFrame:
    """Who acted on the cases of the newest list published before `as_of`."""
    return previous_assignments(open_warehouse(settings), as_of)


@task(name="recall-stored-links", **IO_TASK)
def recall_stored_links(known: KnownBefore, settings: Settings) -> list[date]:
    """Give the call links stored of the link window's days before the cut back to this process's memo, so
    that scoring decides again only the batches (a district's calls of a day) whose inputs changed or that
    have no stored link; returns the window's days on which a district of the store has no stored link
    (days no list was published for, a store ingested with its history), whose links the day's features
    decide anyway and its list stores (`score_day`). By district parts each part does both for its own
    districts (`pipelines.day_parts.part_features`): none here."""
    if settings.district_parts > 1:
        return []
    first, last = known.as_of - LINK_WINDOW, known.as_of - timedelta(days=1)
    recall_links(settings, first, known.as_of, known.hotline)
    named = pd.concat([known.cases["district"], known.hotline["district"]]).dropna().astype(object).unique()
    districts = [d for d in named if isinstance(d, str)]
    return unlinked_days(open_warehouse(settings), first, last, districts)


def champion_day(
    model: Champion, settings: Settings, as_of: date
) -> tuple[KnownBefore, Routing, DayFeatures]:
    """What a day's list is built from: the store as known before the as-of date (`day_known`) and the
    routing table checked against every stored case, and the day's features of the families the champion
    reads with the call links its list stores; built by the flow itself rather than inside a task (by
    district parts on Dask, every part submitted from inside a task would carry that task's parameters:
    `pipelines.runners.run_tasks` refuses it). By district parts the parts start at once, and this
    process, which only waits for them, reads the day's window and builds its grievances (the rest of a
    province's day) and reads the day's input fingerprint (every stored record's hash: a province's 77
    million) beside them."""
    families = families_reading(model.metadata["features"])
    if settings.district_parts <= 1:
        known, who_acts = day_inputs(settings, as_of)
        unlinked = recall_stored_links(known, settings)
        if linked_activity in families:  # those the score's helper decided (`pipelines.score_helper`)
            give_links(known, settings)
        return known, who_acts, day_features(known, families, settings, unlinked)
    instant = as_of_instant(as_of)
    who_acts = stored_routing(settings)  # a mistake in the routing file is told before the parts run
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="beside-the-parts") as beside:
        read = beside.submit(stored_fingerprint, open_warehouse(settings), instant)  # mostly the database's
        city = city_base_rates(settings, instant)  # what the parts wait for, before the window's Python work
        window = beside.submit(copy_context().run, window_and_grievances, settings, as_of)
        built = parted_day_features(instant, families, settings, city)
        known, grievances = window.result()
        return known, who_acts, replace(built, fingerprint=read.result(), grievances=grievances)


def window_and_grievances(settings: Settings, as_of: date) -> tuple[KnownBefore, pd.DataFrame]:
    """The day's window (`day_window`) and the day's grievances built from it."""
    known = day_window(settings, as_of)
    return known, day_grievances(known, settings)


@task(name="score-open-cases", **PURE_TASK)
def score_day(
    model: Champion,
    known: KnownBefore,
    settings: Settings,
    before: pd.DataFrame | None = None,
    who_acts: Routing | None = None,
    built: DayFeatures | None = None,
) -> ScoredDay:
    """The ranked list of the cases open and not dormant at the cut's date, checked against the contract,
    with who acts on its high and medium cases (`before`: the previous list's assignments, which a case
    kept by the same unit continues), its manifest and the dormant cases.

    `known` is the store as known before the as-of instant (`features.known.cut`), and everything of the
    day is built from it alone; `who_acts` the routing table checked against the whole store (by default,
    against `known`); `built`: the day's features and links (by district parts, its fingerprint and
    grievances too) when the flow built them (`champion_day`), else built here (the day's links alone).
    """
    as_of = known.as_of
    docs = champion_features(model, settings)
    who_acts = who_acts or routing(settings, known)  # a mistake in the routing file is told before scoring
    families = families_reading(model.metadata["features"])
    built = built or day_features(known, families, settings)
    features, dormant = built.features, built.dormant
    listed = rank_cases(
        model.model,
        features,
        docs,
        model_version=model.version,
        as_of=as_of,
        band_high=settings.band_high,
        band_medium=settings.band_medium,
        language=settings.language,
        high_capacity=settings.band_high_capacity,
    )
    check_list(listed)
    routed = assign_units(listed, who_acts.table, as_of, before)
    check_routed(routed)
    audit = list_audit(listed, settings)
    grievances = built.grievances
    if grievances is None:  # built by the score's helper (`pipelines.score_helper`), else here
        ahead = taken_grievances(known, settings)
        grievances = day_grievances(known, settings) if ahead is None else ahead
    description = manifest(
        routed,
        as_of,
        model.version,
        day_fingerprint(known, settings) if built.fingerprint is None else built.fingerprint,
        settings,
        audit,
        grievances,
        dormant,
        who_acts,
    )
    assigned = assignment_rows(routed, who_acts.table)
    return ScoredDay(as_of, routed, features, audit, description, grievances, built.links, dormant, assigned)


@task(name="publish-list", **IO_TASK)
def publish(day: ScoredDay, settings: Settings) -> dict[str, Path]:
    """Write the list's files and store rows atomically, then move the `latest` pointer."""
    return publish_day(
        day.listed,
        day.manifest,
        settings.lists_dir,
        open_warehouse(settings),
        day.grievances,
        day.links,
        day.dormant,
        day.assignments,
    )


def log_published(day: ScoredDay) -> None:
    """Log what was published, and the groups the list's fairness audit flags."""
    logger = get_run_logger()
    logger.info(
        "published %d cases for %s (bands %s) with %s; %d assigned to %d units; %d dormant listed apart",
        len(day.listed),
        day.as_of,
        day.manifest["bands"],
        day.manifest["model_version"],
        len(day.assignments),
        day.assignments["unit"].nunique(),
        len(day.dormant),
    )
    if day.manifest.get("empty_reason"):
        logger.warning("the list for %s is empty: %s", day.as_of, day.manifest["empty_reason"])
    surges = int(day.grievances["surge"].sum())
    if surges:
        logger.warning("%d emerging grievance(s) surging: %s", surges, surge_names(day.grievances))
    flagged = day.audit[day.audit["status"] == "flagged"]
    if len(flagged):
        logger.warning(
            "fairness audit of the list: the share listed differs from the overall share for %s "
            "(can reflect different risk; see the manifest)",
            ", ".join(f"{a}={g}" for a, g in zip(flagged["attribute"], flagged["group"], strict=True)),
        )
