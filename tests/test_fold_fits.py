"""Shared fold work (`models.fold_fits`): the folds' prepared rows computed once per training run and the
folds fitted in worker processes give the very models and figures of fitting each pipeline in turn."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper

from models.estimator import Candidate, base_model
from models.fold_fits import binned_once, shared_work
from models.sampling import WEIGHT, subsampled
from models.search import SearchBudget
from models.train import LABEL, Evaluation, _started_grid, evaluate, train
from tests.builders import make_candidate
from tests.test_model_search import DOCS, FOLDS, LOGISTIC, MATRIX, PLAN, TEXT, TUNED

TEXT_LOGISTIC = make_candidate("logistic_text", "logistic", (*DOCS, TEXT), {"C": 0.5, "max_terms": 20})
SPARSE = make_candidate("logistic_sparse", "logistic", DOCS, {"C": 0.05, "penalty": "l1"})
SEARCHED_SPARSE = replace(SPARSE, tuning=SearchBudget(2, 600, ({"C": 0.01},)))
BLEND = make_candidate("blend", "blend", DOCS, parts=(SEARCHED_SPARSE, TUNED))


def _same(a: Evaluation, b: Evaluation) -> None:
    """Both evaluations hold the same held-out figures and fold models that score alike to the bit."""
    pd.testing.assert_frame_equal(a.predictions, b.predictions, check_exact=True)
    pd.testing.assert_frame_equal(a.validation, b.validation, check_exact=True)
    assert (a.search is None) == (b.search is None)
    if a.search is not None and b.search is not None:
        assert (a.search.params, a.search.value, a.search.trials) == (
            b.search.params,
            b.search.value,
            b.search.trials,
        )
    names = list(a.candidate.feature_names)
    for one, other in zip(a.models, b.models, strict=True):
        assert np.array_equal(one.predict_proba(MATRIX[names]), other.predict_proba(MATRIX[names]))


@pytest.mark.parametrize(("rate", "jobs"), [(1.0, 1), (0.5, 2)])
@pytest.mark.parametrize("candidate", [TEXT_LOGISTIC, BLEND], ids=lambda c: c.name)
def test_shared_fold_work_fits_the_same_models_as_fitting_each_pipeline(
    candidate: Candidate, rate: float, jobs: int
) -> None:
    plan = replace(PLAN, threads=1)
    positives = int(MATRIX[LABEL].sum())
    matrix = subsampled(MATRIX, LABEL, round(positives + rate * (len(MATRIX) - positives)), PLAN.seed)
    assert (WEIGHT in matrix) == (rate < 1)
    alone = evaluate(matrix, candidate, FOLDS, plan)
    with shared_work(jobs, 1):
        shared = evaluate(matrix, candidate, FOLDS, plan)
    _same(alone, shared)


def test_the_folds_are_prepared_once_for_every_trial_and_candidate_that_prepares_alike() -> None:
    with shared_work(1, 1) as work:
        trees = evaluate(MATRIX, TUNED, FOLDS, PLAN)
        evaluate(MATRIX, SEARCHED_SPARSE, FOLDS, PLAN, [trees])
    assert trees.search is not None and trees.search.trials == 3
    assert len(work.prepared) == len(FOLDS) and len(work.tested) == len(FOLDS)
    assert [m.named_steps["prepare"] for m in map(base_model, trees.models)] == [
        p.prepare for p in work.prepared.values()
    ]


def test_training_is_the_same_in_one_process_and_in_several() -> None:
    grid = [replace(LOGISTIC, name="logistic"), TUNED]
    one = train(MATRIX, grid, replace(PLAN, jobs=1))
    two = train(MATRIX, grid, replace(PLAN, jobs=2))
    pd.testing.assert_frame_equal(one.grid, two.grid, check_exact=True)
    names = list(one.feature_names)
    assert np.array_equal(one.model.predict_proba(MATRIX[names]), two.model.predict_proba(MATRIX[names]))


def test_the_trees_bin_each_fold_once_per_process_and_fit_the_same_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fits = []
    own = _BinMapper.fit_transform
    monkeypatch.setattr(
        _BinMapper, "fit_transform", lambda self, *a, **k: fits.append(1) or own(self, *a, **k)
    )
    alone = evaluate(MATRIX, TUNED, FOLDS, PLAN)
    assert len(fits) == len(FOLDS) * 3  # every trial binned every fold
    fits.clear()
    with shared_work(1, 1):
        shared = evaluate(MATRIX, TUNED, FOLDS, PLAN)
    assert len(fits) == len(FOLDS)  # 3 trials, each fold binned once
    _same(alone, shared)


def test_kept_bins_are_only_given_to_a_fit_on_the_same_rows(tmp_path: Path) -> None:
    rows = np.random.default_rng(0).normal(size=(300, 4))
    labels = (rows[:, 0] > 0.5).astype(int)
    first, second = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(first, rows)
    np.save(second, rows * 2)
    fitted = []
    for path in (first, second, first):
        classify = HistGradientBoostingClassifier(max_iter=5, random_state=0)
        with binned_once(classify, path):
            classify.fit(np.load(path), labels)
        fitted.append(classify)
        plain = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(np.load(path), labels)
        assert np.array_equal(classify.predict_proba(np.load(path)), plain.predict_proba(np.load(path)))
    assert fitted[0]._bin_mapper is fitted[2]._bin_mapper
    assert fitted[1]._bin_mapper is not fitted[0]._bin_mapper
    assert "_bin_data" not in vars(fitted[0])


def test_a_grid_search_starts_every_point_s_folds_together_and_chooses_as_one_by_one() -> None:
    assert _started_grid(MATRIX, SEARCHED_SPARSE, FOLDS, PLAN, ()) == {}  # no shared work
    plan = replace(PLAN, threads=1)
    with shared_work(2, 1):
        started = _started_grid(MATRIX, SEARCHED_SPARSE, FOLDS, plan, ())
        assert sorted(dict(key)["C"] for key in started) == [0.01, 0.05]
        assert len(started[next(iter(started))]()) == len(FOLDS)
        shared = evaluate(MATRIX, SEARCHED_SPARSE, FOLDS, plan)
    _same(evaluate(MATRIX, SEARCHED_SPARSE, FOLDS, plan), shared)


def test_a_blend_starts_every_part_s_grid_before_it_searches_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The processes fit the later part's folds while the first part is searched and calibrated."""
    from models import train as training

    seen: list[tuple[str, str]] = []
    started, searched = training._started_grid, training.search

    def starting(matrix: pd.DataFrame, candidate: Candidate, *rest: object) -> object:
        seen.append(("started", candidate.name))
        return started(matrix, candidate, *rest)

    def searching(params: dict, *rest: object) -> object:
        seen.append(("searched", "sparse" if params.get("penalty") == "l1" else "other"))
        return searched(params, *rest)

    monkeypatch.setattr(training, "_started_grid", starting)
    monkeypatch.setattr(training, "search", searching)
    with shared_work(2, 1):
        evaluate(MATRIX, BLEND, FOLDS, replace(PLAN, threads=1))
    assert seen == [
        ("started", SEARCHED_SPARSE.name),
        ("started", TUNED.name),
        ("searched", "sparse"),
        ("searched", "other"),
    ]


def test_the_final_blend_s_fits_start_together_and_are_the_fits_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every base fit of the chosen blend, and of its refit on every date, is handed to the processes
    before the first is waited for; the model is the one a single process fits."""
    from models import train as training

    seen: list[str] = []
    submit = training.submit_fit

    def submitting(*arguments: object) -> object:
        seen.append("started")
        fitted = submit(*arguments)  # type: ignore[arg-type]

        def waited() -> object:
            seen.append("waited")
            return fitted()

        return waited

    plan = replace(PLAN, threads=1, refit_final=True)
    one = train(MATRIX, [BLEND], replace(plan, jobs=1))
    monkeypatch.setattr(training, "submit_fit", submitting)
    two = train(MATRIX, [BLEND], replace(plan, jobs=2))
    assert seen == ["started"] * 4 + ["waited"] * 4  # two parts, fitted and refitted
    names = list(one.feature_names)
    assert np.array_equal(one.model.predict_proba(MATRIX[names]), two.model.predict_proba(MATRIX[names]))
    assert one.fit_dates == two.fit_dates == tuple(sorted(set(MATRIX["as_of"])))


@pytest.mark.parametrize("rate", [1.0, 0.5])
@pytest.mark.parametrize("candidate", [TEXT_LOGISTIC, BLEND], ids=lambda c: c.name)
def test_the_final_model_fitted_in_the_processes_is_the_pipeline_fitted_in_turn(
    candidate: Candidate, rate: float
) -> None:
    """The final model from prepared rows and the processes' fits (with weights when the matrix is
    subsampled) predicts as the whole pipelines fitted one after the other without shared work."""
    from models.train import fit_calibrated

    plan = replace(PLAN, threads=1)
    positives = int(MATRIX[LABEL].sum())
    matrix = subsampled(MATRIX, LABEL, round(positives + rate * (len(MATRIX) - positives)), PLAN.seed)
    dates = sorted(set(matrix["as_of"]))
    fitting, calibrating = dates[: len(dates) // 2], dates[len(dates) // 2 :]
    alone = fit_calibrated(matrix, candidate, fitting, calibrating, plan)
    with shared_work(2, 1):
        shared = fit_calibrated(matrix, candidate, fitting, calibrating, plan)
    names = list(candidate.feature_names)
    assert np.array_equal(alone.predict_proba(MATRIX[names]), shared.predict_proba(MATRIX[names]))
