"""Hotline activity features: calls linked to the case by its case number, in recent windows."""

from __future__ import annotations

import pandas as pd

from features.dictionary import FeatureDoc
from features.sources import Sources

PREFIX = "hotline_"
WINDOWS_DAYS = (7, 30)

FEATURES: tuple[FeatureDoc, ...] = tuple(
    FeatureDoc(
        f"hotline_linked_calls_{days}d",
        f"hotline calls linked to the case by case_id in the last {days} days",
        f"{days} days",
        "numeric",
        f"近{days}天关联热线来电{{value}}次",
        f"{{value}} hotline calls about the case in the last {days} days",
    )
    for days in WINDOWS_DAYS
)


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Counts of case-linked hotline calls received in each window before the instant."""
    calls = known.hotline[known.hotline["case_id"].isin(cohort.index)]
    out = pd.DataFrame(index=cohort.index)
    for days in WINDOWS_DAYS:
        recent = calls[calls["received_at"] >= instant - pd.Timedelta(days=days)]
        out[f"hotline_linked_calls_{days}d"] = (
            recent.groupby("case_id").size().reindex(cohort.index).fillna(0)
        )
    return out.astype(float)
