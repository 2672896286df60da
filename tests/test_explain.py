"""Reasons: missing data is a note, never a reason; the low and medium bands say what lowered their score."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from contracts.vocabulary import CATEGORIES, SOURCES
from features.dictionary import FeatureDoc
from features.matrix import ALL_FAMILIES, feature_docs
from models.estimator import make_estimator
from models.explain import (
    LOWERING_LABEL,
    NO_REASON,
    NOTE_LABEL,
    compose,
    contributions,
    item_pushes,
    missing_pairs,
    reasons,
    sayable,
    top_terms,
    unrecorded,
)
from models.scoring import rank_cases
from tests.builders import make_candidate

BUILT = {d.name: d for d in feature_docs(ALL_FAMILIES)}
NAMES = (
    "profile_source",
    "profile_amount",
    "profile_amount_missing",
    "history_n_mediated",
    "hotline_linked_calls_30d",
)
DOCS = tuple(BUILT[name] for name in NAMES)


def _matrix(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Cases whose escalation rises with calls, an unrecorded amount and an unrecorded source, and falls
    with successful mediations."""
    rng = np.random.default_rng(seed)
    amount_missing = rng.random(n) < 0.4
    source = rng.choice(["hotline", "police", "unknown"], n, p=[0.45, 0.4, 0.15])
    calls = rng.poisson(1.5, n).astype(float)
    mediated = rng.poisson(0.5, n).astype(float)
    logit = -2.5 + 0.8 * calls + 1.5 * amount_missing + 1.2 * (source == "unknown") - 1.5 * mediated
    return pd.DataFrame(
        {
            "profile_source": source,
            "profile_amount": np.where(amount_missing, 0.0, rng.lognormal(9, 1, n).round(-2)),
            "profile_amount_missing": amount_missing.astype(float),
            "history_n_mediated": mediated,
            "hotline_linked_calls_30d": calls,
            "label": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


@pytest.fixture(scope="module")
def model() -> object:
    """A logistic regression fitted on the matrix."""
    matrix = _matrix()
    return make_estimator(make_candidate("logistic", "logistic", DOCS, {"C": 1.0}), seed=1).fit(
        matrix[list(NAMES)], matrix["label"]
    )


def _cases(**columns: list[object]) -> pd.DataFrame:
    """Hand-made cases: the given columns over a plain one (hotline, ¥50,000, no mediation, no calls)."""
    plain: dict[str, list[object]] = {
        "profile_source": ["hotline"],
        "profile_amount": [50_000.0],
        "profile_amount_missing": [0.0],
        "history_n_mediated": [0.0],
        "hotline_linked_calls_30d": [0.0],
    }
    size = max(len(v) for v in columns.values()) if columns else 1
    frame = {name: values * size if len(values) == 1 else values for name, values in plain.items()}
    return pd.DataFrame({**frame, **columns})[list(NAMES)]


def test_an_unrecorded_amount_or_source_is_a_note_never_a_reason(model: object) -> None:
    case = _cases(
        profile_amount=[0.0],
        profile_amount_missing=[1.0],
        hotline_linked_calls_30d=[6.0],
        profile_source=["unknown"],
    )
    pushes = contributions(model, case)
    assert pushes.at[0, "profile_amount_missing"] > 0.5  # the flag alone would head the reasons
    said = reasons(model, case, DOCS, "zh", lowering=pd.Series([True])).iloc[0]
    assert said == "近30天按案件编号关联的热线来电6次。注意：案件来源未登记；涉案金额未登记"
    english = reasons(model, case, DOCS, "en").iloc[0]
    assert english == (
        "6 hotline calls linked to the case number in the last 30 days. Note: how the dispute reached the "
        "system was not recorded; the amount at stake was not recorded"
    )


def test_a_value_and_its_missing_flag_push_as_one_fact() -> None:
    docs = (BUILT["profile_amount"], BUILT["profile_amount_missing"], BUILT["profile_party_count"])
    assert missing_pairs(docs) == {"profile_amount": "profile_amount_missing"}
    pushes = pd.DataFrame(
        {
            "profile_amount": [0.4, -0.6],
            "profile_amount_missing": [-0.3, 0.7],
            "profile_party_count": [0.2, 0.1],
        }
    )
    items = item_pushes(pushes, docs)
    assert items["profile_amount"].tolist() == pytest.approx([0.1, 0.1])
    assert items["profile_amount_missing"].tolist() == pytest.approx([0.1, 0.1])
    assert items["profile_party_count"].tolist() == [0.2, 0.1]
    features = pd.DataFrame(
        {
            "profile_amount": [9e4, 0.0],
            "profile_amount_missing": [0.0, 1.0],
            "profile_party_count": [3.0, 1.0],
        }
    )
    assert unrecorded(features, docs).to_dict("list") == {
        "profile_amount": [False, True],
        "profile_amount_missing": [False, True],
        "profile_party_count": [False, False],
    }


def test_a_recorded_amount_is_weighed_against_the_flags_offset(model: object) -> None:
    """A recorded amount's own push is mostly the flag's offset (unrecorded amounts were filled with 0): the
    two together are what the amount says, and a plain amount is no reason."""
    case = _cases(hotline_linked_calls_30d=[6.0])
    pushes = contributions(model, case)
    assert pushes.at[0, "profile_amount"] > 0.05
    assert pushes.at[0, "profile_amount"] + pushes.at[0, "profile_amount_missing"] < 0.05
    assert reasons(model, case, DOCS, "zh").iloc[0] == "近30天按案件编号关联的热线来电6次"


def test_the_low_and_medium_bands_say_what_lowered_their_score(model: object) -> None:
    cases = _cases(history_n_mediated=[2.0, 2.0], hotline_linked_calls_30d=[3.0, 3.0])
    said = reasons(model, cases, DOCS, "zh", lowering=pd.Series([True, False]))
    assert said.tolist() == [
        "近30天按案件编号关联的热线来电3次。降低风险：调解成功2次；涉案金额50,000元；案件来源为12345热线",
        "近30天按案件编号关联的热线来电3次",
    ]
    english = reasons(model, cases, DOCS, "en", lowering=pd.Series([True, False]))
    assert english.iloc[0] == (
        "3 hotline calls linked to the case number in the last 30 days. Lowers the risk: 2 successful "
        "mediations so far; CNY 50,000 is at stake; it came in through the hotline"
    )


def test_a_case_with_nothing_raising_it_says_only_what_lowers_it(model: object) -> None:
    calm = _cases(history_n_mediated=[1.0])
    said = reasons(model, calm, DOCS, "zh", lowering=pd.Series([True])).iloc[0]
    assert said == "降低风险：近30天按案件编号关联的热线来电0次；调解成功1次；涉案金额50,000元"
    assert reasons(model, calm, DOCS, "zh").iloc[0] == NO_REASON["zh"]


def test_lowering_is_asked_per_case_by_index(model: object) -> None:
    cases = _cases(history_n_mediated=[1.0, 1.0]).set_axis(["a", "b"])
    said = reasons(model, cases, DOCS, "zh", lowering=pd.Series({"b": True}))
    assert said.index.tolist() == ["a", "b"]
    assert not said["a"].count(LOWERING_LABEL["zh"])
    assert said["b"].startswith(LOWERING_LABEL["zh"])


def test_tree_reasons_keep_missing_data_out_of_the_reasons() -> None:
    matrix = _matrix(n=1500, seed=2)
    candidate = make_candidate("trees", "trees", DOCS, {"max_iter": 40, "min_samples_leaf": 20})
    trees = make_estimator(candidate, seed=1).fit(matrix[list(NAMES)], matrix["label"])
    cases = matrix[list(NAMES)].head(300)
    said = reasons(trees, cases, DOCS, "zh", lowering=pd.Series(True, index=cases.index))
    first_parts = said.str.split("。").str[0]
    assert not first_parts.str.contains("未登记|unknown").any()
    lowering_parts = said.str.extract("降低风险：([^。]*)")[0].dropna()
    assert len(lowering_parts) > 0
    assert not lowering_parts.str.contains("未登记|unknown|涉案金额0元").any()
    missing = cases["profile_amount_missing"] == 1
    assert not said[~missing].str.contains("涉案金额未登记").any()


def test_compose_labels_each_part_after_the_first() -> None:
    assert compose(["甲", "乙"], [], [], "zh") == "甲；乙"
    assert compose(["甲"], ["丙"], ["丁"], "zh") == "甲。降低风险：丙。注意：丁"
    assert compose([], ["丙"], [], "zh") == "降低风险：丙"
    assert compose([], [], ["丁"], "zh") == NO_REASON["zh"] + "。注意：丁"
    assert compose(["a"], ["b", "c"], ["d"], "en") == "a. Lowers the risk: b; c. Note: d"
    assert NOTE_LABEL["en"] == "Note: "


def test_what_can_be_said_which_way() -> None:
    calls, flag = BUILT["hotline_linked_calls_30d"], BUILT["hotline_no_calls_ever"]
    assert sayable(calls, 3.0, 0.8, lowering=False)
    assert not sayable(calls, 0.0, -0.8, lowering=False)  # "0 calls" never raises a score
    assert not sayable(calls, 1.0, -0.2, lowering=False)  # fewer than the average case
    assert sayable(calls, 0.0, -0.8, lowering=True)  # "0 calls in 30 days" lowers it
    assert sayable(flag, 1.0, 0.0, lowering=True)
    assert not sayable(flag, 0.0, 0.0, lowering=True)  # an absent flag is never said
    assert not sayable(calls, float("nan"), 0.0, lowering=True)


def test_terms_lowering_a_score_are_those_present_and_pushing_down() -> None:
    pushes = pd.Series({"terms=已解决": -0.4, "terms=上访": 0.5, "terms=协议": -0.2, "terms=打人": -0.9})
    levels = pd.Series({"terms=已解决": 1.2, "terms=上访": 2.0, "terms=协议": 0.3, "terms=打人": -0.1})
    assert top_terms(pushes, levels) == ["上访"]
    assert top_terms(pushes, levels, lowering=True) == ["已解决", "协议"]


def test_missing_data_reads_as_not_recorded_in_both_languages() -> None:
    source, town = BUILT["profile_source"], BUILT["profile_town"]
    assert source.not_recorded("unknown") and source.not_recorded(" ") and source.not_recorded(None)
    assert not source.not_recorded("hotline")
    assert BUILT["profile_amount_missing"].not_recorded(1.0)
    assert not BUILT["profile_amount_missing"].not_recorded(0.0)
    assert not BUILT["profile_amount"].not_recorded(0.0)  # a number is unrecorded only by its flag
    assert BUILT["activity_last_type_3"].not_recorded("none") is False  # "no third record" is a fact
    assert source.unrecorded("zh") == "案件来源未登记"
    assert town.unrecorded("zh") == "所在乡镇街道未登记"
    assert town.unrecorded("en") == "town or street of the dispute was not recorded"
    assert BUILT["profile_amount_missing"].unrecorded("zh") == "涉案金额未登记"
    doc = FeatureDoc("x_kind", "kind of x", "-", "categorical", "x是{value}", "x is {value}")
    assert doc.unrecorded("zh") == "x是未登记"


def test_sources_and_categories_read_in_the_reasons_language() -> None:
    source, category = BUILT["profile_source"], BUILT["profile_category"]
    for value in SOURCES:
        assert "_" not in source.reason(value, "en") and value not in source.reason(value, "zh")
    for value in CATEGORIES:
        assert value not in category.reason(value, "en")
        assert category.reason(value, "zh") == f"纠纷类型为{value}"
    assert source.reason("walk_in", "zh") == "案件来源为群众来访"
    assert category.reason("劳资纠纷", "en") == "the dispute is a labour dispute"


def test_a_value_a_flag_calls_a_fill_is_not_said_and_the_flag_is_the_note() -> None:
    calls = FeatureDoc(
        "reporter_calls_30d",
        "calls",
        "30 days",
        "numeric",
        "近30天报案人来电{value}次",
        "{value} calls",
        recorded_by="phone_missing",
    )
    phone = FeatureDoc("phone_missing", "no phone", "-", "flag", "报案人电话未登记", "no phone recorded")
    features = pd.DataFrame({"reporter_calls_30d": [0.0, 0.0, 2.0], "phone_missing": [1.0, 0.0, 0.0]})
    assert unrecorded(features, (calls, phone))["reporter_calls_30d"].tolist() == [True, False, False]
    rng = np.random.default_rng(1)
    n = 800
    missing = rng.random(n) < 0.3
    matrix = pd.DataFrame(
        {
            "reporter_calls_30d": np.where(missing, 0.0, rng.poisson(2.0, n)),
            "phone_missing": missing.astype(float),
        }
    )
    label = rng.random(n) < 1 / (1 + np.exp(-(-2 + 0.9 * matrix["reporter_calls_30d"] + 1.0 * missing)))
    docs = (calls, phone)
    fitted = make_estimator(make_candidate("logistic", "logistic", docs, {"C": 1.0}), seed=1).fit(
        matrix, label
    )
    said = reasons(fitted, features, docs, "zh", lowering=pd.Series([True, True, True]))
    assert said.tolist() == [
        NO_REASON["zh"] + "。注意：报案人电话未登记",  # its 0 calls are a fill: never "lowered by 0 calls"
        "降低风险：近30天报案人来电0次",
        "近30天报案人来电2次",
    ]


def test_the_list_says_what_lowered_the_medium_and_low_bands(model: object) -> None:
    cases = (
        _matrix(n=300, seed=5)
        .drop(columns="label")
        .assign(
            case_id=[f"C{i:03d}" for i in range(300)],
            district="东湖区",
            town=None,
            category="劳资纠纷",
            opened_at=pd.Timestamp("2025-01-01"),
        )
    )
    listed = rank_cases(
        model,
        cases,
        DOCS,
        model_version="m/v1",
        as_of=date(2025, 2, 1),
        band_high=0.5,
        band_medium=0.2,
        language="zh",
        high_capacity=10,
    )
    lowered = listed["reasons"].str.contains(LOWERING_LABEL["zh"])
    assert not lowered[listed["band"] == "high"].any()
    assert lowered[listed["band"] == "low"].mean() > 0.9
    assert not listed["reasons"].str.split("。").str[0].str.contains("未登记|unknown").any()


def test_what_was_not_recorded_is_told_value_by_value_whatever_the_column_s_type() -> None:
    """A categorical value standing for "not recorded" (as text, None, NaN, in a category column), a set
    missing-data flag (a missing flag too) and never a number: the same as asking each value."""
    categorical = next(d for d in BUILT.values() if d.kind == "categorical")
    flag, number = BUILT["profile_amount_missing"], BUILT["profile_party_count"]
    values = ["未登记", None, "工地", np.nan, " Unknown ", "工地", ""]
    features = pd.DataFrame(
        {
            categorical.name: pd.Series(values, dtype=object),
            flag.name: [1.0, 0.0, np.nan, 0.0, 1.0, 0.0, 0.0],
            number.name: [np.nan, 0.0, 2.0, 1.0, np.nan, 3.0, 0.0],
        }
    )
    docs = (categorical, flag, number)
    expected = [True, True, False, True, True, False, True]
    assert unrecorded(features, docs)[categorical.name].tolist() == expected
    as_category = features.astype({categorical.name: "category"})
    assert unrecorded(as_category, docs)[categorical.name].tolist() == expected
    assert unrecorded(features, docs)[flag.name].tolist() == [True, False, True, False, True, False, False]
    assert not unrecorded(features, docs)[number.name].any()
