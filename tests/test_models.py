"""List metrics, temporal hold-out, reasons and scoring on small hand-made data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from contracts.records import LIST_COLUMNS, check_list
from features.dictionary import FeatureDoc
from models.explain import NO_REASON, contributions, reasons
from models.metrics import precision_at_k, recall_at_k, top_k
from models.scoring import bands, rank_cases
from models.train import LABEL, fit, holdout_dates, select_feature_set

DOCS = (
    FeatureDoc("profile_category", "category", "-", "categorical", "纠纷类型为{value}", "it is {value}"),
    FeatureDoc(
        "hotline_linked_calls_7d", "calls", "7 days", "numeric", "近7天来电{value}次", "{value} calls"
    ),
    FeatureDoc("profile_amount_missing", "no amount", "-", "flag", "金额未登记", "no amount recorded"),
)


def test_precision_and_recall_at_k_break_ties_in_expectation() -> None:
    labels = np.array([1, 0, 1, 0, 0, 1])
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.1, 0.0])
    assert precision_at_k(labels, scores, 1) == 1.0
    assert precision_at_k(labels, scores, 2) == pytest.approx((1 + 1 / 3) / 2)
    assert recall_at_k(labels, scores, 4) == pytest.approx(2 / 3)
    assert top_k(101, 0.05) == 6


def test_holdout_keeps_label_windows_before_the_first_validation_date() -> None:
    dates = [date(2025, 1, 1) + pd.Timedelta(days=7 * i) for i in range(12)]
    fitting, validation = holdout_dates(dates, 30, 0.25)
    assert validation == dates[-3:]
    assert max(fitting) + pd.Timedelta(days=30) <= validation[0]
    assert fitting == dates[:5]


def _matrix(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    calls = rng.poisson(1.0, n).astype(float)
    category = rng.choice(["劳资纠纷", "邻里纠纷"], n)
    logit = -3 + 1.2 * calls + 1.0 * (category == "劳资纠纷")
    return pd.DataFrame(
        {
            "as_of": date(2025, 1, 1),
            "case_id": [f"C{i:04d}" for i in range(n)],
            "district": "东湖区",
            "town": None,
            "category": category,
            "opened_at": pd.Timestamp("2024-12-01"),
            "profile_category": category,
            "hotline_linked_calls_7d": calls,
            "profile_amount_missing": rng.integers(0, 2, n).astype(float),
            LABEL: (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def test_contributions_add_up_to_the_log_odds() -> None:
    matrix = _matrix()
    model = fit(matrix, DOCS, seed=1)
    features = matrix[[d.name for d in DOCS]]
    pushes = contributions(model, features)
    assert list(pushes.columns) == [d.name for d in DOCS]
    np.testing.assert_allclose(
        pushes.sum(axis=1) + model[-1].intercept_[0], model.decision_function(features), rtol=1e-9
    )


def test_reasons_name_what_raised_the_score() -> None:
    matrix = _matrix()
    model = fit(matrix, DOCS, seed=1)
    case = pd.DataFrame(
        {"profile_category": ["劳资纠纷"], "hotline_linked_calls_7d": [6.0], "profile_amount_missing": [0.0]}
    )
    calm = pd.DataFrame(
        {"profile_category": ["邻里纠纷"], "hotline_linked_calls_7d": [0.0], "profile_amount_missing": [0.0]}
    )
    assert reasons(model, case, DOCS, "zh").iloc[0] == "近7天来电6次；纠纷类型为劳资纠纷"
    assert reasons(model, case, DOCS, "en").iloc[0] == "6 calls; it is 劳资纠纷"
    assert reasons(model, calm, DOCS, "zh").iloc[0] == NO_REASON["zh"]


def test_rank_cases_orders_by_score_then_case_id_with_bands() -> None:
    matrix = _matrix()
    model = fit(matrix, DOCS, seed=1)
    listed = rank_cases(
        model,
        matrix,
        DOCS,
        model_version="m/v1",
        as_of=date(2025, 1, 1),
        band_high=0.5,
        band_medium=0.2,
        language="zh",
    )
    assert listed["rank"].tolist() == list(range(1, len(matrix) + 1))
    assert listed["score"].is_monotonic_decreasing
    ties = listed.groupby("score")["case_id"].apply(lambda s: s.is_monotonic_increasing)
    assert ties.all()
    assert set(listed["band"]) <= {"high", "medium", "low"}
    assert bands(pd.Series([0.5, 0.49, 0.2, 0.19]), 0.5, 0.2).tolist() == ["high", "medium", "medium", "low"]


def test_a_day_with_no_open_case_gives_an_empty_list() -> None:
    model = fit(_matrix(), DOCS, seed=1)
    listed = rank_cases(
        model,
        _matrix().iloc[0:0],
        DOCS,
        model_version="m/v1",
        as_of=date(2025, 1, 1),
        band_high=0.5,
        band_medium=0.2,
        language="zh",
    )
    assert listed.empty
    assert list(listed.columns) == list(LIST_COLUMNS)
    check_list(listed)


def test_feature_set_selection_keeps_the_better_list_and_prefers_the_smaller_on_ties() -> None:
    rng = np.random.default_rng(3)
    frames = []
    for week in range(12):
        frame = _matrix(n=300, seed=week)
        frame["as_of"] = date(2025, 1, 1) + pd.Timedelta(days=7 * week)
        frame["noise"] = rng.normal(size=len(frame))
        frames.append(frame)
    matrix = pd.concat(frames, ignore_index=True)
    noise = FeatureDoc("noise", "noise", "-", "numeric", "噪声{value}", "noise {value}")
    candidates = {"noise only": (noise,), "signal": DOCS, "signal again": DOCS}
    best, result, scores = select_feature_set(matrix, candidates, 30, 0.25, 0.05, 20, seed=1)
    assert best == "signal"
    assert scores["signal"] > scores["noise only"]
    assert result.feature_names == tuple(d.name for d in DOCS)
