"""Tests of the demo-city simulator: contract shape, determinism, truth tables, messiness."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cities.demo import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    GENERIC_THINGS,
    GRIEVANCE_COLUMNS,
    HOTLINE_COLUMNS,
    SimulatedCity,
    SimulationConfig,
    simulate_city,
    truth_as_of_dates,
    write_city,
)
from contracts.vocabulary import CATEGORIES, CHANNELS, DEFAULT_ESCALATION_EVENTS, SOURCES, EventType

SMALL = SimulationConfig(n_cases=300, days=120)
MESSY = SimulationConfig(n_cases=300, days=120, messiness=0.05)
MEDIUM = SimulationConfig(n_cases=4_000, days=300)
CONTRACT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%Y-%m-%d %H:%M", "%Y年%m月%d日 %H:%M")
ESCALATIONS = {e.value for e in DEFAULT_ESCALATION_EVENTS}
FRAMES = (
    "cases",
    "case_events",
    "hotline",
    "truth_escalation",
    "truth_links",
    "truth_corruptions",
    "truth_grievances",
)


@pytest.fixture(scope="module")
def small() -> SimulatedCity:
    return simulate_city(SMALL)


@pytest.fixture(scope="module")
def medium() -> SimulatedCity:
    return simulate_city(MEDIUM)


@pytest.fixture(scope="module")
def messy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("messy")
    write_city(simulate_city(MESSY), out)
    return out


def parse_times(values: pd.Series) -> pd.Series:
    """Datetimes in any contract format (NaT where none applies)."""
    text = values.astype(str)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in CONTRACT_FORMATS:
        out = out.fillna(pd.to_datetime(text, format=fmt, errors="coerce"))
    return out


def parses(value: str) -> bool:
    for fmt in CONTRACT_FORMATS:
        try:
            datetime.strptime(value, fmt)
        except ValueError:
            continue
        return True
    return False


def auc(score: np.ndarray, outcome: np.ndarray) -> float:
    """Area under the ROC curve by ranks (ties averaged)."""
    ranks = pd.Series(score).rank().to_numpy()
    positives = outcome.astype(bool)
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def id_checksum_ok(number: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10X98765432"[total % 11] == number[17]


def as_of_midnights(truth: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(truth["as_of"].astype(str))


def linked_calls_last_7_days(city: SimulatedCity) -> np.ndarray:
    """Per truth row: hotline calls linked to its case by case_id in [D - 7 days, D)."""
    calls = city.hotline.dropna(subset=["case_id"]).assign(t=lambda f: parse_times(f["received_at"]))
    rows = pd.DataFrame(
        {"case_id": city.truth_escalation["case_id"], "D": as_of_midnights(city.truth_escalation)}
    )
    pairs = rows.reset_index().merge(calls[["case_id", "t"]], on="case_id")
    pairs = pairs[(pairs["t"] < pairs["D"]) & (pairs["t"] >= pairs["D"] - pd.Timedelta(days=7))]
    counts = np.zeros(len(rows))
    per_row = pairs.groupby("index").size()
    counts[per_row.index.to_numpy()] = per_row.to_numpy()
    return counts


# ---------------------------------------------------------------- shape and determinism


def test_columns_are_exactly_the_contract_columns(small: SimulatedCity) -> None:
    assert list(small.cases.columns) == list(CASE_COLUMNS) == [
        "case_id", "opened_at", "district", "town", "category", "source", "description", "party_count",
        "amount", "reporter_name", "reporter_phone", "reporter_id_number", "address", "recorded_at",
    ]  # fmt: skip
    assert list(small.case_events.columns) == list(EVENT_COLUMNS)
    assert list(small.hotline.columns) == list(HOTLINE_COLUMNS)
    assert list(small.truth_escalation.columns) == ["as_of", "case_id", "p_escalation", "escalated"]
    assert list(small.truth_links.columns) == ["call_id", "true_case_id", "linked_in_export"]
    assert list(small.truth_corruptions.columns) == ["file", "row", "field", "kind_of_corruption"]
    assert list(small.truth_grievances.columns) == [
        "grievance", "thing", "thing_kind", "district", "onset", "first_escalation_at", "escalation_case_id",
        "record_kind", "record_id", "named_as",
    ]  # fmt: skip


def test_same_seed_gives_identical_frames(small: SimulatedCity) -> None:
    again = simulate_city(SMALL)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(small, name), getattr(again, name))


def test_different_seeds_give_different_cities(small: SimulatedCity) -> None:
    other = simulate_city(SimulationConfig(seed=8, n_cases=300, days=120))
    assert not small.cases["description"].equals(other.cases["description"])
    assert not small.case_events.equals(other.case_events)


def test_invalid_configs_are_refused() -> None:
    with pytest.raises(ValueError):
        SimulationConfig(n_cases=0)
    with pytest.raises(ValueError):
        SimulationConfig(messiness=-0.1)
    with pytest.raises(ValueError):
        SimulationConfig(grievances=-1)
    with pytest.raises(ValueError):
        SimulationConfig(grievance_topic_only=1.5)
    with pytest.raises(ValueError):
        SimulationConfig(generic_call_share=-0.01)


# ---------------------------------------------------------------- contract content


def test_case_ids_are_unique_and_formatted(small: SimulatedCity) -> None:
    ids = small.cases["case_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"FQ\d{4}-\d{6}").all()


def test_vocabularies(medium: SimulatedCity) -> None:
    assert set(medium.cases["category"]) == set(CATEGORIES)
    assert set(medium.cases["source"].dropna()) <= set(SOURCES)
    assert set(medium.case_events["event_type"]) == {e.value for e in EventType}
    assert set(medium.hotline["channel"]) <= set(CHANNELS)
    assert 6 <= medium.cases["district"].nunique() <= 8
    assert medium.cases["district"].str.fullmatch(r".+[区县]").all()
    assert medium.cases["town"].dropna().str.fullmatch(r".+(镇|街道)").all()


def test_category_and_district_frequencies_differ(medium: SimulatedCity) -> None:
    shares = medium.cases["category"].value_counts(normalize=True)
    assert set(shares.index[:2]) == {"邻里纠纷", "婚姻家庭"}
    districts = medium.cases["district"].value_counts()
    assert districts.max() > 1.5 * districts.min()


def test_every_event_belongs_to_a_case_and_every_case_is_registered(small: SimulatedCity) -> None:
    events = small.case_events
    assert set(events["case_id"]) == set(small.cases["case_id"])
    registered = events[events["event_type"] == "registered"]
    assert registered["case_id"].is_unique and len(registered) == len(small.cases)


def test_events_never_precede_the_opening(small: SimulatedCity) -> None:
    opened = small.cases.set_index("case_id")["opened_at"].pipe(parse_times)
    when = parse_times(small.case_events["event_at"])
    assert (when.to_numpy() >= opened.reindex(small.case_events["case_id"]).to_numpy()).all()


def test_all_times_parse_and_lie_within_the_period(medium: SimulatedCity) -> None:
    start = pd.Timestamp(MEDIUM.start)
    end = start + pd.Timedelta(days=MEDIUM.days)
    columns = {
        "cases": ("opened_at", "recorded_at"),
        "case_events": ("event_at", "recorded_at"),
        "hotline": ("received_at", "recorded_at"),
    }
    for name, fields in columns.items():
        for field in fields:
            text = getattr(medium, name)[field].dropna()
            parsed = parse_times(text)
            assert parsed.notna().all(), (name, field)
            assert ((parsed >= start) & (parsed < end)).all(), (name, field)
    main = medium.case_events["event_at"]
    alternate_share = 1 - main.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").mean()
    assert 0.02 < alternate_share < 0.08


def test_late_entries_are_a_few_and_later(medium: SimulatedCity) -> None:
    recorded = medium.cases["recorded_at"].notna()
    assert 0.02 < recorded.mean() < 0.08
    late = medium.cases[recorded]
    lag = parse_times(late["recorded_at"]) - parse_times(late["opened_at"])
    assert (lag >= pd.Timedelta(hours=1)).all() and (lag <= pd.Timedelta(days=10)).all()


def test_id_numbers_pass_the_gb11643_checksum(medium: SimulatedCity) -> None:
    numbers = medium.cases["reporter_id_number"].dropna()
    assert len(numbers) > 0.8 * len(medium.cases)
    assert all(id_checksum_ok(n) for n in numbers)


def test_phones_are_mainland_mobiles_in_several_formats(medium: SimulatedCity) -> None:
    phones = medium.cases["reporter_phone"].dropna()
    digits = phones.str.replace(r"^\+86", "", regex=True).str.replace(r"[\s-]", "", regex=True)
    assert digits.str.fullmatch(r"1[35789]\d{9}").all()
    assert phones.str.fullmatch(r"\d{11}").mean() < 0.9
    assert phones.str.startswith("+86 ").any() and phones.str.contains(" ").any()


def test_party_count_and_amount_are_valid(medium: SimulatedCity) -> None:
    parties = medium.cases["party_count"].astype(int)
    assert (parties >= 1).all()
    crowd = medium.cases["category"].isin(["劳资纠纷", "征地拆迁", "物业纠纷"])
    assert parties[crowd].mean() > 2 * parties[~crowd].mean()
    amount = pd.to_numeric(medium.cases["amount"])
    assert (amount.dropna() >= 0).all()
    assert 0.2 < amount.isna().mean() < 0.5


def test_some_free_texts_carry_phone_or_id_numbers(medium: SimulatedCity) -> None:
    pii = r"1[35789]\d{9}|1[35789]\d[ -]\d{4}[ -]\d{4}|\d{17}[\dX]"
    share = medium.cases["description"].str.contains(pii).mean()
    assert 0.01 < share < 0.06
    assert medium.hotline["text"].str.contains(pii).any()
    assert medium.case_events["note"].dropna().str.contains(pii).any()


# ---------------------------------------------------------------- hotline and links


def test_links_truth_matches_the_hotline_export(medium: SimulatedCity) -> None:
    links, hotline = medium.truth_links, medium.hotline
    assert links["call_id"].tolist() == hotline["call_id"].tolist()
    exported = hotline["case_id"].notna().to_numpy()
    assert (exported == links["linked_in_export"].to_numpy()).all()
    assert (hotline["case_id"][exported].to_numpy() == links["true_case_id"][exported].to_numpy()).all()
    about_cases = links["true_case_id"].notna()
    assert set(links["true_case_id"][about_cases]) <= set(medium.cases["case_id"])
    assert 0.35 < links["linked_in_export"][about_cases].mean() < 0.55
    assert 0.3 < (~about_cases).mean() < 0.5


def test_unlinked_calls_mostly_come_from_the_reporters_phone(medium: SimulatedCity) -> None:
    def digits(values: pd.Series) -> pd.Series:
        return values.str.replace(r"\D", "", regex=True).str[-11:]

    reporter = digits(medium.cases.set_index("case_id")["reporter_phone"])
    calls = medium.hotline.assign(true_case_id=medium.truth_links["true_case_id"].to_numpy())
    unlinked = calls[calls["case_id"].isna() & calls["true_case_id"].notna() & calls["caller_phone"].notna()]
    same = (
        digits(unlinked["caller_phone"]).to_numpy() == reporter.reindex(unlinked["true_case_id"]).to_numpy()
    )
    assert 0.4 < same.mean() < 0.8


# ---------------------------------------------------------------- truth of escalation


def test_truth_dates_follow_the_config(small: SimulatedCity) -> None:
    dates = truth_as_of_dates(SMALL)  # day 30, 37, ... while the 30-day window fits in the 120 days
    assert dates == [date(2025, 1, 31) + timedelta(days=7 * k) for k in range(9)]
    assert dates[-1] + timedelta(days=30) <= SMALL.start + timedelta(days=SMALL.days)
    assert sorted(set(small.truth_escalation["as_of"])) == dates


def test_truth_rows_are_exactly_the_open_cases(small: SimulatedCity) -> None:
    opened = parse_times(small.cases.set_index("case_id")["opened_at"])
    events = small.case_events.assign(t=lambda f: parse_times(f["event_at"]))
    status = events[events["event_type"].isin(["closed", "reopened"])].sort_values("t", kind="stable")
    for as_of in truth_as_of_dates(SMALL):
        midnight = pd.Timestamp(as_of)
        latest = status[status["t"] < midnight].groupby("case_id")["event_type"].last()
        closed = set(latest[latest == "closed"].index)
        expected = set(opened[opened < midnight].index) - closed
        rows = small.truth_escalation[small.truth_escalation["as_of"] == as_of]
        assert set(rows["case_id"]) == expected
        assert rows["case_id"].is_unique


def test_truth_escalated_matches_the_exported_events(small: SimulatedCity) -> None:
    events = small.case_events.assign(t=lambda f: parse_times(f["event_at"]))
    escalations = events[events["event_type"].isin(ESCALATIONS)]
    truth = small.truth_escalation.assign(D=as_of_midnights(small.truth_escalation))
    pairs = truth.reset_index().merge(escalations[["case_id", "t"]], on="case_id")
    inside = pairs[(pairs["t"] >= pairs["D"]) & (pairs["t"] < pairs["D"] + pd.Timedelta(days=30))]
    expected = truth.index.isin(inside["index"])
    assert (truth["escalated"].to_numpy() == expected).all()
    assert truth["p_escalation"].between(0, 1).all()


def test_base_rate_is_in_a_sane_band(medium: SimulatedCity) -> None:
    truth = medium.truth_escalation
    assert 0.02 < truth["escalated"].mean() < 0.10
    assert 0.5 < truth["p_escalation"].mean() / truth["escalated"].mean() < 2.0


def test_recent_calls_are_a_weak_signal_and_the_truth_a_strong_one(medium: SimulatedCity) -> None:
    outcome = medium.truth_escalation["escalated"].to_numpy()
    calls = linked_calls_last_7_days(medium)
    rate_with_calls, rate_without = outcome[calls > 0].mean(), outcome[calls == 0].mean()
    assert rate_with_calls > 1.5 * rate_without
    call_auc = auc(calls, outcome)
    truth_auc = auc(medium.truth_escalation["p_escalation"].to_numpy(), outcome)
    assert 0.53 < call_auc < 0.70
    assert truth_auc > call_auc + 0.12
    assert truth_auc < 0.95


def test_failed_mediation_and_breach_carry_signal(medium: SimulatedCity) -> None:
    events = medium.case_events.assign(t=lambda f: parse_times(f["event_at"]))
    bad = events[events["event_type"].isin(["mediation_failed", "agreement_breached"])]
    truth = medium.truth_escalation.assign(D=as_of_midnights(medium.truth_escalation))
    pairs = truth.reset_index().merge(bad[["case_id", "t"]], on="case_id")
    had_bad = truth.index.isin(pairs.loc[pairs["t"] < pairs["D"], "index"])
    assert truth["escalated"][had_bad].mean() > 1.3 * truth["escalated"][~had_bad].mean()


# ---------------------------------------------------------------- messiness and files


def test_no_messiness_means_clean_files_without_duplicates(medium: SimulatedCity) -> None:
    assert medium.truth_corruptions.empty
    for frame in (medium.cases, medium.case_events, medium.hotline):
        assert not frame.duplicated().any()
    assert set(medium.case_events["case_id"]) <= set(medium.cases["case_id"])


def test_messy_files_are_broken_exactly_at_the_recorded_rows(messy_dir: Path) -> None:
    log = pd.read_csv(messy_dir / "truth" / "corruptions.csv", dtype={"row": int}, keep_default_na=False)
    files = {n: pd.read_csv(messy_dir / n, dtype=str, keep_default_na=False) for n in set(log["file"])}
    assert set(files) == {"cases.csv", "case_events.csv", "hotline.csv"}
    known_cases = set(files["cases.csv"]["case_id"])
    checks = {
        "empty_required": lambda v: v == "",
        "unparseable_date": lambda v: v != "" and not parses(v),
        "negative_amount": lambda v: float(v) < 0,
        "bad_party_count": lambda v: not (v.isdigit() and int(v) >= 1),
        "unknown_event_type": lambda v: v not in {e.value for e in EventType},
        "orphan_case_id": lambda v: v != "" and v not in known_cases,
    }
    for entry in log.itertuples():
        frame = files[entry.file]
        if entry.kind_of_corruption == "duplicate":
            assert frame.duplicated().iloc[entry.row - 1], entry
        else:
            assert checks[entry.kind_of_corruption](frame[entry.field].iloc[entry.row - 1]), entry
    grievance_ids = set(pd.read_csv(messy_dir / "truth" / "grievances.csv", dtype=str)["record_id"])
    # The city without grievances and generic calls: the rows that messiness may touch (its clean content
    # does not depend on messiness).
    base = simulate_city(replace(MESSY, messiness=0.0, grievances=0).plain_grievances())
    base_rows = {"cases.csv": base.cases, "case_events.csv": base.case_events, "hotline.csv": base.hotline}
    for name, frame in files.items():
        entries = log[log["file"] == name]
        duplicates = entries[entries["kind_of_corruption"] == "duplicate"]
        broken = entries[entries["kind_of_corruption"] != "duplicate"]
        assert entries["row"].is_unique
        assert sorted(np.flatnonzero(frame.duplicated().to_numpy()) + 1) == sorted(duplicates["row"])
        messy_rows = len(base_rows[name]) + len(duplicates)
        assert entries["row"].max() <= messy_rows  # the appended rows (generic calls, grievances) are clean
        assert frame.iloc[messy_rows:, 0].isin(grievance_ids).any()
        assert not frame.iloc[:messy_rows, 0].isin(grievance_ids).any()
        assert len(broken) == round(0.05 * len(base_rows[name]))


def test_write_city_writes_all_files(tmp_path: Path, small: SimulatedCity) -> None:
    paths = write_city(small, tmp_path)
    assert paths == {
        "cases": tmp_path / "cases.csv",
        "case_events": tmp_path / "case_events.csv",
        "hotline": tmp_path / "hotline.csv",
        "truth_escalation": tmp_path / "truth" / "escalation.csv",
        "truth_links": tmp_path / "truth" / "links.csv",
        "truth_corruptions": tmp_path / "truth" / "corruptions.csv",
        "truth_grievances": tmp_path / "truth" / "grievances.csv",
    }
    assert all(p.is_file() for p in paths.values())
    cases = pd.read_csv(paths["cases"], dtype=str, keep_default_na=False)
    assert cases["case_id"].tolist() == small.cases["case_id"].tolist()
    assert cases["description"].tolist() == small.cases["description"].tolist()
    assert paths["cases"].read_bytes()[:7] == b"case_id"


def test_messiness_does_not_change_the_underlying_city(small: SimulatedCity) -> None:
    messy = simulate_city(SimulationConfig(n_cases=300, days=120, messiness=0.05))
    pd.testing.assert_frame_equal(messy.truth_escalation, small.truth_escalation)
    pd.testing.assert_frame_equal(messy.truth_links, small.truth_links)
    log = messy.truth_corruptions[messy.truth_corruptions["file"] == "hotline.csv"]
    duplicate = log["kind_of_corruption"] == "duplicate"
    kept = np.setdiff1d(np.arange(len(messy.hotline)), log.loc[duplicate, "row"] - 1)
    deduplicated = messy.hotline.iloc[kept].reset_index(drop=True)
    assert deduplicated.shape == small.hotline.shape
    differs = ~((deduplicated == small.hotline) | (deduplicated.isna() & small.hotline.isna())).all(axis=1)
    assert int(differs.sum()) == int((~duplicate).sum()) > 0


# ---------------------------------------------------------------- group grievances


def test_grievances_leave_the_rest_of_the_city_unchanged(small: SimulatedCity) -> None:
    without = simulate_city(SimulationConfig(n_cases=300, days=120, grievances=0))
    assert without.truth_grievances.empty
    added = set(small.truth_grievances["record_id"])
    keys = {"cases": "case_id", "case_events": "case_id", "hotline": "call_id", "truth_escalation": "case_id"}
    keys |= {"truth_links": "call_id"}
    for name, key in keys.items():
        frame = getattr(small, name)
        kept = frame[~frame[key].isin(added)].reset_index(drop=True)
        assert len(kept) < len(frame), name
        pd.testing.assert_frame_equal(kept, getattr(without, name))
    pd.testing.assert_frame_equal(small.truth_corruptions, without.truth_corruptions)


def test_the_grievance_truth_matches_the_exports(medium: SimulatedCity) -> None:
    truth = medium.truth_grievances
    assert sorted(set(truth["grievance"])) == [1, 2]
    first = truth[truth["grievance"] == 1]
    info = first.iloc[0]
    assert info["thing_kind"] == "company" and info["district"] == "河口区"
    calls = medium.hotline[medium.hotline["call_id"].isin(first["record_id"])]
    cases = medium.cases[medium.cases["case_id"].isin(first["record_id"])]
    assert len(calls) == (first["record_kind"] == "hotline").sum() >= 40
    assert len(cases) == (first["record_kind"] == "cases").sum() >= 2
    named_as = first.set_index("record_id")["named_as"]
    named = calls[calls["call_id"].map(named_as).notna()]
    assert all(n in t for n, t in zip(named["call_id"].map(named_as), named["text"], strict=True))
    assert (first.loc[first["record_kind"] == "cases", "named_as"] == info["thing"]).all()
    assert cases["description"].str.contains(info["thing"], regex=False).all()
    assert (calls["district"] == info["district"]).all() and (cases["category"] == "劳资纠纷").all()
    # More and more different people call: far more distinct phones than calls from one phone.
    phones = calls["caller_phone"].dropna().str.replace(r"\D", "", regex=True).str[-11:]
    assert phones.nunique() > 0.6 * len(phones)
    when = parse_times(calls["received_at"])
    onset, escalation = pd.Timestamp(info["onset"]), pd.Timestamp(info["first_escalation_at"])
    assert when.min() >= onset and when.min() < onset + pd.Timedelta(days=1)
    before = when[when < escalation]
    last_week = (before >= escalation - pd.Timedelta(days=7)).sum()
    assert last_week > 3 * (before < onset + pd.Timedelta(days=7)).sum()
    events = medium.case_events.assign(t=lambda f: parse_times(f["event_at"]))
    escalations = events[events["event_type"].isin(ESCALATIONS) & events["case_id"].isin(cases["case_id"])]
    first_event = escalations.sort_values("t").iloc[0]
    assert (first_event["case_id"], first_event["event_type"]) == (
        info["escalation_case_id"],
        "group_incident",
    )
    assert first_event["t"] == escalation
    assert (parse_times(cases["opened_at"]) < escalation - pd.Timedelta(days=6)).all()


def test_the_emerging_grievance_is_still_rising_at_the_end(medium: SimulatedCity) -> None:
    emerging = medium.truth_grievances[medium.truth_grievances["grievance"] == 2]
    onset = pd.Timestamp(emerging["onset"].iloc[0])
    end = pd.Timestamp(MEDIUM.start) + pd.Timedelta(days=MEDIUM.days)
    assert pd.Timedelta(days=10) <= end - onset <= pd.Timedelta(days=14)
    assert emerging["first_escalation_at"].isna().all()
    calls = medium.hotline[medium.hotline["call_id"].isin(emerging["record_id"])]
    when = parse_times(calls["received_at"])
    assert (when >= end - pd.Timedelta(days=4)).sum() > (when < onset + pd.Timedelta(days=4)).sum()


# ---------------------------------------------------------------- naming as on a real message board

# The exports of the simulator before issue 17 (sha256 of to_csv, first 16 hex digits), by frame.
BEFORE_ISSUE_17: dict[str, dict[str, str]] = {
    "small": {
        "cases": "bea23781d24e70f4",
        "case_events": "5714f708712b042d",
        "hotline": "fa54b68a99fcdfcf",
        "truth_escalation": "ca62da7ec271b231",
        "truth_links": "f3f2ab1af2886201",
        "truth_corruptions": "96029384065c53cf",
        "truth_grievances": "f4625ea88cc353f5",
    },
    "messy": {
        "cases": "7089870d257a1216",
        "case_events": "53f25a8677dd9115",
        "hotline": "058e8921dfa6367d",
        "truth_escalation": "8c77bbd9586545bc",
        "truth_links": "587e62b977a6a56a",
        "truth_corruptions": "1ac9d1b6b9d82f62",
        "truth_grievances": "1845ecbb20068727",
    },
    "default": {
        "cases": "cb13b02db3f275b7",
        "case_events": "94bee16e826ea775",
        "hotline": "649c7db4420e5f88",
        "truth_escalation": "cb65339a8f99564d",
        "truth_links": "804d6a4ad5c5e7fa",
        "truth_corruptions": "96029384065c53cf",
        "truth_grievances": "15256d1f6a887e0a",
    },
}
RECORDED_CONFIGS = {
    "small": SMALL,
    "messy": SimulationConfig(seed=3, n_cases=600, days=200, messiness=0.05, grievances=4),
    "default": SimulationConfig(),
}
SIX_KINDS = SimulationConfig(seed=11, n_cases=1_500, days=300, grievances=6)
TRUTH_BEFORE_ISSUE_17 = [c for c in GRIEVANCE_COLUMNS if c != "named_as"]
PLACE_UNIT = r"[0-9０-９]+(?:幢|栋|号楼|标段|号厂房|号车间)"


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def default_pair() -> tuple[SimulatedCity, SimulatedCity]:
    """The default city, plain and as on a message board."""
    return simulate_city(SimulationConfig().plain_grievances()), simulate_city(SimulationConfig())


@pytest.fixture(scope="module")
def six_kinds() -> SimulatedCity:
    return simulate_city(SIX_KINDS)


def grievance_calls(city: SimulatedCity) -> pd.DataFrame:
    """The grievances' call records with their hotline rows."""
    truth = city.truth_grievances
    calls = truth[truth["record_kind"] == "hotline"]
    return calls.merge(city.hotline, left_on="record_id", right_on="call_id", suffixes=("", "_call"))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RECORDED_CONFIGS))
def test_the_plain_config_reproduces_the_simulator_before_issue_17(
    name: str, default_pair: tuple[SimulatedCity, SimulatedCity]
) -> None:
    config = RECORDED_CONFIGS[name]
    city = default_pair[0] if name == "default" else simulate_city(config.plain_grievances())
    for frame in FRAMES:
        shown = getattr(city, frame)
        if frame == "truth_grievances":
            assert (shown["named_as"] == shown["thing"]).all()  # every record names it by its full name
            shown = shown[TRUTH_BEFORE_ISSUE_17]
        assert digest(shown) == BEFORE_ISSUE_17[name][frame], frame


@pytest.mark.slow
def test_naming_changes_only_the_grievances_texts_and_adds_generic_calls(
    default_pair: tuple[SimulatedCity, SimulatedCity],
) -> None:
    plain, city = default_pair
    added = set(plain.truth_grievances["record_id"])
    for frame, key in (("cases", "case_id"), ("case_events", "case_id"), ("truth_escalation", "case_id")):
        base = getattr(plain, frame)
        base = base[~base[key].isin(added)].reset_index(drop=True)
        shown = getattr(city, frame)
        shown = shown[~shown[key].isin(set(city.truth_grievances["record_id"]))].reset_index(drop=True)
        pd.testing.assert_frame_equal(shown, base)
    n_base = len(plain.hotline) - plain.truth_grievances["record_kind"].eq("hotline").sum()
    for frame in ("hotline", "truth_links"):
        pd.testing.assert_frame_equal(getattr(city, frame).iloc[:n_base], getattr(plain, frame).iloc[:n_base])
    pd.testing.assert_frame_equal(city.truth_corruptions, plain.truth_corruptions)
    # The grievances' calls are the same calls (times, callers, links) whatever their words.
    same = ["grievance", "received_at", "district", "channel", "caller_phone", "case_id"]
    before, after = grievance_calls(plain)[same], grievance_calls(city)[same]
    pd.testing.assert_frame_equal(after.reset_index(drop=True), before.reset_index(drop=True))
    assert (grievance_calls(city)["text"] != grievance_calls(plain)["text"]).mean() > 0.4


def test_calls_name_a_grievance_many_ways(six_kinds: SimulatedCity) -> None:
    calls = grievance_calls(six_kinds)
    named = calls[calls["named_as"].notna()]
    assert all(n in t for n, t in zip(named["named_as"], named["text"], strict=True))
    topic_only = calls[calls["named_as"].isna()]
    assert 0.08 < len(topic_only) / len(calls) < 0.25
    for thing, texts in topic_only.groupby("thing")["text"]:
        assert not texts.str.contains(thing[:2], regex=False).any()
    for _, forms in named.groupby("grievance")["named_as"]:
        assert forms.nunique() >= 5
        assert 0.15 < (forms == named.loc[forms.index, "thing"]).mean() < 0.6
    forms = named["named_as"]
    places = ("江南省", "清江市", *[d for d in named["district"].unique()])
    assert forms.str.startswith(places).mean() > 0.1
    assert forms.str.contains(PLACE_UNIT).any() and forms.str.contains("[０-９]").any()
    assert forms.str.startswith(("商品房", "安置房", "还建房")).any()
    # A character miswritten: the full name's length with exactly one character different.
    things = named["thing"]
    one_off = [
        len(f) == len(t) and sum(a != b for a, b in zip(f, t, strict=True)) == 1
        for f, t in zip(forms, things, strict=True)
    ]
    assert 0 < sum(one_off) < 0.1 * len(forms)


def test_more_kinds_of_things_and_a_platform_known_across_the_city(six_kinds: SimulatedCity) -> None:
    truth = six_kinds.truth_grievances.drop_duplicates("grievance").set_index("grievance")
    assert truth["thing_kind"].tolist() == ["company", "project", "estate", "school", "platform", "works"]
    assert truth.loc[4, "thing"].endswith("职业技术学院")
    assert truth.loc[5, "thing"].endswith(("网贷平台", "金融APP"))
    calls = grievance_calls(six_kinds)
    for grievance, districts in calls.groupby("grievance")["district_call"]:
        home = truth.loc[grievance, "district"]
        if grievance == 5:
            assert 0.6 < (districts == home).mean() < 0.9 and districts.nunique() >= 3
        else:
            assert (districts == home).all()
    plain = simulate_city(SIX_KINDS.plain_grievances()).truth_grievances
    assert plain.drop_duplicates("grievance")["thing_kind"].tolist() == ["company", "project", "estate"] * 2


@pytest.mark.slow
def test_generic_calls_spread_over_the_city_with_outage_bursts(
    default_pair: tuple[SimulatedCity, SimulatedCity],
) -> None:
    plain, city = default_pair
    start = len(plain.hotline) - plain.truth_grievances["record_kind"].eq("hotline").sum()
    generic = city.hotline.iloc[start : start + len(city.hotline) - len(plain.hotline)]
    assert len(generic) == round(0.03 * start)
    assert generic["text"].str.contains("|".join(GENERIC_THINGS)).all()
    assert generic["case_id"].isna().all()
    assert city.truth_links.set_index("call_id").loc[generic["call_id"], "true_case_id"].isna().all()
    assert generic["district"].nunique() == 7 and generic["category"].nunique() >= 5
    day = parse_times(generic["received_at"]).dt.normalize()
    per_district_day = generic.groupby([generic["district"], day]).size()
    assert per_district_day.max() >= 6  # a burst: many callers of one place within days
    assert (per_district_day == 1).mean() > 0.5  # most are scattered
    phones = generic["caller_phone"].dropna().str.replace(r"\D", "", regex=True).str[-11:]
    assert phones.nunique() > 0.95 * len(phones)
