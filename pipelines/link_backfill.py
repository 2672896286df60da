"""The call links of past days decided and stored (`fengqiao links`, and training before its matrix): the
rows each day's run would have stored with its list, so that daily runs and training recall them
(`pipelines.stored_links`) instead of deciding a store's history again in every process. By district
parts (`settings.district_parts`), each part reading only its own rows, in this process or on Dask; each
part's links stored in one transaction as it is ready (on Dask, as each part finishes), so an interrupted
run keeps the parts it finished and a rerun decides only the days on which a district still has no link
(docs/design/call-linking.md)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import numpy as np
import pandas as pd
from prefect import task

from contracts.settings import Settings
from features.partition import district_groups
from features.sources import FEATURE_COLUMNS, Sources
from pipelines.grievance_flow import days_from
from pipelines.runners import run_tasks
from pipelines.runtime import load_sources, open_warehouse, release_memory
from pipelines.stored_links import decisions_of_days, recall_links
from pipelines.tasks import IO_TASK
from warehouse.call_links import add_call_links, days_of_each, stored_link_districts
from warehouse.district_parts import district_rows, part_filters

Progress = Callable[[Iterable], Iterable]
Decide = Callable[[Sequence[date]], pd.DataFrame]


@dataclass(frozen=True)
class LinkBackfill:
    """What a backfill did: the days asked for, the parts that had days without links (of `parts`), the
    part-days decided, the links stored and the seconds taken."""

    first: date
    last: date
    parts: int
    parts_decided: int
    days_decided: int
    links: int
    seconds: float


@task(name="district-part-links", **IO_TASK)
def part_links(settings: Settings, districts: list[str], days: list[date]) -> pd.DataFrame:
    """The links decided at the midnights of the days for the calls of some districts (as stored), from
    their part of the store (only its rows are read, `warehouse.district_parts`)."""
    stored = load_sources(open_warehouse(settings), FEATURE_COLUMNS, where=part_filters(districts))
    recall_part(settings, stored, days, districts)
    links = decisions_of_days(stored, days)
    del stored
    release_memory()
    return links


def recall_part(settings: Settings, stored: Sources, days: Sequence[date], districts: Sequence[str]) -> None:
    """Give the links stored of the days (of the districts' calls) back to this process's memo, so that a
    day decided again decides only its batches without a stored link."""
    recall_links(settings, min(days), max(days) + timedelta(days=1), stored.hotline, districts)


def backfill_links(
    settings: Settings,
    first: date,
    last: date,
    progress: Progress = iter,
    loaded: Sources | None = None,
    decide: Decide | None = None,
) -> LinkBackfill:
    """Decide and store the call links of the days from `first` to `last` on which some district of a part
    has none stored (the part's days decided again replace what was stored of them). With one part,
    `loaded` (the stored records, when this process holds them) is read instead of the store, and the
    days' links are `decide`d (by default `decisions_of_days` of `loaded`; training's helper processes
    share the work, `pipelines.snapshot_helpers`)."""
    started = time.perf_counter()
    warehouse = open_warehouse(settings)
    groups = district_groups(district_rows(warehouse), settings.district_parts)
    wanted = days_from(first, last)
    present = stored_link_districts(warehouse, first, last, [d for group in groups for d in group])
    arguments = []
    for group in groups:  # a part's day is decided again unless each of its districts has a stored link
        done = days_of_each(present, group)
        days = [day for day in wanted if day not in done]
        if days:
            arguments.append({"settings": settings, "districts": list(group), "days": days})
    links = 0
    if len(groups) == 1 and loaded is not None and arguments:
        days = arguments[0]["days"]
        recall_part(settings, loaded, days, arguments[0]["districts"])
        decided = iter([(decide or partial(decisions_of_days, loaded))(days)])
    else:
        decided = run_tasks(part_links, arguments, settings, progress, as_ready=True)
    for found in decided:
        pairs = zip(found["as_of"], found["district"], strict=True)
        found = found.loc[np.array([pair not in present for pair in pairs], dtype=bool)]  # not stored yet
        with warehouse.transaction() as connection:
            add_call_links(connection, found)
        links += len(found)
    return LinkBackfill(
        first,
        last,
        len(groups),
        len(arguments),
        sum(len(a["days"]) for a in arguments),
        links,
        round(time.perf_counter() - started, 1),
    )
