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


def contributions(model: Pipeline, features: pd.DataFrame) -> pd.DataFrame:
    """Per case and feature: how far the feature moves the log-odds from the average training case.

    Exact for the standardised linear model: coefficient times standardised value, summed over the
    one-hot columns of a categorical feature.
    """
    transformed = model[:-1].transform(features)
    weights = model[-1].coef_[0]
    columns = model[:-1].get_feature_names_out()
    per_column = pd.DataFrame(np.asarray(transformed) * weights, columns=columns, index=features.index)
    return per_column.T.groupby([source_feature(c) for c in columns], sort=False).sum().T


def reasons(
    model: Pipeline,
    features: pd.DataFrame,
    docs: tuple[FeatureDoc, ...],
    language: Language,
    top_n: int = 3,
) -> pd.Series:
    """One reason text per case: its top positive contributions as sentences, most important first."""
    by_name = {d.name: d for d in docs}
    pushes = contributions(model, features)
    texts = []
    for case_index, row in pushes.iterrows():
        sentences = []
        for name, push in row.sort_values(ascending=False).items():
            if len(sentences) == top_n or push < MIN_CONTRIBUTION:
                break
            doc, value = by_name[name], features.at[case_index, name]
            if doc.kind in ("flag", "numeric") and not value:
                continue
            sentences.append(doc.reason(value, language))
        texts.append(REASON_SEPARATOR[language].join(sentences) or NO_REASON[language])
    return pd.Series(texts, index=features.index, name="reasons")
