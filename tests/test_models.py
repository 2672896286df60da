"""List metrics, temporal hold-out, reasons and scoring on small hand-made data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.records import LIST_COLUMNS, check_list
from features.dictionary import FeatureDoc
from models.estimator import Blend, Candidate, base_model, calibrate, make_estimator, refitted
from models.explain import NO_REASON, contributions, importance, reasons
from models.folds import rolling_origin_folds
from models.metrics import hits_bounds_at_k, listed_flags, precision_at_k, recall_at_k, subset_metrics, top_k
from models.promotion import decide
from models.rules import rule_scores
from models.scoring import bands, rank_cases
from models.train import LABEL, CannotFit, fit_calibrated, refit_calibrated, train, usable_folds
from tests.builders import make_candidate, small_plan

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
    assert hits_bounds_at_k(labels, scores, 2) == (1.0, 2.0)
    assert hits_bounds_at_k(labels, scores, 4) == (2.0, 2.0)
    assert hits_bounds_at_k(labels, scores, 3) == (1.0, 2.0)


WEEKS = [date(2025, 1, 1) + pd.Timedelta(days=7 * i) for i in range(30)]


def test_rolling_folds_never_let_a_label_window_reach_past_what_it_is_judged_on() -> None:
    folds = rolling_origin_folds(WEEKS, 30, validation_share=0.3, n_folds=3, calibration_share=0.25)
    assert [f.test_dates for f in folds] == [tuple(WEEKS[21:24]), tuple(WEEKS[24:27]), tuple(WEEKS[27:30])]
    for fold in folds:
        assert max(fold.fit_dates) + pd.Timedelta(days=30) <= min(fold.calibration_dates)
        assert max(fold.calibration_dates) + pd.Timedelta(days=30) <= min(fold.test_dates)
    first = folds[0]
    assert first.calibration_dates == tuple(WEEKS[13:17])
    assert first.fit_dates == tuple(WEEKS[:9])
    assert len(folds[2].fit_dates) > len(first.fit_dates)


def test_a_fold_without_escalations_to_learn_from_is_left_out() -> None:
    folds = rolling_origin_folds(WEEKS, 30, validation_share=0.3, n_folds=3, calibration_share=0.25)
    matrix = pd.DataFrame({"as_of": WEEKS, LABEL: [0] * 9 + [1, 0] * 10 + [1]})
    assert usable_folds(matrix, folds) == folds[1:]
    with pytest.raises(CannotFit, match="no validation fold"):
        usable_folds(matrix.assign(**{LABEL: 0}), folds)


def test_folds_refuse_too_short_a_history() -> None:
    with pytest.raises(ValueError, match="not enough history"):
        rolling_origin_folds(WEEKS[:6], 30, validation_share=0.5, n_folds=1, calibration_share=0.5)


LOGISTIC = make_candidate("logistic", "logistic", DOCS, {"C": 0.5})
TREES = make_candidate("trees", "trees", DOCS, {"max_iter": 30, "min_samples_leaf": 20})


def fit(matrix: pd.DataFrame, candidate: Candidate = LOGISTIC) -> object:
    """The candidate's pipeline fitted on the whole matrix."""
    return make_estimator(candidate, seed=1).fit(matrix[[d.name for d in DOCS]], matrix[LABEL])


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
    model = fit(matrix)
    features = matrix[[d.name for d in DOCS]]
    pushes = contributions(model, features)
    assert list(pushes.columns) == [d.name for d in DOCS]
    np.testing.assert_allclose(
        pushes.sum(axis=1) + model[-1].intercept_[0], model.decision_function(features), rtol=1e-9
    )


def test_reasons_name_what_raised_the_score() -> None:
    matrix = _matrix()
    model = fit(matrix)
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
    model = fit(matrix)
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
    model = fit(_matrix())
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


def _weekly(weeks: int = 30, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frames = []
    for week in range(weeks):
        frame = _matrix(n=n, seed=week)
        frame["as_of"] = WEEKS[week]
        frame["noise"] = rng.normal(size=len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


PLAN = small_plan()


def test_training_chooses_the_better_candidate_over_folds_and_prefers_the_earlier_on_ties() -> None:
    noise = FeatureDoc("noise", "noise", "-", "numeric", "噪声{value}", "noise {value}")
    candidates = [
        make_candidate("noise only", "logistic", (noise,), {}),
        LOGISTIC,
        make_candidate("signal again", "logistic", DOCS, {"C": 0.5}),
    ]
    result = train(_weekly(), candidates, PLAN)
    assert result.candidate.name == "logistic"
    grid = result.grid.set_index("candidate")
    assert grid.loc["logistic", "precision_at_k"] > grid.loc["noise only", "precision_at_k"]
    assert grid["chosen"].tolist() == [False, True, False]
    assert result.feature_names == tuple(d.name for d in DOCS)
    assert set(result.validation_dates) == set(WEEKS[21:30])
    assert max(result.fit_dates) + pd.Timedelta(days=30) <= min(result.calibration_dates)
    assert set(result.subsets["subset_kind"]) == {"new_vs_ongoing", "district", "category"}
    assert result.summary["model.ece"] < 0.1


def test_sigmoid_calibration_turns_overconfident_scores_into_observed_rates() -> None:
    matrix = _weekly(weeks=4, n=1000)
    base = fit(matrix[matrix["as_of"] == WEEKS[0]])
    later = matrix[matrix["as_of"] > WEEKS[0]]
    shifted = later.assign(**{LABEL: (later[LABEL].to_numpy() * (np.arange(len(later)) % 2)).astype(int)})
    model = calibrate(base, shifted[[d.name for d in DOCS]], shifted[LABEL].to_numpy(), "sigmoid")
    predicted = model.predict_proba(shifted[[d.name for d in DOCS]])[:, 1]
    assert predicted.mean() == pytest.approx(shifted[LABEL].mean(), abs=0.01)
    assert base_model(model) is base


def test_a_refitted_model_keeps_its_map_slope_and_matches_the_calibration_rate() -> None:
    matrix = _weekly(weeks=6, n=800)
    names = [d.name for d in DOCS]
    early, later = matrix[matrix["as_of"] <= WEEKS[2]], matrix[matrix["as_of"] > WEEKS[2]]
    model = calibrate(fit(early), later[names], later[LABEL].to_numpy(), "sigmoid")
    again = fit(matrix)
    moved = refitted(model, again, later[names], later[LABEL].to_numpy())
    assert base_model(moved) is again
    assert base_model(model) is not again  # the original is left as it was
    slopes = [m.calibrated_classifiers_[0].calibrators[0].a_ for m in (model, moved)]
    assert slopes[0] == slopes[1]
    assert moved.predict_proba(later[names])[:, 1].mean() == pytest.approx(later[LABEL].mean(), abs=1e-9)


def test_training_refits_the_chosen_model_on_every_matured_date() -> None:
    matrix = _weekly()
    result = train(matrix, [LOGISTIC], replace(PLAN, refit_final=True))
    held = train(matrix, [LOGISTIC], PLAN)
    assert result.fit_dates == tuple(WEEKS)  # all matured by the training date, the calibration dates too
    assert len(held.fit_dates) == 18
    assert result.calibration_dates == held.calibration_dates
    names = [d.name for d in DOCS]
    direct = make_estimator(LOGISTIC, seed=1).fit(
        matrix.loc[matrix["as_of"].isin(result.fit_dates), names],
        matrix.loc[matrix["as_of"].isin(result.fit_dates), LABEL],
    )
    np.testing.assert_allclose(base_model(result.model)[-1].coef_, direct[-1].coef_, rtol=1e-9)
    later = matrix[matrix["as_of"].isin(result.calibration_dates)]
    mean = result.model.predict_proba(later[names])[:, 1].mean()
    assert mean == pytest.approx(later[LABEL].mean(), abs=1e-9)


def test_a_blend_is_refitted_part_by_part() -> None:
    blend = make_candidate("blend", "blend", DOCS, {}, parts=(LOGISTIC, TREES))
    matrix = _weekly(weeks=8, n=600)
    names = [d.name for d in DOCS]
    plan = replace(PLAN, refit_final=True)
    first, later_dates = WEEKS[:4], WEEKS[4:8]
    model = fit_calibrated(matrix, blend, first, later_dates, plan)
    again = refit_calibrated(matrix, model, blend, WEEKS[:8], later_dates, plan)
    parts = base_model(again)
    assert isinstance(parts, Blend)
    direct = make_estimator(LOGISTIC, seed=1).fit(matrix[names], matrix[LABEL])
    np.testing.assert_allclose(base_model(parts.members[0])[-1].coef_, direct[-1].coef_, rtol=1e-9)
    later = matrix[matrix["as_of"].isin(later_dates)]
    assert again.predict_proba(later[names])[:, 1].mean() == pytest.approx(later[LABEL].mean(), abs=1e-9)


def test_reasons_of_a_linear_model_are_coefficient_times_value() -> None:
    matrix = _matrix()
    model = fit(matrix)
    features = matrix[[d.name for d in DOCS]]
    pushes = contributions(model, features)
    scale = model.named_steps["scale"]
    column = list(model[:-1].get_feature_names_out()).index("hotline_linked_calls_7d")
    expected = (
        model[-1].coef_[0][column]
        * (np.log1p(features["hotline_linked_calls_7d"]) - scale.mean_[column])
        / scale.scale_[column]
    )
    np.testing.assert_allclose(pushes["hotline_linked_calls_7d"], expected, rtol=1e-9)


def test_tree_reasons_add_up_to_the_trees_log_odds() -> None:
    matrix = _matrix(n=800)
    model = fit(matrix, TREES)
    features = matrix[[d.name for d in DOCS]]
    pushes = contributions(model, features)
    assert list(pushes.columns) == [d.name for d in DOCS]
    spread = model.decision_function(features) - pushes.sum(axis=1).to_numpy()
    np.testing.assert_allclose(spread, spread[0], atol=1e-6)
    assert importance(model, features).loc[0, "feature"] == "hotline_linked_calls_7d"


def test_listed_flags_and_subset_metrics_by_hand() -> None:
    predictions = pd.DataFrame(
        {
            "as_of": [WEEKS[0]] * 4 + [WEEKS[1]] * 2,
            "case_id": ["a", "b", "c", "d", "a", "b"],
            "district": ["东", "东", "西", "西", "东", "西"],
            "category": ["x"] * 6,
            "case_age": ["new", "ongoing", "ongoing", "new", "ongoing", "ongoing"],
            "label": [1, 0, 1, 0, 0, 1],
            "score": [0.9, 0.5, 0.5, 0.1, 0.2, 0.3],
        }
    )
    predictions["listed"] = listed_flags(predictions, 0.5)
    assert predictions["listed"].tolist() == [True, True, False, False, False, True]
    table = subset_metrics(predictions).set_index(["subset_kind", "subset"])
    east = table.loc[("district", "东")]
    assert (east["n"], east["positives"], east["listed"]) == (3, 1, 2)
    assert east["precision_at_k"] == 0.5
    assert east["recall_at_k"] == 1.0
    west = table.loc[("district", "西")]
    assert west["precision_at_k"] == 1.0
    assert west["recall_at_k"] == 0.5
    assert table.loc[("new_vs_ongoing", "new"), "roc_auc"] == 1.0


def test_rule_ranks_by_calls_then_by_the_categorys_rate() -> None:
    frame = pd.DataFrame(
        {"hotline_linked_calls_7d": [2.0, 2.0, 3.0, 0.0], "context_category_rate": [5.0, 40.0, 0.0, 100.0]}
    )
    order = np.argsort(-rule_scores(frame))
    assert order.tolist() == [2, 1, 0, 3]


def test_high_band_is_capped_at_the_teams_capacity() -> None:
    scores = pd.Series([0.9, 0.8, 0.7, 0.1])
    assert bands(scores, 0.5, 0.2, high_capacity=2).tolist() == ["high", "high", "medium", "low"]


def test_the_gate_refuses_a_worse_noisy_or_unfair_model_and_promotes_a_measurably_better_one() -> None:
    dates = pd.Index(WEEKS[:6], name="as_of")
    champion = pd.Series([0.30, 0.32, 0.31, 0.33, 0.30, 0.32], index=dates)
    steady = champion + 0.02
    noisy = champion + pd.Series([0.15, -0.12, 0.10, -0.08, 0.12, -0.05], index=dates)
    assert not decide(champion - 0.01, champion, 0.005, True, "fair").promote
    assert not decide(champion + 0.004, champion, 0.005, True, "fair").promote
    assert not decide(noisy, champion, 0.005, True, "fair").promote
    better = decide(steady, champion, 0.005, True, "fair")
    assert better.promote and "+0.020 ± 0.000" in better.reason
    unfair = decide(steady, champion, 0.005, False, "calibration of district A")
    assert not unfair.promote and "fairness" in unfair.reason
    first = decide(steady, None, 0.005, False, "calibration of district A")
    assert first.promote and "review the model card" in first.reason


def test_registry_round_trip_promote_and_rollback(tmp_path: Path) -> None:
    from models.registry import Registry

    matrix = _weekly(weeks=26, n=200)
    result = train(matrix, [LOGISTIC], PLAN)
    place = Registry(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts", "test", "escalation")
    logged = {
        "params": {"candidate": "logistic"},
        "metadata": {"as_of": "2025-07-01", "features": list(result.feature_names)},
        "figures": {},
        "tables": {"model_grid": result.grid},
    }
    first, run_id = place.log_model(result, matrix[list(result.feature_names)].head(5), **logged)
    assert place.champion_version() is None
    place.promote(first)
    second, _ = place.log_model(result, matrix[list(result.feature_names)].head(5), **logged)
    place.tag_version(second, {"fengqiao.promoted": "True"})
    place.promote(second)
    loaded = place.load()
    assert loaded.version == "escalation/v2"
    assert loaded.metadata["features"] == list(result.feature_names)
    features = matrix[list(result.feature_names)].head(20)
    np.testing.assert_allclose(
        loaded.model.predict_proba(features), result.model.predict_proba(features), rtol=1e-12
    )
    table = place.versions()
    assert table["version"].tolist() == [2, 1]
    assert table["aliases"].tolist() == ["champion", ""]
    assert table.loc[0, "promoted"] == "True"
    assert place.rollback() == first
    assert place.champion_version() == first
    with pytest.raises(LookupError, match="no earlier champion"):
        place.rollback()
    with pytest.raises(LookupError, match="no version 9"):
        place.promote("9")
    place.attach_texts(run_id, {"model_card.md": "# card"})
    import mlflow

    assert mlflow.artifacts.load_text(f"runs:/{run_id}/model_card.md") == "# card"


def test_text_reasons_name_the_terms_that_raised_the_score() -> None:
    rng = np.random.default_rng(4)
    n = 600
    angry = rng.random(n) < 0.3
    words = np.where(angry, "当事人扬言要去上访", "双方同意继续调解")
    matrix = _matrix(n=n).assign(terms_document=words)
    matrix[LABEL] = (rng.random(n) < np.where(angry, 0.6, 0.05)).astype(int)
    text = FeatureDoc(
        "terms_document", "words", "-", "text", "文字中出现「{value}」", "the texts mention “{value}”"
    )
    docs = (*DOCS, text)
    candidate = make_candidate("text", "logistic", docs, {"C": 0.5, "max_terms": 50})
    model = make_estimator(candidate, seed=1).fit(matrix[[d.name for d in docs]], matrix[LABEL])
    case = matrix[[d.name for d in docs]].iloc[[int(np.argmax(angry))]]
    said = reasons(model, case, docs, "zh").iloc[0]
    assert "文字中出现「" in said
    assert any(term in said for term in ("上访", "扬言", "言要", "要去"))
    calm = matrix[[d.name for d in docs]].iloc[[int(np.argmin(angry))]]
    assert "文字中出现" not in reasons(model, calm, docs, "zh").iloc[0]


def test_the_signed_log_keeps_the_sign_and_the_input_whatever_the_width() -> None:
    from models.estimator import _signed_log1p

    values = pd.DataFrame(
        {
            "wide": np.array([0.0, -0.0, 1.0, -1.0, 1e12, -3.5, np.nan], dtype=np.float64),
            "narrow": np.array([0.0, -0.0, 2.0, -2.0, 7.0, np.nan, 0.5], dtype=np.float32),
        }
    )
    before = values.copy()
    got = _signed_log1p(values)
    plain = values.to_numpy(dtype=np.float64)
    want = np.sign(plain) * np.log1p(np.abs(plain))
    assert got.dtype == np.float64 and got.shape == (7, 2)
    np.testing.assert_array_equal(got, want)
    numbers = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(want[numbers]))  # no -0.0
    pd.testing.assert_frame_equal(values, before)
    array = plain.copy()
    _signed_log1p(array)
    np.testing.assert_array_equal(array, plain)  # an ndarray given is not written into
