"""A candidate fitted on every rolling fold with what does not depend on its hyperparameters done once.

Within one training run (`shared_work`), a fold's fitting rows are prepared and standardised once for
every candidate and trial that prepares alike (`models.estimator.preparation_key`), and so are its test
rows; both are kept on disk, not in memory. The classifiers of the folds are then fitted in up to
`jobs` worker processes (one thread each unless the plan says otherwise), each reading the prepared
rows from disk; the processes start with the run and end with it. A process bins a fold's rows for the
gradient-boosted trees once and gives every later trial on that fold the same bins (`binned_once`). The
models and figures are those of fitting each fold's whole pipeline in turn.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib.externals.loky import ProcessPoolExecutor
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from models.estimator import Candidate, assembled, make_classifier, make_preparation
from models.metrics import dated_precision


@dataclass(frozen=True)
class Prepared:
    """A fold's fitting rows prepared and standardised (saved at `features`), with the fitted steps."""

    prepare: ColumnTransformer
    scale: StandardScaler
    features: Path
    labels: np.ndarray
    weights: np.ndarray | None


@dataclass(frozen=True)
class Tested:
    """A fold's test rows as a prepared model reads them (saved at `features`), their labels, the row
    positions of each test date, in date order, and their weights (None when the matrix holds every row)."""

    features: Path
    labels: np.ndarray
    dates: tuple[np.ndarray, ...]
    weights: np.ndarray | None = None


@dataclass
class Workspace:
    """What one training run prepares once (on disk in `folder`) and the processes its fits may use
    (`pool`: none with one job)."""

    folder: Path
    pool: ProcessPoolExecutor | None
    threads: int | None
    prepared: dict[Hashable, Prepared]
    tested: dict[Hashable, Tested]

    def save(self, values: np.ndarray) -> Path:
        """The array, written to a new file of the folder."""
        path = self.folder / f"{len(self.prepared) + len(self.tested)}-{id(values)}.npy"
        np.save(path, values, allow_pickle=False)
        return path


_WORK: ContextVar[Workspace | None] = ContextVar("fold_fits_workspace", default=None)
# Per process: a fold's rows as the trees bin them, by (rows file, bin settings): (fitted bin mapper, bins)
_BINS: dict[tuple[Any, ...], tuple[Any, np.ndarray]] = {}
MAX_BINNED_FOLDS = 8


@contextmanager
def shared_work(jobs: int, threads: int | None) -> Iterator[Workspace]:
    """Within the block, fold preparations are shared and fold fits use up to `jobs` processes (started
    afresh, so that they share no state with this one, and ended with the block)."""
    pool = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None  # loky's: no main-module rerun
    with tempfile.TemporaryDirectory(prefix="fengqiao-folds-") as folder:
        work = Workspace(Path(folder), pool, threads, {}, {})
        token = _WORK.set(work)
        try:
            yield work
        finally:
            _WORK.reset(token)
            _BINS.clear()
            if pool is not None:
                pool.shutdown(wait=True)


def current_work() -> Workspace | None:
    """The training run's shared workspace, if one is open."""
    return _WORK.get()


@contextmanager
def weighted_scaling(weights: np.ndarray | None) -> Iterator[None]:
    """Where the standardisation is weighted: numpy's warning of a constant column's weighted variance
    coming out a hair below 0 silenced (the scaler takes it for the constant it is, scale 1)."""
    with warnings.catch_warnings():
        if weights is not None:
            warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
        yield


def fit_steps(
    prepare: Any, scale: Any, features: Any, labels: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """Fit prepare and scale in turn as `Pipeline.fit` does (the classifier is left for later); the
    standardised rows."""
    weighted = {} if weights is None else {"sample_weight": weights}
    with weighted_scaling(weights):
        return scale.fit_transform(prepare.fit_transform(features, labels), labels, **weighted)


def prepared_rows(
    work: Workspace,
    key: Hashable,
    candidate: Candidate,
    rows: Callable[[], tuple[pd.DataFrame, np.ndarray, np.ndarray | None]],
) -> Prepared:
    """The fold's prepared fitting rows under `key`, computed from `rows()` (features, labels, weights)
    the first time."""
    if key not in work.prepared:
        features, labels, weights = rows()
        prepare, scale = make_preparation(candidate)
        standardised = fit_steps(prepare, scale, features, labels, weights)
        work.prepared[key] = Prepared(prepare, scale, work.save(standardised), labels, weights)
    return work.prepared[key]


def test_rows(
    work: Workspace,
    key: Hashable,
    done: Prepared,
    rows: Callable[[], tuple[pd.DataFrame, np.ndarray, Any, Any]],
) -> Tested:
    """The fold's test rows under `key` as the prepared steps turn them, computed from `rows()`
    (features, labels, as-of dates, weights) the first time."""
    if key not in work.tested:
        features, labels, as_of, weights = rows()
        standardised = done.scale.transform(done.prepare.transform(features))
        dates = tuple(pd.Series(np.asarray(as_of)).groupby(np.asarray(as_of)).indices.values())
        work.tested[key] = Tested(work.save(standardised), labels, dates, weights)
    return work.tested[key]


@contextmanager
def binned_once(classify: Any, features: Path) -> Iterator[None]:
    """Within the block, a gradient-boosted trees classifier fitted on the rows saved at `features` takes
    their bins from this process's earlier fit on the same rows with the same bin settings (else bins them
    and keeps them): the bin mapper is fitted on the rows (and weights) alone, so the bins are the same and
    so is the model. The kept bins are read-only; other classifiers are left alone."""
    if not isinstance(classify, HistGradientBoostingClassifier):
        yield
        return
    key = (str(features), classify.max_bins, classify.random_state)
    own = classify._bin_data

    def bins(X: np.ndarray, sample_weight: Any, is_training_data: bool) -> np.ndarray:
        if not is_training_data:
            return own(X, sample_weight, is_training_data)
        if key in _BINS:
            mapper, binned = _BINS[key]
            if mapper.n_bins == classify._bin_mapper.n_bins:
                classify._bin_mapper = mapper
                return binned
        binned = own(X, sample_weight, is_training_data)
        binned.flags.writeable = False
        while len(_BINS) >= MAX_BINNED_FOLDS:
            _BINS.pop(next(iter(_BINS)))
        _BINS[key] = (classify._bin_mapper, binned)
        return binned

    classify._bin_data = bins
    try:
        yield
    finally:
        del classify._bin_data


def _fit_prepared(candidate: Candidate, seed: int, threads: int | None, done: Prepared) -> Any:
    """The candidate's classifier fitted on prepared rows (run in a worker process)."""
    with threadpool_limits(threads):
        classify = make_classifier(candidate, seed)
        weighted = {} if done.weights is None else {"sample_weight": done.weights}
        with binned_once(classify, done.features):
            return classify.fit(np.load(done.features, mmap_mode="r"), done.labels, **weighted)


def _fit_fold(
    candidate: Candidate, seed: int, threads: int | None, done: Prepared, test: Tested, *, top_fraction: float
) -> tuple[Any, float]:
    """The candidate's classifier fitted on a fold's prepared rows, and its mean precision at the top
    share over the fold's test dates (run in a worker process)."""
    classify = _fit_prepared(candidate, seed, threads, done)
    with threadpool_limits(threads):
        scores = classify.predict_proba(np.load(test.features, mmap_mode="r"))[:, 1]
    return classify, dated_precision(test.labels, scores, test.dates, top_fraction, test.weights)


def submit_fit(work: Workspace, candidate: Candidate, done: Prepared, seed: int) -> Callable[[], Pipeline]:
    """The candidate's pipeline fitted on prepared rows, as a call that waits for it: the fit is handed to
    the workspace's processes now, if it has any (else it runs when the call is made)."""
    run = partial(_fit_prepared, candidate, seed, work.threads, done)
    if work.pool is not None:
        future = work.pool.submit(run)
        return lambda: assembled(done.prepare, done.scale, future.result())
    return lambda: assembled(done.prepare, done.scale, run())


def submit_folds(
    work: Workspace,
    candidate: Candidate,
    folds: Sequence[tuple[Prepared, Tested]],
    seed: int,
    top_fraction: float,
) -> Callable[[], list[tuple[Pipeline, float]]]:
    """Per fold: the candidate's pipeline fitted on the fold's prepared rows, and its mean precision at
    the top share over the fold's test dates, as a call that waits for them: the fits are handed to the
    workspace's processes now, if it has any (else they run when the call is made)."""
    run = partial(_fit_fold, candidate, seed, work.threads, top_fraction=top_fraction)
    if work.pool is not None:
        futures = [work.pool.submit(run, prepared, tested) for prepared, tested in folds]
        fitted: Callable[[], list[tuple[Any, float]]] = lambda: [future.result() for future in futures]  # noqa: E731
    else:
        fitted = lambda: [run(prepared, tested) for prepared, tested in folds]  # noqa: E731

    def collect() -> list[tuple[Pipeline, float]]:
        return [
            (assembled(p.prepare, p.scale, classify), precision)
            for (p, _), (classify, precision) in zip(folds, fitted(), strict=True)
        ]

    return collect
