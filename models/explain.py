"""Per-case reasons: the features that most raised this case's score, in words from the dictionary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from features.dictionary import FeatureDoc, Language
from models.estimator import Blend, base_model, source_feature, term_text

MIN_CONTRIBUTION = 0.05
NO_REASON = {
    "zh": "无明显升高风险的因素（风险接近平均水平或更低）",
    "en": "nothing in particular raises this case's risk (about average or lower)",
}
REASON_SEPARATOR = {"zh": "；", "en": "; "}
TERM_SEPARATOR = {"zh": "」「", "en": "”, “"}


def standardised(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """The model's standardised input columns per case (0 = the average training case); a blend's are
    its members' (a column several members read is taken from the first)."""
    base = base_model(model)
    if isinstance(base, Blend):
        return _first_of_each([standardised(m, features[c]) for m, c in _members(base)])
    prepare = base[:-1]
    columns = prepare.get_feature_names_out()
    return pd.DataFrame(np.asarray(prepare.transform(features)), columns=columns, index=features.index)


def column_contributions(classifier: Any, levels: pd.DataFrame) -> pd.DataFrame:
    """Per case and model input column: its push on the uncalibrated log-odds.

    Exact for a linear model (coefficient times standardised value, relative to the average training
    case); for trees, TreeSHAP values (relative to the average training prediction), which also add
    up exactly to the case's log-odds.
    """
    if isinstance(classifier, LogisticRegression):
        return levels * classifier.coef_[0]
    import shap  # imported here: loading it costs seconds and only tree models need it

    values = shap.TreeExplainer(classifier).shap_values(levels.to_numpy())
    return pd.DataFrame(np.asarray(values), columns=levels.columns, index=levels.index)


def column_pushes(model: Any, features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per case: the model's standardised input columns, and each column's push on its uncalibrated
    log-odds; for a blend, the mean of its members' pushes (a column a member does not read pushes it
    by 0)."""
    base = base_model(model)
    if isinstance(base, Blend):
        parts = [column_pushes(m, features[c]) for m, c in _members(base)]
        levels = _first_of_each([part_levels for part_levels, _ in parts])
        columns = list(levels.columns)
        pushes = sum(p.reindex(columns=columns, fill_value=0.0) for _, p in parts) / len(parts)
        return levels, pushes
    levels = standardised(base, features)
    return levels, column_contributions(base[-1], levels)


def _members(blend: Blend) -> list[tuple[Any, list[str]]]:
    """A blend's members with the features each reads."""
    return list(zip(blend.members, blend.features, strict=True))


def _first_of_each(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames side by side, a column several hold taken from the first."""
    joined = pd.concat(frames, axis=1)
    return joined.loc[:, ~joined.columns.duplicated()]


def _by_feature(per_column: pd.DataFrame) -> pd.DataFrame:
    """Column contributions summed per source feature (one-hot levels and terms map back to theirs)."""
    return per_column.T.groupby([source_feature(c) for c in per_column.columns], sort=False).sum().T


def contributions(model: Any, features: pd.DataFrame, levels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per case and feature: how far the feature moves the log-odds, summed over its model columns (a
    blend's: the mean of its members')."""
    if levels is None:
        return _by_feature(column_pushes(model, features)[1])
    return _by_feature(column_contributions(base_model(model)[-1], levels))


def top_terms(pushes: pd.Series, levels: pd.Series, n: int = 2) -> list[str]:
    """The terms of a case's document that raised its score most (present more than on average), as
    they read (a word and the same character n-gram are named once)."""
    raising = pushes[(pushes > 0) & (levels > 0)].sort_values(ascending=False, kind="stable")
    return list(dict.fromkeys(term_text(column) for column in raising.index))[:n]


def importance(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute contribution of each feature over the given cases, largest first."""
    pushes = contributions(model, features).abs().mean()
    table = pushes.rename("importance").rename_axis("feature").reset_index()
    return table.sort_values("importance", ascending=False, ignore_index=True)


def reasons(
    model: Any,
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
    levels, per_column = column_pushes(model, features)
    pushes = _by_feature(per_column)
    term_columns = {
        d.name: [c for c in levels.columns if source_feature(c) == d.name] for d in docs if d.kind == "text"
    }
    texts = []
    for case_index, row in pushes.iterrows():
        sentences = []
        for name, push in row.sort_values(ascending=False).items():
            if len(sentences) == top_n or push < MIN_CONTRIBUTION:
                break
            doc, value = by_name[name], features.at[case_index, name]
            if doc.kind == "text":
                columns = term_columns[name]
                terms = top_terms(per_column.loc[case_index, columns], levels.loc[case_index, columns])
                if not terms:
                    continue
                value = TERM_SEPARATOR[language].join(terms)
            elif doc.kind in ("flag", "numeric") and not value:
                continue
            if doc.kind == "numeric" and levels.at[case_index, name] <= 0:
                continue
            sentences.append(doc.reason(value, language))
        texts.append(REASON_SEPARATOR[language].join(sentences) or NO_REASON[language])
    return pd.Series(texts, index=features.index, name="reasons")
