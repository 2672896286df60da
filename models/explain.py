"""Per-case reasons: the features that most raised this case's score, in words from the dictionary."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from features.dictionary import FeatureDoc, Language
from models.estimator import source_feature

MIN_CONTRIBUTION = 0.05
NO_REASON = {
    "zh": "无明显升高风险的因素（风险接近平均水平或更低）",
    "en": "nothing in particular raises this case's risk (about average or lower)",
}
REASON_SEPARATOR = {"zh": "；", "en": "; "}


def standardised(model: Pipeline, features: pd.DataFrame) -> pd.DataFrame:
    """The model's standardised input columns per case (0 = the average training case)."""
    columns = model[:-1].get_feature_names_out()
    return pd.DataFrame(np.asarray(model[:-1].transform(features)), columns=columns, index=features.index)


def contributions(
    model: Pipeline, features: pd.DataFrame, levels: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per case and feature: how far the feature moves the log-odds from the average training case.

    Exact for the standardised linear model: coefficient times standardised value, summed over the
    one-hot columns of a categorical feature.
    """
    levels = standardised(model, features) if levels is None else levels
    per_column = levels * model[-1].coef_[0]
    return per_column.T.groupby([source_feature(c) for c in levels.columns], sort=False).sum().T


def reasons(
    model: Pipeline,
    features: pd.DataFrame,
    docs: tuple[FeatureDoc, ...],
    language: Language,
    top_n: int = 3,
) -> pd.Series:
    """One reason text per case: its top positive contributions as sentences, most important first.

    A number is given as a reason only when it is above the average case's (a risk raised by having
    *less* of something than usual would read as nonsense: "0 visits" is not why a case is listed).
    """
    by_name = {d.name: d for d in docs}
    levels = standardised(model, features)
    pushes = contributions(model, features, levels)
    texts = []
    for case_index, row in pushes.iterrows():
        sentences = []
        for name, push in row.sort_values(ascending=False).items():
            if len(sentences) == top_n or push < MIN_CONTRIBUTION:
                break
            doc, value = by_name[name], features.at[case_index, name]
            if doc.kind in ("flag", "numeric") and not value:
                continue
            if doc.kind == "numeric" and levels.at[case_index, name] <= 0:
                continue
            sentences.append(doc.reason(value, language))
        texts.append(REASON_SEPARATOR[language].join(sentences) or NO_REASON[language])
    return pd.Series(texts, index=features.index, name="reasons")
