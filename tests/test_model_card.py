"""The model card renders the facts it is given, in both languages, and nothing else."""

from __future__ import annotations

import dataclasses
import itertools
import re
from datetime import date

import pandas as pd
import pytest

from features.dictionary import FeatureDoc
from models.model_card import SECTIONS, TEXT, ModelCardFacts, model_card_markdown

NAN = float("nan")

FEATURES = (
    FeatureDoc(
        "hotline_linked_calls_7d",
        "hotline calls linked to the case in the last 7 days",
        "7 days",
        "numeric",
        "近7天热线来电{value}次",
        "{value} hotline calls in the last 7 days",
    ),
    FeatureDoc(
        "profile_district",
        "district of the dispute",
        "-",
        "categorical",
        "所在区县为{value}",
        "it is in {value}",
    ),
    FeatureDoc(
        "history_failures_since_success",
        "failed mediations since the last successful one",
        "since last success",
        "numeric",
        "连续调解失败{value}次",
        "{value} failed mediations in a row",
    ),
)
UNUSED = FeatureDoc(
    "text_description_threat",
    "1 if the case description mentions threats",
    "-",
    "flag",
    "案情描述中提到威胁",
    "the case description mentions threats",
)


def _summary() -> dict[str, float]:
    summary = {
        "model.precision_at_k": 0.381,
        "model.precision_at_k_std": 0.042,
        "model.recall_at_k": 0.256,
        "model.recall_at_k_std": 0.031,
        "model.precision_at_list_k": 0.47,
        "model.precision_at_list_k_std": 0.05,
        "model.recall_at_list_k": 0.118,
        "model.recall_at_list_k_std": 0.012,
        "model.roc_auc": 0.7812,
        "model.roc_auc_std": 0.0123,
        "model.average_precision": 0.2934,
        "model.average_precision_std": 0.021,
        "model.brier": 0.0712,
        "model.brier_std": 0.004,
        "model.ece": 0.0137,
        "model.ece_std": 0.0051,
        "rule.precision_at_k": 0.206,
        "rule.precision_at_k_std": 0.03,
        "rule.recall_at_k": 0.139,
        "rule.recall_at_k_std": 0.02,
        "rule.precision_at_list_k": 0.29,
        "rule.precision_at_list_k_std": 0.04,
        "rule.recall_at_list_k": 0.07,
        "rule.recall_at_list_k_std": 0.01,
        "rule.roc_auc": 0.6421,
        "rule.roc_auc_std": 0.02,
        "rule.average_precision": 0.1577,
        "rule.average_precision_std": 0.015,
        "lift_precision_at_k_over_rule": 1.8495,
    }
    return summary


def _fairness() -> pd.DataFrame:
    columns = [
        "attribute", "group", "n", "n_listed", "share_listed", "share_listed_ratio", "positives",
        "recall", "recall_ratio", "recall_ratio_lo", "recall_ratio_hi",
        "fpr", "fpr_ratio", "fpr_ratio_lo", "fpr_ratio_hi",
        "predicted", "observed", "calibration_ratio", "calibration_ratio_lo", "calibration_ratio_hi",
        "status", "flagged",
    ]  # fmt: skip
    rows = [
        ["district", "东湖区", 4200, 231, 0.055, 1.10, 380,
         0.27, 1.05, 0.91, 1.21, 0.031, 1.03, 0.88, 1.19, 0.091, 0.090, 1.011, 0.93, 1.09, "ok", ""],
        ["district", "西山县", 3100, 120, 0.0387, 0.77, 210,
         0.18, 0.70, 0.55, 0.86, 0.020, 0.67, 0.50, 0.84, 0.070, 0.068, 1.03, 0.90, 1.17,
         "flagged", "recall,fpr"],
        ["category", "医疗纠纷", 40, 3, 0.075, 1.50, 2,
         NAN, NAN, NAN, NAN, 0.05, 1.65, NAN, NAN, 0.06, 0.05, 1.2, NAN, NAN, "insufficient", ""],
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture
def facts() -> ModelCardFacts:
    grid = pd.DataFrame(
        {
            "candidate": ["logistic regression (C=0.5)", "gradient-boosted trees (200 iterations)"],
            "precision_at_k": [0.381, 0.3655],
            "precision_at_k_std": [0.042, 0.051],
            "chosen": [True, False],
        }
    )
    subsets = pd.DataFrame(
        {
            "subset_kind": ["district", "new_vs_ongoing", "new_vs_ongoing", "category"],
            "subset": ["东湖区", "new", "ongoing", "医疗纠纷"],
            "n": [4200, 2600, 9100, 40],
            "positives": [380, 150, 820, 2],
            "precision_at_k": [0.402, 0.3333, 0.39, NAN],
            "recall_at_k": [0.27, 0.22, 0.26, NAN],
            "roc_auc": [0.7911, 0.75, 0.7702, NAN],
        }
    )
    top = pd.DataFrame(
        {
            "feature": ["history_failures_since_success", "hotline_linked_calls_7d", "profile_district"],
            "importance": [0.4321, 0.3109, 0.0876],
        }
    )
    return ModelCardFacts(
        model_name="fengqiao-escalation",
        version="fengqiao-escalation/v3",
        as_of=date(2024, 6, 1),
        estimator="logistic regression (C=0.5)",
        calibration="sigmoid",
        horizon_days=30,
        escalation_events=("violence", "group_incident", "litigation"),
        first_snapshot=date(2023, 1, 2),
        last_snapshot=date(2024, 4, 29),
        n_snapshots=70,
        n_rows=123456,
        base_rate=0.0734,
        n_folds=4,
        validation_dates=(date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)),
        list_top_fraction=0.05,
        list_k=100,
        band_high=0.2,
        band_medium=0.08,
        summary=_summary(),
        grid=grid,
        subsets=subsets,
        fairness=_fairness(),
        fairness_verdict="flagged: 西山县 differs in recall and false positive rate",
        features=FEATURES,
        top_features=top,
    )


def _row(card: str, first_cell: str) -> str:
    """The Markdown table row whose first cell starts with `first_cell`."""
    return next(line for line in card.splitlines() if line.startswith(f"| {first_cell}"))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_section_is_present_once_and_in_order(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    headings = [line for line in card.splitlines() if line.startswith("## ")]
    assert headings == [TEXT[language][f"h_{s}"] for s in SECTIONS]  # type: ignore[index]
    assert card.startswith("# ")
    assert "fengqiao-escalation/v3" in card.splitlines()[0]
    assert "{" not in card.replace("{value}", "")  # no unfilled placeholders


def test_chinese_is_the_default_and_the_languages_differ(facts: ModelCardFacts) -> None:
    zh = model_card_markdown(facts)
    en = model_card_markdown(facts, "en")
    assert zh == model_card_markdown(facts, "zh")
    assert "## 公平性审查" in zh and "## Fairness audit" not in zh
    assert "## Fairness audit" in en and "## 公平性审查" not in en
    assert "2024年6月1日" in zh.splitlines()[0]
    assert "2024-06-01" in en.splitlines()[0]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_metrics_are_formatted_from_the_summary(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    t = TEXT[language]  # type: ignore[index]
    precision = _row(card, t["m_precision_at_k"].format(top="5%"))
    assert "38.1% ± 4.2%" in precision and "20.6% ± 3.0%" in precision
    assert "47.0% ± 5.0%" in _row(card, t["m_precision_at_list_k"].format(k=100))
    auc = _row(card, t["m_roc_auc"])
    assert "0.781 ± 0.012" in auc and "0.642 ± 0.020" in auc
    brier = _row(card, t["m_brier"])
    assert "0.071 ± 0.004" in brier and brier.rstrip().endswith("| — |")  # no Brier for the rule
    assert "1.85" in card  # lift over the rule
    assert "123,456" in card and "7.3%" in card and "70" in card  # rows, base rate, snapshots
    assert "0.014 ± 0.005" in _row(card, t["m_ece"])
    assert "0.014" in card.split(t["h_meaning"])[1].split("\n## ")[0]  # ECE in "what the score means"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_grid_marks_only_the_chosen_candidate(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    mark = TEXT[language]["chosen_mark"]  # type: ignore[index]
    assert card.count(mark) == 1
    assert mark in _row(card, "logistic regression (C=0.5)")
    assert "36.5% ± 5.1%" in _row(card, "gradient-boosted trees")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_nan_renders_as_a_dash(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    assert "nan" not in card.lower()
    medical = next(line for line in card.splitlines() if "医疗纠纷" in line and "| 40 | 2 |" in line)
    assert medical.endswith("| — | — | — |")


def test_subsets_are_grouped_new_vs_ongoing_first(facts: ModelCardFacts) -> None:
    card = model_card_markdown(facts, "en")
    new, district = card.index("| new vs ongoing | new |"), card.index("| district | 东湖区 |")
    assert new < district
    assert "| 40.2% | 27.0% | 0.791 |" in _row(card, "district | 东湖区")
    assert "| 新案与在办 | 新案 |" in model_card_markdown(facts, "zh")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_fairness_table_shows_ratios_intervals_and_status(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    t = TEXT[language]  # type: ignore[index]
    east = next(line for line in card.splitlines() if "东湖区" in line and "(" in line)
    assert "5.5% (1.10)" in east and "27.0% (1.05 [0.91–1.21])" in east
    assert "1.01 [0.93–1.09]" in east and east.rstrip().endswith(f"| {t['status_ok']} |")
    west = next(line for line in card.splitlines() if "西山县" in line and "(" in line)
    assert t["metric_recall"] in west and t["metric_fpr"] in west
    assert t["status_flagged"].split("{")[0] in west
    assert facts.fairness_verdict in card


@pytest.mark.parametrize("language", ["zh", "en"])
def test_insufficient_groups_are_labelled_and_not_called_fair(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    t = TEXT[language]  # type: ignore[index]
    row = next(line for line in card.splitlines() if "医疗纠纷" in line and "| 40 |" in line and "(" in line)
    assert t["status_insufficient"] in row
    assert t["status_ok"] not in row
    explanation = t["insufficient"].split("{")[0]
    paragraph = next(line for line in card.splitlines() if line.startswith(explanation))
    assert "医疗纠纷" in paragraph and "东湖区" not in paragraph


def test_no_insufficient_paragraph_when_every_group_was_assessed(facts: ModelCardFacts) -> None:
    fairness = facts.fairness[facts.fairness["status"] != "insufficient"]
    card = model_card_markdown(dataclasses.replace(facts, fairness=fairness), "en")
    assert "Insufficient data:" not in card
    assert "2 groups audited: 1 without significant difference, 1 flagged, 0 with insufficient data." in card


def test_unregistered_version(facts: ModelCardFacts) -> None:
    unregistered = dataclasses.replace(facts, version=None)
    assert "not registered yet" in model_card_markdown(unregistered, "en").splitlines()[0]
    assert "尚未注册" in model_card_markdown(unregistered, "zh").splitlines()[0]
    assert "None" not in model_card_markdown(unregistered, "en")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_score_meaning_comes_from_the_bands(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    assert "0.2" in card and ("1 in 5" in card or "每5件有1件" in card)
    assert "0.20" in card and "0.08" in card
    other = model_card_markdown(dataclasses.replace(facts, band_high=0.25, horizon_days=60), language)  # type: ignore[arg-type]
    assert "1 in 4" in other or "每4件有1件" in other
    assert "60" in other


@pytest.mark.parametrize("language", ["zh", "en"])
def test_only_the_given_features_are_described(facts: ModelCardFacts, language: str) -> None:
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    assert UNUSED.name not in card and UNUSED.meaning not in card
    assert "`history_failures_since_success`" in card
    assert "| 0.43 |" in _row(card, "`history_failures_since_success`")
    for doc in FEATURES:
        assert doc.meaning in card
    if language == "zh":
        assert "近7天热线来电N次" in card and "所在区县为……" in card
    # district is a feature here and is audited: the Data section says so
    assert "features include district" in card or "模型的特征中包括区县" in card


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_number_on_the_card_comes_from_the_facts(facts: ModelCardFacts, language: str) -> None:
    """Numbers that are not in a fixed phrase are all traceable to a fact (nothing invented)."""
    card = model_card_markdown(facts, language)  # type: ignore[arg-type]
    fixed = "".join(TEXT[language].values())  # type: ignore[index]
    allowed = set(re.findall(r"\d+(?:\.\d+)?", fixed))
    allowed |= set(re.findall(r"\d+(?:\.\d+)?", repr(facts)))
    allowed |= {"5"}  # "1 in 5", from band_high = 0.2
    fmt_values = [v for v in facts.summary.values()]
    for frame in (facts.grid, facts.subsets, facts.fairness, facts.top_features):
        fmt_values += [v for v in frame.select_dtypes("number").to_numpy().ravel().tolist()]
    fmt_values += [facts.base_rate, facts.band_high, facts.band_medium]
    for value in fmt_values:
        if value == value:  # not NaN
            allowed |= {
                f"{value * 100:.1f}",
                f"{value:.2f}",
                f"{value:.3f}",
                f"{value:,.0f}".replace(",", ""),
            }
    dates = (facts.as_of, facts.first_snapshot, facts.last_snapshot, *facts.validation_dates)
    for day in dates:
        card = card.replace(day.isoformat(), "").replace(f"{day.year}年{day.month}月{day.day}日", "")
    numbers = set(re.findall(r"\d+(?:\.\d+)?", card.replace(",", "")))
    assert numbers <= allowed, numbers - allowed


def test_markdown_tables_are_well_formed(facts: ModelCardFacts) -> None:
    for language in ("zh", "en"):
        card = model_card_markdown(facts, language)  # type: ignore[arg-type]
        for is_table, block in itertools.groupby(card.splitlines(), key=lambda line: line.startswith("|")):
            if is_table:
                pipes = {len(re.findall(r"(?<!\\)\|", line)) for line in block}
                assert len(pipes) == 1, (language, pipes)


def test_rule_scorer_named_after_its_rule_is_found(facts: ModelCardFacts) -> None:
    """Training's summary may name the rule by its id (e.g. rule_calls_7d) rather than 'rule'."""
    renamed = {k.replace("rule.", "rule_calls_7d.", 1): v for k, v in facts.summary.items()}
    card = model_card_markdown(dataclasses.replace(facts, summary=renamed), "en")
    assert "20.6% ± 3.0%" in _row(card, "Precision in the top 5%")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_empty_tables_and_missing_metrics_still_render(facts: ModelCardFacts, language: str) -> None:
    bare = dataclasses.replace(
        facts,
        summary={},
        grid=facts.grid.iloc[0:0],
        subsets=facts.subsets.iloc[0:0],
        fairness=facts.fairness.iloc[0:0],
        top_features=facts.top_features.iloc[0:0],
        calibration="isotonic",
    )
    card = model_card_markdown(bare, language)  # type: ignore[arg-type]
    t = TEXT[language]  # type: ignore[index]
    assert [line for line in card.splitlines() if line.startswith("## ")] == [t[f"h_{s}"] for s in SECTIONS]
    assert card.count(t["no_rows"]) == 4
    assert "nan" not in card.lower() and "isotonic" not in card.lower().replace("isotonic regression", "")
