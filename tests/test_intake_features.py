"""Intake features on a hand-made city: the reporter's earlier calls and cases, the grievance the case
names, the crowd of like cases; exact values, nothing known after T counts, and a brute-force check on a
random city."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from contracts.timeparse import as_of_instant
from features import intake
from features.cohort import open_cases
from features.grievances import endings_of, thing_mentions
from features.matrix import build_features
from features.sources import Sources
from tests.builders import call_row, case_row, event_row, make_sources

T = date(2025, 6, 1)  # T - 7 days = 05-25, T - 30 days = 05-02, T - 37 days = 04-25
INSTANT = as_of_instant(T)
EAST, WEST = "东湖区", "西山区"
PROPERTY, LABOUR, NEIGHBOUR = "物业纠纷", "劳资纠纷", "邻里纠纷"
P = {n: f"139{n:08d}" for n in range(1, 20)}
NAMES = [doc.name for doc in intake.FEATURES]


def case(case_id: str, opened_at: str, description: str, **fields: str) -> dict[str, str]:
    defaults = {"district": EAST, "town": "甲街道", "category": PROPERTY}
    return case_row(case_id, opened_at, description=description, **{**defaults, **fields})


def call(
    call_id: str, received_at: str, text: str, phone: int | None = None, **fields: str
) -> dict[str, str]:
    return call_row(
        call_id, received_at, text=text, **({"caller_phone": P[phone]} if phone else {}), **fields
    )


CASES = [
    # registered the day before T by a phone that called twice before and reported E; 51 parties
    case("A", "2025-05-31 10:00", "业主反映阳光小区停水停电", reporter_phone=P[1], party_count="51"),
    case("E", "2025-01-10", "工人反映宏达服装厂拖欠工资", reporter_phone=P[1], town="乙镇", category=LABOUR),
    case("B", "2025-05-15", "居民反映阳光小区电梯故障", reporter_phone=P[6]),  # same thing, 17 days old
    case("C", "2025-05-20", "邻里因噪音发生纠纷", category=NEIGHBOUR),  # names nothing, no phone
    case("D", "2025-05-30", "业主反映阳光小区停水", district=WEST),  # same name, other district
    case("F", "2025-04-25 00:00", "阳光小区物业不作为"),  # first instant of the trends' earlier window
    case("G", "2025-03-01", "工人反映宏达服装厂拖欠工资，住在阳光小区", town="乙镇", category=LABOUR),
]
EVENTS = [event_row("E", "2025-02-01", "closed")]
HOTLINE = [
    # the reporter of A
    call("R1", "2025-05-20 09:00", "咨询工资问题", 1),  # 11 days before A's opening
    call("R2", "2025-04-21 09:00", "咨询工资问题", 1),  # 40 days before
    call("R3", "2025-05-31 12:00", "询问处理进度", 1),  # after A's opening
    call("R4", "2024-05-01 09:00", "咨询工资问题", 1),  # more than 365 days before
    # 阳光小区 in 东湖区: 3 callers (P2 twice) and one call without a phone in the last 7 days
    call("S1", "2025-05-28 10:00", "阳光小区停水三天了", 2),
    call("S2", "2025-05-29 10:00", "阳光小区停水三天了", 2),
    call("S3", "2025-05-30 10:00", "投诉阳光小区物业", 3),
    call("S4", "2025-05-31 18:00", "阳光小区又停水了", 4),
    call("S5", "2025-05-27 10:00", "阳光小区停水"),
    call("S6", "2025-05-10 10:00", "阳光小区停水", 5),  # in 30 days, not in 7
    call("S7", "2025-04-26 10:00", "阳光小区停水", 7),  # days 8-37 only
    call("S8", "2025-04-20 10:00", "阳光小区停水", 8),  # before every window
    call("S9", "2025-05-30 10:00", "阳光小区停水", 9, district=WEST),  # the other district's
    call("W1", "2025-05-29 10:00", "宏达服装厂拖欠工资", 11),  # G's other thing: fewer callers
]

#           reporter  thing  grievance callers/calls 7d, 30d  trend  other  crowd 7d, 30d  new
TREND_A = (5 + 1) / (2 * 7 / 30 + 1)  # 5 calls in 7 days, S6 and S7 in days 8-37
EXPECTED = {
    "A": [1, 2, 1, 1, 3, 4, 5, 6, TREND_A, 1, 0, 1, 1 / (2 * 7 / 30 + 1), 1, 51, 4],
    "B": [0, 0, 0, 1, 3, 4, 5, 6, TREND_A, 1, 1, 1, 2 / (7 / 30 + 1), 0, 0, 0],
    "C": [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
    "D": [0, 0, 0, 1, 1, 1, 1, 1, 2, 0, 0, 0, 1, 1, 1, 1],
    "F": [0, 0, 0, 1, 3, 4, 5, 6, TREND_A, 2, 1, 2, 2 / (7 / 30 + 1), 0, 0, 0],
    "G": [0, 0, 0, 1, 3, 4, 5, 6, TREND_A, 2, 0, 0, 1, 0, 0, 0],
}
# Crowd (东湖区 甲街道 物业纠纷, others than the case): A 05-31, D is 西山区, B 05-15, F 04-25.
#   A: 7d none; 30d B; days 8-37 B and F.  B: 7d A; 30d A; days 8-37 F.  F: 7d A; 30d A, B; before B.
# Other cases naming 阳光小区 in 东湖区 opened in 30 days: A and B (F 37 days ago, G in March).


@pytest.fixture(scope="module")
def sources() -> Sources:
    return make_sources(CASES, EVENTS, HOTLINE)


def features(sources: Sources, as_of: date = T) -> pd.DataFrame:
    return build_features(sources, as_of, families=(intake,)).set_index("case_id")


def test_every_feature_has_its_exact_value(sources: Sources) -> None:
    built = features(sources)
    assert sorted(built.index) == sorted(EXPECTED)  # E is closed
    expected = pd.DataFrame.from_dict(EXPECTED, orient="index", columns=NAMES).astype(float)
    pd.testing.assert_frame_equal(built.loc[list(EXPECTED), NAMES], expected, check_names=False)


def test_the_frame_is_the_dictionary_in_order_finite_floats_on_the_cohort_index(sources: Sources) -> None:
    known = sources.known_before(INSTANT)
    cohort = open_cases(known, INSTANT)
    built = intake.build(cohort, known, INSTANT)
    assert list(built.columns) == NAMES and built.index.equals(cohort.index)
    assert (built.dtypes == np.float64).all() and np.isfinite(built.to_numpy()).all()
    assert intake.build(cohort.iloc[:0], known, INSTANT).columns.tolist() == NAMES
    assert all(name.startswith(intake.PREFIX) for name in NAMES) and len(set(NAMES)) == len(NAMES)


def test_a_case_naming_nothing_gets_zeros_and_a_flat_trend() -> None:
    lone = make_sources([case("C", "2025-05-20", "邻里因噪音发生纠纷", category=NEIGHBOUR)], [], [])
    built = features(lone).loc["C", NAMES]
    assert built["intake_grievance_trend"] == 1.0 and built["intake_crowd_trend_town_category"] == 1.0
    assert (built.drop(["intake_grievance_trend", "intake_crowd_trend_town_category"]) == 0).all()


def test_records_known_after_t_change_nothing(sources: Sources) -> None:
    later = {"recorded_at": "2025-06-01 00:00"}  # known exactly at T: not before it
    extra_cases = [
        case("L1", "2025-05-20", "业主反映阳光小区停水", reporter_phone=P[1], **later),
        case("L2", "2025-06-01 08:00", "业主反映阳光小区停水", reporter_phone=P[1]),
    ]
    extra_calls = [
        call("X1", "2025-05-25 09:00", "阳光小区停水", 1, **later),
        call("X2", "2025-05-30 09:00", "阳光小区停水", 12, recorded_at="2025-06-02"),
        call("X3", "2025-06-01 09:00", "阳光小区停水", 13),
    ]
    changed = make_sources(CASES + extra_cases, EVENTS, HOTLINE + extra_calls)
    pd.testing.assert_frame_equal(features(changed), features(sources))
    # ... and the same records known a day earlier do count
    a_day_later = features(changed, date(2025, 6, 3)).loc["A"]
    assert a_day_later["intake_reporter_calls_30d"] == 2  # X1, R1 (X3 came after A's opening)
    assert a_day_later["intake_reporter_earlier_cases"] == 2  # E, L1


def test_the_reporter_counts_every_call_of_the_phone_before_opening_whatever_it_quotes() -> None:
    cases = [case("A", "2025-05-31 10:00", "", reporter_phone=P[1]), case("K", "2025-05-01", "")]
    calls = [
        call("Q1", "2025-05-10 09:00", "询问进度", 1, case_id="K"),  # quotes another case
        call("Q2", "2025-05-01 09:00", "询问进度", 2),  # another phone
        call("Q3", "2025-05-01 10:00", "询问进度", 1, channel="wechat"),  # exactly 30 days before
        call("Q5", "2025-05-01 09:59", "询问进度", 1),  # 31 days before
        call("Q4", "2025-05-31 10:00", "询问进度", 1),  # at the opening: not before it
    ]
    built = features(make_sources(cases, [], calls)).loc["A"]
    assert built["intake_reporter_calls_30d"] == 2 and built["intake_reporter_calls_365d"] == 3


def test_window_edges() -> None:
    """A call at T - 7 days is in the 7 days; one at T - 37 days is in the trend's earlier window."""
    cases = [case("A", "2025-05-31 10:00", "业主反映阳光小区停水")]
    calls = [
        call("E7", "2025-05-25 00:00", "阳光小区停水", 1),
        call("E37", "2025-04-25 00:00", "阳光小区停水", 2),
    ]
    calls += [call("E38", "2025-04-24 23:59", "阳光小区停水", 3)]
    built = features(make_sources(cases, [], calls)).loc["A"]
    assert built["intake_grievance_callers_7d"] == 1 and built["intake_grievance_callers_30d"] == 1
    assert built["intake_grievance_trend"] == pytest.approx(2 / (7 / 30 + 1))


def test_the_new_flag_is_strictly_less_than_seven_days() -> None:
    cases = [case("A", "2025-05-25 00:01", "", party_count="9"), case("B", "2025-05-25 00:00", "")]
    built = features(make_sources(cases, [], []))
    assert built.loc["A", "intake_is_new"] == 1 and built.loc["A", "intake_new_party_count"] == 9
    assert built.loc["B", "intake_is_new"] == 0 and built.loc["B", "intake_new_party_count"] == 0


def test_reasons_read_as_sentences_without_names() -> None:
    docs = {doc.name: doc for doc in intake.FEATURES}
    assert docs["intake_reporter_calls_30d"].reason(3.0, "zh") == "报案人立案前30天内曾拨打热线3次"
    assert docs["intake_grievance_callers_7d"].reason(12.0, "zh") == "所涉企业或地点近7天有12位来电人反映"
    assert docs["intake_grievance_trend"].reason(4.09, "en").startswith("calls naming the company or place")
    for doc in intake.FEATURES:
        assert "{value}" in doc.reason_zh or doc.kind == "flag"
        assert doc.kind in ("numeric", "flag") and doc.meaning and doc.window


def test_categorical_text_columns_give_the_same_values(sources: Sources) -> None:
    compacted = Sources.compacted(sources.cases, sources.events, sources.hotline)
    pd.testing.assert_frame_equal(features(compacted), features(sources))


# ---------------------------------------------------------------- a random city, against brute force

THINGS_POOL = ("阳光小区", "宏达服装厂", "幸福家园", "东方建设工地", "李家村", "华联商贸公司")


def synthetic_sources(n_cases: int, n_calls: int, days: int, seed: int = 0, phones: int = 0) -> Sources:
    """A random city in stored form: cases and calls over `days` days, texts naming things of a pool,
    reporter phones shared with callers."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00", "us")
    minutes = days * 24 * 60
    phones = phones or max(n_cases // 2, 10)
    districts = np.array(["东湖区", "西山区", "江北区"], dtype=object)
    towns = np.array(["甲街道", "乙镇", "丙镇", None], dtype=object)
    categories = np.array(["劳资纠纷", "物业纠纷", "邻里纠纷"], dtype=object)
    made = (
        f"{a}{b}{suffix}" for a in "红星永安长城金鹰" for b in "机械纺织电子食品" for suffix in ("厂", "苑")
    )
    things = np.array([*THINGS_POOL, *made], dtype=object)

    def texts(n: int) -> np.ndarray:
        named = things[rng.integers(0, len(things), n)]
        number = rng.integers(0, 10_000, n).astype(str)
        plain = rng.random(n) < 0.3
        return np.where(plain, "邻里因噪音发生纠纷" + number, "反映" + named + "拖欠" + number + "元")

    def phone(n: int, missing: float) -> np.ndarray:
        values = np.char.add("P", rng.integers(0, phones, n).astype(str)).astype(object)
        values[rng.random(n) < missing] = None
        return values

    opened = start + rng.integers(0, minutes, n_cases).astype("timedelta64[m]")
    case_lag = np.where(rng.random(n_cases) < 0.1, rng.integers(0, 5 * 24 * 60, n_cases), 0)
    cases = pd.DataFrame(
        {
            "case_id": [f"C{i:07d}" for i in range(n_cases)],
            "opened_at": opened,
            "district": districts[rng.integers(0, 3, n_cases)],
            "town": towns[rng.integers(0, 4, n_cases)],
            "category": categories[rng.integers(0, 3, n_cases)],
            "source": "hotline",
            "description": texts(n_cases),
            "party_count": pd.array(rng.integers(1, 60, n_cases), dtype="Int64"),
            "amount": rng.random(n_cases) * 1e4,
            "reporter_phone_pid": phone(n_cases, 0.2),
            "known_at": opened + case_lag.astype("timedelta64[m]"),
        }
    )
    received = start + rng.integers(0, minutes, n_calls).astype("timedelta64[m]")
    call_lag = np.where(rng.random(n_calls) < 0.05, rng.integers(0, 3 * 24 * 60, n_calls), 0)
    quoted = rng.random(n_calls) < 0.2
    hotline = pd.DataFrame(
        {
            "call_id": [f"H{i:08d}" for i in range(n_calls)],
            "case_id": np.where(quoted, cases["case_id"].to_numpy()[rng.integers(0, n_cases, n_calls)], None),
            "received_at": received,
            "district": districts[rng.integers(0, 3, n_calls)],
            "category": categories[rng.integers(0, 3, n_calls)],
            "caller_phone_pid": phone(n_calls, 0.1),
            "channel": "phone",
            "text": texts(n_calls),
            "known_at": received + call_lag.astype("timedelta64[m]"),
        }
    )
    events = pd.DataFrame(
        {
            "case_id": pd.Series(dtype=object),
            "event_at": pd.Series(dtype="datetime64[us]"),
            "event_type": pd.Series(dtype=object),
            "note": pd.Series(dtype=object),
            "known_at": pd.Series(dtype="datetime64[us]"),
        }
    )
    return Sources.compacted(cases, events, hotline)


def brute_force(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """The features of each cohort case counted one by one, from their definitions."""
    day = pd.Timedelta(days=1)
    calls, cases = (
        known.hotline.astype({"text": object, "caller_phone_pid": object, "district": object}),
        known.cases,
    )
    call_things = thing_mentions(calls["text"]).groupby("pos")["thing"].agg(set)
    case_things = thing_mentions(cases["description"]).groupby("pos")["thing"].agg(set)
    calls = calls.assign(things=[call_things.get(i, set()) for i in range(len(calls))])
    cases = cases.assign(things=[case_things.get(i, set()) for i in range(len(cases))])
    town = cases["town"].fillna("")
    rows = {}
    for case_id, row in cohort.iterrows():
        opened, phone = row["opened_at"], row["reporter_phone_pid"]
        mine = calls[calls["caller_phone_pid"] == phone] if isinstance(phone, str) else calls.iloc[:0]
        out = {
            f"intake_reporter_calls_{d}d": (
                (mine["received_at"] >= opened - d * day) & (mine["received_at"] < opened)
            ).sum()
            for d in (30, 365)
        }
        earlier = cases[(cases["reporter_phone_pid"] == phone) & (cases["opened_at"] < opened)]
        out["intake_reporter_earlier_cases"] = len(earlier) if isinstance(phone, str) else 0
        named = set(thing_mentions(pd.Series([row["description"]]))["thing"])
        grievances = []
        for thing in named:
            about = calls[
                (calls["district"] == row["district"]) & calls["things"].map(lambda t, k=thing: k in t)
            ]
            ago = instant - about["received_at"]
            with_phone = about[about["caller_phone_pid"].notna()]
            ago_phone = instant - with_phone["received_at"]
            n7, n30, before = (
                (ago <= 7 * day).sum(),
                (ago <= 30 * day).sum(),
                ((ago > 7 * day) & (ago <= 37 * day)).sum(),
            )
            c7 = with_phone["caller_phone_pid"][ago_phone <= 7 * day].nunique()
            c30 = with_phone["caller_phone_pid"][ago_phone <= 30 * day].nunique()
            others = cases[
                (cases["district"] == row["district"])
                & cases["things"].map(lambda t, k=thing: k in t)
                & (cases["opened_at"] >= instant - 30 * day)
                & (cases["case_id"] != case_id)
            ]
            grievances.append(
                ((c7, c30, n30), (c7, c30, n7, n30, (n7 + 1) / (before * 7 / 30 + 1), len(others)))
            )
        values = max(grievances)[1] if grievances else (0, 0, 0, 0, 1.0, 0)
        out["intake_names_thing"] = float(bool(named))
        keys = ("callers_7d", "callers_30d", "calls_7d", "calls_30d", "trend", "other_cases_30d")
        out.update({f"intake_grievance_{k}": v for k, v in zip(keys, values, strict=True)})
        same = (cases["district"] == row["district"]) & (cases["category"] == row["category"])
        if isinstance(row["town"], str) and row["town"]:
            same &= town == row["town"]
        same &= cases["case_id"] != case_id
        at = instant - cases["opened_at"][same]
        c7, c30 = ((at > 0 * day) & (at <= 7 * day)).sum(), ((at > 0 * day) & (at <= 30 * day)).sum()
        before = ((at > 7 * day) & (at <= 37 * day)).sum()
        out["intake_crowd_town_category_7d"], out["intake_crowd_town_category_30d"] = c7, c30
        out["intake_crowd_trend_town_category"] = (c7 + 1) / (before * 7 / 30 + 1)
        new = instant - opened < 7 * day
        out["intake_is_new"] = float(new)
        out["intake_new_party_count"] = float(row["party_count"]) if new else 0.0
        out["intake_new_grievance_callers_30d"] = out["intake_grievance_callers_30d"] if new else 0.0
        rows[case_id] = out
    return pd.DataFrame.from_dict(rows, orient="index")[NAMES].astype(float)


@pytest.mark.slow
@pytest.mark.parametrize("as_of", [date(2024, 3, 1), date(2024, 4, 10)])
def test_features_match_a_brute_force_count_on_a_random_city(as_of: date) -> None:
    sources = synthetic_sources(n_cases=400, n_calls=3_000, days=120, seed=as_of.day, phones=60)
    instant = as_of_instant(as_of)
    known = sources.known_before(instant)
    cohort = open_cases(known, instant)
    built = intake.build(cohort, known, instant)
    assert np.isfinite(built.to_numpy()).all() and built["intake_grievance_callers_7d"].max() > 0
    pd.testing.assert_frame_equal(built, brute_force(cohort, known, instant), check_names=False)


def _district_part(known: Sources, district: str) -> tuple[Sources, pd.DataFrame]:
    """What a district part reads (`warehouse.district_parts`): its cases, their events, its calls and
    the calls quoting its cases or from its reporters' phones; and the cases of other districts naming
    its reporters' phones."""
    own = (known.cases["district"] == district).to_numpy()
    cases = known.cases[own]
    phones = set(cases["reporter_phone_pid"].dropna())
    calls = known.hotline
    routed = (
        (calls["district"] == district).to_numpy()
        | calls["case_id"].isin(set(cases["case_id"])).to_numpy()
        | calls["caller_phone_pid"].isin(phones).to_numpy()
    )
    events = known.events[known.events["case_id"].isin(set(cases["case_id"])).to_numpy()]
    elsewhere = known.cases[~own & known.cases["reporter_phone_pid"].isin(phones).to_numpy()]
    return Sources.compacted(cases, events, calls[routed]), elsewhere


def test_district_parts_finished_with_every_districts_endings_give_the_citys_values() -> None:
    sources = synthetic_sources(n_cases=400, n_calls=3_000, days=120, seed=5, phones=60)
    instant = as_of_instant(date(2024, 4, 10))
    known = sources.known_before(instant)
    whole = intake.build(open_cases(known, instant), known, instant)
    readings = []
    for district in ("东湖区", "西山区", "江北区"):
        part, elsewhere = _district_part(known, district)
        cohort = open_cases(part, instant)
        reading = intake.reading(cohort, part, instant, [district], elsewhere)
        readings.append(replace(reading, index=pd.Index(cohort["case_id"])))
    assert all(len(r.index) for r in readings) and whole["intake_reporter_earlier_cases"].max() > 0
    counts = pd.concat([r.key_counts() for r in readings]).groupby(level=0).sum()
    parted = pd.concat([intake.finish(r, instant, endings_of(counts)) for r in readings])
    expected = whole.set_axis(open_cases(known, instant)["case_id"].to_numpy())
    pd.testing.assert_frame_equal(parted.sort_index(), expected.sort_index(), check_names=False)
