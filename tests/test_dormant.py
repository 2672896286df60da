"""Dormant cases: open, but no activity in the `dormant_days` before the as-of instant; not scored, counted
and published apart. Hand-made sources, point in time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from features.cohort import DORMANT_COLUMNS, DORMANT_DAYS, dormant_cases, last_activity, open_cases
from features.known import cut
from features.matrix import FOUNDATION_FEATURES, build_features, feature_docs
from models.champion import Champion
from models.estimator import make_estimator
from pipelines.day_list import score_day
from tests.builders import call_row, case_row, event_row, make_candidate, make_sources

AS_OF = date(2025, 7, 1)
INSTANT = as_of_instant(AS_OF)


def _city() -> tuple:
    """ACTIVE has an event 10 days before; DORMANT nothing since 2024; CALLED is quoted by a call 20
    days before; CLOSED is closed; LATE's only recent event became known after the instant."""
    cases = [
        case_row("ACTIVE", "2024-06-01 09:00"),
        case_row("DORMANT", "2024-06-01 09:00", district="江北区", category="邻里纠纷"),
        case_row("CALLED", "2024-05-01 09:00"),
        case_row("CLOSED", "2024-05-01 09:00"),
        case_row("LATE", "2024-05-01 09:00"),
        case_row("NEW", "2025-06-30 09:00"),
    ]
    events = [
        event_row("ACTIVE", "2025-06-21 10:00", "visit"),
        event_row("DORMANT", "2024-08-15 10:00", "visit"),
        event_row("CLOSED", "2024-06-01 10:00", "closed"),
        event_row("LATE", "2025-06-20 10:00", "visit", recorded_at="2025-07-02 08:00"),
    ]
    calls = [
        call_row("C1", "2025-06-11 15:00", case_id="CALLED"),
        call_row("C2", "2024-12-01 15:00", case_id="DORMANT", recorded_at="2024-12-01 16:00"),
    ]
    return make_sources(cases, events, calls)


def test_an_open_case_without_activity_for_the_period_is_dormant_and_a_call_reactivates() -> None:
    known = _city().known_before(INSTANT)
    assert sorted(open_cases(known, INSTANT, DORMANT_DAYS)["case_id"]) == ["ACTIVE", "CALLED", "NEW"]
    assert sorted(open_cases(known, INSTANT, dormant_days=None)["case_id"]) == [
        "ACTIVE",
        "CALLED",
        "DORMANT",
        "LATE",
        "NEW",
    ]
    dormant = dormant_cases(known, INSTANT)
    assert list(dormant.columns) == list(DORMANT_COLUMNS)
    assert dormant.to_dict("records") == [
        {
            "case_id": "DORMANT",
            "district": "江北区",
            "category": "邻里纠纷",
            "opened_at": pd.Timestamp("2024-06-01 09:00"),
            "last_activity_at": pd.Timestamp("2024-12-01 15:00"),  # the call quoting it
            "days_inactive": 211,
        },
        {
            "case_id": "LATE",
            "district": "东湖区",
            "category": "劳资纠纷",
            "opened_at": pd.Timestamp("2024-05-01 09:00"),
            "last_activity_at": pd.Timestamp("2024-05-01 09:00"),  # its event is not yet known
            "days_inactive": 425,
        },
    ]


def test_activity_known_only_after_the_instant_does_not_count_and_counts_once_known() -> None:
    sources = _city()
    later = as_of_instant(date(2025, 7, 3))
    assert "LATE" in set(dormant_cases(sources.known_before(INSTANT), INSTANT)["case_id"])
    assert "LATE" in set(open_cases(sources.known_before(later), later, DORMANT_DAYS)["case_id"])


def test_the_boundary_is_exactly_dormant_days_before_the_instant() -> None:
    sources = _city()
    # DORMANT's last activity (the call) is at 2024-12-01 15:00: active while within the period.
    edge = pd.Timestamp("2024-12-01 15:00") + pd.Timedelta(days=DORMANT_DAYS)
    for instant, dormant in ((edge, False), (edge + pd.Timedelta(seconds=1), True)):
        known = sources.known_before(instant)
        assert ("DORMANT" in set(dormant_cases(known, instant)["case_id"])) is dormant
        assert ("DORMANT" in set(open_cases(known, instant, DORMANT_DAYS)["case_id"])) is not dormant


def test_last_activity_is_the_latest_opening_event_or_quoting_call() -> None:
    known = _city().known_before(INSTANT)
    cases = open_cases(known, INSTANT, dormant_days=None)
    last = last_activity(known, cases["case_id"], cases["opened_at"])
    assert dict(zip(cases["case_id"], last, strict=True)) == {
        "ACTIVE": pd.Timestamp("2025-06-21 10:00"),
        "DORMANT": pd.Timestamp("2024-12-01 15:00"),
        "CALLED": pd.Timestamp("2025-06-11 15:00"),
        "LATE": pd.Timestamp("2024-05-01 09:00"),
        "NEW": pd.Timestamp("2025-06-30 09:00"),
    }


def test_training_snapshots_and_scoring_share_the_cohort() -> None:
    features = build_features(_city(), AS_OF)
    assert sorted(features["case_id"]) == ["ACTIVE", "CALLED", "NEW"]


class _NeverCalled:
    def predict_proba(self, _frame: pd.DataFrame) -> None:
        raise AssertionError("no case should be scored")


def _fitted() -> Pipeline:
    """A logistic regression on the foundation features, fitted on the city's cohort at AS_OF."""
    docs = tuple(d for d in feature_docs() if d.name in FOUNDATION_FEATURES)
    features = build_features(_city(), AS_OF)
    pipeline = make_estimator(make_candidate("logistic_foundation", "logistic", docs), seed=0)
    return pipeline.fit(features[[d.name for d in docs]], np.arange(len(features)) % 2)


def _champion(settings: Settings, model: object | None = None) -> Champion:
    metadata = {
        "features": list(FOUNDATION_FEATURES),
        "horizon_days": settings.horizon_days,
        "escalation_events": [str(t) for t in settings.escalation_events],
    }
    return Champion(model or _NeverCalled(), "fengqiao-escalation/v9", "run", metadata)


def test_a_day_with_only_dormant_cases_gives_an_empty_list_with_the_reason(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    as_of = date(2026, 3, 1)
    day = score_day.fn(_champion(settings), cut(_city(), as_of), settings)
    assert day.listed.empty
    assert day.manifest["cases"] == 0 and day.manifest["dormant_cases"] == 5
    assert day.manifest["empty_reason"] == (
        "no open case was active in the 180 days before 2026-03-01: all 5 open cases are dormant "
        "and listed apart"
    )
    assert sorted(day.dormant["case_id"]) == ["ACTIVE", "CALLED", "DORMANT", "LATE", "NEW"]


def test_a_shorter_setting_scores_fewer_cases_and_lists_the_rest_as_dormant(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, dormant_days=15)
    day = score_day.fn(_champion(settings, _fitted()), cut(_city(), AS_OF), settings)
    assert day.listed["case_id"].tolist() == ["ACTIVE", "NEW"]
    assert day.dormant["case_id"].tolist() == ["CALLED", "DORMANT", "LATE"]  # the call was 20 days ago
    assert day.manifest["dormant_cases"] == 3 and day.manifest["empty_reason"] is None


def test_a_longer_setting_scores_the_cases_the_default_calls_dormant(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, dormant_days=100_000)
    day = score_day.fn(_champion(settings, _fitted()), cut(_city(), AS_OF), settings)
    assert sorted(day.listed["case_id"]) == ["ACTIVE", "CALLED", "DORMANT", "LATE", "NEW"]
    assert day.dormant.empty and day.manifest["dormant_cases"] == 0
