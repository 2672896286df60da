"""Turning a model and the open cases' features into the ranked list of the contract."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from contracts.records import LIST_COLUMNS
from features.dictionary import FeatureDoc, Language
from models.explain import reasons

SCORE_DECIMALS = 6


def empty_list() -> pd.DataFrame:
    """A list with no cases (no case was open), with the contract's columns."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in LIST_COLUMNS})


def bands(scores: pd.Series, high: float, medium: float) -> pd.Series:
    """'high' from the high threshold, 'medium' from the medium one, else 'low'."""
    return pd.Series(
        np.select([scores >= high, scores >= medium], ["high", "medium"], default="low"), index=scores.index
    )


def rank_cases(
    model: Pipeline,
    features: pd.DataFrame,
    docs: tuple[FeatureDoc, ...],
    *,
    model_version: str,
    as_of: date,
    band_high: float,
    band_medium: float,
    language: Language,
) -> pd.DataFrame:
    """The risk list: every open case with score, band and reasons, best first (ties by case_id)."""
    names = [d.name for d in docs]
    frame = features.reset_index(drop=True)
    if frame.empty:
        return empty_list()
    out = frame[["case_id", "district", "town", "category", "opened_at"]].copy()
    out["score"] = np.round(model.predict_proba(frame[names])[:, 1], SCORE_DECIMALS)
    out["band"] = bands(out["score"], band_high, band_medium)
    out["reasons"] = reasons(model, frame[names], docs, language)
    out["model_version"] = model_version
    out["as_of"] = as_of
    out = out.sort_values(["score", "case_id"], ascending=[False, True], ignore_index=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out[list(LIST_COLUMNS)]
