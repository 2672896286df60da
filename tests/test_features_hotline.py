"""Hotline activity features on a hand-made city: exact values, window edges, the point-in-time cut."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.timeparse import as_of_instant
from features import hotline_activity
from features.cohort import open_cases
from features.matrix import COHORT_COLUMNS, build_features
from features.sources import Sources
from tests.builders import call_row, case_row, make_sources

T = date(2025, 4, 1)
NAMES = [d.name for d in hotline_activity.FEATURES]
P1, P1_INTERNATIONAL, P2, P3, P4, P6 = (
    "13800000001",
    "+86 138 0000 0001",
    "13800000002",
    "13800000003",
    "13800000004",
    "13800000006",
)


def case(case_id: str, opened_at: str, phone: str = "", recorded_at: str = "") -> dict[str, str]:
    return case_row(case_id, opened_at, reporter_phone=phone, recorded_at=recorded_at)


def call(
    call_id: str,
    received_at: str,
    case_id: str = "",
    phone: str = "",
    channel: str = "",
    recorded_at: str = "",
) -> dict[str, str]:
    fields = {"case_id": case_id, "caller_phone": phone, "channel": channel, "recorded_at": recorded_at}
    return call_row(call_id, received_at, **fields)


CASES = [
    case("A", "2025-01-10 09:00", P1),
    case("B", "2025-03-20 10:00", P1),  # the same reporter's second open case
    case("C", "2025-02-01 08:00", P2),
    case("D", "2025-02-15 12:00"),  # no reporter phone
    case("E", "2025-03-01 00:00", P6, recorded_at="2025-04-03"),  # known only after T: not in the cohort
    case("F", "2025-03-01 00:00", P6),
]
CALLS = [
    # linked to A by case_id
    call("a1", "2025-03-31 23:30", "A", P1, "phone"),  # the reporter quoting the case number: counted once
    call("a2", "2025-03-25 00:00", "A", P3, "web"),  # exactly at the 7-day edge; date-only, so not night
    call("a3", "2025-03-24 23:59", "A", P3, " WeChat "),  # just outside 7 days
    call("a4", "2025-03-02 00:00", "A", P4, ""),  # exactly at the 30-day edge; empty channel
    call("a5", "2025-01-05 10:00", "A"),  # linked before the opening: still about A
    call("a6", "2025-03-31 12:00", "A", P3, "web", recorded_at="2025-04-01 00:00"),  # known at T: cut
    # from the reporter's phone without a case number
    call("r1", "2025-03-28 10:00", "", P1_INTERNATIONAL, "app"),  # counts for A and B
    call("r2", "2025-03-15 05:00", "", P1, "other"),  # before B opened: A only
    call("r3", "2025-03-20 10:00", "", P1),  # exactly at B's opening: A and B
    call("r4", "2025-01-05 09:00", "", P1, "phone"),  # before A opened: nobody
    call("r5", "2025-03-30 14:00", "C", P1, "phone"),  # linked to C: never A's or B's through the phone
    call("r6", "2025-03-30 15:00", "ZZ", P1, "web"),  # linked to an unknown case: nobody's
    call("r7", "2025-03-31 08:00", "", P1, "web", recorded_at="2025-04-02"),  # known after T: cut
    # C
    call("c1", "2025-01-20 10:00", "", P2),  # before C opened
    call("c2", "2024-12-31 23:59", "C", P2),  # just older than 90 days
    call("c3", "2025-01-01 00:00", "C", P2),  # exactly at the 90-day edge
    # D
    call("d1", "2025-03-29 15:00", "D", "", "PHONE"),  # no caller phone
    call("d2", "2025-03-10 11:00", "D", P1, "web"),  # P1 is the reporter of A and B, not of D
    # F: only a call from its reporter before it was opened
    call("f1", "2025-02-20 10:00", "", P6),
    call("e1", "2025-03-30 10:00", "E", P6),  # about a case outside the cohort
    call("x1", "2025-03-30 10:00", "", P3, "wechat"),  # background call
]

COLUMNS = (
    *(f"{kind}_{days}d" for kind in ("linked_calls", "reporter_calls", "calls") for days in (7, 30, 90)),
    "calls_trend",
    "distinct_callers_30d",
    "other_callers_30d",
    "night_calls_30d",
    "non_phone_share_30d",
    "days_since_last_call",
    "no_calls_ever",
    "reporter_phone_missing",
)
EXPECTED = {
    "A": (2, 4, 5, 1, 3, 3, 3, 7, 8, 120 / 58, 3, 2, 3, 400 / 7, 1 / 48, 0, 0),
    "B": (0, 0, 0, 1, 2, 2, 1, 2, 2, 60 / 37, 1, 0, 0, 50, 3 + 14 / 24, 0, 0),
    "C": (1, 1, 2, 0, 0, 0, 1, 1, 2, 2, 1, 1, 0, 0, 1 + 10 / 24, 0, 0),
    "D": (1, 2, 2, 0, 0, 0, 1, 2, 2, 60 / 37, 1, 1, 0, 50, 2 + 9 / 24, 0, 1),
    "F": (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 31, 1, 0),
}


def expected_frame(rows: dict[str, tuple[float, ...]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=[f"hotline_{c}" for c in COLUMNS], dtype=float
    ).rename_axis("case_id")


def hotline_features(sources: Sources, as_of: date = T) -> pd.DataFrame:
    """The family's columns, built through the real point-in-time cut, indexed by case id."""
    frame = build_features(sources, as_of, families=(hotline_activity,))
    return frame.set_index("case_id")[NAMES]


@pytest.fixture
def sources() -> Sources:
    return make_sources(CASES, [], CALLS)


def test_expected_columns_match_the_dictionary() -> None:
    assert [f"hotline_{c}" for c in COLUMNS] == NAMES


def test_every_feature_is_exact_on_the_hand_made_city(sources: Sources) -> None:
    pd.testing.assert_frame_equal(hotline_features(sources), expected_frame(EXPECTED), rtol=1e-9)


def test_trend_formula_is_the_smoothed_rate_ratio_scaled_to_seven_days(sources: Sources) -> None:
    row = hotline_features(sources).loc["A"]
    recent, before = 3, 4  # calls in [T-7d, T) and in [T-37d, T-7d)
    assert row["hotline_calls_trend"] == pytest.approx((recent + 1) / (before * 7 / 30 + 1))


def test_all_calls_are_linked_plus_reporter_calls(sources: Sources) -> None:
    features = hotline_features(sources)
    for days in hotline_activity.WINDOWS_DAYS:
        total = features[f"hotline_linked_calls_{days}d"] + features[f"hotline_reporter_calls_{days}d"]
        pd.testing.assert_series_equal(total, features[f"hotline_calls_{days}d"], check_names=False)


def test_calls_known_after_the_instant_change_nothing(sources: Sources) -> None:
    late = [
        call("z1", "2025-03-31 10:00", "B", P3, "web", recorded_at="2025-04-01 00:00"),
        call("z2", "2025-04-01 00:00", "", P1, "web"),
        call("z3", "2025-03-30 10:00", "", P2, "web", recorded_at="2025-04-05"),
    ]
    more = make_sources(CASES, [], CALLS + late)
    pd.testing.assert_frame_equal(hotline_features(more), hotline_features(sources))


def test_the_same_calls_a_day_later_move_every_window(sources: Sources) -> None:
    later = hotline_features(sources, date(2025, 4, 2)).loc["A"]
    assert later["hotline_linked_calls_7d"] == 2  # a6 is now known; a2 falls out of the 7 days
    assert later["hotline_reporter_calls_7d"] == 1  # r1; r7 (recorded 2025-04-02 00:00) is still unknown
    assert later["hotline_days_since_last_call"] == pytest.approx(1 + 1 / 48)


def test_empty_hotline_gives_imputed_values() -> None:
    features = hotline_features(make_sources(CASES, [], []))
    days_open = {"A": 80 + 15 / 24, "B": 11 + 14 / 24, "C": 58 + 16 / 24, "D": 44.5, "F": 31}
    rows = {
        case_id: (0,) * 9 + (1, 0, 0, 0, 0, days, 1, float(case_id == "D"))
        for case_id, days in days_open.items()
    }
    pd.testing.assert_frame_equal(features, expected_frame(rows), rtol=1e-9)


def test_build_returns_the_dictionary_columns_as_floats_on_the_cohort_index(sources: Sources) -> None:
    instant = as_of_instant(T)
    known = sources.known_before(instant)
    cohort = open_cases(known, instant)
    out = hotline_activity.build(cohort, known, instant)
    assert out.index.equals(cohort.index)
    assert out.columns.tolist() == NAMES
    assert (out.dtypes == "float64").all()
    assert not out.isna().any().any()


def test_empty_cohort_gives_an_empty_frame(sources: Sources) -> None:
    frame = build_features(sources, date(2024, 1, 1), families=(hotline_activity,))
    assert frame.empty
    assert frame.columns.tolist() == ["as_of", *COHORT_COLUMNS, *NAMES]


def test_dictionary_entries_are_complete_and_read_as_sentences() -> None:
    assert len(set(NAMES)) == len(NAMES)
    for doc in hotline_activity.FEATURES:
        assert doc.name.startswith(hotline_activity.PREFIX)
        assert doc.meaning and doc.window
        assert doc.kind in ("numeric", "flag")
        if doc.kind == "numeric":
            assert "{value}" in doc.reason_zh and "{value}" in doc.reason_en
        assert "{" not in doc.reason(3.0, "zh") and "{" not in doc.reason(2.5, "en")
    by_name = {d.name: d for d in hotline_activity.FEATURES}
    assert by_name["hotline_linked_calls_7d"].reason(4.0, "zh") == "近7天按案件编号关联的热线来电4次"


# ---------------------------------------------------------------- brute force

START = pd.Timestamp("2025-01-01")
PHONES = ["13900000001", "13900000002", "13900000003", ""]
CASE_PHONES = {"A": PHONES[0], "B": PHONES[0], "C": PHONES[1]}


def _brute_force(opened: dict[str, pd.Timestamp], calls: list[tuple], instant: pd.Timestamp) -> dict:
    """Per case: (linked, reporter) counts per window, distinct callers in 30 days, days since last call."""
    result = {}
    for case_id, opened_at in opened.items():
        about = [
            (when, phone, case_ref == case_id)
            for case_ref, phone, when, known in calls
            if known < instant
            and (
                case_ref == case_id
                or (case_ref == "" and phone and phone == CASE_PHONES[case_id] and when >= opened_at)
            )
        ]

        def count(days: int, linked: bool, about: list = about) -> int:
            return sum(1 for w, _, lk in about if lk == linked and w >= instant - pd.Timedelta(days=days))

        recent = {p for w, p, _ in about if p and w >= instant - pd.Timedelta(days=30)}
        last = max((w for w, _, _ in about), default=opened_at)
        result[case_id] = (
            *(count(d, True) for d in (7, 30, 90)),
            *(count(d, False) for d in (7, 30, 90)),
            len(recent),
            (instant - last).total_seconds() / 86400,
        )
    return result


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "", "", "X"]),
            st.sampled_from(PHONES),
            st.integers(min_value=0, max_value=150 * 24),
            st.sampled_from([0, 0, 0, 30, 24 * 5]),
        ),
        max_size=30,
    ),
    st.tuples(*(st.integers(min_value=0, max_value=99 * 24) for _ in range(3))),
    st.integers(min_value=100, max_value=150),
)
def test_counts_match_a_brute_force_count_of_what_was_known(
    stream: list[tuple[str, str, int, int]], opening_hours: tuple[int, int, int], cut_day: int
) -> None:
    """For random call streams, linked/reporter counts, callers and recency equal a direct count."""
    opened = {c: START + pd.Timedelta(hours=h) for c, h in zip("ABC", opening_hours, strict=True)}
    cases = [case(c, str(opened[c]), CASE_PHONES[c]) for c in "ABC"]
    rows, calls = [], []
    for i, (case_ref, phone, hours, late) in enumerate(stream):
        when = START + pd.Timedelta(hours=hours)
        known = when + pd.Timedelta(hours=late)
        rows.append(call(f"k{i}", str(when), case_ref, phone, "phone", str(known) if late else ""))
        calls.append((case_ref, phone, when, known))
    as_of = (START + pd.Timedelta(days=cut_day)).date()
    features = hotline_features(make_sources(cases, [], rows), as_of)
    expected = _brute_force(opened, calls, as_of_instant(as_of))
    names = [
        *(f"hotline_{k}_{d}d" for k in ("linked_calls", "reporter_calls") for d in (7, 30, 90)),
        "hotline_distinct_callers_30d",
        "hotline_days_since_last_call",
    ]
    for case_id, values in expected.items():
        assert features.loc[case_id, names].tolist() == pytest.approx(list(values))
