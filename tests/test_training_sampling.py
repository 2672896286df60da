"""Negatives subsampled with weights on a large training matrix (models.sampling, models.train,
pipelines.train_parts): the kept rows depend on each row's own keys, the weights enter the fits, the
probability maps and every metric, and the weighted metrics are unbiased over seeds."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.settings import Settings
from features.dictionary import FeatureDoc
from models.estimator import base_model, calibrate, make_estimator
from models.fairness import fairness_audit
from models.metrics import list_metrics, probability_metrics
from models.sampling import (
    ESCALATION_RATE,
    RATE,
    WEIGHT,
    draws,
    escalation_rate_of,
    kept,
    rate_of,
    sampling_rates,
    subsampled,
)
from models.train import LABEL, base_rate, fit_base, snapshot_rows, train
from pipelines.configuration import training_plan
from pipelines.train_parts import kept_rows, stacked_columns
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


def _limit(matrix: pd.DataFrame, share: float) -> int:
    """The row limit that keeps about `share` of the matrix's non-escalations (and every escalation: they
    fill at most half of it)."""
    positives = int(matrix[LABEL].sum())
    limit = positives + round(share * (len(matrix) - positives))
    assert positives <= limit / 2, "escalations would be sampled too: a larger share"
    return limit


def test_the_rates_keep_every_escalation_up_to_half_the_rows_and_fill_the_rest_with_others() -> None:
    labels = pd.Series([1] * 100 + [0] * 900)
    assert sampling_rates(labels, None) == (1.0, 1.0)
    assert sampling_rates(labels, 1000) == (1.0, 1.0)  # not above the limit: every row
    assert sampling_rates(labels, 400) == (1.0, pytest.approx(300 / 900))
    assert sampling_rates(labels, 200) == (1.0, pytest.approx(100 / 900))  # escalations fill half: all kept
    # more escalations than half the limit (a province): each class about half of it
    assert sampling_rates(labels, 50) == (pytest.approx(25 / 100), pytest.approx(25 / 900))
    # few non-escalations: kept whole, the escalations fill the rest
    assert sampling_rates(pd.Series([1] * 900 + [0] * 100), 400) == (pytest.approx(300 / 900), 1.0)


def test_the_draw_is_a_keyed_hash_of_the_case_and_the_date() -> None:
    ids, days = pd.Series(["C1", "C2", "C1"]), pd.Series([WEEKS[0], WEEKS[0], WEEKS[1]])
    u = draws(ids, days, seed=1)
    assert ((u >= 0) & (u < 1)).all() and len(set(u)) == 3
    np.testing.assert_array_equal(draws(ids[::-1], days[::-1], seed=1), u[::-1])  # a row's own keys only
    np.testing.assert_array_equal(draws(ids, pd.to_datetime(days), seed=1), u)  # dates or timestamps
    assert not np.isin(draws(ids, days, seed=2), u).any()
    many = draws(pd.Series([f"C{i}" for i in range(20000)]), pd.Series([WEEKS[0]] * 20000), seed=3)
    assert abs(float(np.mean(many < 0.25)) - 0.25) < 0.01  # uniform


def test_each_date_keeps_its_escalations_and_the_rows_drawn_below_the_rate_weighted_back() -> None:
    frame = weekly(n=100)
    sampled = subsampled(frame, LABEL, _limit(frame, 0.4), seed=1)
    rate = rate_of(sampled)
    assert 0.39 < rate < 0.41 and sampled.attrs[RATE] == rate and sampled.columns[-1] == WEIGHT
    u = pd.Series(draws(frame["case_id"], frame["as_of"], seed=1), index=frame.index)
    expected = frame[(frame[LABEL] == 1) | (u < rate)]
    pd.testing.assert_frame_equal(
        sampled[["as_of", "case_id"]], expected[["as_of", "case_id"]].reset_index(drop=True)
    )  # in the frame's order
    for as_of, day in sampled.groupby("as_of"):
        whole = frame[frame["as_of"] == as_of]
        negatives = int((whole[LABEL] == 0).sum())
        others = day[LABEL].to_numpy() == 0
        np.testing.assert_array_equal(day[WEIGHT].to_numpy()[others], negatives / others.sum())
        np.testing.assert_array_equal(day[WEIGHT].to_numpy()[~others], 1.0)
        assert day[WEIGHT].sum() == pytest.approx(len(whole))  # the weights give the date its rows back
    assert snapshot_rows(sampled) == len(frame) and base_rate(sampled) == pytest.approx(base_rate(frame))
    pd.testing.assert_frame_equal(subsampled(frame, LABEL, _limit(frame, 0.4), seed=1), sampled)
    assert not subsampled(frame, LABEL, _limit(frame, 0.4), seed=2)["case_id"].equals(sampled["case_id"])
    # shuffled rows keep the same rows with the same weights
    shuffled = subsampled(frame.sample(frac=1, random_state=0), LABEL, _limit(frame, 0.4), seed=1)
    pd.testing.assert_frame_equal(
        shuffled.sort_values(["as_of", "case_id"], ignore_index=True)[["as_of", "case_id", WEIGHT]],
        sampled.sort_values(["as_of", "case_id"], ignore_index=True)[["as_of", "case_id", WEIGHT]],
    )


def test_a_date_without_a_draw_below_the_rate_keeps_its_smallest_draw() -> None:
    frame = weekly(n=50)
    days, escalated = frame["as_of"].to_numpy(), frame[LABEL].to_numpy() == 1
    u = draws(frame["case_id"], frame["as_of"], seed=4)
    keep, weights = kept(days, escalated, u, 0.0)
    for as_of in WEEKS:
        on = days == as_of
        others = np.flatnonzero(on & ~escalated)
        assert keep[others].sum() == 1 and keep[others[np.argmin(u[others])]]
        assert keep[on & escalated].all()
    assert weights.sum() == pytest.approx(len(frame))


def test_where_escalations_would_fill_more_than_half_they_are_sampled_too_and_weighted_back() -> None:
    frame = weekly(n=100)
    positives = int(frame[LABEL].sum())
    limit = positives  # escalations alone would fill it: each class gets about half
    sampled = subsampled(frame, LABEL, limit, seed=1)
    escalation_rate, rate = escalation_rate_of(sampled), rate_of(sampled)
    assert escalation_rate == pytest.approx(0.5) and rate == pytest.approx(
        0.5 * positives / (len(frame) - positives)
    )
    assert sampled.attrs[ESCALATION_RATE] == escalation_rate
    assert abs(len(sampled) - limit) < 0.1 * limit
    u = pd.Series(draws(frame["case_id"], frame["as_of"], seed=1), index=frame.index)
    for as_of, day in sampled.groupby("as_of"):
        whole = frame[frame["as_of"] == as_of]
        for label in (0, 1):
            mine, all_of = day[day[LABEL] == label], whole[whole[LABEL] == label]
            drawn = all_of[u[all_of.index] < (escalation_rate if label else rate)]
            expected = drawn if len(drawn) else all_of.loc[[u[all_of.index].idxmin()]]  # at least one
            assert sorted(mine["case_id"]) == sorted(expected["case_id"])
            np.testing.assert_array_equal(mine[WEIGHT].to_numpy(), len(all_of) / len(mine))
    # each date's rows and escalations given back exactly, so the base rate too
    assert snapshot_rows(sampled) == len(frame) and base_rate(sampled) == pytest.approx(base_rate(frame))


@pytest.mark.parametrize("share", [0.4, None])  # None: escalations sampled too
def test_one_file_a_date_or_a_date_cut_into_three_files_keep_the_same_rows_and_weights(
    tmp_path: Path, share: float | None
) -> None:
    frame = weekly(n=60)
    limit = _limit(frame, share) if share is not None else int(frame[LABEL].sum())
    whole = subsampled(frame, LABEL, limit, seed=7)
    layouts = {
        "dates": [frame[frame["as_of"] == day] for day in WEEKS],
        "parts": [
            frame[(frame["as_of"] == day) & (frame.index % 3 == part)] for day in WEEKS for part in range(3)
        ],
    }
    for name, pieces in layouts.items():
        files = []
        for number, piece in enumerate(pieces):
            files.append(tmp_path / f"{name}-{number:03d}.parquet")
            piece.to_parquet(files[-1], index=False)
        sample = kept_rows(files, LABEL, limit, seed=7)
        assert sample is not None and sample.rate == rate_of(whole)
        assert sample.escalation_rate == escalation_rate_of(whole) == (1.0 if share else 0.5)
        stacked = stacked_columns(files, sample=sample)
        assert stacked.attrs[RATE] == rate_of(whole)
        assert stacked.attrs[ESCALATION_RATE] == escalation_rate_of(whole)
        if name == "dates":  # the same order as the whole matrix's
            pd.testing.assert_frame_equal(stacked, whole)
        ordered = stacked.sort_values(["as_of", "case_id"], ignore_index=True)
        pd.testing.assert_frame_equal(ordered, whole.sort_values(["as_of", "case_id"], ignore_index=True))
    assert kept_rows(files, LABEL, len(frame), seed=7) is None  # not above the limit: every row


def _synthetic_dates(seed: int = 0, n: int = 1500) -> pd.DataFrame:
    """Three dates of n rows, fixed labels (8% escalations) and scores (higher for escalations, with ties)."""
    rng = np.random.default_rng(seed)
    frames = []
    for day in WEEKS[:3]:
        labels = (rng.random(n) < 0.08).astype(int)
        scores = np.round(rng.normal(labels * 1.5, 1.0), 2)
        frames.append(
            pd.DataFrame(
                {"as_of": day, "case_id": [f"C{i:05d}" for i in range(n)], LABEL: labels, "score": scores}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _figures(frame: pd.DataFrame, weighted: bool) -> np.ndarray:
    """Per date: weighted hits in the top 5 %, precision there, Brier score of the scores' sigmoid; and the
    base rate's numerator and denominator over every date."""
    out = []
    weights = frame[WEIGHT] if weighted and WEIGHT in frame else pd.Series(1.0, index=frame.index)
    for _, day in frame.groupby("as_of"):
        w = weights[day.index].to_numpy()
        labels, scores = day[LABEL].to_numpy(), day["score"].to_numpy()
        listed = list_metrics(labels, scores, 0.05, 20, w)
        probability = 1 / (1 + np.exp(-(scores - 2.5)))
        out += [
            listed["precision_at_k"] * listed["k"],
            listed["precision_at_k"],
            probability_metrics(labels, probability, weights=w)["brier"],
        ]
    return np.array([*out, float(weights @ frame[LABEL]), float(weights.sum())])


@pytest.mark.parametrize(
    ("weighted", "both"),
    [(True, False), (False, False), (True, True)],
    ids=["weighted", "unweighted", "weighted, escalations sampled too"],
)
def test_the_weighted_metrics_of_a_sampled_matrix_are_unbiased_over_seeds_and_unweighted_ones_are_not(
    weighted: bool, both: bool
) -> None:
    frame = _synthetic_dates()
    truth = _figures(frame, weighted=True)
    limit = int(frame[LABEL].sum()) if both else _limit(frame, 0.2)
    seeds = np.array([_figures(subsampled(frame, LABEL, limit, seed), weighted) for seed in range(400)])
    error = seeds.std(axis=0, ddof=1) / np.sqrt(len(seeds))
    within = np.abs(seeds.mean(axis=0) - truth) <= 4 * error + 1e-9 * np.abs(truth)
    if both:  # the Brier scores and the base rate's terms (sums over rows) unbiased; the top-share figures,
        # whose cut is itself estimated from heavy rows (negatives here weigh 15-23), within 6 % (measured:
        # up to 5.7 %, shrinking with the rows a date keeps)
        linear = [2, 5, 8, 9, 10]  # each date's Brier score, the base rate's two sums
        assert within[linear].all(), (seeds.mean(axis=0), truth, error)
        assert np.allclose(seeds.mean(axis=0), truth, rtol=0.06)
    elif weighted:
        assert within.all(), (seeds.mean(axis=0), truth, error)
    else:  # precision inflated about 1/rate in odds; the base rate's denominator shrunk to the kept rows
        assert not within[1::3][:3].any() and not within[-1]


def test_at_rate_one_nothing_is_dropped_or_weighted() -> None:
    frame = weekly(n=50)
    assert subsampled(frame, LABEL, len(frame), seed=1) is frame
    assert subsampled(frame, LABEL, None, seed=1) is frame
    assert rate_of(frame) == 1.0 and snapshot_rows(frame) == len(frame)


def test_below_the_limit_training_is_byte_identical_to_training_without_one() -> None:
    matrix = weekly()
    unlimited = train(matrix, [LOGISTIC], PLAN)
    limited = train(matrix, [LOGISTIC], replace(PLAN, max_training_rows=len(matrix)))
    assert limited.negative_rate == unlimited.negative_rate == 1.0
    assert pickle.dumps(limited.model) == pickle.dumps(unlimited.model)
    pd.testing.assert_frame_equal(limited.validation, unlimited.validation)
    assert WEIGHT not in limited.evaluation.predictions


def test_above_the_limit_models_fit_calibrate_and_are_judged_on_the_weighted_sample() -> None:
    matrix = weekly()
    plan = replace(PLAN, max_training_rows=_limit(matrix, 0.4))
    result = train(matrix, [LOGISTIC], plan)
    sampled = subsampled(matrix, LABEL, plan.max_training_rows, plan.seed)
    assert result.negative_rate == rate_of(sampled) < 0.45 and result.escalation_rate == 1.0
    # a matrix already subsampled (by the flow) is trained on as it is: the same model
    again = train(sampled, [LOGISTIC], plan)
    assert pickle.dumps(again.model) == pickle.dumps(result.model)
    # the held-out figures stand for every row of their dates: n per date is the date's snapshot count
    held = matrix[matrix["as_of"].isin(result.validation_dates)].groupby("as_of").size()
    model_rows = result.validation[result.validation["scorer"] == "model"].set_index("as_of")["n"]
    np.testing.assert_allclose(model_rows.sort_index().to_numpy(), held.sort_index().to_numpy(dtype=float))
    predictions = result.evaluation.predictions
    assert len(predictions) < held.sum() and predictions[WEIGHT].sum() == pytest.approx(held.sum())
    # the fold model: fitted on the weighted rows, its map fitted on the weighted calibration rows
    fold = result.evaluation.folds[0]
    fitting = sampled[sampled["as_of"].isin(fold.fit_dates)]
    weights = fitting[WEIGHT].to_numpy()
    direct = make_estimator(LOGISTIC, PLAN.seed).fit(
        fitting[NAMES], fitting[LABEL], scale__sample_weight=weights, classify__sample_weight=weights
    )
    fitted = fit_base(sampled, LOGISTIC, fold.fit_dates, plan)
    np.testing.assert_array_equal(fitted[-1].coef_, direct[-1].coef_)
    unweighted = make_estimator(LOGISTIC, PLAN.seed).fit(fitting[NAMES], fitting[LABEL])
    assert not np.allclose(fitted[-1].intercept_, unweighted[-1].intercept_)
    later = sampled[sampled["as_of"].isin(fold.calibration_dates)]
    expected = calibrate(direct, later[NAMES], later[LABEL].to_numpy(), "sigmoid", later[WEIGHT].to_numpy())
    tested = matrix[matrix["as_of"].isin(fold.test_dates)]
    np.testing.assert_allclose(
        result.evaluation.models[0].predict_proba(tested[NAMES]), expected.predict_proba(tested[NAMES])
    )
    assert base_model(result.evaluation.models[0])[-1].coef_.tolist() == direct[-1].coef_.tolist()
    # the weighted map's mean probability on its rows is their weighted escalation rate (not inflated)
    mean = np.average(expected.predict_proba(later[NAMES])[:, 1], weights=later[WEIGHT])
    assert mean == pytest.approx(np.average(later[LABEL], weights=later[WEIGHT]), abs=0.01)
    assert mean < later[LABEL].mean() - 0.05
    # the fairness audit counts every case its rows stand for
    audit = fairness_audit(predictions, min_cases=1, min_positives=1)
    assert audit.loc[0, "n"] == held.sum() and audit.loc[0, "positives"] == pytest.approx(
        float((predictions["label"] * predictions[WEIGHT]).sum())
    )


def test_the_settings_set_the_row_limit_and_the_threads_of_the_plan() -> None:
    plan = training_plan(Settings(training_max_rows=1000, training_threads=1))
    assert (plan.max_training_rows, plan.threads, plan.negative_rate) == (1000, 1, 1.0)
    unlimited = training_plan(Settings(training_max_rows=0, training_threads=0))
    assert (unlimited.max_training_rows, unlimited.threads) == (None, None)
