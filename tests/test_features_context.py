"""Context features on a hand-made city: exact base rates and local load, and no leakage from after T."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.timeparse import as_of_instant
from features import context
from features.cohort import open_cases
from features.matrix import COHORT_COLUMNS, build_features
from features.sources import Sources
from tests.builders import case_row, event_row, make_sources

T = date(2025, 6, 1)  # T - 30 days = 2025-05-02, T - 120 days = 2025-02-01, T - 365 days = 2024-06-01
EAST, WEST = "东湖区", "西山区"
LABOUR, NEIGHBOUR, OTHER = "劳资纠纷", "邻里纠纷", "其他"
NAMES = [doc.name for doc in context.FEATURES]
CASE_IDS = ["Q", "R2", "R4", "W", "X", "Y", "Z"]


def case(
    case_id: str, opened_at: str, district: str, town: str, category: str, **extra: str
) -> dict[str, str]:
    return case_row(case_id, opened_at, district=district, town=town, category=category, **extra)


def ev(case_id: str, event_at: str, event_type: str, recorded_at: str = "") -> dict[str, str]:
    return event_row(case_id, event_at, event_type, recorded_at=recorded_at)


CASES = [
    # reference cases: opened in [2024-06-01, 2025-05-02)
    case("R1", "2025-01-31 23:00", EAST, "甲街道", LABOUR),  # escalated; just before the trend's base window
    case("R2", "2025-02-01 00:00", EAST, "甲街道", LABOUR),  # litigation after its 30 days; still open
    case("R3", "2024-06-01 00:00", WEST, "甲街道", LABOUR),  # first instant of the lookback; escalated
    case("R3b", "2024-09-01 00:00", WEST, "丙镇", NEIGHBOUR),  # violence exactly 30 days after opening
    case("R6", "2025-04-01", EAST, "甲街道", NEIGHBOUR),  # violence known only at T
    case("R7", "2025-03-01", WEST, "甲街道", NEIGHBOUR),  # a failed mediation is no escalation
    case("Z", "2025-03-10", WEST, "丙镇", LABOUR),  # open; reference case and in the trend's base window
    # outside the reference window
    case("R4", "2025-05-02 00:00", EAST, "乙镇", NEIGHBOUR),  # opened exactly at T - 30 days; open
    case("R5", "2024-05-31 23:00", WEST, "丙镇", NEIGHBOUR),  # opened before the lookback
    case("R8", "2025-04-01", EAST, "甲街道", LABOUR, recorded_at="2025-06-02"),  # known after T
    # opened in the last 30 days
    case("X", "2025-05-20", EAST, "甲街道", LABOUR),
    case("Y", "2025-05-25", EAST, "", NEIGHBOUR),  # town not recorded
    case("W", "2025-05-31 23:59", WEST, "甲街道", OTHER),  # same town name as in 东湖区, other district
    case("Q", "2025-05-10", EAST, "甲街道", LABOUR),  # its closing is known only after T: open
    case("C1", "2025-05-15", EAST, "甲街道", LABOUR),  # closed before T
    case("F1", "2025-06-01 00:00", EAST, "甲街道", LABOUR),  # opened at T: not before it
]
EVENTS = [
    ev("R1", "2025-02-05", "violence"),
    ev("R1", "2025-02-10", "closed"),
    ev("R2", "2025-03-05", "litigation"),
    ev("R3", "2024-06-30 23:00", "group_incident"),
    ev("R3", "2024-08-01", "closed"),
    ev("R3b", "2024-10-01 00:00", "violence"),
    ev("R3b", "2024-10-05", "closed"),
    ev("R5", "2024-06-05", "violence"),
    ev("R5", "2024-07-01", "closed"),
    ev("R6", "2025-04-10", "violence", recorded_at="2025-06-01 00:00"),
    ev("R6", "2025-04-20", "closed"),
    ev("R7", "2025-03-05", "mediation_failed"),
    ev("R7", "2025-03-20", "closed"),
    ev("R4", "2025-05-03", "violence"),
    ev("R8", "2025-04-05", "violence", recorded_at="2025-06-02"),
    ev("Q", "2025-05-30", "closed", recorded_at="2025-06-02"),
    ev("C1", "2025-05-28", "closed"),
]

# Reference: R1 (escalated), R2, R3 (escalated), R3b, R6, R7, Z: k = 2, n = 7, p0 = 2/7, m = 20.
P0 = 2 / 7
LABOUR_RATE = (2 + 20 * P0) / (4 + 20)  # R1, R2, R3, Z
NEIGHBOUR_RATE = (0 + 20 * P0) / (3 + 20)  # R3b, R6, R7
EAST_RATE = (1 + 20 * P0) / (3 + 20)  # R1, R2, R6
WEST_RATE = (1 + 20 * P0) / (4 + 20)  # R3, R3b, R7, Z
LABOUR_EAST = (1 + 20 * LABOUR_RATE) / (2 + 20)  # R1, R2
LABOUR_WEST = (1 + 20 * LABOUR_RATE) / (2 + 20)  # R3, Z
NEIGHBOUR_EAST = (0 + 20 * NEIGHBOUR_RATE) / (1 + 20)  # R6


def _percent(*rates: float) -> list[float]:
    return [100 * rate for rate in rates]


# name: value per case in CASE_IDS order (rates in percent)
EXPECTED: dict[str, list[float]] = {
    "context_category_rate": _percent(
        LABOUR_RATE, LABOUR_RATE, NEIGHBOUR_RATE, P0, LABOUR_RATE, NEIGHBOUR_RATE, LABOUR_RATE
    ),
    "context_district_rate": _percent(
        EAST_RATE, EAST_RATE, EAST_RATE, WEST_RATE, EAST_RATE, EAST_RATE, WEST_RATE
    ),
    "context_category_district_rate": _percent(
        LABOUR_EAST, LABOUR_EAST, NEIGHBOUR_EAST, P0, LABOUR_EAST, NEIGHBOUR_EAST, LABOUR_WEST
    ),
    "context_rate_history_cases": [4, 4, 3, 0, 4, 3, 4],
    # open at T: 东湖区 甲街道 Q R2 X, 乙镇 R4, no town Y; 西山区 甲街道 W, 丙镇 Z
    "context_open_cases_town": [2, 2, 0, 0, 2, 4, 0],
    "context_open_cases_district": [4, 4, 4, 1, 4, 4, 1],
    # opened in [2025-05-02, 2025-06-01): 东湖区 甲街道 Q X C1, 乙镇 R4, no town Y; 西山区 甲街道 W
    "context_new_cases_town_30d": [2, 3, 0, 0, 2, 4, 0],
    "context_new_cases_district_30d": [4, 5, 4, 0, 4, 4, 1],
    # (1 + same town & category in the last 30 days) / (1 + in [2025-02-01, 2025-05-02) / 3)
    "context_new_cases_trend_town_category": [
        3 / (1 + 1 / 3),
        4.0,
        1.0,
        1.0,
        3 / (1 + 1 / 3),
        2 / (1 + 1 / 3),
        1.0,
    ],
    "context_town_missing": [0, 0, 0, 0, 0, 1, 0],
}


@pytest.fixture
def sources() -> Sources:
    return make_sources(CASES, EVENTS, [])


def _context(sources: Sources, as_of: date = T) -> pd.DataFrame:
    return build_features(sources, as_of, families=(context,)).set_index("case_id")[NAMES]


def test_every_feature_has_its_exact_value(sources: Sources) -> None:
    features = _context(sources)
    assert features.index.tolist() == CASE_IDS
    for name, values in EXPECTED.items():
        assert features[name].tolist() == pytest.approx(values), name


def test_frame_matches_the_dictionary(sources: Sources) -> None:
    frame = build_features(sources, T, families=(context,))
    assert list(frame.columns) == ["as_of", *COHORT_COLUMNS, *NAMES]
    instant = as_of_instant(T)
    known = sources.known_before(instant)
    cohort = open_cases(known, instant)
    built = context.build(cohort, known, instant)
    assert built.index.equals(cohort.index)
    assert list(built.columns) == NAMES == list(EXPECTED)
    assert set(built.dtypes) == {np.dtype(float)}
    assert not built.isna().any().any()
    assert all(name.startswith(context.PREFIX) for name in NAMES)


def test_empty_cohort_gives_an_empty_frame_with_every_column(sources: Sources) -> None:
    instant = as_of_instant(T)
    known = sources.known_before(instant)
    built = context.build(open_cases(known, instant).iloc[:0], known, instant)
    assert built.empty
    assert list(built.columns) == NAMES


def test_without_any_history_rates_are_zero_and_counts_still_exact() -> None:
    cases = [case("A", "2025-05-20", EAST, "甲街道", LABOUR), case("B", "2025-05-21", EAST, "甲街道", LABOUR)]
    features = _context(make_sources(cases, [], []))
    assert features["context_category_rate"].tolist() == [0.0, 0.0]
    assert features["context_category_district_rate"].tolist() == [0.0, 0.0]
    assert features["context_rate_history_cases"].tolist() == [0.0, 0.0]
    assert features["context_open_cases_town"].tolist() == [1.0, 1.0]
    assert features["context_new_cases_trend_town_category"].tolist() == [2.0, 2.0]


def _after_t_or_unripe() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Cases and escalations that happen after T, are known only after T, or whose window is still open."""
    cases = [
        case("F2", "2025-06-03", EAST, "甲街道", LABOUR),
        case("F3", "2025-04-15", WEST, "丙镇", LABOUR, recorded_at="2025-06-01 00:00"),
        case("F4", "2025-05-30", EAST, "", NEIGHBOUR, recorded_at="2025-06-10"),
    ]
    events = [
        ev("R2", "2025-06-05", "violence"),  # after T
        ev("Z", "2025-06-01 00:00", "litigation"),  # at T: T's future
        ev("R7", "2025-03-10", "violence", recorded_at="2025-06-01 00:00"),  # known only at T
        ev("R3b", "2024-09-10", "group_incident", recorded_at="2025-07-01"),  # known only after T
        ev("F3", "2025-04-20", "violence", recorded_at="2025-06-01 00:00"),  # case and event known at T
        ev("X", "2025-05-25", "violence"),  # known, but X's 30 days have not passed by T
        ev("Y", "2025-05-30", "litigation"),
        ev("R4", "2025-05-20", "group_incident"),  # R4's window [05-02, 06-01) closes exactly at T
        ev("W", "2025-05-31 23:59", "violence"),
        ev("X", "2025-06-02", "closed"),  # a closing after T keeps X open
        ev("Z", "2025-05-31", "closed", recorded_at="2025-06-01 00:01"),  # known after T: Z stays open
    ]
    return cases, events


def test_what_happens_or_becomes_known_after_t_or_is_unripe_changes_nothing(sources: Sources) -> None:
    extra_cases, extra_events = _after_t_or_unripe()
    more = make_sources(CASES + extra_cases, EVENTS + extra_events, [])
    pd.testing.assert_frame_equal(_context(sources), _context(more))


def test_a_ripe_escalation_known_before_t_does_move_the_rates(sources: Sources) -> None:
    known_in_time = make_sources(
        CASES, [*EVENTS, ev("R7", "2025-03-10", "violence", recorded_at="2025-05-31")], []
    )
    row = _context(known_in_time).loc["Y"]
    p0 = 3 / 7
    assert row["context_category_rate"] == pytest.approx(100 * (1 + 20 * p0) / 23)
    assert row["context_district_rate"] == pytest.approx(100 * (1 + 20 * p0) / 23)


def test_config_sets_horizon_and_escalation_types(sources: Sources) -> None:
    instant = as_of_instant(T)
    known = sources.known_before(instant)
    cohort = open_cases(known, instant)
    config = context.ContextConfig(horizon_days=40, escalation_types=("litigation",))
    built = context.build(cohort, known, instant, config)
    # reference now [2024-06-01, 2025-04-22): R1 R2 R3 R3b R6 R7 Z; only R2's litigation (day 32) counts
    p0 = 1 / 7
    labour = (1 + 20 * p0) / 24
    assert built.loc["X", "context_category_rate"] == pytest.approx(100 * labour)
    assert built.loc["W", "context_category_rate"] == pytest.approx(100 * p0)
    assert built.loc["X", "context_category_district_rate"] == pytest.approx(100 * (1 + 20 * labour) / 22)


def test_config_is_validated_and_normalises_event_types() -> None:
    from contracts.vocabulary import EventType

    assert context.ContextConfig(escalation_types=(EventType.VIOLENCE,)).escalation_types == ("violence",)
    assert context.DEFAULT.horizon_days == 30
    assert context.DEFAULT.escalation_types == ("violence", "group_incident", "litigation")
    with pytest.raises(ValueError):
        context.ContextConfig(horizon_days=0)
    with pytest.raises(ValueError):
        context.ContextConfig(prior_strength=0)


def test_reasons_read_as_true_sentences() -> None:
    docs = {doc.name: doc for doc in context.FEATURES}
    assert (
        docs["context_category_rate"].reason(100 * LABOUR_RATE, "zh")
        == "近一年同类纠纷立案后30天内的升级率估计为32.1%"
    )
    assert docs["context_open_cases_town"].reason(2.0, "en") == (
        "2 other open disputes in the same town (district if the town is not recorded)"
    )
    assert docs["context_new_cases_trend_town_category"].reason(2.5, "zh") == (
        "所在乡镇/街道（未登记的按区县）同类纠纷新增趋势指数为2.5（1为持平，越大增长越快）"
    )
    longer = context.feature_docs(context.ContextConfig(horizon_days=60, lookback_days=180))
    assert [doc.name for doc in longer] == NAMES
    assert longer[0].reason(12.0, "zh") == "近180天同类纠纷立案后60天内的升级率估计为12%"
    assert longer[3].reason(40.0, "en") == (
        "the escalation rate of this kind of dispute is estimated from 40 cases of the past 180 days"
    )


# ---------------------------------------------------------------- against a brute-force count

START = pd.Timestamp("2024-01-01")
PLACES = [(EAST, "甲街道"), (EAST, "乙镇"), (EAST, ""), (WEST, "甲街道")]
TYPES = ["violence", "litigation", "visit", "closed", "reopened"]


def _naive(cases: list[tuple], events: list[tuple], instant: pd.Timestamp) -> dict[str, dict[str, float]]:
    """Context features by plain loops over what was known before the instant."""
    day = pd.Timedelta(days=1)
    known_cases = [c for c in cases if c[4] < instant]
    known_events = [e for e in events if e[3] < instant]

    def status_open(cid: str) -> bool:
        status = sorted(
            (at, seen, t) for c, at, t, seen in known_events if c == cid and t in ("closed", "reopened")
        )
        return not status or status[-1][2] != "closed"

    reference = [c for c in known_cases if instant - 365 * day <= c[1] < instant - 30 * day]
    escalated = {
        c[0]: any(
            e[0] == c[0] and e[2] in context.ESCALATION_TYPES and c[1] <= e[1] < c[1] + 30 * day
            for e in known_events
        )
        for c in reference
    }
    p0 = sum(escalated.values()) / len(reference) if reference else 0.0

    def rate(match: Callable[[tuple], bool], prior: float) -> tuple[float, int]:
        chosen = [c for c in reference if match(c)]
        k = sum(escalated[c[0]] for c in chosen)
        return (k + 20 * prior) / (len(chosen) + 20), len(chosen)

    open_ids = [c for c in known_cases if status_open(c[0])]

    def active(cid: str, opened: pd.Timestamp) -> bool:  # the scored cohort leaves dormant cases out
        since = instant - 180 * day
        return opened >= since or any(c == cid and at >= since for c, at, _, _ in known_events)

    out = {}
    for cid, _, district, town, _, category in (c for c in open_ids if active(c[0], c[1])):

        def same_town(c: tuple, district: str = district, town: str = town) -> bool:
            return c[2] == district and (c[3] == town or not town)

        others = [c for c in known_cases if c[0] != cid]
        recent = [c for c in others if instant - 30 * day <= c[1] < instant]
        base = [c for c in others if instant - 120 * day <= c[1] < instant - 30 * day]
        cat_rate, n_cat = rate(lambda c, category=category: c[5] == category, p0)
        out[cid] = {
            "context_category_rate": 100 * cat_rate,
            "context_district_rate": 100 * rate(lambda c, d=district: c[2] == d, p0)[0],
            "context_category_district_rate": 100
            * rate(lambda c, d=district, k=category: c[2] == d and c[5] == k, cat_rate)[0],
            "context_rate_history_cases": n_cat,
            "context_open_cases_town": sum(same_town(c) for c in open_ids if c[0] != cid),
            "context_open_cases_district": sum(c[2] == district for c in open_ids if c[0] != cid),
            "context_new_cases_town_30d": sum(same_town(c) for c in recent),
            "context_new_cases_district_30d": sum(c[2] == district for c in recent),
            "context_new_cases_trend_town_category": (
                1 + sum(same_town(c) and c[5] == category for c in recent)
            )
            / (1 + sum(same_town(c) and c[5] == category for c in base) / 3),
            "context_town_missing": float(not town),
        }
    return out


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 500), st.integers(0, 3), st.sampled_from([LABOUR, NEIGHBOUR]), st.integers(0, 40)
        ),
        min_size=1,
        max_size=25,
    ),
    st.lists(
        st.tuples(st.integers(0, 24), st.integers(0, 60), st.sampled_from(TYPES), st.integers(0, 60)),
        max_size=40,
    ),
    st.integers(200, 520),
)
def test_features_match_a_brute_force_count_of_what_was_known(
    raw_cases: list[tuple[int, int, str, int]], raw_events: list[tuple[int, int, str, int]], cut_day: int
) -> None:
    """For random cities, every feature equals an independent loop over the rows known before T."""
    day = pd.Timedelta(days=1)
    cases = [
        (f"C{i:02d}", START + d * day, *PLACES[p], START + (d + late) * day, category)
        for i, (d, p, category, late) in enumerate(raw_cases)
    ]
    owners = [cases[i % len(cases)] for i, *_ in raw_events]
    events = [
        (owner[0], owner[1] + d * day, t, owner[1] + (d + late) * day)
        for owner, (_, d, t, late) in zip(owners, raw_events, strict=True)
    ]
    # one event per case and instant: no tie between a closing and a reopening
    events = list({(c, at): (c, at, t, seen) for c, at, t, seen in events}.values())
    sources = make_sources(
        [
            case(c, str(at), d, town, category, recorded_at=str(seen))
            for c, at, d, town, seen, category in cases
        ],
        [ev(c, str(at), t, str(seen)) for c, at, t, seen in events],
        [],
    )
    as_of = (START + cut_day * day).date()
    expected = _naive(cases, events, pd.Timestamp(as_of))
    features = _context(sources, as_of)
    assert sorted(features.index) == sorted(expected)
    for cid, values in expected.items():
        for name, value in values.items():
            assert features.at[cid, name] == pytest.approx(value), (cid, name)


@pytest.mark.parametrize("district", [EAST, WEST])
def test_a_district_alone_with_the_citys_base_rates_gets_the_same_features(
    sources: Sources, district: str
) -> None:
    instant = as_of_instant(T)
    known = sources.known_before(instant)
    city = context.base_rates(known, instant)
    assert city.overall == P0
    assert city.categories.loc[LABOUR].tolist() == [2.0, 4.0]  # R1 and R3 escalated of R1, R2, R3, Z
    whole = context.build(open_cases(known, instant), known, instant)

    own = known.cases["district"] == district
    alone = Sources(
        known.cases[own],
        known.events[known.events["case_id"].isin(known.cases["case_id"][own])],
        known.hotline,
    )
    cohort = open_cases(alone, instant)
    parted = context.build(cohort, alone, instant, city=city)
    pd.testing.assert_frame_equal(parted, whole.loc[cohort.index])
    assert not context.build(cohort, alone, instant).equals(parted)  # without them, the rates differ
