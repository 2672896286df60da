"""Feature frames for one instant and training matrices over many as-of dates."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from types import ModuleType

import pandas as pd

from features import (
    activity,
    case_history,
    case_profile,
    context,
    hotline_activity,
    intake,
    linked_activity,
    text_cues,
    text_terms,
)
from features.cohort import DORMANT_DAYS, escalation_labels, open_cases
from features.dictionary import FeatureDoc
from features.known import KnownBefore, cut
from features.sources import Sources

FAMILIES: tuple[ModuleType, ...] = (
    case_profile,
    case_history,
    hotline_activity,
    text_cues,
    text_terms,
    context,
)
# Built when configured (`linked_call_features`, `extra_feature_families`: on by default) and whenever a
# model reads them. Many correlated counts: an L2 logistic overfits them, the sparse (L1) logistic picks
# what helps in each city (bench/feature_lab.md). Linked calls cost seconds per day of calls at city size.
OPTIONAL_FAMILIES: tuple[ModuleType, ...] = (linked_activity, activity, intake)
ALL_FAMILIES: tuple[ModuleType, ...] = FAMILIES + OPTIONAL_FAMILIES
# The first feature set (issue 2): what every richer family is measured against in the ablation.
FOUNDATION_FEATURES: tuple[str, ...] = (
    "profile_category",
    "profile_district",
    "profile_source",
    "profile_party_count",
    "profile_party_count_missing",
    "profile_amount",
    "profile_amount_missing",
    "profile_age_days",
    *(f"history_n_{t.value}" for t in case_history.COUNTED),
    "history_days_since_last_event",
    "hotline_linked_calls_7d",
    "hotline_linked_calls_30d",
)
# What the foundation logistic candidate reads: the foundation and the whole case history family (recent
# counts, failures since the last success). Across the feature lab's cities the history raised that
# logistic or tied on every one (bench/feature_lab.md), where every other family lowered it somewhere.
LOGISTIC_CORE_FEATURES: tuple[str, ...] = tuple(
    dict.fromkeys((*FOUNDATION_FEATURES, *(d.name for d in case_history.FEATURES)))
)
COHORT_COLUMNS = ("case_id", "district", "town", "category", "opened_at")


def families_with(optional: Iterable[ModuleType] = ()) -> tuple[ModuleType, ...]:
    """The default families, then the chosen optional ones."""
    chosen = set(optional)
    return FAMILIES + tuple(family for family in OPTIONAL_FAMILIES if family in chosen)


def families_reading(names: Iterable[str]) -> tuple[ModuleType, ...]:
    """The default families and every optional family that builds one of the named features."""
    wanted = set(names)
    return families_with(f for f in OPTIONAL_FAMILIES if wanted & {doc.name for doc in f.FEATURES})


def feature_docs(families: Sequence[ModuleType] = FAMILIES) -> tuple[FeatureDoc, ...]:
    """The dictionary entries of every feature the families build."""
    return tuple(doc for family in families for doc in family.FEATURES)


def features_at(
    known: KnownBefore,
    families: Sequence[ModuleType] = FAMILIES,
    dormant_days: int | None = DORMANT_DAYS,
    city: context.BaseRates | None = None,
) -> pd.DataFrame:
    """One row per case open and not dormant at the cut's instant: cohort columns, then every family's
    features, from the cut alone (families receive only it; `city`: the base rates of every district,
    when the cut holds only some, `features.partition`)."""
    cohort = open_cases(known.sources, known.instant, dormant_days)
    parts = [
        cohort[list(COHORT_COLUMNS)],
        *(
            context.build(cohort, known.sources, known.instant, city=city)
            if family is context and city is not None
            else family.build(cohort, known.sources, known.instant)
            for family in families
        ),
    ]
    frame = pd.concat(parts, axis=1)
    frame.insert(0, "as_of", known.as_of)
    return frame.sort_values("case_id", ignore_index=True)


def build_features(
    sources: Sources,
    as_of: date,
    families: Sequence[ModuleType] = FAMILIES,
    dormant_days: int | None = DORMANT_DAYS,
) -> pd.DataFrame:
    """`features_at` of the stored sources as known before the as-of date (`features.known.cut`)."""
    return features_at(cut(sources, as_of), families, dormant_days)


def training_matrix(
    sources: Sources,
    dates: Iterable[date],
    horizon_days: int,
    escalation_types: Iterable[str],
    families: Sequence[ModuleType] = FAMILIES,
    progress: Callable[[Iterable[date]], Iterable[date]] = iter,
    dormant_days: int | None = DORMANT_DAYS,
) -> pd.DataFrame:
    """Features and labels for every case open and not dormant at each as-of date, stacked."""
    types = list(escalation_types)
    frames = []
    for as_of in progress(list(dates)):
        known = cut(sources, as_of)
        features = features_at(known, families, dormant_days)
        labels = escalation_labels(
            pd.Index(features["case_id"]), sources.events, known.instant, horizon_days, types
        )
        frames.append(features.join(labels, on="case_id"))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
