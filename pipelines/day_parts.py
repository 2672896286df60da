"""A day's features built by district parts (`settings.district_parts`): each part reads only its own
rows from the store and builds the families that need nothing else (`features.partition`) with the
city's base rates (`pipelines.day_window.city_base_rates`), the linked calls among them, its dormant
cases, and reads intake, finished once with the name endings of every part's mentions. The frame is the
one `features.matrix.features_at` builds over the whole cut, value for value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from types import ModuleType

import pandas as pd
from prefect import task

from contracts.settings import Settings
from features import intake, linked_activity
from features.call_linking import days_decisions
from features.cohort import dormant_cases, open_cases
from features.context import BaseRates
from features.grievances import endings_of
from features.known import KnownBefore, cut
from features.matrix import COHORT_COLUMNS, features_at
from features.partition import FINISHED_FAMILIES, PART_FAMILIES, district_groups
from features.sources import FEATURE_COLUMNS
from pipelines.day_window import city_base_rates
from pipelines.runners import run_tasks
from pipelines.runtime import load_sources, open_warehouse, release_memory
from pipelines.stored_links import LINK_WINDOW, recall_links
from pipelines.tasks import IO_TASK
from warehouse.call_links import unlinked_days
from warehouse.district_parts import district_rows, part_filters, reporters_elsewhere

# What a part reads of the cases of other districts naming its reporters' phones (no event, no call).
ELSEWHERE_COLUMNS = {
    "cases": ["reporter_phone_pid", "opened_at", "known_at"],
    "events": ["case_id", "known_at"],
    "hotline": ["call_id", "known_at"],
}


@dataclass(frozen=True)
class DayFeatures:
    """A day's features of its open cases (not dormant), its dormant cases and the call links its list
    stores (`links_to_store`; by district parts, the parts' together), and by district parts its input
    fingerprint and grievances (`pipelines.day_list.champion_day`)."""

    features: pd.DataFrame
    dormant: pd.DataFrame
    links: pd.DataFrame
    fingerprint: str | None = None  # the day's input fingerprint, when read beside the parts
    grievances: pd.DataFrame | None = None  # the day's grievances, when built beside the parts


def day_features(
    known: KnownBefore,
    families: Sequence[ModuleType],
    settings: Settings,
    unlinked: Sequence[date] = (),
) -> DayFeatures:
    """`features_at` and `dormant_cases` of the cut, and the call links its list stores
    (`links_to_store`; `unlinked`: the link window's days without a stored link), built over the whole cut
    (`district_parts` = 1) or by district parts (then only `known`'s instant is read: each part reads its
    own rows and finds its own unlinked days)."""
    if settings.district_parts <= 1:
        dormant = dormant_cases(known.sources, known.instant, settings.dormant_days)
        features = features_at(known, families, settings.dormant_days)
        return DayFeatures(features, dormant, links_to_store(known, unlinked, families))
    return parted_day_features(known.instant, families, settings)


def parted_day_features(
    instant: pd.Timestamp, families: Sequence[ModuleType], settings: Settings, city: BaseRates | None = None
) -> DayFeatures:
    """`day_features` by district parts: each part reads its own rows of the store as known before the
    instant and finds its own unlinked days (`city`: the city's base rates at the instant, when already
    read)."""
    groups = district_groups(district_rows(open_warehouse(settings)), settings.district_parts)
    unknown = [family.__name__ for family in families if family not in PART_FAMILIES + FINISHED_FAMILIES]
    if unknown:
        raise ValueError(f"no district parts for the feature families {unknown}")
    city = city_base_rates(settings, instant) if city is None else city
    parted = parts_features(groups, instant, families, city, settings)
    return replace(parted, features=parted.features[frame_columns(families)])


def links_to_store(
    known: KnownBefore, unlinked: Sequence[date], families: Sequence[ModuleType]
) -> pd.DataFrame:
    """The call links a day's list stores (`features.call_linking.STORED_LINK_COLUMNS`, by as_of, then
    call_id): the day's decisions, and, when its features read the linked calls (and so decided them),
    those of the link window's `unlinked` days (days on which a district has no stored link)."""
    days = [*unlinked, known.as_of] if linked_activity in families else [known.as_of]
    return days_decisions(known, sorted(days), linked_activity.LINK_CONFIG)


def frame_columns(families: Sequence[ModuleType]) -> list[str]:
    """The columns of `features_at`'s frame for the families, in order."""
    return ["as_of", *COHORT_COLUMNS, *(doc.name for family in families for doc in family.FEATURES)]


@dataclass(frozen=True)
class PartFeatures:
    """A part's features of its open cases (PART_FAMILIES), its dormant cases, the day's call links of
    its districts, and its intake reading (when intake is built)."""

    frame: pd.DataFrame
    dormant: pd.DataFrame
    links: pd.DataFrame
    intake: intake.IntakeReading | None


def parts_features(
    groups: Sequence[Sequence[str]],
    instant: pd.Timestamp,
    families: Sequence[ModuleType],
    city: BaseRates,
    settings: Settings,
) -> DayFeatures:
    """The families' features of every part's open cases and the parts' dormant cases, by case_id, and
    their day's call links, by call_id: the parts built one after another in this process, or as tasks of
    the configured Dask cluster (`task_runner` = dask); the intake family finished here, with the name
    endings of every part's mentions."""
    arguments = [
        {
            "settings": settings,
            "districts": list(g),
            "instant": instant,
            "families": list(families),
            "city": city,
        }
        for g in groups
    ]
    parts = list(run_tasks(part_features, arguments, settings))
    frame = stacked([part.frame for part in parts])
    dormant = stacked([part.dormant for part in parts])
    links = stacked([part.links for part in parts], ["as_of", "call_id"])
    readings = [part.intake for part in parts if part.intake is not None]
    if readings:
        frame = frame.join(finished_intake(readings, instant), on="case_id")
    return DayFeatures(frame, dormant, links)


def stacked(frames: Sequence[pd.DataFrame], key: str | list[str] = "case_id") -> pd.DataFrame:
    """The parts' frames one after another, by the key (an empty part adds no dtypes)."""
    built = [frame for frame in frames if len(frame)] or list(frames[:1])
    return pd.concat(built, ignore_index=True).sort_values(key, ignore_index=True)


def finished_intake(readings: Sequence[intake.IntakeReading], instant: pd.Timestamp) -> pd.DataFrame:
    """The intake features of every part's cohort (by case_id), the things read with the name endings of
    the mentions of every part."""
    counts = pd.concat([reading.key_counts() for reading in readings]).groupby(level=0).sum()
    endings = endings_of(counts)
    return pd.concat([intake.finish(reading, instant, endings) for reading in readings])


@task(name="district-part-features", **IO_TASK)
def part_features(
    settings: Settings,
    districts: list[str],
    instant: pd.Timestamp,
    families: list[ModuleType],
    city: BaseRates,
) -> PartFeatures:
    """The families' features of the open cases of some districts (as stored), and the call links of their
    calls the day's list stores (`links_to_store`), from their part of the store as known before the
    instant: only its rows are read
    (`warehouse.district_parts`), and for intake the cases of other districts naming its reporters'
    phones. (The part's calls of other districts, quoting its case numbers or from its reporters' phones,
    have no candidate in it: a call's candidates are of its district.)"""
    warehouse = open_warehouse(settings)
    stored = load_sources(warehouse, FEATURE_COLUMNS, where=part_filters(districts))
    known = cut(stored, instant)
    # The links its districts' earlier lists stored, given back to this process's memo (a Dask worker's
    # own): only the batches whose inputs changed are decided again.
    first, last = known.as_of - LINK_WINDOW, known.as_of - timedelta(days=1)
    recall_links(settings, first, known.as_of, known.hotline, districts)
    unlinked = unlinked_days(warehouse, first, last, districts) if linked_activity in families else []
    built = [family for family in families if family in PART_FAMILIES]
    frame = features_at(known, built, settings.dormant_days, city)
    dormant = dormant_cases(known.sources, instant, settings.dormant_days)
    links = links_to_store(known, unlinked, families)
    reading = None
    if intake in families:
        elsewhere = load_sources(warehouse, ELSEWHERE_COLUMNS, where=reporters_elsewhere(districts))
        cohort = open_cases(known.sources, instant, settings.dormant_days)
        reading = intake.reading(cohort, known.sources, instant, districts, cut(elsewhere, instant).cases)
        reading = replace(reading, index=pd.Index(cohort["case_id"], name="case_id"))
    del stored, known
    release_memory()
    return PartFeatures(frame, dormant, links, reading)
