"""Calls that name nothing, joined to the named cluster of their district they resemble."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.grievance_resemblance import (
    ResemblanceConfig,
    distinct_voices,
    resembling_calls,
    thing_weights,
    without_words,
)
from features.grievances import GrievanceConfig

EAST, NORTH = "东湖区", "江北区"
WAGES = (
    "鑫源建筑公司老板拖欠工资三个月了，工友们都找不到人",
    "鑫源建筑公司拖欠工资三个月，工友们都没拿到钱",
    "在鑫源建筑公司干活，老板拖欠工资，工友们找不到人",
)
LIFT = ("顺发花园的电梯坏了一个月，物业一直不修", "顺发花园电梯坏了，物业不管，老人上不了楼")
FOLLOW_UP = ("鑫源公司那边还是没有解决，要求给个说法", "顺发花园那边还是没有解决，要求给个说法")


def frame(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """Calls (text, district, category, day) received on day k of March 2025 at 10:00."""
    text, district, category, days = zip(*rows, strict=True)
    start = pd.Timestamp("2025-03-01 10:00", tz="Asia/Shanghai")
    return pd.DataFrame(
        {
            "text": text,
            "district": district,
            "category": category,
            "received_at": [start + pd.Timedelta(days=d) for d in days],
        }
    )


# Named calls: 0-2 about wages at 鑫源 (cluster 0), 3-4 about the lift at 顺发 (cluster 1), 5-6 their
# follow-ups; all in EAST.
NAMED = [
    *((t, EAST, "欠薪", 1) for t in WAGES),
    *((t, EAST, "物业管理", 2) for t in LIFT),
    (FOLLOW_UP[0], EAST, "欠薪", 2),
    (FOLLOW_UP[1], EAST, "物业管理", 2),
]
KEYED = pd.DataFrame({"pos": range(7), "cluster": [0, 0, 0, 1, 1, 0, 1]})
WEEK = pd.Timedelta(days=7)


def joined(unnamed: list[tuple[str, str, str, int]], config: ResemblanceConfig | None = None) -> dict:
    """Per call naming nothing (numbered from 0): the cluster it joins."""
    calls = frame([*NAMED, *unnamed])
    found = resembling_calls(
        calls, np.arange(len(NAMED), len(calls)), KEYED, WEEK, config or ResemblanceConfig()
    )
    return dict(zip((found["pos"] - len(NAMED)).tolist(), found["cluster"].tolist(), strict=True))


def test_a_call_describing_a_named_grievance_joins_it() -> None:
    assert joined([("老板拖欠工资三个月了，工友们都找不到人", EAST, "欠薪", 3)]) == {0: 0}
    assert joined([("电梯坏了一个月，物业一直不修", EAST, "物业管理", 3)]) == {0: 1}


def test_a_call_about_something_else_in_the_district_joins_nothing() -> None:
    assert joined([("小区门口的垃圾站太臭了，夏天没法开窗", EAST, "欠薪", 3)]) == {}


def test_a_call_in_another_district_joins_nothing() -> None:
    assert joined([("老板拖欠工资三个月了，工友们都找不到人", NORTH, "欠薪", 3)]) == {}


def test_a_call_filed_under_another_category_or_far_in_time_joins_nothing() -> None:
    assert joined([("老板拖欠工资三个月了，工友们都找不到人", EAST, "物业管理", 3)]) == {}
    assert joined([("老板拖欠工资三个月了，工友们都找不到人", EAST, "欠薪", 10)]) == {}
    assert joined([("老板拖欠工资三个月了，工友们都找不到人", EAST, "", 3)]) == {0: 0}  # unfiled


def test_a_call_worded_like_the_calls_about_several_things_joins_none() -> None:
    """'那边还是没有解决' is said of 鑫源 and of 顺发 alike: an unfiled follow-up resembles neither more."""
    follow_up = [("那边还是没有解决，要求给个说法", EAST, "", 3)]
    assert joined(follow_up, ResemblanceConfig(neighbours=1)) == {}
    assert list(joined(follow_up, ResemblanceConfig(neighbours=1, share=0.4))) == [0]  # the share decides


def test_wording_the_calls_about_many_things_use_is_no_likeness() -> None:
    """In EAST only 顺发花园's callers say '停水两天了，物业不管', but five estates' callers elsewhere in the
    city say it too: a call saying only that is about none of them in particular (likeness 0.22 with
    every n-gram weighed alike, 0.13 weighed by how few clusters hold it)."""
    estates = ("阳光家园", "金桥家园", "富康家园", "长青苑", "明珠小区")
    named = [
        ("顺发花园停水两天了，物业不管", EAST, "物业管理", 1),
        ("顺发花园开发商承诺的车位没兑现", EAST, "物业管理", 1),
        ("我是顺发花园的业主，开发商承诺的车位没兑现", EAST, "物业管理", 2),
        *((f"{estate}停水两天了，物业不管", NORTH, "物业管理", 1) for estate in estates),
    ]
    keyed = pd.DataFrame({"pos": range(len(named)), "cluster": [0, 0, 0, *range(1, 1 + len(estates))]})
    asking = np.array([len(named)])

    def joins(text: str, config: ResemblanceConfig) -> list[int]:
        calls = frame([*named, (text, EAST, "物业管理", 3)])
        return resembling_calls(calls, asking, keyed, WEEK, config)["cluster"].tolist()

    assert joins("停水两天了，物业不管", ResemblanceConfig()) == []
    assert joins("停水两天了，物业不管", ResemblanceConfig(things_weigh=False)) == [0]
    assert joins("开发商承诺的车位没兑现，业主要求退钱", ResemblanceConfig()) == [0]


def test_thing_weights_count_the_clusters_holding_an_ngram() -> None:
    """Columns held by clusters {0, 1}, {0}, none (weighed as held by one); rows of clusters 0, 0, 1."""
    presence = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0]])
    weights = thing_weights(presence, np.array([0, 0, 1]))
    assert weights == pytest.approx([1.0, np.log(3 / 2) + 1, np.log(3 / 2) + 1])
    assert thing_weights(np.zeros((0, 2)), np.array([], dtype=np.int64)).tolist() == [1.0, 1.0]


def test_likeness_is_a_threshold() -> None:
    call = [("老板拖欠工资三个月了，工友们都找不到人", EAST, "欠薪", 3)]
    assert joined(call, ResemblanceConfig(similarity=0.99)) == {}


def test_nothing_to_join_gives_the_columns() -> None:
    calls = frame(NAMED)
    assert list(resembling_calls(calls, np.array([], dtype=np.int64), KEYED, WEEK).columns) == [
        "pos",
        "cluster",
    ]


def test_the_config_is_checked() -> None:
    with pytest.raises(ValueError):
        ResemblanceConfig(similarity=0)
    with pytest.raises(ValueError):
        ResemblanceConfig(neighbours=0)


def test_words_naming_no_thing_are_taken_out_of_their_own_texts_only() -> None:
    texts = pd.Series(["整个小区停水了，自来水公司不管", "整个小区停电了", None], dtype=object)
    words = pd.DataFrame({"pos": [0, 0, 2], "thing": ["整个小区", "自来水公司", "整个小区"]})
    assert without_words(texts, words).tolist() == ["，停水了，，不管", "整个小区停电了", None]


def test_a_caller_who_wrote_several_of_a_cluster_s_texts_counts_once() -> None:
    """Three texts of 鑫源 share the crowd phrase '工友们说好了…讨说法' with a call naming nothing (cosine
    0.54 each): written by three callers (or by calls without a caller, each speaking for itself) the
    call joins 鑫源 (likeness 0.54); written by one caller, they are one voice (likeness 0.54 / 3 = 0.18
    < 0.2) and it joins nothing."""
    named = [
        ("鑫源建筑公司拖欠工资，工友们说好了明天一起去讨说法", EAST, "欠薪", 1),
        ("鑫源建筑公司那边还是没有解决，工友们说好了明天一起去讨说法", EAST, "欠薪", 2),
        ("鑫源建筑公司的事情之前已经反映过，工友们说好了明天一起去讨说法", EAST, "欠薪", 3),
        ("顺发花园的电梯坏了一个月，物业一直不修", EAST, "物业管理", 2),
    ]
    keyed = pd.DataFrame({"pos": range(4), "cluster": [0, 0, 0, 1]})
    calls = frame([*named, ("工地上的活干完了，老板一直找借口，工友们说好了去讨说法", EAST, "欠薪", 4)])

    def joins(callers: list[str | None] | None) -> list[int]:
        asked = calls if callers is None else calls.assign(caller=callers)
        return resembling_calls(asked, np.array([4]), keyed, WEEK)["cluster"].tolist()

    assert joins(None) == [0]
    assert joins(["a", "b", "c", "d", "e"]) == [0]
    assert joins([None, None, None, "d", None]) == [0]
    assert joins(["a", "a", "a", "d", "e"]) == []
    assert joins(["a", "a", None, "d", "e"]) == [0]  # a and the call without a caller: two voices, 0.36


# A project's callers in EAST: the same complaint filed under two categories (征地拆迁, 住房城乡建设).
PROJECT = [
    ("我是绿洲高速项目工地涉及的村民，拆迁安置房一直没有落实", EAST, "征地拆迁", 1),
    ("投诉绿洲高速项目强行施工，补偿标准没谈好就开始挖地了", EAST, "征地拆迁", 2),
    ("我是绿洲高速项目涉及的村民，安置房一直没有落实，村民意见很大", EAST, "住房城乡建设", 2),
    ("关于绿洲高速项目征地补偿的问题，我家被少补了", EAST, "征地拆迁", 3),
]
HOMELESS = ("拆迁安置房迟迟不落实，村民意见很大", EAST, "征地拆迁", 4)


def joins_project(
    baseline: list[tuple[str, str, str, int]], rule: GrievanceConfig | None, first: str = "征地拆迁"
) -> list[int]:
    """The cluster HOMELESS joins: PROJECT (cluster 0, callers a-d, its first text filed under `first`)
    after `baseline` (cluster 0 too, callers b0, b1 ...), beside 顺发花园 (cluster 1)."""
    project = [(PROJECT[0][0], EAST, first, 1), *PROJECT[1:]]
    named = [*project, *baseline, *((t, EAST, "物业管理", 2) for t in LIFT)]
    callers = ["a", "b", "c", "d", *(f"b{i}" for i in range(len(baseline))), "e", "f", "g"]
    calls = frame([*named, HOMELESS]).assign(caller=callers)
    keyed = pd.DataFrame({"pos": range(len(named)), "cluster": [0] * (len(named) - 2) + [1, 1]})
    return resembling_calls(calls, np.array([len(named)]), keyed, WEEK, rule=rule)["cluster"].tolist()


def test_an_emerging_cluster_offers_its_texts_of_other_categories() -> None:
    """The call (征地拆迁) is alike at 0.34 to the project's text of its category (at least `similarity`:
    it vouches) and 0.50 to the one filed under 住房城乡建设: likeness 0.34 / 3 = 0.11 over its category's
    texts, 0.28 over both. Named by four callers this week and by nobody before (usual 1, tail 0.019),
    the project is emerging: the call joins it. Named by two callers every week of the baseline (usual 2,
    tail 0.14: not unusual), or without the product's level rule, its category's texts decide: nothing.
    With its first text filed under 住房城乡建设 too, no text of the call's category vouches: nothing."""
    rule = GrievanceConfig()
    assert joins_project([], rule) == [0]
    assert joins_project([], None) == []
    steady = [("绿洲高速项目的施工噪音太大", EAST, "征地拆迁", -d) for d in range(14, 70, 7) for _ in (0, 1)]
    assert joins_project(steady, rule) == []
    assert joins_project([], rule, first="住房城乡建设") == []


def test_voices_and_texts_pair_most_alike_first() -> None:
    """Text 1 written by callers a and b, text 2 by b, text 3 by c: 1 goes to a (ties by caller), b keeps
    text 2, c text 3, whatever the order of the rows; a caller or a text is never counted twice."""
    pairs = pd.DataFrame(
        {
            "pos": [9] * 5,
            "cluster": [0] * 5,
            "document": [1, 1, 2, 3, 3],
            "caller": ["a", "b", "b", "c", "a"],
            "cosine": [0.6, 0.6, 0.4, 0.3, 0.3],
        }
    )
    expected = [(1, "a", 0.6), (2, "b", 0.4), (3, "c", 0.3)]
    for seed in range(6):
        shuffled = pairs.sample(frac=1, random_state=seed)
        found = distinct_voices(shuffled, 3)
        assert list(zip(found["document"], found["caller"], found["cosine"], strict=True)) == expected
    assert distinct_voices(pairs, 1)["caller"].tolist() == ["a"]
    assert distinct_voices(pairs.iloc[:0], 3).empty


def test_the_joins_do_not_depend_on_the_order_of_the_calls() -> None:
    """Text 1 (cosine 0.58 to the call) written by callers a and b, text 2 (0.53) by b: a voices text 1, b
    text 2, likeness (0.58 + 0.53) / 3 = 0.37 and the call joins 鑫源, however the calls are ordered
    (giving text 1 to b would leave a silent: 0.19, nothing)."""
    named = [
        ("鑫源建筑公司拖欠工资，工友们说好了明天一起去讨说法", EAST, "欠薪", 1),
        ("鑫源建筑公司拖欠工资，工友们说好了明天一起去讨说法", EAST, "欠薪", 2),
        ("鑫源建筑公司老板跑了，工资一直拖着不给", EAST, "欠薪", 2),
        *((t, EAST, "物业管理", 2) for t in LIFT),
    ]
    asking = [
        ("老板跑了，工友们说好了去讨说法，工资一直拖着", EAST, "欠薪", 4),
        ("电梯坏了一个月，物业一直不修", EAST, "物业管理", 3),
    ]
    calls = frame([*named, *asking]).assign(caller=["a", "b", "b", "d", "e", "h", "i"])
    keyed = pd.DataFrame({"pos": range(5), "cluster": [0, 0, 0, 1, 1]})

    def joins(order: np.ndarray) -> dict[int, int]:
        where = np.argsort(order)  # the new position of each original row
        found = resembling_calls(
            calls.iloc[order].reset_index(drop=True),
            where[np.arange(5, 7)],
            keyed.assign(pos=where[keyed["pos"]]),
            WEEK,
        )
        return dict(zip(order[found["pos"]].tolist(), found["cluster"].tolist(), strict=True))

    for order in ([0, 1, 2, 3, 4, 5, 6], [1, 0, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1, 0], [2, 1, 0, 6, 3, 5, 4]):
        assert joins(np.array(order)) == {5: 0, 6: 1}


@pytest.mark.parametrize("block", [1, 2, 3])
def test_calls_decided_a_block_at_a_time_join_as_all_at_once(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A district's calls naming nothing are compared a block at a time, each block with the named calls
    within the window of its first and last: the blocks give what one block gives (the calls of days 3
    and 4 join 鑫源 and 顺发, so does the one of day 9 exactly a week after 顺发's calls; the one of day 10
    is more than a week after every named call, the other district's joins nothing)."""
    unnamed = [
        ("电梯坏了一个月，物业一直不修", EAST, "物业管理", 4),
        ("老板拖欠工资三个月了，工友们都找不到人", NORTH, "欠薪", 3),
        ("老板拖欠工资三个月了，工友们都找不到人", EAST, "欠薪", 10),
        ("老板拖欠工资三个月了，工友们都找不到人", EAST, "欠薪", 3),
        ("工友们都找不到人，老板拖欠工资", EAST, "欠薪", 4),
        ("电梯坏了一个月，物业一直不修", EAST, "物业管理", 9),
    ]
    whole = joined(unnamed)
    monkeypatch.setattr("features.grievance_resemblance.ASKED_PER_BLOCK", block)
    assert joined(unnamed) == whole == {0: 1, 3: 0, 4: 0, 5: 1}


def test_clusters_no_pair_of_which_reaches_the_floor_are_left_out_and_nothing_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call's clusters with no cosine at the floor or the similarity are left out of its pairs (most of a
    city's pairs): the calls join what they join with every pair compared (a synthetic district of six
    things, words they share and calls mixing them, under several thresholds)."""
    rng = np.random.default_rng(7)
    things = ["鑫源建筑", "顺发花园", "明珠广场", "安居小区", "宏达工厂", "金桥市场"]
    own = ["拖欠工资三个月", "电梯坏了没人修", "晚上噪音扰民", "楼上漏水严重", "工厂排放臭气", "摊位费乱涨价"]
    words = ["物业不管", "找不到人", "要求解决", "多次反映", "老人孩子", "一直拖着"]
    rows, keyed = [], []
    for i in range(120):
        thing = int(rng.integers(len(things)))
        said = [own[thing], *rng.choice(words, size=2, replace=False)]
        if rng.random() < 0.4:
            said.append(own[int(rng.integers(len(things)))])  # some calls also tell of another thing
        named = i < 60
        text = (things[thing] if named else "") + "，".join(said)
        rows.append((text, EAST, "欠薪", int(rng.integers(1, 12))))
        if named:
            keyed.append((i, thing))
    calls = frame(rows).assign(caller=[f"c{int(v)}" for v in rng.integers(0, 80, size=120)])
    keyed_frame = pd.DataFrame(keyed, columns=["pos", "cluster"])
    for config in (ResemblanceConfig(), ResemblanceConfig(similarity=0.3, floor=0.05, share=0.4)):
        found = resembling_calls(calls, np.arange(60, 120), keyed_frame, WEEK, config)
        with monkeypatch.context() as every_pair:
            every_pair.setattr("features.grievance_resemblance.least_alike", lambda _config: -1.0)
            whole = resembling_calls(calls, np.arange(60, 120), keyed_frame, WEEK, config)
        assert len(found) > 5
        pd.testing.assert_frame_equal(found, whole)
