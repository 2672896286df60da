"""A day's features built by district parts (`settings.district_parts`): each part reads only its own
rows from the store and builds the families that need nothing else (`features.partition`) with the
city's base rates; the families that still read across districts are built once over the whole cut.
The frame is the one `features.matrix.features_at` builds over the whole cut, value for value."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import pandas as pd
from prefect import task

from contracts.settings import Settings
from features.context import BaseRates, base_rates
from features.known import KnownBefore, cut
from features.matrix import COHORT_COLUMNS, features_at
from features.partition import PART_FAMILIES, district_groups
from features.sources import FEATURE_COLUMNS
from pipelines.runners import task_runner
from pipelines.runtime import load_sources, open_warehouse, release_memory
from pipelines.tasks import IO_TASK
from warehouse.district_parts import district_rows, part_filters


def day_features(known: KnownBefore, families: Sequence[ModuleType], settings: Settings) -> pd.DataFrame:
    """`features_at` of the cut, built over the whole cut (`district_parts` = 1) or by district parts."""
    if settings.district_parts <= 1:
        return features_at(known, families, settings.dormant_days)
    groups = district_groups(district_rows(open_warehouse(settings)), settings.district_parts)
    in_parts = [family for family in families if family in PART_FAMILIES]
    whole = [family for family in families if family not in PART_FAMILIES]
    parted = parts_features(
        groups, known.instant, in_parts, base_rates(known.sources, known.instant), settings
    )
    if not whole:
        return parted
    across = features_at(known, whole, settings.dormant_days).set_index("case_id")
    joined = parted.join(across.drop(columns=["as_of", *COHORT_COLUMNS[1:]]), on="case_id")
    return joined[frame_columns(families)]


def frame_columns(families: Sequence[ModuleType]) -> list[str]:
    """The columns of `features_at`'s frame for the families, in order."""
    return ["as_of", *COHORT_COLUMNS, *(doc.name for family in families for doc in family.FEATURES)]


def parts_features(
    groups: Sequence[Sequence[str]],
    instant: pd.Timestamp,
    families: Sequence[ModuleType],
    city: BaseRates,
    settings: Settings,
) -> pd.DataFrame:
    """The families' features of every part's open cases, by case_id: the parts built one after another
    in this process, or as tasks of the configured Dask cluster (`task_runner` = dask)."""
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
    if settings.task_runner == "dask":
        with task_runner(settings) as runner:
            futures = [runner.submit(part_features, parameters) for parameters in arguments]
            frames = [future.result() for future in futures]
    else:
        frames = [part_features.fn(**parameters) for parameters in arguments]
    built = [frame for frame in frames if len(frame)] or frames[:1]  # an empty part adds no dtypes
    return pd.concat(built, ignore_index=True).sort_values("case_id", ignore_index=True)


@task(name="district-part-features", **IO_TASK)
def part_features(
    settings: Settings,
    districts: list[str],
    instant: pd.Timestamp,
    families: list[ModuleType],
    city: BaseRates,
) -> pd.DataFrame:
    """The families' features of the open cases of some districts (as stored), from their part of the
    store as known before the instant: only its rows are read (`warehouse.district_parts`)."""
    stored = load_sources(open_warehouse(settings), FEATURE_COLUMNS, where=part_filters(districts))
    frame = features_at(cut(stored, instant), families, settings.dormant_days, city)
    del stored
    release_memory()
    return frame
