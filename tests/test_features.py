"""Cohort, labels and the first feature families on a hand-made city; point-in-time cut."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.timeparse import as_of_instant
from features.cohort import escalation_labels
from features.matrix import build_features, training_matrix
from features.sources import Sources, as_categorical, compact, is_among, is_blank, positions
from models.date_policy import snapshot_dates
from tests.builders import call_row, case_row, event_row, make_sources

T = date(2025, 2, 1)
ESCALATIONS = ["violence", "group_incident", "litigation"]


def case(case_id: str, opened_at: str, **extra: str) -> dict[str, str]:
    return case_row(case_id, opened_at, **extra)


def ev(case_id: str, event_at: str, event_type: str, recorded_at: str = "") -> dict[str, str]:
    return event_row(case_id, event_at, event_type, recorded_at=recorded_at)


def call(call_id: str, received_at: str, case_id: str = "", recorded_at: str = "") -> dict[str, str]:
    return call_row(call_id, received_at, case_id=case_id, recorded_at=recorded_at)


CASES = [
    case("A", "2025-01-01 09:00", party_count="5", amount="20000", source="hotline"),
    case("B", "2025-01-05"),
    case("C", "2025-01-03"),
    case("D", "2025-02-01 00:00"),
    case("E", "2025-01-10", recorded_at="2025-02-03"),
]
EVENTS = [
    ev("A", "2025-01-01 09:00", "registered"),
    ev("A", "2025-01-20", "mediation_failed"),
    ev("A", "2025-01-28", "mediation_failed"),
    ev("A", "2025-01-31 23:00", "agreement_breached", recorded_at="2025-02-02"),
    ev("A", "2025-02-01 00:00", "violence"),
    ev("B", "2025-01-05", "registered"),
    ev("B", "2025-01-20", "closed"),
    ev("B", "2025-02-05", "litigation"),
    ev("C", "2025-01-03", "registered"),
    ev("C", "2025-01-10", "closed"),
    ev("C", "2025-01-25", "reopened"),
    ev("C", "2025-03-03 00:00", "group_incident"),
]
CALLS = [
    call("h1", "2025-01-27 10:00", "A"),
    call("h2", "2025-01-30 22:00", "A"),
    call("h3", "2025-01-10 08:00", "A"),
    call("h4", "2024-12-20 08:00", "A"),
    call("h5", "2025-02-01 00:00", "A"),
    call("h6", "2025-01-31 12:00", "A", recorded_at="2025-02-01 08:00"),
    call("h7", "2025-01-31 12:00", "C"),
]


@pytest.fixture
def sources() -> Sources:
    return make_sources(CASES, EVENTS, CALLS)


def test_cohort_is_cases_open_and_known_before_the_instant(sources: Sources) -> None:
    features = build_features(sources, T)
    assert features["case_id"].tolist() == ["A", "C"]


def test_case_history_and_hotline_counts_are_exact(sources: Sources) -> None:
    row = build_features(sources, T).set_index("case_id").loc["A"]
    assert row["history_n_mediation_failed"] == 2
    assert row["history_n_agreement_breached"] == 0
    assert row["history_n_violence"] == 0
    assert row["history_days_since_last_event"] == 4.0
    assert row["hotline_linked_calls_7d"] == 2
    assert row["hotline_linked_calls_30d"] == 3
    assert row["profile_age_days"] == pytest.approx(31 - 9 / 24)
    assert row["profile_party_count"] == 5
    assert row["profile_amount"] == 20000
    assert row["profile_amount_missing"] == 0


def test_missing_profile_values_are_imputed_with_flags(sources: Sources) -> None:
    row = build_features(sources, T).set_index("case_id").loc["C"]
    assert (row["profile_party_count"], row["profile_party_count_missing"]) == (1.0, 1.0)
    assert (row["profile_amount"], row["profile_amount_missing"]) == (0.0, 1.0)
    assert row["profile_source"] == "unknown"


def test_labels_use_the_half_open_window_from_the_instant(sources: Sources) -> None:
    labels = escalation_labels(pd.Index(["A", "C"]), sources.events, as_of_instant(T), 30, ESCALATIONS)
    assert labels.loc["A", "label_violence"] == 1
    assert labels.loc["A", "label_any"] == 1
    assert labels.loc["C", "label_group_incident"] == 0
    later = escalation_labels(pd.Index(["C"]), sources.events, as_of_instant(T), 31, ESCALATIONS)
    assert later.loc["C", "label_any"] == 1


def _future_additions() -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    return (
        [case("F", "2025-02-01 08:00"), case("G", "2025-01-20", recorded_at="2025-02-01 00:00")],
        [
            ev("A", "2025-01-15", "mediation_failed", recorded_at="2025-02-10"),
            ev("C", "2025-02-02", "closed"),
            ev("A", "2025-01-30", "agreement_breached", recorded_at="2025-02-01 00:00"),
        ],
        [call("h8", "2025-01-31", "A", recorded_at="2025-02-01 00:01"), call("h9", "2025-02-01 06:00", "C")],
    )


def test_records_after_the_instant_or_known_after_it_change_nothing(sources: Sources) -> None:
    extra_cases, extra_events, extra_calls = _future_additions()
    more = make_sources(CASES + extra_cases, EVENTS + extra_events, CALLS + extra_calls)
    before = build_features(sources, T)
    after = build_features(more, T)
    pd.testing.assert_frame_equal(before, after)


def test_training_matrix_stacks_dates_with_labels(sources: Sources) -> None:
    matrix = training_matrix(sources, [date(2025, 1, 15), T], 30, ESCALATIONS)
    assert matrix.groupby("as_of")["case_id"].apply(list).to_dict() == {
        date(2025, 1, 15): ["A", "B"],
        T: ["A", "C"],
    }
    assert matrix.set_index(["as_of", "case_id"]).loc[(date(2025, 1, 15), "B"), "label_any"] == 1


def test_snapshot_dates_end_on_the_last_date() -> None:
    assert snapshot_dates(date(2025, 1, 1), date(2025, 1, 20), 7) == [
        date(2025, 1, 6),
        date(2025, 1, 13),
        date(2025, 1, 20),
    ]


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.integers(min_value=0, max_value=60),
            st.sampled_from(["visit", "mediation_failed", "closed", "reopened", "violence", "referred"]),
            st.integers(min_value=0, max_value=20),
        ),
        max_size=25,
    ),
    st.integers(min_value=5, max_value=55),
)
def test_cohort_and_history_match_a_brute_force_count_of_what_was_known(
    stream: list[tuple[str, int, str, int]], cut_day: int
) -> None:
    """For random event streams, features at T equal an independent count over rows known before T."""
    start = pd.Timestamp("2025-01-01")
    cases = [case(c, "2025-01-01 08:00") for c in ("A", "B", "C")]
    events = [
        ev(c, str(start + pd.Timedelta(days=d)), t, str(start + pd.Timedelta(days=d + late)))
        for c, d, t, late in stream
    ]
    as_of = (start + pd.Timedelta(days=cut_day)).date()
    instant = pd.Timestamp(as_of)
    known = [
        (c, start + pd.Timedelta(days=d), t, start + pd.Timedelta(days=d + late)) for c, d, t, late in stream
    ]
    known = [row for row in known if row[3] < instant]
    expected_open = []
    for case_id in ("A", "B", "C"):
        status = sorted(
            (when, seen, t) for c, when, t, seen in known if c == case_id and t in ("closed", "reopened")
        )
        if not status or status[-1][2] != "closed":
            expected_open.append(case_id)

    features = build_features(make_sources(cases, events, []), as_of).set_index("case_id")

    assert features.index.tolist() == expected_open
    for case_id in expected_open:
        for event_type in ("visit", "mediation_failed", "violence", "referred", "reopened"):
            count = sum(1 for c, _, t, _ in known if c == case_id and t == event_type)
            assert features.at[case_id, f"history_n_{event_type}"] == count


def test_recent_counts_and_losing_streak() -> None:
    events = [
        ev("A", "2025-01-01 09:00", "registered"),
        ev("A", "2025-01-01 10:00", "mediation_failed"),
        ev("A", "2025-01-06", "mediated"),
        ev("A", "2025-01-10", "mediation_failed"),
        ev("A", "2025-01-20", "mediation_failed"),
        ev("A", "2025-01-31", "visit"),
    ]
    row = build_features(make_sources([CASES[0]], events, []), T).set_index("case_id").loc["A"]
    assert row["history_n_mediation_failed"] == 3
    assert row["history_n_mediation_failed_30d"] == 2
    assert row["history_n_visit_30d"] == 1
    assert row["history_failures_since_success"] == 2
    assert row["profile_town"] == "unknown"


def test_ordered_sources_cut_the_same_records(sources: Sources) -> None:
    ordered = Sources.ordered(sources.cases, sources.events, sources.hotline)
    instant = as_of_instant(T)
    for mine, theirs in zip(
        (ordered.known_before(instant).events, ordered.known_before(instant).hotline),
        (sources.known_before(instant).events, sources.known_before(instant).hotline),
        strict=True,
    ):
        assert sorted(mine["record_key"]) == sorted(theirs["record_key"])
    pd.testing.assert_frame_equal(build_features(ordered, T), build_features(sources, T))


def test_a_date_before_any_case_gives_an_empty_frame(sources: Sources) -> None:
    features = build_features(sources, date(2024, 6, 1))
    assert features.empty
    assert "text_cue_groups_30d" in features.columns


TEXTS = pd.Series(["b", "a", None, "a", "  ", "b", "c"], dtype="str")


@pytest.mark.parametrize("values", [TEXTS, as_categorical(TEXTS), as_categorical(TEXTS).iloc[1:3]])
def test_positions_and_blanks_read_plain_and_categorical_text_alike(values: pd.Series) -> None:
    keys = pd.Index(["x", "a", "b"])
    expected = TEXTS.loc[values.index]
    assert positions(values, keys).tolist() == [keys.get_loc(v) if v in keys else -1 for v in expected]
    assert is_blank(values).tolist() == [
        v is None or not isinstance(v, str) or not v.strip() for v in expected
    ]


@pytest.mark.parametrize("values", [TEXTS, as_categorical(TEXTS), as_categorical(TEXTS).iloc[1:3]])
@pytest.mark.parametrize(
    "others", [{"a", "c", "zz"}, pd.Series(["c", None, "a", "a"], dtype="str"), pd.Index(["a", "c"]), set()]
)
def test_is_among_answers_as_isin_and_a_missing_value_never_is(values: pd.Series, others: object) -> None:
    wanted = {v for v in others if isinstance(v, str)}
    expected = [isinstance(v, str) and v in wanted for v in TEXTS.loc[values.index]]
    assert is_among(values, others).tolist() == expected
    assert is_among(pd.Index(TEXTS.loc[values.index]), others).tolist() == expected


def test_as_categorical_sorts_categories_and_keeps_values_and_missing() -> None:
    codes = as_categorical(TEXTS)
    assert list(codes.cat.categories) == ["  ", "a", "b", "c"]
    assert codes.astype(object).where(codes.notna(), None).tolist() == ["b", "a", None, "a", "  ", "b", "c"]
    assert as_categorical(TEXTS, max_share=0.5) is TEXTS  # 4 distinct of 7: codes would not pay


def test_compact_turns_only_repetitive_listed_columns_into_categoricals() -> None:
    frame = pd.DataFrame({"kind": ["a", "b"] * 3, "key": list("uvwxyz"), "other": ["a"] * 6})
    dtypes = compact(frame, ["kind", "key", "absent"]).dtypes.astype(str).to_dict()
    assert dtypes == {"kind": "category", "key": "str", "other": "str"}


def test_ordered_sources_cut_by_slicing_and_keep_cutting_in_order(sources: Sources) -> None:
    ordered = Sources.ordered(sources.cases, sources.events, sources.hotline)
    cut = ordered.known_before(as_of_instant(T))
    assert type(cut) is type(ordered)
    assert cut.events["known_at"].is_monotonic_increasing
    assert len(cut.events) == int((sources.events["known_at"] < as_of_instant(T)).sum())
    already = Sources.ordered(cut.cases, cut.events, cut.hotline)  # in order: nothing is re-sorted
    assert already.events.index.equals(pd.RangeIndex(len(cut.events)))
