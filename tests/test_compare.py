"""Comparing a challenger with the champion on the same held-out rows: metrics side by side, list overlap."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.compare import (
    OVERLAP_COLUMNS,
    challenger_tags,
    compare_by_date,
    compare_summary,
    held_out_scores,
    precision_by_date,
    top_overlap,
)
from models.promotion import Decision
from models.train import LABEL
from tests.builders import small_plan

PLAN = small_plan(validation_share=0.25, n_folds=1, top_fraction=0.2, list_k=2, seed=0)
DAYS = (date(2026, 3, 2), date(2026, 3, 9))


def predictions(scores: list[float], labels: list[int]) -> pd.DataFrame:
    """Held-out predictions of ten cases on each of two dates (the same scores and labels each day)."""
    rows = [
        {"as_of": day, "case_id": f"C{i:02d}", "label": label, "score": score}
        for day in DAYS
        for i, (score, label) in enumerate(zip(scores, labels, strict=True))
    ]
    return pd.DataFrame(rows)


LABELS = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
GOOD = [0.9, 0.8, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.04, 0.03]
REVERSED = GOOD[::-1]


def test_compare_by_date_scores_each_scoring_on_each_date() -> None:
    good, bad = predictions(GOOD, LABELS), predictions(REVERSED, LABELS)
    table = compare_by_date({"champion": bad, "challenger": good.sample(frac=1, random_state=1)}, PLAN)
    assert list(table[["as_of", "scorer"]].itertuples(index=False, name=None)) == [
        (DAYS[0], "champion"),
        (DAYS[1], "champion"),
        (DAYS[0], "challenger"),
        (DAYS[1], "challenger"),
    ]
    challenger = table[table["scorer"] == "challenger"]
    champion = table[table["scorer"] == "champion"]
    assert (challenger["k"] == 2).all()
    assert (challenger["precision_at_k"] == 1.0).all() and (challenger["recall_at_k"] == 1.0).all()
    assert (champion["precision_at_k"] == 0.0).all()
    assert (challenger["roc_auc"] == 1.0).all() and (champion["roc_auc"] == 0.0).all()
    assert {"brier", "ece", "precision_at_list_k", "average_precision"} <= set(table.columns)


def test_compare_summary_puts_scorers_side_by_side() -> None:
    table = compare_by_date(
        {"champion": predictions(REVERSED, LABELS), "challenger": predictions(GOOD, LABELS)}, PLAN
    )
    summary = compare_summary(table).set_index("metric")
    assert list(summary.columns) == ["champion", "champion_std", "challenger", "challenger_std"]
    assert summary.loc["precision_at_k", "challenger"] == 1.0
    assert summary.loc["precision_at_k", "champion"] == 0.0
    assert summary.loc["precision_at_k", "challenger_std"] == 0.0


def test_scorings_of_different_rows_or_labels_are_refused() -> None:
    good = predictions(GOOD, LABELS)
    with pytest.raises(ValueError, match="same"):
        compare_by_date({"a": good, "b": good.iloc[1:]}, PLAN)
    with pytest.raises(ValueError, match="labels"):
        compare_by_date({"a": good, "b": good.assign(label=1)}, PLAN)
    with pytest.raises(ValueError, match="nothing to compare"):
        compare_by_date({}, PLAN)


def test_top_overlap_of_the_same_and_of_opposite_lists() -> None:
    same = top_overlap(predictions(GOOD, LABELS), predictions(GOOD, LABELS), PLAN.top_fraction)
    assert list(same.columns) == list(OVERLAP_COLUMNS)
    assert same["as_of"].tolist() == list(DAYS)
    assert (same["both"] == 2).all() and (same["overlap_share"] == 1.0).all()
    assert (same["jaccard"] == 1.0).all() and np.allclose(same["spearman"], 1.0)
    opposite = top_overlap(predictions(GOOD, LABELS), predictions(REVERSED, LABELS), PLAN.top_fraction)
    assert (opposite["both"] == 0).all() and (opposite["only_first"] == 2).all()
    assert (opposite["only_second"] == 2).all() and (opposite["jaccard"] == 0.0).all()
    assert np.allclose(opposite["spearman"], -1.0)


def test_top_overlap_cuts_ties_by_case_id_and_reports_constant_scores() -> None:
    flat = predictions([0.5] * 10, LABELS)
    table = top_overlap(flat, predictions(GOOD, LABELS), PLAN.top_fraction)
    assert (table["both"] == 2).all()  # ties go to the first case ids, C00 and C01, the good list's top too
    assert table["spearman"].isna().all()


class Fixed:
    """A stand-in model: its score is the first feature."""

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        values = frame.iloc[:, 0].to_numpy(dtype=float)
        return np.column_stack([1 - values, values])


def matrix() -> pd.DataFrame:
    """A small training matrix over three dates."""
    days = (date(2026, 2, 23), *DAYS)
    return pd.DataFrame(
        [
            {
                "as_of": day,
                "case_id": f"C{i:02d}",
                "district": "东湖区",
                "category": "劳资纠纷",
                "opened_at": pd.Timestamp("2026-01-01"),
                "hotline_linked_calls_7d": i % 3,
                "signal": score,
                LABEL: label,
            }
            for day in days
            for i, (score, label) in enumerate(zip(GOOD, LABELS, strict=True))
        ]
    )


def test_held_out_scores_scores_only_the_requested_dates() -> None:
    held = held_out_scores(Fixed(), ["signal"], matrix(), DAYS, PLAN)
    assert sorted(set(held["as_of"])) == list(DAYS)
    assert len(held) == 20
    assert held["score"].tolist() == GOOD * 2
    assert held["rule_score"].tolist() == [i % 3 for i in range(10)] * 2
    assert held["listed"].sum() == 4
    assert {"case_age", "label", "district", "category"} <= set(held.columns)
    table = compare_by_date({"champion": held, "challenger": held}, PLAN)
    assert (table["precision_at_k"] == 1.0).all()


def test_held_out_scores_explains_missing_features_and_dates() -> None:
    with pytest.raises(ValueError, match="does not hold"):
        held_out_scores(Fixed(), ["signal", "gone"], matrix(), DAYS, PLAN)
    with pytest.raises(ValueError, match="no rows"):
        held_out_scores(Fixed(), ["signal"], matrix(), [date(2030, 1, 1)], PLAN)


def test_challenger_tags_never_promote_and_say_how_to() -> None:
    tags = challenger_tags("7", Decision(True, "promoted: better"), "notebooks/x.ipynb")
    assert tags["fengqiao.promoted"] == "False"
    assert "`fengqiao promote 7`" in tags["fengqiao.decision"]
    assert "promoted: better" in tags["fengqiao.decision"]
    assert tags["fengqiao.source"] == "notebooks/x.ipynb"


def test_precision_by_date_is_what_the_gate_reads() -> None:
    table = compare_by_date(
        {"champion": predictions(REVERSED, LABELS), "challenger": predictions(GOOD, LABELS)}, PLAN
    )
    series = precision_by_date(table, "challenger")
    assert list(series.index) == list(DAYS) and series.tolist() == [1.0, 1.0]
    assert precision_by_date(table, "champion").tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="no scorer"):
        precision_by_date(table, "rule")
