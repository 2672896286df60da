"""The scoring flow: the champion scores every case open and not dormant at the as-of date, the routing
table says who acts on its high and medium cases, and the list is published with the dormant cases
beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import flow

from contracts.settings import Settings
from pipelines.champions import champion
from pipelines.day_list import (
    champion_day,
    log_published,
    previous,
    publish,
    score_day,
)

__all__ = ["ScoreReport", "score_flow"]


@dataclass(frozen=True)
class ScoreReport:
    """A published list and where its files are."""

    listed: pd.DataFrame
    manifest: dict
    paths: dict[str, Path]


@flow(name="score")
def score_flow(as_of: date, settings: Settings | None = None) -> ScoreReport:
    """Score the cases open at `as_of` with the champion and publish the ranked list."""
    settings = settings or Settings()
    model = champion(settings)
    known, who_acts, built = champion_day(model, settings, as_of)  # by the flow, not in a task
    day = score_day(model, known, settings, previous(as_of, settings), who_acts, built)
    paths = publish(day, settings)
    log_published(day)
    return ScoreReport(day.listed, day.manifest, paths)
