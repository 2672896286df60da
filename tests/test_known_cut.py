"""The one point-in-time cut: `features.known.cut` alone makes a KnownBefore, what takes one reads nothing
known at or after its instant, and product code cuts nowhere else."""

from __future__ import annotations

import ast
import dataclasses
import pickle
from datetime import date
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pandas as pd
import pytest

from features.known import KnownBefore, cut
from features.matrix import ALL_FAMILIES, build_features, features_at
from features.sources import Sources
from tests.builders import call_row, case_row, event_row, make_sources

T = date(2025, 3, 1)
INSTANT = pd.Timestamp(2025, 3, 1)
ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("contracts", "warehouse", "ingest", "features", "models", "pipelines", "dashboards")


def _stored() -> Sources:
    """Cases, events and calls on both sides of T, some happening before T but recorded after it."""
    cases = [
        case_row("A", "2025-01-10", description="某某公司拖欠工资，多名工人讨薪"),
        case_row("B", "2025-02-20", reporter_phone="13900000001"),
        case_row("LATE", "2025-02-25", recorded_at="2025-03-02"),
        case_row("AFTER", "2025-03-05"),
    ]
    events = [
        event_row("A", "2025-01-10", "registered"),
        event_row("A", "2025-02-10", "mediation_failed"),
        event_row("A", "2025-02-27", "violence", recorded_at="2025-03-01"),
        event_row("B", "2025-02-20", "registered"),
        event_row("B", "2025-03-03", "litigation"),
    ]
    calls = [
        call_row("h1", "2025-02-25 10:00", case_id="A", text="某某公司欠薪"),
        call_row("h2", "2025-02-26 11:00", text="某某公司拖欠工资", caller_phone="13900000001"),
        call_row("h3", "2025-02-28 23:00", text="某某公司欠薪", recorded_at="2025-03-01 08:00"),
        call_row("h4", "2025-03-01 00:00", case_id="B", text="又来电"),
    ]
    return make_sources(cases, events, calls)


def test_only_cut_makes_a_known_before() -> None:
    stored = _stored()
    known = cut(stored, T)
    assert known.instant == INSTANT and known.as_of == T
    with pytest.raises(TypeError, match="made only by"):
        KnownBefore(INSTANT, stored)
    with pytest.raises(TypeError, match="made only by"):
        dataclasses.replace(known, instant=pd.Timestamp(2025, 4, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        known.instant = pd.Timestamp(2025, 4, 1)  # type: ignore[misc]


def test_a_cut_travels_to_another_process_as_it_is() -> None:
    known = cut(_stored(), T)
    again = pickle.loads(pickle.dumps(known))
    assert again.instant == known.instant
    pd.testing.assert_frame_equal(again.hotline, known.hotline)


def test_a_date_is_its_midnight_and_an_instant_is_itself() -> None:
    stored = _stored()
    at_date, at_midnight = cut(stored, T), cut(stored, INSTANT)
    assert at_date.instant == at_midnight.instant == INSTANT
    assert sorted(at_date.hotline["call_id"]) == ["h1", "h2"]  # h3 became known at 08:00 on T, h4 at T
    later = cut(stored, INSTANT + pd.Timedelta(hours=9))
    assert sorted(later.hotline["call_id"]) == ["h1", "h2", "h3", "h4"]


def _spying(family: ModuleType, seen: list[tuple[str, pd.Timestamp, Sources]]) -> SimpleNamespace:
    """The family, recording what its builder is given."""

    def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
        seen.append((family.__name__, instant, known))
        return family.build(cohort, known, instant)

    return SimpleNamespace(FEATURES=family.FEATURES, build=build, __name__=family.__name__)


def test_a_feature_builder_given_a_cut_never_sees_a_row_recorded_at_or_after_its_instant() -> None:
    stored = _stored()
    for name in ("cases", "events", "hotline"):  # the store does hold later rows: the test can fail
        assert (getattr(stored, name)["known_at"] >= INSTANT).any(), name
    seen: list[tuple[str, pd.Timestamp, Sources]] = []
    families = tuple(_spying(family, seen) for family in ALL_FAMILIES)
    frame = features_at(cut(stored, T), families)  # type: ignore[arg-type]
    assert [name for name, _, _ in seen] == [family.__name__ for family in ALL_FAMILIES]
    for name, instant, known in seen:
        assert instant == INSTANT, name
        for table in (known.cases, known.events, known.hotline):
            assert (table["known_at"] < INSTANT).all(), name
    assert sorted(frame["case_id"]) == ["A", "B"] and set(frame["as_of"]) == {T}
    pd.testing.assert_frame_equal(frame, build_features(stored, T, ALL_FAMILIES))


def _attribute_calls(path: Path, name: str) -> list[int]:
    """Lines of the module calling a method or function by `name` through an attribute (x.name(...))."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
    ]


def test_product_code_cuts_only_in_features_known() -> None:
    """No product module but features/known.py calls Sources.known_before (the table slicing `cut` uses)."""
    allowed = {ROOT / "features" / "known.py"}
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in allowed
        for line in _attribute_calls(path, "known_before")
    }
    assert found == set()


def test_an_instant_may_be_given_as_numpy_or_python_datetime() -> None:
    stored = _stored()
    for when in (INSTANT.to_datetime64(), INSTANT.to_pydatetime()):
        assert cut(stored, when).instant == INSTANT  # type: ignore[arg-type]
