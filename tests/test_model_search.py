"""Stronger model selection on small hand-made matrices: the trees' hyperparameter search, the blend of
logistic and trees, the one-standard-error choice, and that both train, explain and round-trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import pytest

from contracts.settings import Settings
from features.dictionary import FeatureDoc
from models.estimator import Blend, Candidate, base_model, make_estimator, term_text
from models.explain import column_pushes, contributions, reasons
from models.folds import Fold
from models.search import SPACE, SearchBudget, search, space_around, trials_frame
from models.train import (
    LABEL,
    MODEL_NAME,
    Evaluation,
    TrainingResult,
    choose,
    evaluate,
    grid_table,
    standings,
    train,
    training_folds,
    usable_folds,
)
from pipelines.configuration import model_grid
from tests.builders import make_candidate, small_plan

DOCS = (
    FeatureDoc("profile_category", "category", "-", "categorical", "纠纷类型为{value}", "it is {value}"),
    FeatureDoc(
        "hotline_linked_calls_7d", "calls", "7 days", "numeric", "近7天来电{value}次", "{value} calls"
    ),
    FeatureDoc("profile_parties", "parties", "-", "numeric", "当事人{value}人", "{value} parties"),
    FeatureDoc("profile_amount_missing", "no amount", "-", "flag", "金额未登记", "no amount recorded"),
)
TEXT = FeatureDoc(
    "terms_document", "words", "-", "text", "文字中出现「{value}」", "the texts mention “{value}”"
)
NAMES = [d.name for d in DOCS]
WEEKS = [date(2025, 1, 6) + timedelta(days=7 * i) for i in range(24)]
PLAN = small_plan(validation_share=0.25, top_fraction=0.1, list_k=10, seed=3)
LOGISTIC = make_candidate("logistic", "logistic", DOCS, {"C": 0.5})
TREES = make_candidate("trees", "trees", DOCS, {"max_iter": 20, "max_leaf_nodes": 4, "min_samples_leaf": 20})
TUNED = replace(TREES, name="trees_tuned", tuning=SearchBudget(trials=3, timeout_seconds=600))


def _week(n: int, seed: int) -> pd.DataFrame:
    """One snapshot: calls and a category raise the risk, parties interact with the calls (trees help)."""
    rng = np.random.default_rng(seed)
    calls = rng.poisson(1.0, n).astype(float)
    parties = rng.integers(1, 6, n).astype(float)
    category = rng.choice(["劳资纠纷", "邻里纠纷"], n)
    logit = -3 + 0.9 * calls + 0.8 * (category == "劳资纠纷") + 0.6 * (calls > 1) * (parties > 3)
    return pd.DataFrame(
        {
            "case_id": [f"C{seed:02d}{i:04d}" for i in range(n)],
            "district": rng.choice(["东湖区", "西湖区"], n),
            "category": category,
            "opened_at": pd.Timestamp("2024-12-01"),
            "profile_category": category,
            "hotline_linked_calls_7d": calls,
            "profile_parties": parties,
            "profile_amount_missing": rng.integers(0, 2, n).astype(float),
            "terms_document": np.where(
                calls > 2,
                "当事人扬言要去上访",
                rng.choice(["双方不打算起诉，同意调解", "对方拖欠工资，准备起诉"], n),
            ),
            LABEL: (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def _weekly(n: int = 150) -> pd.DataFrame:
    frames = [_week(n, seed).assign(as_of=day) for seed, day in enumerate(WEEKS)]
    return pd.concat(frames, ignore_index=True)


MATRIX = _weekly()
FOLDS = usable_folds(MATRIX, training_folds(WEEKS, PLAN.date_policy))


def test_the_search_stays_in_its_space_starts_from_the_given_settings_and_repeats_for_a_seed() -> None:
    first = evaluate(MATRIX, TUNED, FOLDS, PLAN)
    again = evaluate(MATRIX, TUNED, FOLDS, PLAN)
    found = first.search
    assert found is not None and again.search is not None
    assert found.trials == 3 and not found.timed_out
    assert found.params == again.search.params
    assert found.value == again.search.value
    for name, (kind, low, high, _) in SPACE.items():  # widened to hold the start (max_iter=20)
        value = found.params[name]
        assert isinstance(value, kind) and min(low, TUNED.params[name]) <= value <= high, name
    assert first.candidate.name == "trees_tuned" and first.candidate.tuning is None
    assert first.candidate.params == found.params
    # sigmoid calibration keeps the order: the search's figure is the one the candidate is judged by
    assert first.fold_precision().mean() == pytest.approx(found.value, abs=1e-9)
    # every trial is kept with its fold figures; the chosen one's are the candidate's
    assert [t.number for t in found.history] == [1, 2, 3]
    assert found.history[0].params == TUNED.params
    assert all(len(t.folds) == len(FOLDS) for t in found.history)
    assert all(t.value == pytest.approx(np.mean(t.folds)) for t in found.history)
    chosen = next(t for t in found.history if t.params == found.params)
    assert list(chosen.folds) == pytest.approx(first.fold_precision().tolist(), abs=1e-9)
    other_seed = evaluate(MATRIX, TUNED, FOLDS, replace(PLAN, seed=4)).search
    assert other_seed is not None and other_seed.params != found.params


def test_a_one_trial_search_is_the_starting_settings_and_reuses_their_fold_models() -> None:
    trees = evaluate(MATRIX, TREES, FOLDS, PLAN)
    once = evaluate(MATRIX, replace(TUNED, tuning=SearchBudget(1, 600)), FOLDS, PLAN, [trees])
    assert once.search is not None and once.search.trials == 1
    assert once.candidate.params == TREES.params
    assert all(base_model(a) is base_model(b) for a, b in zip(once.models, trees.models, strict=True))
    pd.testing.assert_series_equal(once.fold_precision(), trees.fold_precision())


def test_the_space_is_widened_to_hold_the_start() -> None:
    space = space_around({"max_iter": 1000, "learning_rate": 0.1, "max_features": 1.0})
    assert space["max_iter"] == (int, SPACE["max_iter"][1], 1000, True)
    assert space["learning_rate"] == SPACE["learning_rate"]
    assert space["max_features"] == SPACE["max_features"]


def _closeness(params: dict[str, object]) -> float:
    """How close the learning rate is to 0.05 (0 at 0.05, on a log scale)."""
    return -abs(float(np.log(float(params["learning_rate"]) / 0.05)))


def test_the_search_maximises_the_objective_within_its_budget() -> None:
    start = {"learning_rate": 0.3, "max_iter": 400, "extra": "kept"}
    calls: list[dict[str, object]] = []

    def objective(params: dict[str, object]) -> tuple[float, tuple[float, ...], str]:
        calls.append(params)
        return _closeness(params), (_closeness(params),), f"model {len(calls)}"

    found = search(start, objective, SearchBudget(trials=12, timeout_seconds=600), seed=0)
    assert calls[0]["learning_rate"] == 0.3 and calls[0]["max_iter"] == 400
    assert all(c["extra"] == "kept" for c in calls)
    assert found.trials == len(calls) == 12
    values = [_closeness(c) for c in calls]
    assert found.value == max(values) > values[0]
    assert found.params == calls[values.index(found.value)]
    assert found.fitted == f"model {values.index(found.value) + 1}"
    assert [t.params for t in found.history] == calls and [t.value for t in found.history] == values
    assert all(t.seconds >= 0 and t.folds == (t.value,) for t in found.history)
    table = trials_frame({"trees_tuned": found})
    assert table["trial"].tolist() == list(range(1, 13)) and table["chosen"].sum() == 1
    assert table.loc[table["chosen"], "value"].item() == found.value
    assert table["extra"].eq("kept").all() and table["candidate"].eq("trees_tuned").all()


def test_with_fixed_startup_trials_a_shorter_search_tries_the_first_trials_of_a_longer_one() -> None:
    start = {"learning_rate": 0.3, "max_iter": 400}
    tried: dict[int, list[dict[str, object]]] = {5: [], 9: []}
    found = {}
    for trials, calls in tried.items():

        def objective(
            params: dict[str, object], calls: list[dict[str, object]] = calls
        ) -> tuple[float, tuple[float, ...], str]:
            calls.append(params)
            return _closeness(params), (), f"model {len(calls)}"

        found[trials] = search(start, objective, SearchBudget(trials, 600, startup_trials=2), seed=3)
    assert len(tried[5]) == 5 and tried[9][:5] == tried[5]
    # so a longer search's trials say what the shorter would have chosen (ties to the earlier trial)
    first_five = found[9].history[:5]
    best = max(first_five, key=lambda t: (t.value, -t.number))
    assert best.params == found[5].params and best.value == found[5].value
    # without a fixed count the random start grows with the budget, and the trials part ways
    free: list[dict[str, object]] = []
    search(start, lambda p: (free.append(p), (_closeness(p), (), ""))[1], SearchBudget(9, 600), seed=3)
    assert free[:5] != tried[5]


def test_a_grid_search_tries_the_start_then_each_point_in_order() -> None:
    calls: list[dict[str, object]] = []
    values = {0.5: 0.30, 0.02: 0.34, 0.002: 0.34}

    def objective(params: dict[str, object]) -> tuple[float, tuple[float, ...], str]:
        calls.append(params)
        return values[params["C"]], (), f"model C={params['C']}"  # type: ignore[index]

    grid = ({"C": 0.02}, {"C": 0.002})
    found = search({"C": 0.5, "max_terms": 9}, objective, SearchBudget(3, 600, grid), seed=0)
    assert [c["C"] for c in calls] == [0.5, 0.02, 0.002]
    assert all(c["max_terms"] == 9 for c in calls)
    assert (found.params["C"], found.value, found.fitted, found.trials) == (0.02, 0.34, "model C=0.02", 3)
    assert not found.timed_out  # a tie goes to the earlier point
    once = search({"C": 0.5}, objective, SearchBudget(1, 600, grid), seed=0)
    assert (once.params, once.trials, once.timed_out) == ({"C": 0.5}, 1, False)  # the budget, not the clock


def test_the_logistic_candidates_try_the_configured_strengths() -> None:
    every = ("logistic", "logistic_foundation")
    grid = {
        c.name: c
        for c in model_grid(Settings(logistic_c=0.5, logistic_c_grid=(0.02, 0.5), candidates=every), DOCS)
    }
    expected = SearchBudget(2, Settings().tuning_timeout_seconds, ({"C": 0.02},))
    assert grid["logistic"].tuning == grid["logistic_foundation"].tuning == expected
    assert grid["logistic"].params["C"] == 0.5
    plain = {c.name: c for c in model_grid(Settings(logistic_c_grid=(), candidates=every), DOCS)}
    assert plain["logistic"].tuning is None and plain["logistic_foundation"].tuning is None
    with pytest.raises(pydantic.ValidationError):
        Settings(logistic_c_grid=(0.0,))


def test_a_blend_is_the_mean_of_its_parts_probabilities() -> None:
    fitting = MATRIX[MATRIX["as_of"] < WEEKS[10]]
    parts = [
        make_estimator(LOGISTIC, seed=1).fit(fitting[NAMES], fitting[LABEL]),
        make_estimator(replace(TREES, docs=DOCS[:2]), seed=1).fit(fitting[NAMES[:2]], fitting[LABEL]),
    ]
    blend = Blend(parts, [NAMES, NAMES[:2]]).fit()
    cases = MATRIX[MATRIX["as_of"] == WEEKS[-1]][NAMES]
    expected = (parts[0].predict_proba(cases) + parts[1].predict_proba(cases[NAMES[:2]])) / 2
    np.testing.assert_allclose(blend.predict_proba(cases), expected, rtol=1e-12)
    p = expected[:, 1]
    np.testing.assert_allclose(blend.decision_function(cases), np.log(p / (1 - p)), rtol=1e-9)
    assert blend.classes_.tolist() == [0, 1]
    assert (blend.predict(cases) == (p > 0.5)).all()


def test_a_blends_reasons_average_its_parts_contributions() -> None:
    fitting = MATRIX[MATRIX["as_of"] < WEEKS[10]]
    parts = [make_estimator(c, seed=1).fit(fitting[NAMES], fitting[LABEL]) for c in (LOGISTIC, TREES)]
    blend = Blend(parts, [NAMES, NAMES]).fit()
    cases = MATRIX[MATRIX["as_of"] == WEEKS[-1]][NAMES].head(40)
    expected = (contributions(parts[0], cases) + contributions(parts[1], cases)) / 2
    pd.testing.assert_frame_equal(contributions(blend, cases), expected)
    levels, _ = column_pushes(blend, cases)
    pd.testing.assert_frame_equal(levels, column_pushes(parts[0], cases)[0])


def _evaluation(name: str, per_fold: list[float]) -> Evaluation:
    """A hand-made evaluation whose folds have the given mean precision at the top (two dates each)."""
    rows = [
        {"fold": fold, "scorer": scorer, "as_of": WEEKS[2 * fold + day], "precision_at_k": value + shift}
        for fold, value in enumerate(per_fold, start=1)
        for day, shift in enumerate((-0.01, 0.01))
        for scorer in (MODEL_NAME, "rule")
    ]
    return Evaluation(make_candidate(name, "logistic", DOCS), (), pd.DataFrame(rows), pd.DataFrame())


def test_choose_prefers_the_simpler_within_one_standard_error_and_the_better_beyond_it() -> None:
    # logistic: mean 0.32, fold sd 0.02, standard error 0.02 / sqrt(3) = 0.01155
    logistic = _evaluation("logistic", [0.30, 0.32, 0.34])
    close = _evaluation("trees_tuned", [0.32, 0.33, 0.34])  # mean 0.33, se 0.00577: 0.32 < 0.32423
    slightly = _evaluation("trees_tuned", [0.31, 0.33, 0.35])  # mean 0.33, se 0.01155: 0.32 >= 0.31845
    clearly = _evaluation("trees_tuned", [0.33, 0.35, 0.37])  # mean 0.35, se 0.01155: 0.32 < 0.33845
    assert choose([slightly, logistic]) is logistic
    assert choose([clearly, logistic]) is clearly
    assert choose([close, logistic]) is close  # the best's own standard error sets the band
    table = grid_table([slightly, logistic], "logistic").set_index("candidate")
    assert table.loc["trees_tuned", "precision_at_k"] == pytest.approx(0.33)
    assert table.loc["trees_tuned", "precision_at_k_std"] == pytest.approx(0.02)
    assert table.loc["trees_tuned", "precision_at_k_se"] == pytest.approx(0.02 / np.sqrt(3))
    assert table["chosen"].tolist() == [False, True]
    assert table.loc["logistic", "why"] == "simplest within 1 SE of the best (trees_tuned 0.330 - 0.012)"
    assert table.loc["trees_tuned", "why"] == "best mean, but logistic is simpler and within 1 SE (0.012)"
    beyond = {s.name: s.why for s in standings([clearly, logistic])}
    assert beyond == {
        "trees_tuned": "best mean",
        "logistic": "more than 1 SE (0.012) below the best",
    }


def test_simplicity_orders_the_known_candidates_and_ties_go_to_the_earlier() -> None:
    same = [0.30, 0.32, 0.34]
    names = ["blend", "trees_tuned", "trees", "logistic_text", "logistic", "logistic_foundation"]
    grid = [_evaluation(name, same) for name in names]
    for k in range(len(grid)):
        assert choose(grid[: k + 1]).candidate.name == names[k]
    twins = [_evaluation("mine", same), _evaluation("yours", same)]
    assert choose(twins) is twins[0]
    single = [_evaluation("trees_tuned", [0.33]), _evaluation("logistic", [0.329])]
    assert choose(single).candidate.name == "trees_tuned"  # one fold: no spread, the best mean wins


def _registry(tmp_path: Path) -> object:
    from models.registry import Registry

    return Registry(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts", "test", "escalation")


def _round_trip(result: object, tmp_path: Path) -> object:
    """The result's model logged to and loaded back from the product's registry."""
    place = _registry(tmp_path)
    logged = {
        "params": {"candidate": result.candidate.name, "estimator": result.candidate.describe()},
        "metadata": {"features": list(result.feature_names)},
        "figures": {},
        "tables": {"model_grid": result.grid},
    }
    version, _ = place.log_model(result, MATRIX[list(result.feature_names)].head(5), **logged)
    return place.load(version).model


@pytest.mark.slow
def test_the_blend_of_tuned_trees_trains_calibrates_explains_and_round_trips(tmp_path: Path) -> None:
    tuned = replace(TUNED, params={**TUNED.params, "max_features": 0.5})
    blend = make_candidate("blend", "blend", DOCS, parts=(LOGISTIC, tuned))
    result = train(MATRIX, [LOGISTIC, tuned, blend], PLAN)
    grid = result.grid.set_index("candidate")
    assert grid.index.tolist() == ["logistic", "trees_tuned", "blend"]
    assert "best of 3 searched settings" in grid.loc["trees_tuned", "estimator"]
    assert grid.loc["blend", "estimator"].startswith("mean of the calibrated probabilities of logistic")
    searched = result.evaluations[1]
    assert result.evaluations[2].candidate.parts[1] == searched.candidate  # the blend takes the tuned trees
    for k, model in enumerate(result.evaluations[2].models):  # and reuses the parts' fold models
        members = base_model(model).members
        assert members == [result.evaluations[0].models[k], searched.models[k]]
    final = train(MATRIX, [blend], replace(PLAN, seed=5))  # the blend alone: its parts are searched inside
    assert final.candidate.parts[1].tuning is None
    assert set(final.candidate.parts[1].params) >= set(SPACE)
    cases = MATRIX[MATRIX["as_of"] == WEEKS[-1]][NAMES]
    scores = final.model.predict_proba(cases)[:, 1]
    assert abs(scores.mean() - MATRIX[LABEL].mean()) < 0.05
    said = reasons(final.model, cases, DOCS, "zh")
    assert said.str.contains("近7天来电").any()
    loaded = _round_trip(final, tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(cases), final.model.predict_proba(cases), rtol=1e-12)
    pd.testing.assert_series_equal(reasons(loaded, cases, DOCS, "zh"), said)


@pytest.mark.slow
def test_tuned_trees_alone_train_explain_and_round_trip(tmp_path: Path) -> None:
    result = train(MATRIX, [replace(TUNED, params={**TUNED.params, "max_features": 0.5})], PLAN)
    assert result.candidate.tuning is None and result.candidate.name == "trees_tuned"
    assert "learning_rate=" in result.candidate.describe()
    cases = MATRIX[MATRIX["as_of"] == WEEKS[-1]][NAMES]
    pushes = contributions(result.model, cases)
    spread = base_model(result.model).decision_function(cases) - pushes.sum(axis=1).to_numpy()
    np.testing.assert_allclose(spread, spread[0], atol=1e-6)  # TreeSHAP adds up to the log-odds
    loaded = _round_trip(result, tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(cases), result.model.predict_proba(cases), rtol=1e-12)


TEXT_DOCS = (*DOCS, TEXT)


def _text_model() -> tuple[TrainingResult, pd.DataFrame, pd.DataFrame]:
    """The text model trained on the matrix, the last week's cases, and three of them naming 上访."""
    text = make_candidate("logistic_text", "logistic", TEXT_DOCS, {"C": 0.5, "max_terms": 100})
    result = train(MATRIX, [text], PLAN)
    cases = MATRIX[MATRIX["as_of"] == WEEKS[-1]][[d.name for d in TEXT_DOCS]]
    return result, cases, cases[cases["terms_document"].str.contains("上访")].head(3)


def test_the_text_model_weighs_words_and_character_pairs_and_names_them() -> None:
    result, _cases, angry = _text_model()
    columns = list(base_model(result.model)[:-1].get_feature_names_out())
    assert {"terms_document=上访", "terms_document=W:上访", "terms_document=W:不_起诉"} <= set(columns)
    said = reasons(result.model, angry, TEXT_DOCS, "zh")
    assert said.str.contains("文字中出现「").all()
    assert not said.str.contains("W:").any()


@pytest.mark.slow
def test_the_text_model_round_trips(tmp_path: Path) -> None:
    result, cases, angry = _text_model()
    loaded = _round_trip(result, tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(cases), result.model.predict_proba(cases), rtol=1e-12)
    pd.testing.assert_series_equal(
        reasons(loaded, angry, TEXT_DOCS, "zh"), reasons(result.model, angry, TEXT_DOCS, "zh")
    )


def test_term_columns_read_as_the_term_a_negated_word_with_its_negation() -> None:
    assert term_text("terms_document=上访") == "上访"
    assert term_text("terms_document=W:上访") == "上访"
    assert term_text("terms_document=W:不_起诉") == "不…起诉"


def test_settings_name_the_new_candidates_and_budget(settings: Settings) -> None:
    assert Settings.model_fields["candidates"].default == ("logistic_blend",)
    assert settings.tuning_trials >= 1 and settings.tuning_timeout_seconds > 0
    for wrong in ({"candidates": ("forest",)}, {"tuning_trials": 0}, {"tuning_timeout_seconds": 0}):
        with pytest.raises(pydantic.ValidationError):
            Settings(**wrong)
    every = ("logistic", "logistic_foundation", "trees", "trees_tuned", "blend")
    grid = {c.name: c for c in model_grid(Settings(tuning_trials=4, candidates=every), (*DOCS, TEXT))}
    assert grid["trees_tuned"].tuning == SearchBudget(
        4, settings.tuning_timeout_seconds, startup_trials=settings.tuning_startup_trials
    )
    assert grid["trees_tuned"].params == grid["trees"].params
    assert [p.name for p in grid["blend"].parts] == ["logistic", "trees_tuned"]
    assert grid["blend"].feature_names == grid["logistic"].feature_names == tuple(NAMES)
    without = model_grid(Settings(candidates=("trees", "blend")), DOCS)
    assert [p.name for p in without[1].parts] == ["logistic", "trees"]


def test_every_hyperparameter_comes_from_the_settings_and_none_is_defaulted() -> None:
    configured = Settings(trees_max_iter=7, trees_max_features=0.5, logistic_c=0.3, text_max_terms=40)
    grid = {
        c.name: c
        for c in model_grid(configured.model_copy(update={"candidates": ("logistic", "trees")}), DOCS)
    }
    assert grid["trees"].params == {
        "max_iter": 7,
        "learning_rate": configured.trees_learning_rate,
        "max_leaf_nodes": configured.trees_max_leaf_nodes,
        "min_samples_leaf": configured.trees_min_samples_leaf,
        "l2_regularization": configured.trees_l2,
        "max_features": 0.5,
        "max_terms": 40,
    }
    assert grid["logistic"].params == {"C": 0.3, "max_terms": 40}
    with pytest.raises(
        ValueError, match="candidate t: hyperparameters missing: l2_regularization, learning_rate"
    ):
        Candidate(
            "t",
            "trees",
            DOCS,
            {
                k: v
                for k, v in grid["trees"].params.items()
                if k not in {"learning_rate", "l2_regularization"}
            },
        )
    with pytest.raises(ValueError, match="missing: max_terms"):
        Candidate("l", "logistic", DOCS, {"C": 0.5})
    with pytest.raises(ValueError, match="parts"):
        make_estimator(make_candidate("b", "blend", DOCS), seed=0)


def test_a_fold_without_both_classes_refuses_the_search_like_any_fit() -> None:
    from models.train import CannotFit

    empty = MATRIX.assign(**{LABEL: 0})
    fold = Fold(tuple(WEEKS[:8]), tuple(WEEKS[13:16]), tuple(WEEKS[20:]))
    with pytest.raises(CannotFit, match="fitting"):
        evaluate(empty, TUNED, [fold], PLAN)


def test_the_sparse_logistic_tries_its_l1_strengths_and_the_logistic_blend_averages_both() -> None:
    chosen = ("logistic_foundation", "logistic_sparse", "logistic_blend")
    grid = {c.name: c for c in model_grid(Settings(candidates=chosen, sparse_c_grid=(0.05, 0.01)), DOCS)}
    sparse = grid["logistic_sparse"]
    assert sparse.params["penalty"] == "l1" and sparse.params["C"] == 0.05
    assert sparse.tuning == SearchBudget(2, Settings().tuning_timeout_seconds, ({"C": 0.01},))
    assert sparse.feature_names == tuple(NAMES)
    assert [p.name for p in grid["logistic_blend"].parts] == ["logistic_foundation", "logistic_sparse"]
    one = {c.name: c for c in model_grid(Settings(candidates=chosen, sparse_c_grid=(0.02,)), DOCS)}
    assert one["logistic_sparse"].tuning is None
    with pytest.raises(pydantic.ValidationError):
        Settings(sparse_c_grid=())


def test_the_l1_penalty_drops_a_noise_feature_and_keeps_the_signal() -> None:
    fitting = MATRIX[MATRIX["as_of"] < WEEKS[12]]
    sparse = make_estimator(make_candidate("s", "logistic", DOCS, {"C": 0.01, "penalty": "l1"}), seed=0)
    sparse.fit(fitting[NAMES], fitting[LABEL])
    weights = dict(zip(sparse[:-1].get_feature_names_out(), sparse[-1].coef_[0], strict=True))
    assert weights["profile_amount_missing"] == 0.0  # drawn at random: no signal
    assert weights["hotline_linked_calls_7d"] > 0.0
    dense = make_estimator(make_candidate("d", "logistic", DOCS, {"C": 0.01}), seed=0)
    assert dense.fit(fitting[NAMES], fitting[LABEL])[-1].coef_[0].min() != 0.0  # L2 keeps every weight


def test_the_logistic_blend_trains_on_its_searched_parts_and_explains() -> None:
    chosen = ("logistic_foundation", "logistic_sparse", "logistic_blend")
    grid = model_grid(Settings(candidates=chosen, sparse_c_grid=(0.05, 0.01), logistic_c_grid=()), DOCS)
    result = train(MATRIX, grid, PLAN)
    assert result.grid["candidate"].tolist() == list(chosen)
    blend = next(e for e in result.evaluations if e.candidate.name == "logistic_blend")
    searched = next(e for e in result.evaluations if e.candidate.name == "logistic_sparse")
    assert blend.candidate.parts[1] == searched.candidate and searched.candidate.tuning is None
    assert searched.candidate.params["C"] in (0.05, 0.01)
    final = train(MATRIX, [grid[2]], PLAN)
    cases = MATRIX[MATRIX["as_of"] == WEEKS[-1]][NAMES]
    assert reasons(final.model, cases, DOCS, "zh").str.contains("近7天来电").any()


def test_a_search_the_clock_stops_is_reported_with_how_to_repeat_it() -> None:
    from types import SimpleNamespace

    from pipelines.train_flow import cut_searches

    budget = SearchBudget(trials=4, timeout_seconds=1e-9)
    stopped = search({"max_iter": 20}, lambda params: (0.3, (), "model"), budget, seed=0)
    assert (stopped.trials, stopped.timed_out) == (1, True)
    whole = search(
        {"max_iter": 20}, lambda params: (0.3, (), "model"), replace(budget, timeout_seconds=600), seed=0
    )
    assert (whole.trials, whole.timed_out) == (4, False)
    result = SimpleNamespace(
        evaluations=[
            SimpleNamespace(candidate=replace(TUNED, tuning=budget), search=stopped),
            SimpleNamespace(candidate=TUNED, search=whole),
            SimpleNamespace(candidate=TREES, search=None),
        ]
    )
    assert cut_searches(result, 1800) == [  # type: ignore[arg-type]
        "trees_tuned: the time cap (1800 s, tuning_timeout_seconds) stopped its search after 1 of 4 trials, "
        "so this model depends on the machine's speed; FENGQIAO_TUNING_TRIALS=1 repeats it"
    ]
    assert Settings().tuning_timeout_seconds >= 1800  # a guard, not the budget: the trial count decides
