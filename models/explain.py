"""Per-case reasons: the features that most raised (and lowered) a case's score, in words from the dictionary;
data that was not recorded as a note, never as a reason."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from features.dictionary import MISSING_SUFFIX, FeatureDoc, Language
from models.estimator import Blend, base_model, source_feature, term_text

MIN_CONTRIBUTION = 0.05
NO_REASON = {
    "zh": "无明显升高风险的因素（风险接近平均水平或更低）",
    "en": "nothing in particular raises this case's risk (about average or lower)",
}
REASON_SEPARATOR = {"zh": "；", "en": "; "}
SECTION_SEPARATOR = {"zh": "。", "en": ". "}
LOWERING_LABEL = {"zh": "降低风险：", "en": "Lowers the risk: "}
NOTE_LABEL = {"zh": "注意：", "en": "Note: "}
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


def top_terms(pushes: pd.Series, levels: pd.Series, n: int = 2, *, lowering: bool = False) -> list[str]:
    """The terms of a case's document that raised its score most (or, `lowering`, lowered it most), present
    more than on average, as they read (a word and the same character n-gram are named once)."""
    pushing = pushes[(pushes < 0 if lowering else pushes > 0) & (levels > 0)]
    ordered = pushing.sort_values(ascending=lowering, kind="stable")
    return list(dict.fromkeys(term_text(column) for column in ordered.index))[:n]


def importance(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute contribution of each feature over the given cases, largest first."""
    pushes = contributions(model, features).abs().mean()
    table = pushes.rename("importance").rename_axis("feature").reset_index()
    return table.sort_values("importance", ascending=False, ignore_index=True)


def missing_pairs(docs: tuple[FeatureDoc, ...]) -> dict[str, str]:
    """Each feature that has a missing-data flag (`<feature>_missing`), with that flag."""
    names = {d.name for d in docs}
    flagged = (d.name for d in docs if not d.flags_missing)
    return {name: name + MISSING_SUFFIX for name in flagged if name + MISSING_SUFFIX in names}


def item_pushes(pushes: pd.DataFrame, docs: tuple[FeatureDoc, ...]) -> pd.DataFrame:
    """Per case and feature: its push, a value and its missing-data flag pushing together (both columns
    hold the sum): the amount and whether it was recorded are one fact, so neither half is read alone."""
    items = pushes.copy()
    for value, flag in missing_pairs(docs).items():
        items[value] = items[flag] = pushes[value] + pushes[flag]
    return items


def unrecorded(features: pd.DataFrame, docs: tuple[FeatureDoc, ...]) -> pd.DataFrame:
    """Per case and feature: True where the value was not recorded (a missing-data flag that is set, a value
    such a flag says is a fill, a categorical value standing for "not recorded")."""
    gaps = pd.DataFrame({d.name: _not_recorded(d, features[d.name]) for d in docs}, index=features.index)
    flags = {**missing_pairs(docs), **{d.name: d.recorded_by for d in docs if d.recorded_by in gaps}}
    for value, flag in flags.items():
        gaps[value] |= gaps[flag]
    return gaps


def _not_recorded(doc: FeatureDoc, values: pd.Series) -> np.ndarray:
    """`doc.not_recorded` of each value, asked once per distinct value present (and of each missing one)."""
    found = np.zeros(len(values), dtype=bool)
    if not doc.flags_missing and doc.kind != "categorical":
        return found  # only a missing-data flag or a categorical value says nothing was recorded
    missing = values.isna().to_numpy()
    found[missing] = [doc.not_recorded(value) for value in values[missing]]
    codes, distinct = pd.factorize(values[~missing])
    found[~missing] = np.array([doc.not_recorded(value) for value in distinct], dtype=bool)[codes]
    return found


def sayable(doc: FeatureDoc, value: object, level: float, lowering: bool) -> bool:
    """Whether a (non-text) feature's value can be said truthfully as what raised or lowered a score.

    An absent flag is never said; a number raises the score as a reason only when it is above the average
    case's (a risk raised by having *less* of something than usual would read as nonsense: "0 visits" is
    not why a case is listed), while any number can lower it ("0 calls in 30 days").
    """
    if pd.isna(value) or (doc.kind == "flag" and not value):
        return False
    return lowering or doc.kind != "numeric" or bool(value and level > 0)


def compose(raising: list[str], lowering: list[str], notes: list[str], language: Language) -> str:
    """The reason text: what raised the score (or that nothing did, unless something lowered it), then
    what lowered it and the notes, each labelled."""
    joined = REASON_SEPARATOR[language].join
    parts = [joined(raising)] if raising else [] if lowering else [NO_REASON[language]]
    if lowering:
        parts.append(LOWERING_LABEL[language] + joined(lowering))
    if notes:
        parts.append(NOTE_LABEL[language] + joined(notes))
    return SECTION_SEPARATOR[language].join(parts)


def reasons(
    model: Any,
    features: pd.DataFrame,
    docs: tuple[FeatureDoc, ...],
    language: Language,
    top_n: int = 3,
    lowering: pd.Series | None = None,
) -> pd.Series:
    """One reason text per case: the features that raised its score most, as sentences, most important
    first; where `lowering` is True (e.g. the low and medium bands), then those that lowered it most; then,
    as a note, what was not recorded where that moved the score.

    Missing data is never a reason either way: a value and its missing-data flag push as one fact, said
    only where the value was recorded, and a categorical value standing for "not recorded" is no reason.
    """
    by_name = {d.name: d for d in docs}
    levels, per_column = column_pushes(model, features)
    pushes = item_pushes(_by_feature(per_column), docs)
    gaps = unrecorded(features[list(by_name)], docs)[pushes.columns]
    never_said = pushes.columns.isin([d.name for d in docs if d.flags_missing])
    notable = pushes.columns.isin([d.name for d in docs if d.flags_missing or d.kind == "categorical"])
    wanted = (
        pd.Series(False, index=features.index)
        if lowering is None
        else lowering.reindex(features.index, fill_value=False).astype(bool)
    )
    term_columns = {
        d.name: [c for c in levels.columns if source_feature(c) == d.name] for d in docs if d.kind == "text"
    }

    assert per_column.columns.equals(levels.columns) and pushes.index.equals(features.index)
    names = pushes.columns.tolist()
    push, gap = pushes.to_numpy(dtype=float), gaps.to_numpy(dtype=bool)
    level_at = {name: levels.columns.get_loc(name) for name in names if name in levels.columns}
    value_at = {name: features.columns.get_loc(name) for name in names}
    term_at = {name: [levels.columns.get_loc(c) for c in columns] for name, columns in term_columns.items()}
    level_values, wanted_rows = levels.to_numpy(), wanted.to_numpy()

    def sentences(row: int, order: np.ndarray, down: bool) -> list[str]:
        """Up to `top_n` sentences of the features in the given order while they push the score up (or,
        `down`, down) by at least MIN_CONTRIBUTION, those that cannot be said truthfully left out."""
        said: list[str] = []
        for column in order:
            name, value = names[column], push[row, column]
            if len(said) == top_n or (-value if down else value) < MIN_CONTRIBUTION:
                break
            doc, recorded = by_name[name], features.iat[row, value_at[name]]
            if doc.kind == "text":
                at = term_at[name]
                terms = top_terms(per_column.iloc[row, at], levels.iloc[row, at], lowering=down)
                if terms:
                    said.append(doc.reason(TERM_SEPARATOR[language].join(terms), language))
            elif sayable(
                doc, recorded, level_values[row, level_at[name]] if doc.kind == "numeric" else 0.0, down
            ):
                said.append(doc.reason(recorded, language))
        return said

    texts = []
    for row in range(len(push)):
        candidates = np.flatnonzero(~gap[row] & ~never_said)
        up = candidates[np.argsort(-push[row, candidates], kind="stable")]  # largest first, ties in order
        raising = sentences(row, up, down=False)
        falling = (
            sentences(row, candidates[np.argsort(push[row, candidates], kind="stable")], down=True)
            if wanted_rows[row]
            else []
        )
        noted = np.flatnonzero(gap[row] & notable & (np.abs(push[row]) >= MIN_CONTRIBUTION))
        notes = [
            by_name[names[column]].unrecorded(language)
            for column in noted[np.argsort(-np.abs(push[row, noted]), kind="stable")]
        ]
        texts.append(compose(raising, falling, notes, language))
    return pd.Series(texts, index=features.index, name="reasons")
