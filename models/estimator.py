"""The estimators: scikit-learn pipelines from feature frame to escalation score, their blend and their
calibration."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.dictionary import FeatureDoc
from features.text_terms import DOCUMENT
from features.text_words import NEGATED_PREFIX, words

if TYPE_CHECKING:
    from models.search import SearchBudget

SOURCE_SEPARATOR = "="
WORD_MARK = "W:"  # word columns: terms_document=W:<word>; never a character n-gram (those are lower-cased)
TEXT_FEATURE = DOCUMENT
Kind = Literal["logistic", "trees", "blend"]
KIND_NAMES = {"logistic": "logistic regression", "trees": "gradient-boosted trees"}
# The L1 logistic's stopping tolerance (liblinear's newGLMNET): a tenth of LIBLINEAR's own default for
# L1-regularised logistic regression (0.01) and ten times scikit-learn's generic one (1e-4). On the demo
# city's grid its fits took a third less time, with the same top 5% of scores to 99.8%; the
# generalization benchmark's cities gave the same lists to every digit, while 0.01 lowered one city's
# (docs/design/l1-tolerance.md).
L1_TOLERANCE = 1e-3


# The hyperparameters each kind of candidate must be given (their values come from the settings only).
REQUIRED_PARAMS: dict[Kind, frozenset[str]] = {
    "logistic": frozenset({"C", "max_terms"}),
    "trees": frozenset(
        {
            "max_iter",
            "learning_rate",
            "max_leaf_nodes",
            "min_samples_leaf",
            "l2_regularization",
            "max_features",
            "max_terms",
        }
    ),
    "blend": frozenset(),
}


@dataclass(frozen=True)
class Candidate:
    """One entry of the model grid: an estimator kind, its hyperparameters and its feature set.

    A blend averages the calibrated probabilities of its `parts`; a candidate with a `tuning` budget
    has its hyperparameters searched (from `params`) before it is validated. `params` holds every
    hyperparameter its kind needs (REQUIRED_PARAMS); a missing one is an error, never a default.
    """

    name: str
    kind: Kind
    docs: tuple[FeatureDoc, ...]
    params: dict[str, Any] = field(default_factory=dict)
    parts: tuple[Candidate, ...] = ()
    tuning: SearchBudget | None = None

    def __post_init__(self) -> None:
        missing = REQUIRED_PARAMS[self.kind] - set(self.params)
        if missing:
            raise ValueError(f"candidate {self.name}: hyperparameters missing: {', '.join(sorted(missing))}")

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features the candidate reads, in order."""
        return tuple(d.name for d in self.docs)

    def describe(self) -> str:
        """The estimator in a few words, with its hyperparameters."""
        if self.kind == "blend":
            return "mean of the calibrated probabilities of " + " and ".join(p.describe() for p in self.parts)
        shown = {k: v for k, v in self.params.items() if k != "max_terms" or self._reads_text}
        settings = ", ".join(f"{k}={_short(v)}" for k, v in sorted(shown.items()))
        searched = "; hyperparameters to be searched" if self.tuning else ""
        return f"{KIND_NAMES[self.kind]} ({settings}; {len(self.docs)} features{searched})"

    @property
    def _reads_text(self) -> bool:
        return any(d.kind == "text" for d in self.docs)


def _short(value: Any) -> Any:
    """A hyperparameter as shown: floats to 4 significant digits."""
    return float(f"{value:.4g}") if isinstance(value, float) else value


def _one_hot_name(feature: str, category: object) -> str:
    return f"{feature}{SOURCE_SEPARATOR}{category}"


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """log(1 + |x|) with the sign of x: tames counts and amounts with long tails (in float64, whatever the
    stored width: a compact matrix's float32 columns give the same result). Computed in one array besides
    the input (three temporaries of a matrix's size cost more in fresh memory than the arithmetic)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.abs(values)
    np.log1p(out, out=out)
    np.copysign(out, values, out=out)
    out += 0.0  # -0.0 as 0.0, as sign(-0.0) * log1p(0.0) gives
    return out


class DocumentTerms(TfidfVectorizer):
    """Character n-gram TF-IDF of the case document, its columns named `terms_document=<term>`."""

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The terms, prefixed with the document feature so reasons map them back to it."""
        terms = super().get_feature_names_out()
        return np.asarray([f"{TEXT_FEATURE}{SOURCE_SEPARATOR}{term}" for term in terms], dtype=object)


class DocumentWords(TfidfVectorizer):
    """Word TF-IDF of the case document (`features.text_words.words`: jieba words, negated ones marked),
    its columns named `terms_document=W:<word>`."""

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The words, prefixed with the document feature and the word mark."""
        terms = super().get_feature_names_out()
        return np.asarray(
            [f"{TEXT_FEATURE}{SOURCE_SEPARATOR}{WORD_MARK}{term}" for term in terms], dtype=object
        )


def document_terms(max_terms: int) -> FeatureUnion:
    """Weights of the most frequent character pairs and triples and of the most frequent words (each in
    at least 0.5% and at most half of the documents; `max_terms` of each)."""
    common = {"min_df": 0.005, "max_df": 0.5, "max_features": max_terms, "sublinear_tf": True}
    return FeatureUnion(
        [
            ("characters", DocumentTerms(analyzer="char", ngram_range=(2, 3), **common)),
            ("words", DocumentWords(analyzer=words, **common)),
        ],
        verbose_feature_names_out=False,
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


def make_classifier(candidate: Candidate, seed: int) -> Any:
    """The candidate's unfitted classifier, the last step of its pipeline (not for a blend)."""
    params = candidate.params
    if candidate.kind == "logistic" and params.get("penalty") == "l1":
        return LogisticRegression(
            C=params["C"],
            l1_ratio=1.0,
            solver="liblinear",
            tol=L1_TOLERANCE,
            max_iter=2000,
            random_state=seed,
        )
    if candidate.kind == "logistic":
        return LogisticRegression(C=params["C"], max_iter=2000, random_state=seed)
    if candidate.kind == "trees":
        return HistGradientBoostingClassifier(
            max_iter=params["max_iter"],
            learning_rate=params["learning_rate"],
            max_leaf_nodes=params["max_leaf_nodes"],
            min_samples_leaf=params["min_samples_leaf"],
            l2_regularization=params["l2_regularization"],
            max_features=params["max_features"],
            early_stopping=False,
            random_state=seed,
        )
    raise ValueError(f"{candidate.name}: a {candidate.kind} is made of its parts' fitted models")


def make_preparation(candidate: Candidate) -> tuple[ColumnTransformer, StandardScaler]:
    """The candidate's unfitted first two steps: prepare its features, then standardise them."""
    return _prepare(candidate.docs, candidate.params["max_terms"]), StandardScaler()


def preparation_key(candidate: Candidate) -> tuple[Any, ...]:
    """What the candidate's preparation depends on: candidates with the same key prepare alike."""
    return (candidate.docs, candidate.params.get("max_terms"))


def assembled(prepare: ColumnTransformer, scale: StandardScaler, classify: Any) -> Pipeline:
    """The pipeline of those steps (as `make_estimator` names them)."""
    return Pipeline([("prepare", prepare), ("scale", scale), ("classify", classify)])


def make_estimator(candidate: Candidate, seed: int) -> Pipeline:
    """The candidate's uncalibrated pipeline: prepare, standardise, classify (not for a blend: its parts
    are fitted and calibrated one by one, then averaged by `Blend`).

    Every transformed column is standardised on the training data (trees do not need it, but it
    makes 0 mean "the average training case" for every model, which the reasons rely on).
    """
    classify = make_classifier(candidate, seed)
    return assembled(*make_preparation(candidate), classify)


def weighted_fit_params(weights: np.ndarray | None) -> dict[str, np.ndarray]:
    """What `make_estimator(...).fit` takes to weigh its rows: the standardisation and the classifier both
    weighted (so 0 stays "the average training case"); nothing without weights."""
    return {} if weights is None else {"scale__sample_weight": weights, "classify__sample_weight": weights}


class Blend(ClassifierMixin, BaseEstimator):
    """The mean of fitted models' probabilities of escalation; each member reads its own features.

    The members come fitted (each calibrated on data later than it was fitted on), so `fit` only checks
    that they predict the same classes and records them.
    """

    def __init__(self, members: list[Any], features: list[list[str]]) -> None:
        self.members = members
        self.features = features

    def fit(self, features: object = None, labels: object = None) -> Blend:
        """Record the members' classes (they must agree)."""
        classes = [np.asarray(member.classes_) for member in self.members]
        if not classes or any(not np.array_equal(c, classes[0]) for c in classes):
            raise ValueError("a blend needs fitted members that predict the same classes")
        self.classes_ = classes[0]
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """The members' probabilities, averaged."""
        return np.mean(
            [m.predict_proba(features[cols]) for m, cols in zip(self.members, self.features, strict=True)],
            axis=0,
        )

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The more probable class of each case."""
        return self.classes_[np.argmax(self.predict_proba(features), axis=1)]

    def decision_function(self, features: pd.DataFrame) -> np.ndarray:
        """The log-odds of the averaged probability (what sigmoid calibration maps)."""
        p = np.clip(self.predict_proba(features)[:, 1], 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)


def calibrate(
    base: Pipeline,
    features: pd.DataFrame,
    labels: np.ndarray,
    method: Literal["sigmoid", "isotonic"],
    weights: np.ndarray | None = None,
) -> CalibratedClassifierCV:
    """The fitted base model, frozen, with a probability map fitted on later data it never saw (its rows
    weighted, when weights are given)."""
    calibrated = CalibratedClassifierCV(FrozenEstimator(base), method=method)
    if weights is None:
        return calibrated.fit(features, labels)
    with warnings.catch_warnings():  # the frozen model takes no weights: they go to the map alone, as meant
        warnings.filterwarnings("ignore", "Since FrozenEstimator does not appear to accept sample_weight")
        return calibrated.fit(features, labels, sample_weight=weights)


def refitted(
    model: CalibratedClassifierCV,
    base: Any,
    features: pd.DataFrame,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
) -> CalibratedClassifierCV:
    """The calibrated model with its base replaced by `base` (the same candidate fitted on more dates) and
    its probability map kept; a sigmoid map's intercept is moved so that the mean probability over
    `features` (the calibration dates) is their escalation rate `labels.mean()` (both means weighted,
    when weights are given)."""
    inner = copy.copy(model.calibrated_classifiers_[0])
    inner.estimator = FrozenEstimator(base)
    inner.calibrators = [copy.copy(calibrator) for calibrator in inner.calibrators]
    out = copy.copy(model)
    out.calibrated_classifiers_ = [inner]
    if model.method == "sigmoid":
        sigmoid = inner.calibrators[0]
        slope_scores = sigmoid.a_ * _response(base, features)
        mean = np.mean if weights is None else partial(np.average, weights=weights)
        rate = float(mean(labels))
        reach = float(np.max(np.abs(slope_scores))) + 50.0
        sigmoid.b_ = brentq(lambda b: float(mean(expit(-(slope_scores + b)))) - rate, -reach, reach)
    return out


def _response(model: Any, features: pd.DataFrame) -> np.ndarray:
    """What calibration maps: the decision function where the model has one, else P(escalation)."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(features), dtype=float)
    return np.asarray(model.predict_proba(features)[:, 1], dtype=float)


def base_model(model: Any) -> Any:
    """The uncalibrated pipeline (or blend) inside a calibrated model (or the model itself)."""
    if isinstance(model, CalibratedClassifierCV):
        inner = model.calibrated_classifiers_[0].estimator
        return inner.estimator if isinstance(inner, FrozenEstimator) else inner
    return model


def source_feature(column: str) -> str:
    """The feature a transformed column comes from (one-hot columns map back to their feature)."""
    return column.split(SOURCE_SEPARATOR, 1)[0]


def term_text(column: str) -> str:
    """How a term column of the document reads in a reason: the character n-gram, or the word (a negated
    word as 不…word)."""
    term = column.split(SOURCE_SEPARATOR, 1)[1].removeprefix(WORD_MARK)
    return f"不…{term.removeprefix(NEGATED_PREFIX)}" if term.startswith(NEGATED_PREFIX) else term
