"""Keys of the emerging grievances: the grammar of named things (features.named_things), normalised keys,
generic keys learned from the calls and aliases merged within a district (features.grievance_keys,
grievance_generic_keys, grievance_aliases)."""

from __future__ import annotations

import pandas as pd
import pytest

from features.grievance_aliases import alias_roots
from features.grievance_generic_keys import generic_keys
from features.grievance_keys import normalise_key, normalise_keys
from features.named_things import read_names

# ---------------------------------------------------------------- the grammar


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("青山职业技术学院组织顶岗实习不发补贴", [("青山职业技术学院", "school")]),
        ("孩子在红星小学被打", [("红星小学", "school")]),
        ("投资的快易贷APP无法提现", [("快易贷APP", "platform")]),
        ("关于速借网贷平台暴力催收", [("速借网贷", "platform")]),
        ("县人民医院乱收费", [("县人民医院", "hospital")]),
        ("反映金桥路施工噪音太大", [("金桥路", "road")]),
        ("地铁3号线施工扰民", [("地铁3号线", "road")]),
        ("反映滨江大道拓宽后积水", [("滨江大道", "road")]),
        ("反映东门外棚户区拆迁补偿不到位", [("东门外棚户区拆迁", "project")]),
        # names with a weak suffix's character inside are read whole in the first pass
        ("在丝路花园住了十年", [("丝路花园", "estate")]),
        ("中山路小学门口", [("中山路小学", "school")]),
        ("宏达路桥公司拖欠工资", [("宏达路桥公司", "company")]),
        ("西湖街道阳光花园停水", [("西湖街道阳光花园", "estate")]),
        # an estate's suffix where a school's or hospital's name goes on is part of that name
        ("关于清江市翠苑职业技术学院实习", [("清江市翠苑职业技术学院", "school")]),
        ("清江市翠苑职院实习补贴", [("清江市翠苑职院", "school")]),
        ("阳光花园小学门口", [("阳光花园小学", "school")]),
        ("清江市翠苑停水", [("清江市翠苑", "estate")]),
        # ordinary words ending or starting with a suffix's character are not things
        ("工人们找不到出路", []),
        ("小区门口路灯不亮", []),
        ("希望大家站出来", []),
        ("我每天坐公交上班", []),
        ("拖欠工程款三十万", []),
        ("这条路坑坑洼洼", []),
        ("经济高速发展", []),
    ],
)
def test_the_grammar_reads_things_of_every_kind_and_not_ordinary_words(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert read_names(text) == expected


def test_a_weak_suffix_is_read_only_where_no_strong_one_is() -> None:
    """金桥路 is a road when nothing else is named there, and part of the estate in 金桥路阳光花园."""
    assert read_names("金桥路阳光花园停水，金桥路也在修") == [
        ("金桥路阳光花园", "estate"),
        ("金桥路", "road"),
    ]


# ---------------------------------------------------------------- normalised keys


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("浙江省杭州市西湖区阳光花园", "estate", ("阳光花园", "estate")),
        ("杭州市西湖区留下街道阳光花园", "estate", ("阳光花园", "estate")),
        ("省清江市云溪县青山镇锦绣花园", "estate", ("锦绣花园", "estate")),  # a province cut short
        ("青山镇华联村", "village", ("华联村", "village")),
        ("商品房阳光花园", "estate", ("阳光花园", "estate")),
        ("杭州市商品房阳光花园", "estate", ("阳光花园", "estate")),
        ("长沙市岳麓区麓谷街道某小区", "estate", ("", "estate")),  # places before no name
        ("安置房锦绣家园", "estate", ("锦绣家园", "estate")),
        ("宏达服装有限公司", "company", ("宏达服装公司", "company")),
        ("快易贷app", "platform", ("快易贷平台", "platform")),  # one key for any platform's suffix
        ("速借网贷", "platform", ("速借平台", "platform")),
        ("地铁十二号线", "road", ("地铁12号线", "road")),
        ("地铁三号线", "road", ("地铁3号线", "road")),
        # short forms of a suffix written in full
        ("江南省清江市翠苑职院", "school", ("翠苑职业学院", "school")),
        ("翠苑职校", "school", ("翠苑职业学校", "school")),
        ("绿洲高速公路", "road", ("绿洲高速", "road")),
        # a project named after a place is the place
        ("永盛地铁站项目", "project", ("永盛地铁站", "road")),
        ("宏达公司项目", "project", ("宏达公司", "company")),
        ("东门外棚户区改造", "project", ("东门外棚户区改造", "project")),
        # the place stays when the rest is a generic institution, or when a unit word is part of a word
        ("清江市人民医院", "hospital", ("清江市人民医院", "hospital")),
        ("城市花园", "estate", ("城市花园", "estate")),
        ("东湖社区阳光花园", "estate", ("东湖社区阳光花园", "estate")),
        ("新城市花园", "estate", ("新城市花园", "estate")),  # stripping would leave no name
        ("外地工厂", "company", ("", "company")),
        ("电子厂", "company", ("", "company")),
        # a trade, or nothing, is no key
        ("整个小区", "estate", ("", "estate")),
        ("导致小区", "estate", ("", "estate")),
        ("建设项目", "project", ("", "project")),
        ("工业园区征地项目", "project", ("", "project")),
        ("市政工程有限公司", "company", ("", "company")),
        ("自来水公司", "company", ("", "company")),
        ("清江市自来水公司", "company", ("清江市自来水公司", "company")),
        ("宏达建设公司", "company", ("宏达建设公司", "company")),
    ],
)
def test_normalised_keys(name: str, kind: str, expected: tuple[str, str]) -> None:
    assert normalise_key(name, kind) == expected


def test_normalise_keys_reads_each_distinct_thing_once_and_keeps_the_index() -> None:
    things = pd.Series(["商品房阳光花园", "阳光花园", "商品房阳光花园", "整个小区"], index=[7, 3, 5, 1])
    kinds = pd.Series(["estate"] * 4, index=things.index)
    out = normalise_keys(things, kinds)
    assert out.index.tolist() == [7, 3, 5, 1]
    assert out["key"].tolist() == ["阳光花园", "阳光花园", "阳光花园", ""]
    assert normalise_keys(things.iloc[:0], kinds.iloc[:0]).empty


# ---------------------------------------------------------------- generic keys

DISTRICTS = ("东湖区", "江北区", "云溪县", "青山区", "南湖区")
CATEGORIES = ("供水", "物业管理", "噪音", "城市管理", "交通运输")


def said(key: str, callers: range, districts, categories, blocks=(0,)) -> list[dict[str, object]]:
    """One mention per caller (and per block), the districts and categories taken in turn."""
    return [
        {
            "key": key,
            "caller": f"p{c}",
            "district": districts[i % len(districts)],
            "category": categories[i % len(categories)],
            "block": block,
        }
        for i, c in enumerate(callers)
        for block in blocks
    ]


def background() -> list[dict[str, object]]:
    """Things each named in one district and one category (so that all named things' callers spread over
    the five districts and categories)."""
    return [
        row
        for d, (district, category) in enumerate(zip(DISTRICTS, CATEGORIES, strict=True))
        for row in said(f"宏达{d}厂", range(1000 + 20 * d, 1020 + 20 * d), [district], [category])
    ]


def generic_of(rows: list[dict[str, object]], min_callers: int = 10) -> list[str]:
    return sorted(generic_keys(pd.DataFrame(rows), min_callers, spread=0.5, max_repeat=0.2))


def test_a_key_spread_over_districts_and_categories_is_generic() -> None:
    rows = background() + said("星光大厦项目", range(12), DISTRICTS, CATEGORIES)
    assert generic_of(rows) == ["星光大厦项目"]


def test_a_key_of_one_place_or_one_topic_is_not_generic() -> None:
    one_district = said("锦绣花园", range(12), ["东湖区"], CATEGORIES)  # an estate with many problems
    one_topic = said("快易贷APP", range(100, 112), DISTRICTS, ["金融"])  # a platform's victims everywhere
    assert generic_of(background() + one_district + one_topic) == []


def test_callers_who_come_back_or_too_few_callers_keep_a_key() -> None:
    repeated = said("星光大厦项目", range(12), DISTRICTS, CATEGORIES, blocks=(0, 3))
    assert generic_of(background() + repeated) == []
    few = said("星光大厦项目", range(9), DISTRICTS, CATEGORIES)
    assert generic_of(background() + few) == []
    assert generic_of(background() + few, min_callers=9) == ["星光大厦项目"]
    assert generic_of([{"key": "x", "caller": None, "district": "东湖区", "category": "", "block": 0}]) == []


# ---------------------------------------------------------------- aliases


def named(
    key: str, callers: range | list[str | None], district: str = "东湖区", kind: str = "estate"
) -> pd.DataFrame:
    callers = [f"p{c}" if isinstance(c, int) else c for c in callers]
    return pd.DataFrame({"district": district, "key": key, "kind": kind, "caller": callers})


def roots(*frames: pd.DataFrame) -> dict[tuple[str, str], str]:
    found = alias_roots(pd.concat(frames, ignore_index=True))
    return {(d, k): r for d, k, r in zip(found["district"], found["key"], found["root"], strict=True)}


def test_one_estate_written_many_ways_is_one_key_named_for_its_most_common_form() -> None:
    found = roots(
        named("伊景园滨河苑", range(8)),
        named("滨河苑", range(10, 14)),  # its last three characters
        named("伊景园小区", range(20, 23)),  # its first word with another estate suffix
        named("伊景园滨河小区", range(30, 32)),  # the same core
        named("伊景园宾河苑", [40]),  # one character miswritten
        named("明月花园", range(50, 60)),
        named("伊景园滨河苑", range(60, 65), district="江北区"),  # another district: another thing
    )
    east = {k: r for (d, k), r in found.items() if d == "东湖区"}
    assert east == {
        "伊景园滨河苑": "伊景园滨河苑",
        "滨河苑": "伊景园滨河苑",
        "伊景园小区": "伊景园滨河苑",
        "伊景园滨河小区": "伊景园滨河苑",
        "伊景园宾河苑": "伊景园滨河苑",
        "明月花园": "明月花园",
    }
    assert found[("江北区", "伊景园滨河苑")] == "伊景园滨河苑"


def test_two_estates_sharing_a_generic_ending_stay_apart() -> None:
    found = roots(
        named("阳光花园", range(6)), named("明月花园", range(3, 9)), named("阳明花园", range(9, 11))
    )
    assert found == {("东湖区", k): k for k in ("阳光花园", "明月花园", "阳明花园")}


def test_a_short_form_inside_two_things_is_merged_with_neither() -> None:
    found = roots(
        named("伊景园滨河苑", range(5)), named("金色滨河苑", range(5, 9)), named("滨河苑", range(9, 12))
    )
    assert found == {("东湖区", k): k for k in ("伊景园滨河苑", "金色滨河苑", "滨河苑")}


def test_a_short_form_inside_one_thing_written_two_ways_is_merged_with_it() -> None:
    """顺发小区 is inside 顺发花园 and 东湖顺发小区, which may be one estate (one core ends the other)."""
    found = roots(named("顺发花园", range(8)), named("顺发小区", range(10, 14)), named("东湖顺发小区", [20]))
    assert set(found.values()) == {"顺发花园"}


def test_a_company_written_with_fewer_trade_words_is_the_company() -> None:
    """鑫源公司 and 鑫源工程公司 keep the trade name and fewer words of the trade: 鑫源建筑工程公司. With
    a second 鑫源 company of another trade in the district, 鑫源公司 could be either: left alone."""
    forms = (
        named("鑫源建筑工程公司", range(6), kind="company"),
        named("鑫源公司", range(10, 13), kind="company"),
        named("鑫源工程公司", range(20, 22), kind="company"),
        named("鑫源建工公司", [30], kind="company"),  # an abbreviation of 建筑工程
    )
    assert set(roots(*forms).values()) == {"鑫源建筑工程公司"}
    other = named("鑫源服装厂", range(40, 44), kind="company")
    found = roots(*forms, other)
    assert found[("东湖区", "鑫源公司")] == "鑫源公司"
    assert found[("东湖区", "鑫源工程公司")] == "鑫源建筑工程公司"
    assert found[("东湖区", "鑫源服装厂")] == "鑫源服装厂"


def test_names_differing_in_their_distinctive_part_or_suffix_stay_apart() -> None:
    """Two decoration companies of different trade names (one apart from the other by two characters of
    six), a primary and a middle school of one name, a 新村 and a 公寓 of one name."""
    found = roots(
        named("鑫源装饰工程公司", range(5), kind="company"),
        named("瑞丰装饰工程公司", range(5, 9), kind="company"),
        named("红星小学", range(10, 14), kind="school"),
        named("红星中学", range(14, 18), kind="school"),
        named("红星学校", [10, 11, 12], kind="school"),  # 学校 stands for either: the same callers decide
        named("鑫源新村", range(20, 24)),
        named("鑫源公寓", range(24, 28)),
    )
    assert found[("东湖区", "红星学校")] == "红星小学"
    del found[("东湖区", "红星学校")]
    assert found == {key: key[1] for key in found}


def test_things_of_another_kind_are_never_merged() -> None:
    found = roots(named("红星小学", range(4), kind="school"), named("红星小区", range(4), kind="estate"))
    assert found == {("东湖区", "红星小学"): "红星小学", ("东湖区", "红星小区"): "红星小区"}


def test_the_same_callers_naming_two_forms_that_share_rare_pairs_merge_them() -> None:
    """星河湾畔 and 湾畔星河 share no containment or spelling, but the pairs 星河 and 湾畔; with the same
    callers naming both they are one thing, without them two."""
    apart = roots(named("星河湾畔花园", range(6)), named("湾畔星河花园", range(10, 13)))
    assert len(set(apart.values())) == 2
    together = roots(named("星河湾畔花园", range(6)), named("湾畔星河花园", [1, 2, 3]))
    assert set(together.values()) == {"星河湾畔花园"}


def test_case_descriptions_without_callers_take_part() -> None:
    found = roots(
        named("宏达服装厂", range(3), kind="company"), named("宏达服装公司", [None, None], kind="company")
    )
    assert set(found.values()) == {"宏达服装公司"}  # one thing, its root by the order of suffixes
    assert alias_roots(named("宏达服装厂", [], kind="company")).empty
