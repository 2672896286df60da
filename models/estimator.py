"""The estimators: scikit-learn pipelines from feature frame to escalation score, and their calibration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.dictionary import FeatureDoc
from features.text_terms import DOCUMENT

SOURCE_SEPARATOR = "="
TEXT_FEATURE = DOCUMENT
Kind = Literal["logistic", "trees"]


@dataclass(frozen=True)
class Candidate:
    """One entry of the model grid: an estimator kind, its hyperparameters and its feature set."""

    name: str
    kind: Kind
    docs: tuple[FeatureDoc, ...]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features the candidate reads, in order."""
        return tuple(d.name for d in self.docs)

    def describe(self) -> str:
        """The estimator in a few words, with its hyperparameters."""
        settings = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        kind = "logistic regression" if self.kind == "logistic" else "gradient-boosted trees"
        return f"{kind} ({settings}; {len(self.docs)} features)"


def _one_hot_name(feature: str, category: object) -> str:
    return f"{feature}{SOURCE_SEPARATOR}{category}"


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """log(1 + |x|) with the sign of x: tames counts and amounts with long tails."""
    return np.sign(values) * np.log1p(np.abs(values))


class DocumentTerms(TfidfVectorizer):
    """Character n-gram TF-IDF of the case document, its columns named `terms_document=<term>`."""

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The terms, prefixed with the document feature so reasons map them back to it."""
        terms = super().get_feature_names_out()
        return np.asarray([f"{TEXT_FEATURE}{SOURCE_SEPARATOR}{term}" for term in terms], dtype=object)


def document_terms(max_terms: int) -> DocumentTerms:
    """Weights of the most frequent character pairs and triples (in at least 0.5% of documents)."""
    return DocumentTerms(
        analyzer="char",
        ngram_range=(2, 3),
        min_df=0.005,
        max_df=0.5,
        max_features=max_terms,
        sublinear_tf=True,
    )


def _prepare(docs: tuple[FeatureDoc, ...], max_terms: int) -> ColumnTransformer:
    """One-hot categoricals (rare levels pooled), log-scaled numerics, flags, the document's terms: dense."""
    by_kind = {
        kind: [d.name for d in docs if d.kind == kind] for kind in ("categorical", "numeric", "flag", "text")
    }
    if by_kind["text"] and by_kind["text"] != [TEXT_FEATURE]:
        raise ValueError(f"only the text feature {TEXT_FEATURE} is supported, not {by_kind['text']}")
    text = [("text", document_terms(max_terms), TEXT_FEATURE)] if by_kind["text"] else []
    return ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=20,
                    sparse_output=False,
                    feature_name_combiner=_one_hot_name,
                ),
                by_kind["categorical"],
            ),
            (
                "numeric",
                FunctionTransformer(_signed_log1p, feature_names_out="one-to-one"),
                by_kind["numeric"],
            ),
            ("flag", "passthrough", by_kind["flag"]),
            *text,
        ],
        verbose_feature_names_out=False,
        sparse_threshold=0.0,
    )


def make_estimator(candidate: Candidate, seed: int) -> Pipeline:
    """The candidate's uncalibrated pipeline: prepare, standardise, classify.

    Every transformed column is standardised on the training data (trees do not need it, but it
    makes 0 mean "the average training case" for every model, which the reasons rely on).
    """
    if candidate.kind == "logistic":
        classify: Any = LogisticRegression(C=candidate.params.get("C", 0.5), max_iter=2000, random_state=seed)
    else:
        classify = HistGradientBoostingClassifier(
            max_iter=candidate.params.get("max_iter", 200),
            learning_rate=candidate.params.get("learning_rate", 0.05),
            max_leaf_nodes=candidate.params.get("max_leaf_nodes", 15),
            min_samples_leaf=candidate.params.get("min_samples_leaf", 100),
            l2_regularization=candidate.params.get("l2_regularization", 1.0),
            early_stopping=False,
            random_state=seed,
        )
    prepare = _prepare(candidate.docs, candidate.params.get("max_terms", 300))
    return Pipeline([("prepare", prepare), ("scale", StandardScaler()), ("classify", classify)])


def calibrate(
    base: Pipeline, features: pd.DataFrame, labels: np.ndarray, method: Literal["sigmoid", "isotonic"]
) -> CalibratedClassifierCV:
    """The fitted base model, frozen, with a probability map fitted on later data it never saw."""
    calibrated = CalibratedClassifierCV(FrozenEstimator(base), method=method)
    return calibrated.fit(features, labels)


def base_model(model: Pipeline | CalibratedClassifierCV) -> Pipeline:
    """The uncalibrated pipeline inside a calibrated model (or the pipeline itself)."""
    if isinstance(model, CalibratedClassifierCV):
        inner = model.calibrated_classifiers_[0].estimator
        return inner.estimator if isinstance(inner, FrozenEstimator) else inner
    return model


def source_feature(column: str) -> str:
    """The feature a transformed column comes from (one-hot columns map back to their feature)."""
    return column.split(SOURCE_SEPARATOR, 1)[0]
