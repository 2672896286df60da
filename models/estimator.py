"""The estimator: one scikit-learn pipeline from feature frame to escalation probability."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.dictionary import FeatureDoc

SOURCE_SEPARATOR = "="


def _one_hot_name(feature: str, category: object) -> str:
    return f"{feature}{SOURCE_SEPARATOR}{category}"


def make_estimator(docs: tuple[FeatureDoc, ...], seed: int, c: float = 0.5) -> Pipeline:
    """A standardised logistic regression over one-hot categoricals and log-scaled numerics.

    Every transformed column is standardised on the training data, so a case's coefficient times
    its transformed value is exactly how far that column moves its log-odds from the average case.
    """
    categorical = [d.name for d in docs if d.kind == "categorical"]
    numeric = [d.name for d in docs if d.kind == "numeric"]
    flags = [d.name for d in docs if d.kind == "flag"]
    prepare = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=20,
                    sparse_output=False,
                    feature_name_combiner=_one_hot_name,
                ),
                categorical,
            ),
            ("numeric", FunctionTransformer(_signed_log1p, feature_names_out="one-to-one"), numeric),
            ("flag", "passthrough", flags),
        ],
        verbose_feature_names_out=False,
        sparse_threshold=0.0,
    )
    return Pipeline(
        [
            ("prepare", prepare),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=c, max_iter=2000, random_state=seed)),
        ]
    )


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """log(1 + |x|) with the sign of x: tames counts and amounts with long tails."""
    return np.sign(values) * np.log1p(np.abs(values))


def source_feature(column: str) -> str:
    """The feature a transformed column comes from (one-hot columns map back to their feature)."""
    return column.split(SOURCE_SEPARATOR, 1)[0]
