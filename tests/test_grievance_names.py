"""Things named by their name alone: calls naming a known thing of their district without its suffix."""

from __future__ import annotations

import pandas as pd

from features.grievance_names import bare_mentions, known_names
from features.grievances import cluster_calls, thing_mentions
from tests.builders import make_sources
from tests.test_grievances import calls_naming, clusters, instant

EAST, NORTH = "东湖区", "江北区"
THINGS = pd.DataFrame(
    [
        (EAST, "顺发花园", "顺发花园", "estate"),
        (EAST, "顺发花园", "顺发小区", "estate"),
        (EAST, "鑫源建筑工程公司", "鑫源建筑工程公司", "company"),
        (EAST, "鑫源装饰工程公司", "鑫源装饰工程公司", "company"),
        (EAST, "阳光花园", "阳光花园", "estate"),
        (EAST, "东湖花园", "东湖花园", "estate"),
        (NORTH, "长青苑", "长青苑", "estate"),
        (NORTH, "长青公司", "长青公司", "company"),
        (NORTH, "宏达金融平台", "宏达金融平台", "platform"),
    ],
    columns=["district", "key", "member", "kind"],
)
PLACES = ("东湖区", "东湖", "江北区", "江北")


def read(texts: list[str], districts: list[str]) -> list[tuple[str, str, str]]:
    """(text's thing as written, key, thing's district) per name read alone, in text order."""
    series = pd.Series(texts)
    found = bare_mentions(series, pd.Series(districts), THINGS, PLACES, thing_mentions(series))
    return list(zip(found["thing"], found["key"], found["district"], strict=True))


def test_a_name_alone_is_the_whole_core_or_an_abbreviation_of_a_long_one() -> None:
    texts = ["反映顺发的电梯坏了", "在鑫源建工干活没拿到工资", "我是东湖区梅园街道顺发的业主", "鑫源建筑欠薪"]
    assert read(texts, [EAST] * 4) == [
        ("顺发", "顺发花园", EAST),
        ("鑫源建工", "鑫源建筑工程公司", EAST),
        ("顺发", "顺发花园", EAST),
        ("鑫源建筑", "鑫源建筑工程公司", EAST),
    ]


def test_a_name_is_read_only_where_a_name_stands() -> None:
    """A short name must be followed by 的, a break or the end (在阳光下 names no 阳光花园), and any
    name must follow the start, a break, a context word, a place or a descriptor (新顺发 is another)."""
    texts = ["在阳光下散步", "阳光的物业不管事", "新顺发的老板跑了", "安置房顺发的电梯坏了"]
    assert read(texts, [EAST] * 4) == [("阳光", "阳光花园", EAST), ("顺发", "顺发花园", EAST)]


def test_names_of_two_things_places_and_other_districts_name_nothing() -> None:
    texts = [
        "鑫源工程拖欠工资",  # abbreviates both 鑫源建筑工程 and 鑫源装饰工程
        "长青的物业不管",  # 长青苑 and 长青公司
        "东湖的路灯坏了",  # a place's name, not 东湖花园
        "反映顺发的电梯坏了",  # 顺发花园 is in the other district
        "顺发超市的鸡蛋过期了",  # a thing named with a suffix: 顺发超市
    ]
    assert read(texts, [EAST, NORTH, EAST, NORTH, EAST]) == []


def test_a_platform_is_read_in_every_district_and_keyed_in_its_own() -> None:
    assert read(["投诉宏达金融，提不出钱", "宏达金融爆雷了"], [EAST, NORTH]) == [
        ("宏达金融", "宏达金融平台", NORTH),
        ("宏达金融", "宏达金融平台", NORTH),
    ]


def test_known_names_leave_out_short_generic_and_shared_cores() -> None:
    names = known_names(THINGS, PLACES)
    assert set(names["core"]) == {"顺发", "鑫源建筑工程", "鑫源装饰工程", "阳光", "宏达金融"}


def test_callers_naming_the_thing_alone_count_with_it() -> None:
    """Three callers write 顺发花园 and three only 顺发: six callers of one cluster, all keyed to it."""
    named = calls_naming("顺发花园的电梯坏了", [3], first_day=3, district=EAST)
    alone = calls_naming("反映顺发的电梯坏了，物业不管", [3], first_day=4, first_phone=10, district=EAST)
    found = clusters(named + alone, instant(7))
    assert found[["thing", "distinct_callers", "calls"]].values.tolist() == [["顺发花园", 6, 6]]
    keyed = cluster_calls(make_sources([], [], named + alone), instant(7))
    assert len(keyed) == 6 and keyed["cluster_id"].nunique() == 1


def test_a_core_shared_by_things_names_the_one_most_named() -> None:
    """顺发 is the core of 顺发花园 (named 8 times) and of 顺发村 (once): it names 顺发花园; 长青 is the
    core of 长青苑 and 长青公司, named as often: it names neither."""
    things = pd.concat(
        [THINGS, pd.DataFrame([(EAST, "顺发村", "顺发村", "village")], columns=THINGS.columns)]
        + [THINGS[THINGS["key"] == "顺发花园"]] * 3,
        ignore_index=True,
    )
    names = known_names(things, PLACES).set_index("core")["key"]
    assert names["顺发"] == "顺发花园" and "长青" not in names.index
    fewer = known_names(things.drop_duplicates(), PLACES)  # 顺发花园 named twice, 顺发村 once: neither
    assert "顺发" not in set(fewer["core"])
