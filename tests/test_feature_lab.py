"""The feature lab's pure parts: expected P@5% against the truth and its tables."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.feature_lab import _expected_p_at, _p_at, render, single_kind_params
from contracts.settings import Settings


def _truth() -> pd.DataFrame:
    ids = [f"c{i:02d}" for i in range(20)]
    return pd.DataFrame(
        {"p_escalation": [i / 20 for i in range(20)], "escalated": [i in (0, 19) for i in range(20)]},
        index=pd.Index(ids, name="case_id"),
    )


def test_expected_and_realised_precision_of_the_top_share() -> None:
    truth = _truth()
    best = truth["p_escalation"]
    worst = -truth["p_escalation"]
    assert _expected_p_at(best, truth) == pytest.approx(0.95)  # k = 1: c19
    assert _p_at(best, truth) == 1.0
    assert _expected_p_at(worst, truth) == 0.0  # c00: escalated, but its probability was 0
    assert _p_at(worst, truth) == 1.0
    unscored = pd.Series({"c05": 1.0})  # the other cases rank last
    assert _expected_p_at(unscored, truth) == pytest.approx(0.25)


def _scenario(name: str, values: dict[tuple[str, str], float], grid: str | None = None) -> dict:
    rows = [{"features": f, "kind": k, "expected_x_truth": v} for (f, k), v in values.items()]
    chosen = None
    if grid:
        chosen = {"candidate": grid, "validation": 0.3, "x_truth": 0.9, "expected_x_truth": 0.85}
    return {"name": name, "rows": rows, "grid": chosen}


def test_render_puts_the_grid_first_then_feature_sets_with_means() -> None:
    a = _scenario("a", {("grid, default families", "blend"): 0.8, ("foundation", "logistic"): 0.7}, "blend")
    b = _scenario("b", {("grid, default families", "blend"): 0.9, ("foundation", "logistic"): 0.6})
    text = render([a, b])
    assert "| candidate | a | b | mean |" in text
    assert "| blend | 0.80× | 0.90× | 0.85× |" in text
    assert "| foundation | 0.70× | 0.60× | 0.65× |" in text
    assert text.index("## The model grid") < text.index("## logistic: feature sets")
    assert "| a | blend | 0.300 | 0.90× | 0.85× |" in text


def test_each_estimator_kind_gets_its_configured_hyperparameters_and_others_are_refused() -> None:
    settings = Settings(logistic_c=0.3, trees_max_iter=77)
    params = single_kind_params(settings, ["logistic", "logistic@0.02", "trees"])
    assert params["logistic"]["C"] == 0.3
    assert params["trees"]["max_iter"] == 77
    with pytest.raises(SystemExit, match="logistic_blend, tree not an estimator kind"):
        single_kind_params(settings, ["logistic", "tree", "logistic_blend"])
