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
from features.known import cut
from pipelines.champions import champion
from pipelines.day_list import log_published, previous, publish, recall_stored_links, routing, score_day
from pipelines.tasks import load_store

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
    stored = load_store(settings)
    known = cut(stored, as_of)
    recall_stored_links(known, settings)
    who_acts = routing(settings, stored)
    day = score_day(champion(settings), known, settings, previous(as_of, settings), who_acts)
    paths = publish(day, settings)
    log_published(day)
    return ScoreReport(day.listed, day.manifest, paths)
