"""Ablation: how much each feature family adds to the top of the list on the same held-out dates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from features.dictionary import FeatureDoc
from models.date_policy import training_folds
from models.estimator import Candidate
from models.train import MODEL_NAME, TrainingPlan, cross_validate, summarise, usable_folds

FOUNDATION = "foundation"


def family_sets(
    families: dict[str, tuple[FeatureDoc, ...]], foundation: Sequence[str]
) -> dict[str, tuple[FeatureDoc, ...]]:
    """Feature sets to compare: the foundation features, foundation + each family, and everything."""
    every = {doc.name: doc for docs in families.values() for doc in docs}
    base = tuple(every[name] for name in foundation)
    sets = {FOUNDATION: base}
    for family, docs in families.items():
        added = {doc.name: doc for doc in (*base, *docs)}
        sets[f"+ {family}"] = tuple(added.values())
    sets["all"] = tuple(every.values())
    return sets


def ablation_table(
    matrix: pd.DataFrame,
    sets: dict[str, tuple[FeatureDoc, ...]],
    plan: TrainingPlan,
    logistic: dict[str, Any],
) -> pd.DataFrame:
    """Precision and recall at the top share, ROC AUC and Brier score of each feature set read by a logistic
    regression with the hyperparameters `logistic`, same folds."""
    folds = usable_folds(matrix, training_folds(sorted(set(matrix["as_of"])), plan.date_policy))
    rows = []
    for label, docs in sets.items():
        evaluation = cross_validate(matrix, Candidate(label, "logistic", docs, logistic), folds, plan)
        summary = summarise(evaluation.validation, evaluation.fold_precision())
        rows.append(
            {
                "features": label,
                "n_features": len(docs),
                "precision_at_k": summary[f"{MODEL_NAME}.precision_at_k"],
                "precision_at_k_std": summary[f"{MODEL_NAME}.precision_at_k_std"],
                "recall_at_k": summary[f"{MODEL_NAME}.recall_at_k"],
                "roc_auc": summary[f"{MODEL_NAME}.roc_auc"],
                "brier": summary[f"{MODEL_NAME}.brier"],
            }
        )
    table = pd.DataFrame(rows)
    table["lift_over_baseline"] = table["precision_at_k"] / table.loc[0, "precision_at_k"]
    return table
