"""Emerging grievances: clusters of calls naming the same thing, their surge rule, guards and the
simulated group grievance."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import pytest
from scipy import stats

from cities.demo import FILE_NAMES, SimulatedCity, SimulationConfig, simulate_city
from contracts.vocabulary import RecordKind
from features import grievances as grievances_module
from features.grievances import (
    COLUMNS,
    GrievanceConfig,
    cluster_calls,
    cluster_id,
    grievance_clusters,
    known_endings,
    thing_mentions,
)
from features.link_text import named_things
from features.sources import Sources
from ingest.validate import validate_frame
from tests.builders import TEST_KEY, call_row, case_row, event_row, make_sources

START = date(2025, 3, 1)  # the first day of the hand-made surges
NAMES = ("张伟", "李强", "王芳", "刘建国", "陈静", "赵敏")


def phone(n: int) -> str:
    return f"139{n:08d}"


def day(offset: int, hour: int = 10) -> str:
    return (pd.Timestamp(START) + pd.Timedelta(days=offset, hours=hour)).strftime("%Y-%m-%d %H:%M:%S")


def instant(offset: int) -> pd.Timestamp:
    """The as-of instant `offset` days after START (00:00)."""
    return pd.Timestamp(START) + pd.Timedelta(days=offset)


def calls_naming(
    text: str, per_day: list[int], first_day: int = 0, first_phone: int = 0, **fields: str
) -> list[dict[str, str]]:
    """Calls naming a thing: per_day[k] calls on day first_day + k, each from a new phone."""
    rows, n = [], first_phone
    for k, count in enumerate(per_day):
        for i in range(count):
            call = {"text": text, "category": "欠薪", "caller_phone": phone(n), **fields}
            rows.append(call_row(f"H{n:05d}", day(first_day + k, 9 + i % 10), **call))
            n += 1
    return rows


def clusters(hotline: list[dict[str, str]], at: pd.Timestamp, cases=(), events=(), **kw) -> pd.DataFrame:
    return grievance_clusters(make_sources(list(cases), list(events), hotline), at, **kw)


# ---------------------------------------------------------------- named things


def test_thing_mentions_are_named_things_or_their_endings(small_city: SimulatedCity) -> None:
    """The vectorised reader finds, in every text that link_text.named_things finds a name in, the
    same names, or their endings (after one of the extra context words such as 投诉), or the names
    they end (a name split at a word ending like a suffix, 翠苑|家具厂, joined again); and none in the
    other texts."""
    texts = pd.concat(
        [small_city.hotline["text"], small_city.cases["description"], pd.Series(HAND_TEXTS)],
        ignore_index=True,
    )
    found = thing_mentions(texts).groupby("pos")["thing"].agg(set)
    for position, text in enumerate(texts):
        reference = (
            {t for t in named_things(text) if not re.fullmatch(r"\d+元", t)} if pd.notna(text) else set()
        )
        mine = found.get(position, set())
        assert all(any(r.endswith(t) or t.endswith(r) for r in reference) for t in mine), (
            text,
            mine,
            reference,
        )
        assert bool(mine) == bool(reference), (text, mine, reference)


def test_thing_mentions_remembered_are_those_read_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text read before gives the things it gave then, in the same order, as a column of texts read
    afresh gives them; beyond its bound the memo forgets its oldest texts."""
    monkeypatch.setattr(grievances_module, "THINGS_MEMO", grievances_module._ThingsMemo(max_texts=4))
    texts = pd.Series([*HAND_TEXTS, None, HAND_TEXTS[1]], dtype=object)
    first = thing_mentions(texts)
    assert first.columns.tolist() == ["pos", "thing", "kind"]
    assert first.loc[first["pos"] == 1, "thing"].tolist() == ["宏达服装厂"]
    assert first[first["pos"] == 9].drop(columns="pos").values.tolist() == [["宏达服装厂", "company"]]
    assert len(grievances_module.THINGS_MEMO.entries) == 4  # the last four distinct texts kept
    reversed_texts = pd.Series(texts.iloc[::-1].tolist(), dtype="category")  # remembered and new, mixed
    again = thing_mentions(reversed_texts)
    grievances_module.THINGS_MEMO = grievances_module._ThingsMemo(max_texts=100)
    pd.testing.assert_frame_equal(again, thing_mentions(reversed_texts))
    pd.testing.assert_frame_equal(thing_mentions(texts), first)
    read_afresh = grievances_module._read_column(texts)[0]  # every distinct text read at once, no memo
    pd.testing.assert_frame_equal(first, read_afresh)


HAND_TEXTS = (
    "工人反映在宏达服装厂干活三个月没拿到工资。",
    "投诉宏达服装厂拖欠工资，联系电话[电话]",
    "我们小区停水了。",
    "关于青山村的土地纠纷",
    "东湖花园和明珠小区都停电了",
    "物业公司不管事",
    "在翠苑家具厂干活的工人反映没发工资",
    "",
)


def test_thing_kinds_come_from_the_suffix() -> None:
    found = thing_mentions(
        pd.Series(
            [
                "东湖花园、明珠小区都停电了，宏达服装有限公司在青山村的项目",
                "在翠苑家具厂干活",
                "青山职业技术学院的实习，快易贷APP催收，县人民医院收费，金桥路施工",
            ]
        )
    )
    kinds = dict(zip(found["thing"], found["kind"], strict=True))
    assert kinds["东湖花园"] == kinds["明珠小区"] == "estate"
    assert kinds["宏达服装有限公司"] == kinds["翠苑家具厂"] == "company"
    assert kinds["青山村"] == "village"
    assert (kinds["青山职业技术学院"], kinds["快易贷APP"]) == ("school", "platform")
    assert (kinds["县人民医院"], kinds["金桥路"]) == ("hospital", "road")


def test_texts_are_read_without_numbers_codes_full_width_forms_and_spaces() -> None:
    found = thing_mentions(
        pd.Series(
            ["阳光花园3幢2单元1201室漏水", "Ａ市Ａ５区阳光花园５号楼", "阳光 花园 停水", "阳光花园二期"]
        )
    )
    assert found["thing"].tolist() == ["阳光花园"] * 4


def test_known_endings_drop_names_and_places_written_before_a_thing() -> None:
    keys = pd.Series(
        ["宏达服装厂"] * 3
        + ["王芳宏达服装厂", "青山镇华联村", "华联村", "金桥服装厂", "金桥服装厂", "服装厂"]
    )
    mapping = known_endings(keys)
    assert mapping["王芳宏达服装厂"] == "宏达服装厂"  # a name before it
    assert mapping["青山镇华联村"] == "华联村"  # a place before it
    assert mapping["金桥服装厂"] == "金桥服装厂"  # 服装厂 is named less often: not a name before it
    assert mapping["宏达服装厂"] == "宏达服装厂"


# ---------------------------------------------------------------- the surge rule


def test_a_growing_cluster_is_flagged_on_the_right_day_and_not_before() -> None:
    """One new caller a day names the company, which nobody named before: the usual level is the floor,
    1 caller a week. A new thing is shown from min_callers (3) callers, though P(N >= 3 | 1) = 0.080 is
    not below 0.05, and is a surge from p < 1e-4 with at least 5 callers (7 callers: 8.3e-5; 6:
    5.9e-4)."""
    hotline = calls_naming("宏达服装厂拖欠工资三个月了", per_day=[1] * 8)
    seen = {k: clusters(hotline, instant(k)) for k in range(1, 9)}
    assert all(seen[k].empty for k in (1, 2))
    assert seen[3]["p_value"].item() == pytest.approx(stats.poisson.sf(2, 1.0))
    assert all(len(seen[k]) == 1 and not seen[k]["surge"].item() for k in (3, 4, 5, 6))
    flagged = seen[7].iloc[0]  # the list of day 7 (00:00), after the seventh caller
    assert flagged["surge"] and flagged["distinct_callers"] == 7 and flagged["new_callers"] == 7
    assert flagged["p_value"] == pytest.approx(stats.poisson.sf(6, 1.0))
    assert flagged["usual"] == 1.0 and flagged["calls"] == 7 and flagged["prior_calls"] == 0
    assert flagged["cluster_id"] == cluster_id("东湖区", "宏达服装厂")
    assert (flagged["thing"], flagged["thing_kind"], flagged["district"]) == (
        "宏达服装厂",
        "company",
        "东湖区",
    )
    assert seen[8]["surge"].item()  # the window keeps the last 7 days: still 7 callers


def test_the_usual_level_raises_the_bar() -> None:
    """With two callers a week over the eight baseline weeks (own level 2), the same growth is
    flagged a day later: P(N >= 8 | 2) = 1.1e-3, P(N >= 10 | 2) = 4.6e-5."""
    baseline = [
        row
        for week in range(2, 10)  # the baseline starts after the guard week before the window
        for row in calls_naming(
            "宏达服装厂拖欠工资", [2], first_day=3 - 7 * week, first_phone=1000 + 2 * week
        )
    ]
    hotline = baseline + calls_naming("宏达服装厂拖欠工资三个月了", per_day=[2, 2, 2, 2, 2])
    at_4, at_5 = clusters(hotline, instant(4)), clusters(hotline, instant(5))
    assert at_4["usual"].item() == pytest.approx(2.0) and not at_4["surge"].item()
    assert at_5["surge"].item() and at_5["distinct_callers"].item() == 10


def test_the_prior_window_is_a_guard_band_not_part_of_the_level() -> None:
    prior = calls_naming("宏达服装厂拖欠工资", [5], first_day=-4, first_phone=500)
    hotline = prior + calls_naming("宏达服装厂拖欠工资三个月了", per_day=[2, 2, 2, 2])
    flagged = clusters(hotline, instant(4)).iloc[0]
    assert flagged["usual"] == 1.0 and flagged["prior_calls"] == 5 and flagged["surge"]
    assert flagged["growth"] == pytest.approx(8 / 5)
    assert flagged["first_seen"] == pd.Timestamp(day(-4, 9))


def test_many_calls_from_one_caller_are_not_a_cluster() -> None:
    one_caller = [
        call_row(f"H{i}", day(i % 5, 9 + i % 8), text="宏达服装厂拖欠工资", caller_phone=phone(1))
        for i in range(30)
    ]
    no_phone = [call_row(f"N{i}", day(i % 5), text="宏达服装厂拖欠工资") for i in range(30)]
    assert clusters(one_caller, instant(5)).empty
    assert clusters(no_phone, instant(5)).empty
    assert clusters(one_caller + no_phone, instant(5)).empty


def test_the_thresholds_are_configuration() -> None:
    hotline = calls_naming("宏达服装厂拖欠工资", per_day=[3])
    assert not clusters(hotline, instant(1))["surge"].item()  # shown: nobody named it before
    assert clusters(hotline, instant(1), config=GrievanceConfig(show_new=False)).empty
    loose = GrievanceConfig(min_callers=2, emerging_p=1.0, surge_min_callers=3, surge_p=0.1)
    assert clusters(hotline, instant(1), config=loose)["surge"].item()
    with pytest.raises(ValueError):
        GrievanceConfig(surge_p=0.5, emerging_p=0.1)
    with pytest.raises(ValueError):
        GrievanceConfig(thing_kinds=("person",))


def test_the_scope_is_the_thing_and_its_district() -> None:
    east = calls_naming("宏达服装厂拖欠工资", per_day=[4, 4])
    north = calls_naming("宏达服装厂拖欠工资", per_day=[4, 4], first_phone=100, district="江北区")
    found = clusters(east + north, instant(2))
    assert sorted(found["district"]) == ["东湖区", "江北区"] and found["surge"].all()
    assert found["cluster_id"].is_unique


def test_only_things_of_the_configured_kinds_are_keys() -> None:
    hotline = calls_naming("清江大酒店乱收费", per_day=[5, 5])
    assert clusters(hotline, instant(2)).empty
    assert clusters(hotline, instant(2), config=GrievanceConfig(thing_kinds=("business",)))["surge"].item()


# ---------------------------------------------------------------- keys


def test_one_estate_written_many_ways_by_different_callers_is_one_cluster() -> None:
    """Prefixes of places, a property word, building numbers, the estate suffix twice, full-width
    letters: one key, every caller counted, shown as written most often."""
    forms = (
        "杭州市西湖区阳光花园",
        "商品房阳光花园",
        "阳光花园3幢",
        "阳光花园小区",
        "ＸＸ阳光花园",
        "阳光花园",
        "阳光花园",
    )
    hotline = [
        row
        for i, form in enumerate(forms)
        for row in calls_naming(f"{form}的开发商捆绑销售车位", [1], first_day=i % 3, first_phone=10 * i)
    ]
    found = clusters(hotline, instant(3), config=GrievanceConfig(emerging_p=1.0))
    assert len(found) == 1
    top = found.iloc[0]
    assert (top["thing"], top["thing_kind"], top["distinct_callers"], top["calls"]) == (
        "阳光花园",
        "estate",
        7,
        7,
    )
    assert top["cluster_id"] == cluster_id("东湖区", "阳光花园")


def test_two_estates_sharing_an_ending_stay_two_clusters() -> None:
    hotline = calls_naming("阳光花园停水三天", [4]) + calls_naming("明月花园停水三天", [4], first_phone=50)
    found = clusters(hotline, instant(1))
    assert sorted(found["thing"]) == ["明月花园", "阳光花园"]
    assert found["distinct_callers"].tolist() == [4, 4]


def test_a_key_named_everywhere_about_everything_is_never_a_cluster() -> None:
    """星光大厦项目 is named across five districts and five categories by callers who never come back:
    a word in common use, so its burst in one district this week is no cluster; the same burst naming
    a thing nobody names elsewhere is one."""
    districts = ("东湖区", "江北区", "云溪县", "青山区", "南湖区")
    categories = ("供水", "物业管理", "噪音", "城市管理", "交通运输")
    spread = [
        call_row(
            f"S{i}",
            day(-10 - i),
            text="星光大厦项目那边又出事了",
            caller_phone=phone(500 + i),
            district=districts[i % 5],
            category=categories[(i // 5) % 5],
        )
        for i in range(25)
    ]
    background = [
        row
        for d, (district, category) in enumerate(zip(districts, categories, strict=True))
        for row in calls_naming(f"宏达{d}厂欠薪", [4], first_day=-20, first_phone=800 + 10 * d)
        for row in [dict(row, district=district, category=category)]
    ]
    burst = calls_naming("星光大厦项目那边又出事了", [3, 3])
    assert clusters(spread + background + burst, instant(2)).empty
    other = calls_naming("金星大厦项目那边又出事了", [3, 3])
    assert clusters(spread + background + other, instant(2))["thing"].tolist() == ["金星大厦项目"]


def test_a_college_and_a_loan_platform_are_keys() -> None:
    college = calls_naming("青山职业技术学院组织顶岗实习不发补贴", [4, 4])
    platform = calls_naming("快易贷APP暴力催收", [3, 3], first_phone=100) + calls_naming(
        "快易贷平台无法提现", [2], first_phone=200
    )
    found = clusters(college + platform, instant(2)).set_index("thing")
    assert found.loc["青山职业技术学院", "thing_kind"] == "school"
    assert found.loc["快易贷APP", "thing_kind"] == "platform"
    assert found.loc["快易贷APP", "distinct_callers"] == 8  # 快易贷平台 is the same platform
    assert found["surge"].all()


def test_cluster_calls_are_the_window_calls_of_each_cluster() -> None:
    hotline = (
        calls_naming("商品房阳光花园漏水", [2], first_day=-8)  # in the prior window: not listed
        + calls_naming("阳光花园5号楼漏水", [2], first_phone=10)
        + calls_naming("邻居装修太吵", [2], first_phone=20)
    )
    pairs = cluster_calls(make_sources([], [], hotline), instant(1))
    assert pairs.to_dict("list") == {
        "call_id": ["H00010", "H00011"],
        "cluster_id": [cluster_id("东湖区", "阳光花园")] * 2,
    }


def test_callers_describing_a_named_grievance_without_naming_it_count_with_it() -> None:
    """Three callers name 鑫源建筑公司; two more say the same naming nothing (one of them a caller who
    named it: counted once): four callers, five calls. The same words in another district, or other
    words in the district, join nothing."""
    named = calls_naming("鑫源建筑公司拖欠工资三个月了，工友们都找不到老板", [3], first_day=3)
    unnamed = calls_naming("老板拖欠工资三个月了，工友们都找不到人", [2], first_day=4, first_phone=2)
    other = calls_naming("楼上邻居装修太吵了，晚上睡不着觉", [2], first_day=4, first_phone=20)
    north = calls_naming(
        "老板拖欠工资三个月了，工友们都找不到人", [2], first_day=4, first_phone=30, district="江北区"
    )
    hotline = named + [dict(c, call_id=f"U{i}") for i, c in enumerate(unnamed)] + other + north
    found = clusters(hotline, instant(7), config=GrievanceConfig(emerging_p=1.0))
    assert found[["thing", "distinct_callers", "calls"]].values.tolist() == [["鑫源建筑公司", 4, 5]]
    alone = clusters(hotline, instant(7), config=GrievanceConfig(emerging_p=1.0, resembling=False))
    assert alone[["thing", "distinct_callers", "calls"]].values.tolist() == [["鑫源建筑公司", 3, 3]]
    pairs = cluster_calls(make_sources([], [], hotline), instant(7))
    assert sorted(pairs["call_id"]) == ["H00000", "H00001", "H00002", "U0", "U1"]
    assert set(pairs["cluster_id"]) == {cluster_id("东湖区", "鑫源建筑公司")}


def test_a_call_alike_a_named_grievance_only_in_words_naming_no_thing_does_not_count_with_it() -> None:
    """Three callers name 金桥花园 with 整个小区 and 自来水公司 (words naming no thing in particular); two
    others use those words naming nothing, about something else: they join nothing. Two more saying what
    the three said, naming nothing, count with it."""
    named = calls_naming("金桥花园整个小区都停水了，自来水公司电话打不通", [3], first_day=3)
    words = calls_naming("整个小区水压太低，不上水，自来水公司说在检修", [2], first_day=4, first_phone=10)
    found = clusters(named + words, instant(7), config=GrievanceConfig(emerging_p=1.0))
    assert found[["thing", "distinct_callers", "calls"]].values.tolist() == [["金桥花园", 3, 3]]
    same = calls_naming("整个小区都停水了，自来水公司电话打不通", [2], first_day=4, first_phone=20)
    found = clusters(named + words + same, instant(7), config=GrievanceConfig(emerging_p=1.0))
    assert found[["thing", "distinct_callers", "calls"]].values.tolist() == [["金桥花园", 5, 5]]


# ---------------------------------------------------------------- topics: calls naming no thing

# One complaint (the square dance's loudspeakers at night), said five ways, naming no thing; with masks,
# a neighbour's name and numbers.
DANCE = (
    "市民来电反映：楼下广场舞音响声音太大，每天晚上跳到10点多，噪音扰民。联系电话[电话]",
    "[姓名]来电称楼下广场舞的音响太吵了，晚上噪音扰民，孩子没法写作业，请相关部门核实处理。",
    "晚上广场舞音响开得特别大，噪音吵得睡不着觉，邻居张伟也说受不了，希望有人管管。",
    "来电人反映楼下跳广场舞音响噪音扰民，每天晚上都很吵，3号楼的老人休息不好，要求处理。",
    "广场舞音响声音太大了，晚上10点还在跳，噪音扰民，张伟家的老人休息不好。",
)
DANCE_LABEL = "噪音、广场、音响、扰民"
DANCE_KEY = "话题:噪音·广场"
NAMED_KINDS = GrievanceConfig().thing_kinds  # topics are opt in
WITH_TOPICS = (*NAMED_KINDS, "topic")


def calls_saying(texts: tuple[str, ...], first_phone: int = 0, **fields: str) -> list[dict[str, str]]:
    """One call per text on days 0, 1, ... (cycled over five days), each from a new phone."""
    return [
        call_row(
            f"T{first_phone + i:05d}",
            day(i % 5, 9 + i % 10),
            text=text,
            category="城市管理",
            caller_phone=phone(first_phone + i),
            **fields,
        )
        for i, text in enumerate(texts)
    ]


def test_five_callers_saying_one_thing_in_different_words_are_one_topic_cluster() -> None:
    hotline = calls_saying(DANCE) + calls_saying(("咨询社保缴费基数怎么调整。", "公交车司机态度恶劣。"), 50)
    found = clusters(hotline, instant(5), config=GrievanceConfig(thing_kinds=WITH_TOPICS))
    assert len(found) == 1
    top = found.iloc[0]
    assert (top["thing"], top["thing_kind"], top["district"], top["category"]) == (
        DANCE_LABEL,
        "topic",
        "东湖区",
        "城市管理",
    )
    assert (top["calls"], top["distinct_callers"], top["new_callers"], top["usual"]) == (5, 5, 5, 1.0)
    assert top["p_value"] == pytest.approx(stats.poisson.sf(4, 1.0)) and not top["surge"]
    assert top["cluster_id"] == cluster_id("东湖区", DANCE_KEY)
    assert top["summary"] == "城市管理类来电；主要反映：噪音(5)；升级信号：强烈不满或愤怒情绪(1)"
    assert not any(ch.isdigit() for ch in top["thing"]) and "张伟" not in " ".join(map(str, top.to_numpy()))
    pairs = cluster_calls(make_sources([], [], hotline), instant(5), GrievanceConfig(thing_kinds=WITH_TOPICS))
    assert pairs.to_dict("list") == {
        "call_id": [f"T{i:05d}" for i in range(5)],
        "cluster_id": [cluster_id("东湖区", DANCE_KEY)] * 5,
    }


def test_a_topic_surge_says_callers_raised_the_same_issue() -> None:
    hotline = calls_saying(DANCE * 2)
    zh = clusters(hotline, instant(5), config=GrievanceConfig(thing_kinds=WITH_TOPICS)).iloc[0]
    en = clusters(hotline, instant(5), language="en", config=GrievanceConfig(thing_kinds=WITH_TOPICS)).iloc[0]
    assert zh["surge"] and zh["distinct_callers"] == 10 and zh["thing"] == DANCE_LABEL
    assert zh["surge_reason"] == (
        f"近7天有10位来电人（其中10位此前未反映过）反映同一问题（{DANCE_LABEL}），"
        "远高于平常水平（约1.0位）；来电10次，前7天0次"
    )
    assert en["surge_reason"] == (
        f"10 callers (10 of them new) raised the same issue ({DANCE_LABEL}) in the last 7 days, far above "
        "the usual level (about 1.0); 10 calls, 0 in the 7 days before"
    )


def test_a_call_naming_a_thing_is_counted_with_the_thing_not_in_a_topic() -> None:
    """Three more callers say the same naming their estate: they are the estate's cluster, not the
    topic's (which would otherwise take them in). Counting calls that resemble a named cluster with it,
    four of the five others are the estate's too (the fourth is worded too differently) and no topic is
    left."""
    named = tuple("阳光花园" + text for text in DANCE[:3])
    hotline = calls_saying(DANCE) + calls_saying(named, 100)
    apart = GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0, resembling=False)
    found = clusters(hotline, instant(5), config=apart).set_index("thing_kind")
    assert found.loc["topic", "thing"] == DANCE_LABEL and found.loc["topic", "distinct_callers"] == 5
    assert found.loc["estate", "thing"] == "阳光花园" and found.loc["estate", "distinct_callers"] == 3
    pairs = cluster_calls(make_sources([], [], hotline), instant(5), apart)
    assert pairs["call_id"].is_unique and len(pairs) == 8
    joined = clusters(hotline, instant(5), config=GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0))
    assert joined[["thing", "distinct_callers"]].values.tolist() == [["阳光花园", 7]]


def test_topics_and_named_things_are_not_each_other_s_peers() -> None:
    """Four callers a week voice the dance complaint over the baseline (a topic's level of 4); a company
    of the same category named by seven new callers keeps the floor as its usual level."""
    baseline = [
        dict(row, received_at=day(2 - 7 * week + i % 3), caller_phone=phone(1000 + 10 * week + i))
        for week in range(2, 10)
        for i, row in enumerate(calls_saying(DANCE[:4], 1000 + 10 * week))
    ]
    company = [dict(row, category="城市管理") for row in calls_naming("宏达服装厂拖欠工资", [7])]
    found = clusters(
        baseline + company, instant(1), config=GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0)
    )
    assert found["thing_kind"].tolist() == ["company"]
    assert found["usual"].item() == 1.0 and found["surge"].item()
    steady = calls_saying(DANCE[:4], 2000)  # the topic's window: four callers, its usual level
    found = clusters(
        baseline + steady, instant(5), config=GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0)
    )
    assert (found["thing_kind"].tolist(), found["usual"].tolist()) == (["topic"], [4.0])


def test_a_topic_filed_under_many_categories_shares_wording_not_an_issue() -> None:
    """The five calls filed under five hotline categories (a share of 1/5 under the main one) are no
    topic; with topic_category_share 0.2 they are one."""
    categories = ("城市管理", "环境保护", "住房城乡建设", "邻里矛盾", "咨询")
    hotline = [dict(row, category=c) for row, c in zip(calls_saying(DANCE), categories, strict=True)]
    assert clusters(
        hotline, instant(5), config=GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0)
    ).empty
    found = clusters(
        hotline,
        instant(5),
        config=GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0, topic_category_share=0.2),
    )
    assert (found["thing"].tolist(), found["distinct_callers"].tolist()) == ([DANCE_LABEL], [5])
    with pytest.raises(ValueError):
        GrievanceConfig(thing_kinds=WITH_TOPICS, topic_category_share=1.5)


def test_without_the_topic_kind_there_are_no_topic_clusters() -> None:
    hotline = calls_saying(DANCE * 2) + calls_naming("宏达服装厂拖欠工资", per_day=[4, 4], first_phone=100)
    config = GrievanceConfig(thing_kinds=NAMED_KINDS)
    found = clusters(hotline, instant(5), config=config)
    assert found["thing_kind"].tolist() == ["company"]
    assert set(cluster_calls(make_sources([], [], hotline), instant(5), config)["cluster_id"]) == {
        cluster_id("东湖区", "宏达服装厂")
    }
    assert sorted(
        clusters(hotline, instant(5), config=GrievanceConfig(thing_kinds=WITH_TOPICS))["thing_kind"]
    ) == ["company", "topic"]


def test_topic_calls_known_after_the_instant_are_not_read() -> None:
    """Two of the five calls are recorded after the instant (and another caller calls on the instant's
    day): three callers are known at the instant, six the next day."""
    hotline = calls_saying(DANCE)
    for row in hotline[3:]:
        row["recorded_at"] = day(5, 20)
    hotline += calls_saying(DANCE[:1], 200)
    hotline[-1]["received_at"] = hotline[-1]["recorded_at"] = day(5, 11)
    loose = GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0)
    at_5 = clusters(hotline, instant(5), config=loose)
    assert (at_5["thing_kind"].tolist(), at_5["distinct_callers"].tolist()) == (["topic"], [3])
    assert clusters(hotline, instant(6), config=loose)["distinct_callers"].tolist() == [6]


# ---------------------------------------------------------------- guards


def test_person_names_and_phones_never_become_keys_or_output() -> None:
    texts = (
        "张伟说宏达服装厂拖欠工资",
        "我叫李强，在宏达服装厂打工，工资没发",
        "王芳宏达服装厂欠我工资",  # a name right before the thing, without a context word
        "老板刘建国跑了，宏达服装厂没人管",
        "宏达服装厂欠薪，找陈静要钱她不给",
        "关于宏达服装厂欠薪的事",
        "宏达服装厂的工资什么时候发",
        "赵敏欠我们钱不还",  # a person only: no thing
    )
    hotline = [
        call_row(f"H{i}", day(i % 3), text=text, caller_phone=phone(i), caller_name=NAMES[i % len(NAMES)])
        for i, text in enumerate(texts * 2)
    ]
    people = [
        call_row(f"P{i}", day(i % 3), text="陈静欠我们钱不还", caller_phone=phone(50 + i)) for i in range(9)
    ]
    sources = make_sources([], [], hotline + people)
    found = grievance_clusters(sources, instant(3), GrievanceConfig(thing_kinds=WITH_TOPICS, emerging_p=1.0))
    assert found["thing"].tolist() == ["宏达服装厂"]
    assert found["distinct_callers"].item() == 14
    text = " ".join(str(value) for value in found.to_numpy().ravel())
    assert not any(name in text for name in NAMES)
    pids = set(sources.hotline["caller_phone_pid"].dropna()) | set(
        sources.hotline["caller_name_pid"].dropna()
    )
    assert not any(pid in text for pid in pids)
    assert not any(phone(i) in text for i in range(60))


def test_summary_names_labels_and_counts_not_texts() -> None:
    hotline = calls_naming("宏达服装厂拖欠工资，工友们说好了明天一起去区政府上访", per_day=[4, 4])
    zh = clusters(hotline, instant(2)).iloc[0]
    en = clusters(hotline, instant(2), language="en").iloc[0]
    assert zh["summary"] == "欠薪类来电；主要反映：拖欠工资(8)；升级信号：群体聚集或上访(8)"
    assert en["summary"].startswith("calls filed as 欠薪; about unpaid wages (8); escalation cues: gathering")
    assert zh["surge_reason"].startswith(
        "近7天有8位来电人（其中8位此前未反映过）提到宏达服装厂，远高于平常水平"
    )
    assert en["surge_reason"].startswith("8 callers (8 of them new) named 宏达服装厂 in the last 7 days")


# ---------------------------------------------------------------- point in time and cases


def test_calls_known_after_the_instant_do_not_count() -> None:
    hotline = calls_naming("宏达服装厂拖欠工资", per_day=[4, 4])
    late = [dict(row, recorded_at=day(5)) for row in calls_naming("宏达服装厂拖欠工资", [4], 1, 200)]
    later = calls_naming(
        "宏达服装厂拖欠工资", [6], first_day=2, first_phone=300
    )  # received on the instant's day
    found = clusters(hotline + late + later, instant(2))
    assert found["distinct_callers"].item() == 8
    assert clusters(hotline + late + later, instant(6))["distinct_callers"].item() == 18


def test_the_cases_a_cluster_touches() -> None:
    cases = [
        case_row("C1", day(-20), description="12名工人反映宏达服装厂拖欠工资"),
        case_row("C2", day(-10), description="宏达服装厂欠薪"),
        case_row("C3", day(1), description="工人反映在宏达服装厂被拖欠工资"),
        case_row("C4", day(-8), description="邻居装修噪音"),
        case_row("C5", day(-5), description="宏达服装厂欠薪", district="江北区"),
        case_row("C6", day(-200), description="宏达服装厂欠薪"),  # older than the lookback
    ]
    events = [event_row("C2", day(-3), "closed")]
    hotline = calls_naming("宏达服装厂拖欠工资", per_day=[4, 4])
    hotline[0]["case_id"] = "C4"  # linked by case_id: touched too
    hotline[1]["recorded_at"] = day(9)  # known after the instant: its link does not count
    hotline[1]["case_id"] = "C6"
    found = clusters(hotline, instant(2), cases=cases, events=events).iloc[0]
    assert found["case_ids"] == ("C1", "C2", "C3", "C4") and found["cases"] == 4
    assert found["open_case_ids"] == ("C1", "C3", "C4")
    assert found["cases_opened"] == 1 and found["size"] == found["calls"] + 1
    assert found["first_seen"] == pd.Timestamp(day(-20))


def test_categorical_text_columns_give_the_same_clusters() -> None:
    """Large stores are loaded with repeated text columns as categoricals: same answer."""
    hotline = calls_naming("宏达服装厂拖欠工资", per_day=[4, 4]) + calls_naming("邻居装修太吵", [3], 0, 50)
    sources = make_sources([case_row("C1", day(-3), description="宏达服装厂欠薪")], [], hotline)
    columns = ["text", "district", "category", "caller_phone_pid", "case_id"]
    compact = Sources(
        sources.cases, sources.events, sources.hotline.astype(dict.fromkeys(columns, "category"))
    )
    plain = grievance_clusters(sources, instant(2))
    assert len(plain) == 1 and plain["case_ids"].item() == ("C1",)
    pd.testing.assert_frame_equal(grievance_clusters(compact, instant(2)), plain)


def test_an_empty_result_has_the_columns() -> None:
    found = clusters([], instant(2))
    assert found.empty and list(found.columns) == list(COLUMNS)
    assert list(clusters(calls_naming("邻居装修太吵", [9]), instant(1)).columns) == list(COLUMNS)


# ---------------------------------------------------------------- the simulated group grievance

SIMULATED = SimulationConfig(seed=7, n_cases=2_000, days=200)


def stored_sources(city: SimulatedCity) -> Sources:
    stored = {}
    for field, kind in (
        ("cases", RecordKind.CASES),
        ("case_events", RecordKind.CASE_EVENTS),
        ("hotline", RecordKind.HOTLINE),
    ):
        text = getattr(city, field).fillna("").astype(str)
        text.insert(0, "_row", range(1, len(text) + 1))
        stored[field] = validate_frame(text, kind, FILE_NAMES[kind], TEST_KEY).records
    return Sources.ordered(stored["cases"], stored["case_events"], stored["hotline"])


@pytest.fixture(scope="module")
def small_city() -> SimulatedCity:
    return simulate_city(SimulationConfig(n_cases=300, days=120))


@pytest.fixture(scope="module")
def simulated() -> tuple[SimulatedCity, Sources]:
    city = simulate_city(SIMULATED)
    return city, stored_sources(city)


def truth_cluster(sources: Sources, records: pd.DataFrame, at: pd.Timestamp) -> str:
    """The cluster most of a true grievance's calls of the window before `at` are keyed to."""
    calls = set(records.loc[records["record_kind"] == "hotline", "record_id"].astype(str))
    pairs = cluster_calls(sources, at)
    return pairs[pairs["call_id"].astype(str).isin(calls)]["cluster_id"].mode().iloc[0]


@pytest.mark.slow
def test_the_simulated_grievance_is_flagged_days_before_its_first_escalation(
    simulated: tuple[SimulatedCity, Sources],
) -> None:
    city, sources = simulated
    truth = city.truth_grievances
    records = truth[truth["grievance"] == 1]
    first = records.iloc[0]
    escalation = pd.Timestamp(first["first_escalation_at"])
    onset = pd.Timestamp(first["onset"])
    wanted = truth_cluster(sources, records, escalation.normalize())
    days = pd.date_range(onset - timedelta(days=14), escalation.normalize(), freq="D")
    flagged = []
    for at in days:
        found = grievance_clusters(sources, at)
        if found.loc[found["cluster_id"] == wanted, "surge"].any():
            flagged.append(at)
    assert flagged, "the grievance was never flagged before its escalation"
    assert flagged[0] > onset  # never before it began
    assert escalation - flagged[0] >= pd.Timedelta(days=7)
    # Once the rise is steep, every day is flagged until the incident.
    assert all(
        at in flagged
        for at in pd.date_range(escalation.normalize() - timedelta(days=5), escalation.normalize())
    )


@pytest.mark.slow
def test_the_emerging_grievance_is_a_surge_at_the_end_of_the_period(
    simulated: tuple[SimulatedCity, Sources],
) -> None:
    city, sources = simulated
    records = city.truth_grievances[city.truth_grievances["grievance"] == 2]
    emerging = records.iloc[0]
    assert emerging["first_escalation_at"] is None or pd.isna(emerging["first_escalation_at"])
    end = pd.Timestamp(SIMULATED.start + timedelta(days=SIMULATED.days))
    top = grievance_clusters(sources, end).iloc[0]
    assert (top["cluster_id"], top["district"], top["surge"]) == (
        truth_cluster(sources, records, end),
        emerging["district"],
        True,
    )
    assert emerging["thing"].startswith(top["thing"])  # shown by its name, or the name's first words
    cases = set(records.loc[records["record_kind"] == "cases", "record_id"])
    assert cases and cases <= set(top["case_ids"])


def test_message_board_accounts_without_a_phone_count_as_callers() -> None:
    """A message board's users have no phone: their pseudonymised accounts are the distinct callers, and a
    post with neither counts as a call only."""
    posts = [
        call_row(f"B{i:03d}", day(i % 3, 9 + i), text="宏达服装厂拖欠工资三个月了", caller_name=f"网友{i}")
        for i in range(6)
    ]
    posts += [call_row("B100", day(2, 10), text="宏达服装厂拖欠工资", caller_name="网友0")]
    posts += [call_row("B101", day(2, 11), text="宏达服装厂拖欠工资")]
    found = clusters(posts, instant(3), config=GrievanceConfig(emerging_p=1.0))
    assert found[["thing", "calls", "distinct_callers"]].to_dict("records") == [
        {"thing": "宏达服装厂", "calls": 8, "distinct_callers": 6}
    ]
