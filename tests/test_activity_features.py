"""Activity features on a hand-made city: windows and their edges, decay, recency, rates, the last event
types, calls per channel, the point-in-time cut, and the dictionary generated from the vocabularies."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.timeparse import as_of_instant
from contracts.vocabulary import CHANNELS, EventType
from features import activity
from features.cohort import open_cases
from features.matrix import build_features
from features.sources import Sources
from tests.builders import case_row, event_row, make_sources
from tests.test_features_hotline import call

T = date(2025, 4, 1)
INSTANT = as_of_instant(T)
NAMES = [d.name for d in activity.FEATURES]
P1, P2, P3, P4 = "13800000001", "13800000002", "13800000003", "13800000004"
AGE_A = 456.0  # 2024-01-01 to 2025-04-01 (2024 is a leap year)


def case(case_id: str, opened_at: str, phone: str = "") -> dict[str, str]:
    return case_row(case_id, opened_at, reporter_phone=phone)


def ev(case_id: str, event_at: str, event_type: str, recorded_at: str = "") -> dict[str, str]:
    return event_row(case_id, event_at, event_type, recorded_at=recorded_at)


CASES = [
    case("A", "2024-01-01 00:00", P1),
    case("B", "2025-03-29 00:00", P2),  # 3 days old: its rates use the 7-day floor
    case("C", "2025-02-01 00:00"),  # only its registration
    case("D", "2025-03-01 00:00"),  # no events at all
]
EVENTS = [
    ev("A", "2024-01-01 00:00", "registered"),
    ev("A", "2024-03-31 23:00", "agreement_breached"),  # just older than 365 days
    ev("A", "2024-04-01 00:00", "agreement_breached"),  # exactly at the 365-day edge: in
    ev("A", "2025-03-24 23:00", "mediation_failed"),  # just older than 7 days
    ev("A", "2025-03-25 00:00", "mediation_failed"),  # exactly at the 7-day edge: in
    ev("A", "2025-03-31 12:00", "visit"),
    ev("A", "2025-03-31 12:00", "mediation_session"),  # same time as the visit: later in the lifecycle
    ev("B", "2025-03-28 12:00", "referred"),  # before the opening: in the windows, not in the rate
    ev("B", "2025-03-30 00:00", "referred"),
    ev("B", "2025-03-31 00:00", "mediation_failed"),
    ev("C", "2025-02-01 00:00", "registered"),
]
CALLS = [
    call("h1", "2025-03-31 18:00", "A", P3, " Phone "),  # channel read trimmed, in any case
    call("h2", "2025-03-25 00:00", "A", P3, "web"),  # exactly at the 7-day edge
    call("h3", "2025-03-20 00:00", "", P1, "WeChat"),  # no case number, the reporter's phone: A's
    call("h4", "2023-12-01 00:00", "", P1, "phone"),  # the reporter's phone before A opened: nobody's
    call("h5", "2025-03-30 00:00", "B", P1, "app"),  # linked to B: never A's through the phone
    call("h6", "2025-03-31 00:00", "A", "", ""),  # no channel, no caller: counted among all channels only
    call("h7", "2025-03-31 00:00", "A", P4, "fax"),  # a channel outside the contract: all channels only
    call("h9", "2025-03-29 06:00", "", P2, "phone"),  # B's reporter
]


@pytest.fixture
def sources() -> Sources:
    return make_sources(CASES, EVENTS, CALLS)


def activity_features(sources: Sources, as_of: date = T) -> pd.DataFrame:
    """The family's columns, built through the real point-in-time cut, indexed by case id."""
    frame = build_features(sources, as_of, families=(activity,), dormant_days=None)
    return frame.set_index("case_id")[NAMES]


def decayed(ages: list[float], half_life: float) -> float:
    return sum(0.5 ** (age / half_life) for age in ages)


def test_event_counts_per_window_include_the_window_start_and_exclude_older_events(sources: Sources) -> None:
    a = activity_features(sources).loc["A"]
    assert [a[f"activity_mediation_failed_{d}d"] for d in (7, 30, 90, 365)] == [1, 2, 2, 2]
    assert [a[f"activity_agreement_breached_{d}d"] for d in (7, 30, 90, 365)] == [0, 0, 0, 1]
    assert [a[f"activity_visit_{d}d"] for d in (7, 30, 90, 365)] == [1, 1, 1, 1]
    assert a["activity_violence_365d"] == 0


def test_decayed_counts_are_exact(sources: Sources) -> None:
    a = activity_features(sources).loc["A"]
    ages = [7.0, 7 + 1 / 24]
    assert a["activity_mediation_failed_decay7"] == pytest.approx(decayed(ages, 7), rel=1e-12)
    assert a["activity_mediation_failed_decay30"] == pytest.approx(decayed(ages, 30), rel=1e-12)
    assert a["activity_agreement_breached_decay30"] == pytest.approx(
        decayed([365.0, 365 + 1 / 24], 30), rel=1e-12
    )
    assert a["activity_visit_decay7"] == pytest.approx(0.5 ** (0.5 / 7), rel=1e-12)


def test_days_since_the_last_event_or_since_opening_when_none(sources: Sources) -> None:
    features = activity_features(sources)
    assert features.loc["A", "activity_mediation_failed_days_since"] == 7
    assert features.loc["A", "activity_agreement_breached_days_since"] == 365
    assert features.loc["A", "activity_violence_days_since"] == AGE_A
    assert features.loc["B", "activity_referred_days_since"] == 2
    assert features.loc["C", "activity_mediation_failed_days_since"] == 59
    assert features.loc["D", "activity_closed_days_since"] == 31


def test_rate_counts_events_since_opening_per_30_days_of_age_floored_at_7_days(sources: Sources) -> None:
    features = activity_features(sources)
    assert features.loc["A", "activity_mediation_failed_rate"] == pytest.approx(2 / AGE_A * 30)
    assert features.loc["A", "activity_agreement_breached_rate"] == pytest.approx(2 / AGE_A * 30)
    assert features.loc["B", "activity_referred_rate"] == pytest.approx(1 / 7 * 30)  # 3 days old, 1 since
    assert features.loc["B", "activity_mediation_failed_rate"] == pytest.approx(30 / 7)
    assert features.loc["C", "activity_mediation_failed_rate"] == 0


def test_last_types_are_most_recent_first_with_none_when_fewer(sources: Sources) -> None:
    last = activity_features(sources)[[f"activity_last_type_{k}" for k in (1, 2, 3)]]
    assert last.loc["A"].tolist() == ["mediation_session", "visit", "mediation_failed"]
    assert last.loc["B"].tolist() == ["mediation_failed", "referred", "referred"]
    assert last.loc["C"].tolist() == ["registered", "none", "none"]
    assert last.loc["D"].tolist() == ["none", "none", "none"]


def test_calls_are_split_by_channel_with_the_reporters_unlinked_calls(sources: Sources) -> None:
    features = activity_features(sources)
    a, b = features.loc["A"], features.loc["B"]
    windows = (7, 30, 90, 365)
    assert [a[f"activity_calls_phone_{d}d"] for d in windows] == [1, 1, 1, 1]  # h1
    assert [a[f"activity_calls_web_{d}d"] for d in windows] == [1, 1, 1, 1]  # h2, at the edge
    assert [a[f"activity_calls_wechat_{d}d"] for d in windows] == [0, 1, 1, 1]  # h3, from the reporter
    assert [a[f"activity_calls_app_{d}d"] for d in windows] == [0, 0, 0, 0]  # h5 is B's
    assert [a[f"activity_calls_all_{d}d"] for d in windows] == [4, 5, 5, 5]  # h1 h2 h6 h7, then h3
    assert a["activity_calls_web_decay7"] == pytest.approx(0.5)
    assert a["activity_calls_all_decay30"] == pytest.approx(decayed([0.25, 7, 1, 1, 12], 30))
    assert a["activity_calls_phone_days_since"] == 0.25
    assert a["activity_calls_wechat_days_since"] == 12
    assert a["activity_calls_app_days_since"] == AGE_A  # no call through the app: since opening
    assert [b[f"activity_calls_{c}_7d"] for c in (*CHANNELS, "all")] == [1, 0, 1, 0, 2]  # h9, h5
    assert b["activity_calls_all_days_since"] == 2
    assert features.loc["C", "activity_calls_all_days_since"] == 59


def test_distinct_callers_are_weighted_by_their_last_call(sources: Sources) -> None:
    features = activity_features(sources)
    # A: P3 (h1, 0.25 days ago; h2 older), P4 (h7, 1 day) and P1 (h3, 12 days); h6 has no caller
    assert features.loc["A", "activity_callers_decay30"] == pytest.approx(decayed([0.25, 1, 12], 30))
    assert features.loc["B", "activity_callers_decay30"] == pytest.approx(decayed([2, 2.75], 30))
    assert features.loc["D", "activity_callers_decay30"] == 0


def test_records_known_after_the_instant_change_nothing(sources: Sources) -> None:
    late_events = [
        ev("A", "2025-03-30 00:00", "violence", recorded_at="2025-04-02"),
        ev("D", "2025-03-31 00:00", "mediation_failed", recorded_at="2025-04-01 00:00"),
        ev("B", "2025-04-01 00:00", "litigation"),
    ]
    late_calls = [
        call("z1", "2025-03-31 10:00", "A", P3, "web", recorded_at="2025-04-01 00:00"),
        call("z2", "2025-04-01 00:00", "", P1, "phone"),
        call("z3", "2025-03-30 10:00", "", P2, "app", recorded_at="2025-04-05"),
    ]
    more = make_sources(CASES, EVENTS + late_events, CALLS + late_calls)
    assert more.known_before(INSTANT).events.shape == sources.known_before(INSTANT).events.shape
    pd.testing.assert_frame_equal(activity_features(more), activity_features(sources))


def test_events_and_calls_dated_at_or_after_the_instant_are_left_out_even_when_known() -> None:
    """The family itself drops what happened at or after the instant, whatever the caller's cut."""
    base = make_sources(CASES, EVENTS, CALLS)
    dated_later = make_sources(
        CASES,
        [*EVENTS, ev("A", "2025-04-01 00:00", "violence"), ev("B", "2025-04-03 00:00", "closed")],
        [*CALLS, call("z1", "2025-04-01 00:00", "A", P3, "web"), call("z2", "2025-04-02", "", P2, "app")],
    )
    cohort = open_cases(base.known_before(INSTANT), INSTANT)
    before = activity.build(cohort, base, INSTANT)
    pd.testing.assert_frame_equal(activity.build(cohort, dated_later, INSTANT), before)


def test_build_gives_one_column_per_feature_doc_in_order_and_finite_numbers(sources: Sources) -> None:
    known = sources.known_before(INSTANT)
    cohort = open_cases(known, INSTANT)
    out = activity.build(cohort, known, INSTANT)
    assert out.index.equals(cohort.index)
    assert out.columns.tolist() == NAMES
    numeric = [d.name for d in activity.FEATURES if d.kind != "categorical"]
    assert (out[numeric].dtypes == "float64").all()
    assert np.isfinite(out[numeric].to_numpy()).all()
    categorical = [d.name for d in activity.FEATURES if d.kind == "categorical"]
    assert categorical == ["activity_last_type_1", "activity_last_type_2", "activity_last_type_3"]
    assert out[categorical].notna().all().all()


def test_empty_sources_and_empty_cohort() -> None:
    features = activity_features(make_sources(CASES, [], []))
    assert np.isfinite(features.drop(columns=features.filter(like="last_type").columns).to_numpy()).all()
    assert features.loc["D", "activity_calls_all_days_since"] == 31
    assert (features.filter(like="last_type") == "none").all().all()
    frame = build_features(make_sources(CASES, EVENTS, CALLS), date(2023, 1, 1), families=(activity,))
    assert frame.empty
    assert frame.columns[-len(NAMES) :].tolist() == NAMES


def test_dictionary_is_generated_for_every_event_type_and_channel() -> None:
    assert len(set(NAMES)) == len(NAMES)
    assert all(name.startswith(activity.PREFIX) for name in NAMES)
    measures = [*(f"{d}d" for d in (7, 30, 90, 365)), "decay7", "decay30", "days_since"]
    expected = {
        *(f"activity_{t.value}_{m}" for t in EventType if t is not EventType.REGISTERED for m in measures),
        *(f"activity_{t.value}_rate" for t in EventType if t is not EventType.REGISTERED),
        *(f"activity_calls_{c}_{m}" for c in (*CHANNELS, "all") for m in measures),
        "activity_callers_decay30",
        *(f"activity_last_type_{k}" for k in (1, 2, 3)),
    }
    assert set(NAMES) == expected
    for doc in activity.FEATURES:
        assert doc.meaning and doc.window
        assert "{value}" in doc.reason_zh and "{value}" in doc.reason_en
        assert "{" not in doc.reason(3.0, "zh") and "{" not in doc.reason(2.5, "en")
    by_name = {d.name: d for d in activity.FEATURES}
    assert by_name["activity_mediation_failed_7d"].reason(3.0, "zh") == "近7天调解失败3次"
    assert (
        by_name["activity_mediation_failed_7d"].reason(3.0, "en") == "3 failed mediations in the last 7 days"
    )
    assert by_name["activity_mediation_failed_days_since"].reason(12.0, "zh") == "已12天没有调解失败"
    assert by_name["activity_calls_wechat_30d"].reason(2.0, "zh") == "近30天经微信渠道与本案相关的热线来电2次"
    assert by_name["activity_last_type_1"].reason("visit", "zh") == "最近一条案件记录为走访"


# ---------------------------------------------------------------- brute force

START = pd.Timestamp("2025-01-01")
TYPES = ["mediation_failed", "visit", "agreement_breached", "violence"]


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["X", "Y"]),
            st.sampled_from(TYPES),
            st.integers(min_value=0, max_value=500 * 24),
            st.sampled_from([0, 0, 0, 30, 24 * 5]),
        ),
        max_size=25,
        unique_by=lambda e: (e[0], e[1], e[2]),
    ),
    st.integers(min_value=0, max_value=400 * 24),
    st.integers(min_value=401, max_value=520),
)
def test_event_measures_match_a_direct_computation(
    stream: list[tuple[str, str, int, int]], opening_hour: int, cut_day: int
) -> None:
    """For random event streams: counts per window, decayed counts, days since and rates, as defined."""
    opened = START + pd.Timedelta(hours=opening_hour)
    cases = [case("X", str(opened)), case("Y", str(opened))]
    rows, events = [], []
    for case_id, kind, hours, late in stream:
        when = START + pd.Timedelta(hours=hours)
        known = when + pd.Timedelta(hours=late)
        rows.append(ev(case_id, str(when), kind, str(known) if late else ""))
        events.append((case_id, kind, when, known))
    as_of = (START + pd.Timedelta(days=cut_day)).date()
    instant = as_of_instant(as_of)
    features = activity_features(make_sources(cases, rows, []), as_of)
    age = (instant - opened) / pd.Timedelta(days=1)
    for case_id in ("X", "Y"):
        for kind in TYPES:
            times = [w for c, k, w, known in events if c == case_id and k == kind and known < instant]
            ages = [(instant - w) / pd.Timedelta(days=1) for w in times if w < instant]
            expected = {
                **{f"{d}d": sum(a <= d for a in ages) for d in (7, 30, 90, 365)},
                "decay7": decayed(ages, 7),
                "decay30": decayed(ages, 30),
                "days_since": min(ages, default=age),
                "rate": sum(w >= opened for w in times if w < instant) / max(age, 7) * 30,
            }
            got = features.loc[case_id, [f"activity_{kind}_{m}" for m in expected]].tolist()
            assert got == pytest.approx(list(expected.values()), rel=1e-9, abs=1e-12)


def test_last_type_reasons_name_the_event_in_words() -> None:
    doc = next(d for d in activity.FEATURES if d.name == "activity_last_type_1")
    assert doc.reason("mediation_failed", "zh") == "最近一条案件记录为调解失败"
    assert doc.reason("group_incident", "en") == "the case's latest record is group incident"
    assert doc.reason("none", "zh") == "最近一条案件记录为（无）"
