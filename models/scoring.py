"""Turning a model and the open cases' features into the ranked list of the contract."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from contracts.records import LIST_COLUMNS
from features.dictionary import FeatureDoc, Language
from models.explain import reasons

SCORE_DECIMALS = 6


def empty_list() -> pd.DataFrame:
    """A list with no cases (no case was open), with the contract's columns."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in LIST_COLUMNS})


def bands(scores: pd.Series, high: float, medium: float, high_capacity: int | None = None) -> pd.Series:
    """'high' from the high threshold, 'medium' from the medium one, else 'low'.

    With a capacity, only the best `high_capacity` scores (in the given order, best first) can be
    'high'; the rest above the high threshold are 'medium': 'high' means "reach today".
    """
    is_high = scores.to_numpy() >= high
    if high_capacity is not None:
        is_high &= np.arange(len(scores)) < high_capacity
    return pd.Series(
        np.select([is_high, scores >= medium], ["high", "medium"], default="low"), index=scores.index
    )


def rank_cases(
    model: Any,
    features: pd.DataFrame,
    docs: tuple[FeatureDoc, ...],
    *,
    model_version: str,
    as_of: date,
    band_high: float,
    band_medium: float,
    language: Language,
    high_capacity: int | None = None,
) -> pd.DataFrame:
    """The risk list: every open case with score, band and reasons, best first (ties by case_id); the
    reasons of the medium and low bands also say what lowered the score."""
    names = [d.name for d in docs]
    frame = features.reset_index(drop=True)
    if frame.empty:
        return empty_list()
    frame["score"] = np.round(model.predict_proba(frame[names])[:, 1], SCORE_DECIMALS)
    frame = frame.sort_values(["score", "case_id"], ascending=[False, True], ignore_index=True)
    out = frame[["case_id", "district", "town", "category", "opened_at", "score"]].copy()
    out["band"] = bands(out["score"], band_high, band_medium, high_capacity)
    out["reasons"] = reasons(model, frame[names], docs, language, lowering=out["band"] != "high")
    out["model_version"] = model_version
    out["as_of"] = as_of
    out["rank"] = np.arange(1, len(out) + 1)
    return out[list(LIST_COLUMNS)]
