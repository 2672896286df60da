"""Negatives subsampled with weights on a large training matrix (models.sampling, models.train)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from contracts.settings import Settings
from features.dictionary import FeatureDoc
from models.estimator import base_model, calibrate, make_estimator
from models.sampling import kept_on_date, negative_rate, sample_negatives
from models.train import LABEL, fit_base, train
from pipelines.configuration import training_plan
from tests.builders import make_candidate, small_plan

DOCS = (
    FeatureDoc("profile_category", "category", "-", "categorical", "纠纷类型为{value}", "it is {value}"),
    FeatureDoc(
        "hotline_linked_calls_7d", "calls", "7 days", "numeric", "近7天来电{value}次", "{value} calls"
    ),
)
NAMES = [d.name for d in DOCS]
LOGISTIC = make_candidate("logistic", "logistic", DOCS, {"C": 0.5})
WEEKS = [date(2025, 1, 1) + timedelta(days=7 * i) for i in range(24)]
PLAN = small_plan()


def weekly(n: int = 200) -> pd.DataFrame:
    """Snapshots of n cases a week whose escalation grows with their calls."""
    rng = np.random.default_rng(5)
    frames = []
    for as_of in WEEKS:
        calls = rng.poisson(1.0, n).astype(float)
        category = rng.choice(["劳资纠纷", "邻里纠纷"], n)
        logit = -3 + 1.2 * calls + 1.0 * (category == "劳资纠纷")
        frames.append(
            pd.DataFrame(
                {
                    "as_of": as_of,
                    "case_id": [f"C{i:04d}" for i in range(n)],
                    "district": "东湖区",
                    "category": category,
                    "opened_at": pd.Timestamp("2024-12-01"),
                    "profile_category": category,
                    "hotline_linked_calls_7d": calls,
                    LABEL: (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_the_rate_keeps_every_escalation_and_fills_the_rows_with_others() -> None:
    labels = pd.Series([1] * 100 + [0] * 900)
    assert negative_rate(labels, None) == 1.0
    assert negative_rate(labels, 1000) == 1.0  # not above the limit: every row
    assert negative_rate(labels, 400) == pytest.approx(300 / 900)
    assert negative_rate(labels, 50) == 0.0  # fewer rows than escalations: only escalations (one a date)
    assert kept_on_date(0, 0.5) == 0 and kept_on_date(10, 0.0) == 1 and kept_on_date(10, 0.34) == 3


def test_each_date_keeps_its_escalations_and_a_seeded_share_of_the_others_weighted_back() -> None:
    frame = weekly(n=100)
    kept, weights = sample_negatives(frame, LABEL, 0.25, seed=1)
    assert weights is not None and len(weights) == len(kept)
    assert kept.index.is_monotonic_increasing  # the frame's order
    assert (kept.index.isin(frame.index[frame[LABEL] == 1])).sum() == frame[LABEL].sum()
    for as_of, day in frame.groupby("as_of"):
        negatives = int((day[LABEL] == 0).sum())
        mine = kept["as_of"] == as_of
        others = (kept.loc[mine, LABEL] == 0).to_numpy()
        assert others.sum() == round(negatives * 0.25)
        np.testing.assert_array_equal(weights[mine.to_numpy()][others], negatives / round(negatives * 0.25))
        np.testing.assert_array_equal(weights[mine.to_numpy()][~others], 1.0)
        # the weights give the date its rows back
        assert weights[mine.to_numpy()].sum() == pytest.approx(len(day))
    again, _ = sample_negatives(frame, LABEL, 0.25, seed=1)
    pd.testing.assert_frame_equal(kept, again)
    assert not kept.index.equals(sample_negatives(frame, LABEL, 0.25, seed=2)[0].index)
    # a date keeps the same rows whichever dates are fitted with it
    late = frame[frame["as_of"] >= WEEKS[10]]
    assert sample_negatives(late, LABEL, 0.25, seed=1)[0].index.equals(kept.index[kept["as_of"] >= WEEKS[10]])


def test_at_rate_one_nothing_is_dropped_or_weighted() -> None:
    frame = weekly(n=50)
    kept, weights = sample_negatives(frame, LABEL, 1.0, seed=1)
    assert kept is frame and weights is None


def test_below_the_limit_training_is_byte_identical_to_training_without_one() -> None:
    matrix = weekly()
    unlimited = train(matrix, [LOGISTIC], PLAN)
    limited = train(matrix, [LOGISTIC], replace(PLAN, max_training_rows=len(matrix)))
    assert limited.negative_rate == unlimited.negative_rate == 1.0
    assert pickle.dumps(limited.model) == pickle.dumps(unlimited.model)
    pd.testing.assert_frame_equal(limited.validation, unlimited.validation)


def test_above_the_limit_models_fit_on_the_weighted_sample_and_are_judged_on_every_held_out_row() -> None:
    matrix = weekly()
    positives = int(matrix[LABEL].sum())
    plan = replace(PLAN, max_training_rows=positives + (len(matrix) - positives) // 4)
    result = train(matrix, [LOGISTIC], plan)
    assert result.negative_rate == pytest.approx(((len(matrix) - positives) // 4) / (len(matrix) - positives))
    # every held-out row is scored: the metrics' n per date is the date's snapshot count
    held = matrix[matrix["as_of"].isin(result.validation_dates)].groupby("as_of").size()
    model_rows = result.validation[result.validation["scorer"] == "model"].set_index("as_of")["n"]
    assert model_rows.sort_index().tolist() == held.sort_index().astype(float).tolist()
    assert len(result.evaluation.predictions) == held.sum()
    # the fold model: fitted on the weighted sample, its map on every calibration row
    fold = result.evaluation.folds[0]
    sampled = replace(PLAN, negative_rate=result.negative_rate)
    fitting = matrix[matrix["as_of"].isin(fold.fit_dates)]
    kept, weights = sample_negatives(fitting, LABEL, result.negative_rate, PLAN.seed)
    assert weights is not None and len(kept) < len(fitting)
    direct = make_estimator(LOGISTIC, PLAN.seed).fit(
        kept[NAMES], kept[LABEL], scale__sample_weight=weights, classify__sample_weight=weights
    )
    fitted = fit_base(matrix, LOGISTIC, fold.fit_dates, sampled)
    np.testing.assert_array_equal(fitted[-1].coef_, direct[-1].coef_)
    unweighted = make_estimator(LOGISTIC, PLAN.seed).fit(kept[NAMES], kept[LABEL])
    assert not np.allclose(fitted[-1].intercept_, unweighted[-1].intercept_)
    later = matrix[matrix["as_of"].isin(fold.calibration_dates)]
    expected = calibrate(direct, later[NAMES], later[LABEL].to_numpy(), "sigmoid")
    tested = matrix[matrix["as_of"].isin(fold.test_dates)]
    np.testing.assert_allclose(
        result.evaluation.models[0].predict_proba(tested[NAMES]), expected.predict_proba(tested[NAMES])
    )
    assert base_model(result.evaluation.models[0])[-1].coef_.tolist() == direct[-1].coef_.tolist()


def test_the_settings_set_the_row_limit_and_the_threads_of_the_plan() -> None:
    plan = training_plan(Settings(training_max_rows=1000, training_threads=1))
    assert (plan.max_training_rows, plan.threads, plan.negative_rate) == (1000, 1, 1.0)
    unlimited = training_plan(Settings(training_max_rows=0, training_threads=0))
    assert (unlimited.max_training_rows, unlimited.threads) == (None, None)
