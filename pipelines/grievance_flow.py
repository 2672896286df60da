"""Emerging grievances of a day: built from the records the store knew before it, and published alone
(`fengqiao grievances`, or a daily run before any model is trained) or with the day's list (`score_flow`).

Hotline records suffice: no case, no model and no Prefect is needed, so the command runs without Prefect's
temporary server. Publishing grievances alone never touches a list, its manifest or the `latest` pointer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from contracts.settings import Settings
from features.grievances import emerging_grievances
from features.known import KnownBefore
from pipelines.configuration import grievance_config
from pipelines.runtime import open_warehouse
from warehouse.lists import publish_grievances


@dataclass(frozen=True)
class PublishedGrievances:
    """A day's published grievances and where their files are."""

    as_of: date
    grievances: pd.DataFrame
    paths: dict[str, Path]

    @property
    def surges(self) -> pd.DataFrame:
        """The grievances surging that day."""
        return self.grievances[self.grievances["surge"]]


def surge_names(grievances: pd.DataFrame) -> str:
    """The surging grievances in a line: thing (district, distinct callers); ... ('' when none surges)."""
    surges = grievances.loc[grievances["surge"], ["thing", "district", "distinct_callers"]]
    rows = surges.itertuples(index=False)
    return "; ".join(f"{thing} ({district}, {n} callers)" for thing, district, n in rows)


def published_grievances(clusters: pd.DataFrame) -> pd.DataFrame:
    """The day's clusters as published: case ids joined by commas, texts as strings."""
    joined = {column: clusters[column].map(",".join) for column in ("case_ids", "open_case_ids")}
    frame = clusters.assign(**joined).reset_index(drop=True)
    texts = frame.select_dtypes(include=["object", "string"]).columns
    return frame.astype(dict.fromkeys(texts, "str"))


def day_grievances(known: KnownBefore, settings: Settings) -> pd.DataFrame:
    """The grievances published for the cut's date: the clusters of the records known before its instant,
    in the settings' language."""
    clusters = emerging_grievances(known, grievance_config(settings), settings.language)
    return published_grievances(clusters)


def publish_day_grievances(known: KnownBefore, settings: Settings) -> PublishedGrievances:
    """Build the grievances of the cut's date and publish them alone (files and store rows; no list,
    `latest` unmoved)."""
    grievances = day_grievances(known, settings)
    paths = publish_grievances(grievances, known.as_of, settings.lists_dir, open_warehouse(settings))
    return PublishedGrievances(known.as_of, grievances, paths)


def days_from(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
