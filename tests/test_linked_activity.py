"""The linked-call family on a small simulated city: decisions made once equal decisions made afresh for
every date, and features for T never read anything known at or after T."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cities.demo import FILE_NAMES, SimulationConfig, simulate_city
from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from contracts.vocabulary import RecordKind
from features import activity, call_linking, intake, link_memo, linked_activity
from features.call_linking import WINDOW_LINK_COLUMNS, day_links, window_links
from features.link_inputs import decision_instants
from features.link_scoring import confidence, scores
from features.matrix import (
    FAMILIES,
    build_features,
    families_reading,
    families_with,
    training_matrix,
)
from features.sources import Sources
from ingest.validate import validate_frame
from models.date_policy import snapshot_dates
from pipelines.train_flow import training_families
from tests.builders import TEST_KEY

CITY = SimulationConfig(seed=11, n_cases=800, days=150)
DATES = snapshot_dates(date(2025, 4, 20), date(2025, 5, 29), 7)
CONFIG = linked_activity.LINK_CONFIG
NAMES = [doc.name for doc in linked_activity.FEATURES]


@pytest.fixture(scope="module")
def city() -> Sources:
    """The simulated city's exports in stored, pseudonymised form, in knowledge order."""
    simulated = simulate_city(CITY)
    stored = {}
    for field, kind in (
        ("cases", RecordKind.CASES),
        ("case_events", RecordKind.CASE_EVENTS),
        ("hotline", RecordKind.HOTLINE),
    ):
        text = getattr(simulated, field).fillna("").astype(str)
        text.insert(0, "_row", range(1, len(text) + 1))
        stored[field] = validate_frame(text, kind, FILE_NAMES[kind], TEST_KEY).records
    return Sources.ordered(stored["cases"], stored["case_events"], stored["hotline"])


def fresh_window(sources: Sources, as_of: date) -> pd.DataFrame:
    """window_links for one date with nothing remembered from any other computation."""
    link_memo.MEMO.clear()
    instant = as_of_instant(as_of)
    known = sources.known_before(instant)
    return window_links(known.hotline, known.cases, known.hotline, instant, CONFIG, events=known.events)


def test_the_city_has_links_to_compare(city: Sources) -> None:
    links = fresh_window(city, DATES[-1])
    assert len(links) > 50 and links["case_id"].nunique() > 20


def district_part(sources: Sources, district: str) -> Sources:
    """What a district part reads (`warehouse.district_parts.part_filters`): its cases, their events, the
    calls of the district and those quoting its case numbers or from its reporters' phones."""
    cases = sources.cases[sources.cases["district"] == district]
    ids, phones = set(cases["case_id"]), set(cases["reporter_phone_pid"].dropna())
    calls = sources.hotline
    mine = (
        (calls["district"] == district) | calls["case_id"].isin(ids) | calls["caller_phone_pid"].isin(phones)
    )
    return Sources.ordered(cases, sources.events[sources.events["case_id"].isin(ids)], calls[mine])


def test_a_district_is_linked_alone_as_with_the_others(city: Sources) -> None:
    """A district's links, confidences to the last bit, evidence and digests are the same whether the
    linker reads the whole city or only the district's part (so the linked calls are built by parts)."""
    as_of = DATES[-1]
    whole = fresh_window(city, as_of)
    district_of = city.hotline.set_index("call_id")["district"]
    stored = day_links(city, as_of, CONFIG)
    districts = sorted(city.cases["district"].unique())
    assert len(districts) > 2
    for district in districts:
        part = district_part(city, district)
        alone = fresh_window(part, as_of)
        expected = whole[whole["call_id"].map(district_of).to_numpy() == district].reset_index(drop=True)
        assert len(expected) > 5
        pd.testing.assert_frame_equal(alone, expected, check_exact=True)
        link_memo.MEMO.clear()
        day = day_links(part, as_of, CONFIG)
        in_district = stored["call_id"].map(district_of).to_numpy() == district
        expected = stored[in_district].reset_index(drop=True)
        pd.testing.assert_frame_equal(day, expected, check_exact=True, check_dtype=False)
    link_memo.MEMO.clear()


@pytest.mark.slow
def test_decisions_remembered_across_dates_equal_fresh_ones(city: Sources) -> None:
    fresh = {as_of: fresh_window(city, as_of) for as_of in DATES}
    link_memo.MEMO.clear()
    for as_of in DATES:  # oldest first: every date after the first reuses most of its days
        instant = as_of_instant(as_of)
        known = city.known_before(instant)
        once = window_links(known.hotline, known.cases, known.hotline, instant, CONFIG, events=known.events)
        pd.testing.assert_frame_equal(once, fresh[as_of])
    link_memo.MEMO.clear()


@pytest.mark.slow
def test_a_window_is_the_days_decisions_each_made_from_its_own_cut(city: Sources) -> None:
    """Every call of the window was decided by the run of the day after it became known, from what was
    known before that day began: the run's stored links, computed on a store cut there, are the links."""
    as_of = DATES[-1]
    window = fresh_window(city, as_of)
    start = pd.Timestamp(as_of_instant(as_of) - pd.Timedelta(days=CONFIG.call_window_days))
    days = [as_of - timedelta(days=n) for n in range(CONFIG.call_window_days)]
    runs = []
    for day in days:
        link_memo.MEMO.clear()
        runs.append(day_links(city.known_before(as_of_instant(day)), day, CONFIG))
    stored = pd.concat(runs, ignore_index=True)
    received = city.hotline.set_index("call_id")["received_at"]
    stored = stored[stored["call_id"].map(received).to_numpy() >= start.to_datetime64()]
    stored = stored.sort_values("call_id", ignore_index=True)
    columns = ["call_id", "case_id", "confidence", "evidence"]
    pd.testing.assert_frame_equal(stored[columns], window[columns])
    assert (stored["as_of"].map(as_of_instant) == window["decided_at"]).all()
    link_memo.MEMO.clear()


@pytest.mark.slow
def test_stored_decisions_given_back_are_not_decided_again(
    city: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of = DATES[-1]
    decided = []
    fill = call_linking._fill
    monkeypatch.setattr(
        call_linking, "_fill", lambda linker, batches: decided.extend(batches) or fill(linker, batches)
    )
    fresh = fresh_window(city, as_of)
    decided_fresh = len(decided)
    days = [as_of - timedelta(days=n) for n in range(CONFIG.call_window_days)]  # the window's decisions
    stored = []
    for day in days:
        link_memo.MEMO.clear()
        stored.append(day_links(city.known_before(as_of_instant(day)), day, CONFIG))
    stored = pd.concat(stored, ignore_index=True)
    link_memo.MEMO.clear()
    remembered = link_memo.remember(stored, city.hotline)
    assert remembered == stored["digest"].nunique() > len(days)  # a batch is a district's day
    decided.clear()
    pd.testing.assert_frame_equal(fresh_window_kept(city, as_of), fresh)
    # Only the batches without a stored link are decided again.
    assert len(decided) == decided_fresh - remembered
    link_memo.MEMO.clear()


def fresh_window_kept(sources: Sources, as_of: date) -> pd.DataFrame:
    """window_links for one date with whatever the memo holds."""
    instant = as_of_instant(as_of)
    known = sources.known_before(instant)
    return window_links(known.hotline, known.cases, known.hotline, instant, CONFIG, events=known.events)


@pytest.mark.slow
def test_the_family_over_many_dates_equals_each_date_built_alone(city: Sources) -> None:
    link_memo.MEMO.clear()
    matrix = training_matrix(city, DATES, 30, ["violence"], families=(linked_activity,))
    for as_of in DATES:
        link_memo.MEMO.clear()
        alone = build_features(city, as_of, families=(linked_activity,))
        together = matrix[matrix["as_of"] == as_of].reset_index(drop=True)
        pd.testing.assert_frame_equal(together[["case_id", *NAMES]], alone[["case_id", *NAMES]])
    assert matrix["linked_calls_30d"].sum() > 0
    link_memo.MEMO.clear()


def _rewritten_from(sources: Sources, instant: pd.Timestamp) -> Sources:
    """The same store with every record known at or after the instant changed (texts, phones, categories,
    case numbers, event types) and more such records added: what features for the instant must not see."""
    tables = {"cases": sources.cases, "events": sources.events, "hotline": sources.hotline}
    late = {name: frame[frame["known_at"] >= instant] for name, frame in tables.items()}
    rng = np.random.default_rng(5)
    hotline = late["hotline"].copy()
    hotline["text"] = "宏达服装厂欠工资35000元"
    hotline["caller_phone_pid"] = rng.permutation(hotline["caller_phone_pid"].to_numpy())
    hotline["case_id"] = rng.permutation(hotline["case_id"].to_numpy())
    hotline["category"] = "欠薪"
    copies = late["hotline"].assign(
        call_id=lambda f: "X" + f["call_id"], received_at=instant - pd.Timedelta(days=3)
    )
    cases = late["cases"].assign(
        description="宏达服装厂欠工资35000元", opened_at=instant - pd.Timedelta(days=5)
    )
    events = late["events"].assign(event_type="closed", event_at=instant - pd.Timedelta(days=10))
    return Sources.ordered(
        pd.concat([sources.cases[sources.cases["known_at"] < instant], cases], ignore_index=True),
        pd.concat([sources.events[sources.events["known_at"] < instant], events], ignore_index=True),
        pd.concat(
            [sources.hotline[sources.hotline["known_at"] < instant], hotline, copies], ignore_index=True
        ),
    )


@pytest.mark.parametrize("as_of", [DATES[2], DATES[-1]])
def test_features_for_a_date_never_read_what_was_known_at_or_after_it(city: Sources, as_of: date) -> None:
    instant = as_of_instant(as_of)
    rewritten = _rewritten_from(city, instant)
    assert rewritten.hotline["known_at"].ge(instant).any()
    link_memo.MEMO.clear()
    expected = build_features(city, as_of, families=(linked_activity,))
    link_memo.MEMO.clear()
    pd.testing.assert_frame_equal(build_features(rewritten, as_of, families=(linked_activity,)), expected)
    assert expected[NAMES].to_numpy().sum() > 0
    link_memo.MEMO.clear()


def test_the_documented_score_on_every_candidate_pair_gives_the_links(city: Sources) -> None:
    as_of = DATES[-1]
    instant = as_of_instant(as_of)
    known = city.known_before(instant)
    pairs = call_linking.candidate_signals(
        known.hotline, known.cases, known.hotline, instant, CONFIG, events=known.events
    )
    pairs = pairs.assign(z=scores(pairs, CONFIG)).sort_values("z", ascending=False, kind="stable")
    best = pairs.groupby("call_id").nth(0).set_index("call_id")
    z2 = pairs.groupby("call_id").nth(1).set_index("call_id")["z"].reindex(best.index).fillna(-np.inf)
    chance, _ = confidence(best["z"].to_numpy(), z2.to_numpy())
    kept = best.assign(confidence=chance)[chance >= CONFIG.threshold].sort_index()
    links = fresh_window(city, as_of)
    assert kept.index.tolist() == links["call_id"].tolist()
    assert kept["case_id"].tolist() == links["case_id"].tolist()
    assert np.allclose(kept["confidence"], links["confidence"])


def test_repetitive_text_columns_held_as_categoricals_give_the_same_links(city: Sources) -> None:
    as_of = DATES[-1]
    plain = fresh_window(city, as_of)
    hotline = city.hotline.astype(
        {c: "category" for c in ("case_id", "caller_phone_pid", "text", "district", "category")}
    )
    events = city.events.astype({c: "category" for c in ("case_id", "event_type")})
    categorical = fresh_window(Sources.ordered(city.cases, events, hotline), as_of)
    pd.testing.assert_frame_equal(categorical, plain)
    link_memo.MEMO.clear()


def test_window_links_columns(city: Sources) -> None:
    links = fresh_window(city, DATES[0])
    assert links.columns.tolist() == list(WINDOW_LINK_COLUMNS)
    assert (
        links["decided_at"]
        == decision_instants(city.hotline.set_index("call_id").loc[links["call_id"], "known_at"])
    ).all()
    assert links["confidence"].ge(CONFIG.threshold).all()
    link_memo.MEMO.clear()


def test_the_linked_family_is_optional_and_built_whenever_a_model_reads_it(tmp_path: Path) -> None:
    assert linked_activity not in FAMILIES
    assert families_with() == FAMILIES
    assert families_with([linked_activity]) == (*FAMILIES, linked_activity)
    assert families_reading(["profile_amount", "history_n_assigned"]) == FAMILIES
    assert families_reading(["profile_amount", "linked_calls_7d"]) == (*FAMILIES, linked_activity)
    assert training_families(Settings(home=tmp_path)) == (*FAMILIES, linked_activity, activity, intake)
    none = Settings(home=tmp_path, linked_call_features=False, extra_feature_families=())
    assert training_families(none) == FAMILIES
    assert training_families(none.model_copy(update={"linked_call_features": True}))[-1] is linked_activity
    extra = training_families(none.model_copy(update={"extra_feature_families": ("intake", "activity")}))
    assert extra == (*FAMILIES, activity, intake)  # in the optional families' order
