"""One real-world thing is one grievance key (issue 17): administrative places learned from the data,
short forms inside several things, shortened names, miswritten names, the root's stability and things in
no place (features.grievance_aliases, features.grievance_keys)."""

from __future__ import annotations

import pandas as pd

from features.grievance_aliases import alias_roots
from features.grievance_keys import home_districts, place_names, trade_families, without_places


def named(
    key: str, callers: range | list[int], district: str = "东湖区", kind: str = "estate"
) -> pd.DataFrame:
    callers = [f"p{c}" for c in callers]
    return pd.DataFrame({"district": district, "key": key, "kind": kind, "caller": callers})


def roots(*frames: pd.DataFrame) -> dict[tuple[str, str], str]:
    found = alias_roots(pd.concat(frames, ignore_index=True))
    return {(d, k): r for d, k, r in zip(found["district"], found["key"], found["root"], strict=True)}


# ---------------------------------------------------------------- administrative places


def test_places_are_learned_from_the_district_column_and_the_keys() -> None:
    districts = pd.Series(["临川县", "东湖区", "临川县", None])
    keys = pd.Series(["清江市翠苑", "清江市华联小区", "江南省宏达公司", "超市"])
    assert place_names(districts, keys) == ("东湖区", "临川县", "清江市", "东湖", "临川", "清江")


def test_a_place_is_taken_off_only_when_a_name_is_left() -> None:
    places = ("临川县", "东湖区", "临川", "东湖")
    assert without_places("临川绿洲征迁项目", places) == "绿洲征迁项目"
    assert without_places("东湖临川世纪高速", places) == "世纪高速"
    assert without_places("东湖花园", places) == "东湖花园"  # no name left
    assert without_places("东湖花园小区", places) == "东湖花园小区"  # only a suffix left
    assert without_places("东湖人民医院", places) == "东湖人民医院"  # a generic institution left


def test_a_key_written_after_its_county_is_the_thing() -> None:
    """世纪高速 is inside 新世纪高速 and 临川世纪高速; 临川 being the county 临川县, the three are one."""
    found = roots(
        named("新世纪高速", range(20), district="临川县", kind="road"),
        named("世纪高速", range(20, 24), district="临川县", kind="road"),
        named("临川世纪高速", [30], district="临川县", kind="road"),
    )
    assert set(found.values()) == {"新世纪高速"}


# ---------------------------------------------------------------- short forms inside several things


def test_a_short_form_inside_several_things_is_the_one_most_named() -> None:
    """鑫源公司 could be either 鑫源 company, but twenty-five callers name one and five the other; with six
    and four it stays apart (an analyst is better served by a split than by two things made one)."""
    forms = (
        named("鑫源公司", range(100, 107), kind="company"),
        named("鑫源工程公司", range(110, 116), kind="company"),
        named("鑫源装饰工程公司", range(200, 205), kind="company"),
    )
    found = roots(named("鑫源建筑工程公司", range(25), kind="company"), *forms)
    assert found[("东湖区", "鑫源公司")] == "鑫源建筑工程公司"
    assert found[("东湖区", "鑫源工程公司")] == "鑫源建筑工程公司"
    assert found[("东湖区", "鑫源装饰工程公司")] == "鑫源装饰工程公司"
    close = roots(named("鑫源建筑工程公司", range(6), kind="company"), *forms)
    assert close[("东湖区", "鑫源公司")] == "鑫源公司"


def test_an_estate_written_with_xiaoqu_is_the_estate_most_named_of_that_name() -> None:
    found = roots(
        named("长青苑", range(28)), named("长青小区", range(30, 39)), named("长青花园", range(40, 43))
    )
    assert found == {
        ("东湖区", "长青苑"): "长青苑",
        ("东湖区", "长青小区"): "长青苑",
        ("东湖区", "长青花园"): "长青花园",
    }


# ---------------------------------------------------------------- shortened and miswritten names


def test_a_name_written_with_characters_left_out_is_the_longer_name() -> None:
    found = roots(named("翠湖国际新天地苑", range(6)), named("翠湖天地苑", range(6, 9)))
    assert set(found.values()) == {"翠湖国际新天地苑"}


def test_a_two_character_name_is_not_a_shortened_longer_one() -> None:
    found = roots(named("阳光城市花园", range(6)), named("阳光花园", range(6, 9)))
    assert found == {("东湖区", "阳光城市花园"): "阳光城市花园", ("东湖区", "阳光花园"): "阳光花园"}


def test_two_miswritten_characters_must_be_apart() -> None:
    """Two characters written differently, apart, in a long name are typing mistakes; a word of two
    characters written differently is another name."""
    found = roots(
        named("东方明珠国际花园", range(8)),
        named("东万明珠国标花园", [20]),
        named("星河明珠国际花园", range(30, 34)),
    )
    assert found == {
        ("东湖区", "东方明珠国际花园"): "东方明珠国际花园",
        ("东湖区", "东万明珠国标花园"): "东方明珠国际花园",
        ("东湖区", "星河明珠国际花园"): "星河明珠国际花园",
    }


def test_a_school_written_by_its_short_name_is_the_school() -> None:
    found = roots(
        named("翠苑职业技术学院", range(10), kind="school"),
        named("翠苑职业学院", range(10, 13), kind="school"),  # '翠苑职院' as normalised
        named("翠苑职业学校", range(13, 15), kind="school"),  # '翠苑职校'
        named("翠苑技术学院", [15], kind="school"),
    )
    assert set(found.values()) == {"翠苑职业技术学院"}


# ---------------------------------------------------------------- the root


def test_the_root_is_the_precise_name_whichever_form_is_most_named_that_day() -> None:
    """顺发小区 may be written more often than 顺发花园 some weeks: the cluster stays 顺发花园."""
    found = roots(named("顺发花园", range(4)), named("顺发小区", range(10, 22)))
    assert set(found.values()) == {"顺发花园"}


def test_the_root_is_the_form_named_first_when_the_times_are_known() -> None:
    """While few callers have named a college, which form most of them wrote changes from day to day; the
    form written first stays its identity (without times: the form most callers wrote)."""
    first = named("翠苑国际职业技术学院", [1, 5], kind="school").assign(
        first=pd.Timestamp("2025-03-01 09:00")
    )
    later = named("翠苑国标职业技术学院", [2, 3, 4], kind="school").assign(first=pd.Timestamp("2025-03-03"))
    assert set(roots(first, later).values()) == {"翠苑国际职业技术学院"}
    untimed = [frame.drop(columns="first") for frame in (first, later)]
    assert set(roots(*untimed).values()) == {"翠苑国标职业技术学院"}


def test_a_short_form_named_first_is_not_the_root() -> None:
    """鑫源技术学院 is a short form of 鑫源职业技术学院: the longer form is the college's identity from the
    day it is named, whichever was named first (the first-named form would change as calls leave the
    lookback)."""
    first = named("鑫源技术学院", [1], kind="school").assign(first=pd.Timestamp("2025-03-01 09:00"))
    later = named("鑫源职业技术学院", [2, 3, 4], kind="school").assign(first=pd.Timestamp("2025-03-03"))
    assert set(roots(first, later).values()) == {"鑫源职业技术学院"}


def test_the_full_name_is_the_root_while_few_have_written_a_short_form() -> None:
    """Two callers wrote 鑫源职业学院 ('鑫源职院') before one whose number is unknown wrote the full name:
    a caller all the same, the college is 鑫源职业技术学院 from then on, not the day a second caller
    writes it. A short form written by ten callers and a long one by one ('新世纪平台' of
    '新世纪理财平台') keeps the short."""
    first = named("鑫源职业学院", [1, 2], kind="school").assign(first=pd.Timestamp("2025-03-01"))
    later = named("鑫源职业技术学院", [0], kind="school")
    later = later.assign(caller=None, first=pd.Timestamp("2025-03-05"))  # a call without a number
    assert set(roots(first, later).values()) == {"鑫源职业技术学院"}
    most = named("新世纪平台", range(10), kind="platform").assign(first=pd.Timestamp("2025-03-01"))
    rare = named("新世纪理财平台", [20], kind="platform").assign(first=pd.Timestamp("2025-03-02"))
    assert set(roots(most, rare).values()) == {"新世纪平台"}


# ---------------------------------------------------------------- other names of a thing, by the data


def filed(frame: pd.DataFrame, blocks: list[int], category: str = "住房城乡建设") -> pd.DataFrame:
    """The mentions in their windows (taken in turn), filed under one hotline category."""
    return in_windows(frame, blocks).assign(category=category)


def test_a_company_named_with_other_trade_words_only_while_it_is_named_is_the_company() -> None:
    """福临装修公司 is named only in the weeks 福临装饰工程公司 is, by its callers' complaint: one company.
    福临服装厂 is named in weeks of its own: another. Without the windows nothing says so: apart."""
    frames = (
        filed(named("福临装饰工程公司", range(30), kind="company"), [0] * 14 + [1] * 14 + [5, 6]),
        filed(named("福临装修公司", range(40, 46), kind="company"), [0, 1]),
        filed(named("福临服装厂", range(50, 56), kind="company"), [0, 2, 3, 4, 6, 7], "劳动和社会保障"),
    )
    found = roots(*frames)
    assert found[("东湖区", "福临装修公司")] == "福临装饰工程公司"
    assert found[("东湖区", "福临服装厂")] == "福临服装厂"
    first = pd.Timestamp("2025-03-01")  # the other name written first is still not the root
    timed = [frame.assign(first=first + pd.Timedelta(days=i)) for i, frame in enumerate(reversed(frames))]
    assert roots(*timed)[("东湖区", "福临装修公司")] == "福临装饰工程公司"
    untimed = roots(*(frame.drop(columns=["block", "category"]) for frame in frames))
    assert untimed[("东湖区", "福临装修公司")] == "福临装修公司"


def test_trade_words_are_read_as_their_trades() -> None:
    """装修 and 装饰 are one trade, 工程 and 科技 are said of any; 物业 is a trade of its own."""
    assert trade_families("装饰工程") == trade_families("装修") == frozenset({"装饰"})
    assert trade_families("电子科技") == trade_families("电器") == frozenset({"电子"})
    assert trade_families("物业") == frozenset({"物业"})
    assert trade_families("") == frozenset()


def test_another_name_is_of_the_same_trade_written_another_way_never_of_another_trade() -> None:
    """瑞丰装修公司 (装修 is 装饰 written another way, 工程 said of any trade) named only in the weeks of
    瑞丰装饰工程公司, by its callers' complaint, is that company; 瑞丰物业公司, named in the same weeks
    under the same category by as few callers, is a property company of the same name: another thing."""
    frames = (
        filed(named("瑞丰装饰工程公司", range(30), kind="company"), [0] * 14 + [1] * 14 + [5, 6]),
        filed(named("瑞丰装修公司", range(40, 46), kind="company"), [0, 1]),
        filed(named("瑞丰物业公司", range(50, 56), kind="company"), [0, 1]),
    )
    found = roots(*frames)
    assert found[("东湖区", "瑞丰装修公司")] == "瑞丰装饰工程公司"
    assert found[("东湖区", "瑞丰物业公司")] == "瑞丰物业公司"
    assert found[("东湖区", "瑞丰装饰工程公司")] == "瑞丰装饰工程公司"


def test_another_name_written_the_week_before_the_thing_is_the_thing() -> None:
    """The grievance's first caller wrote 瑞丰装修公司 a week before anyone wrote 瑞丰装饰工程公司: no
    life of its own. Written in a week further back, it has one."""
    frames = (
        filed(named("瑞丰装修公司", [1], kind="company"), [2]),
        filed(named("瑞丰装修公司", [2, 3, 4], kind="company"), [0, 1]),
        filed(named("瑞丰装饰工程公司", range(10, 17), kind="company"), [0, 1]),
    )
    assert set(roots(*frames).values()) == {"瑞丰装饰工程公司"}
    lived = filed(named("瑞丰装修公司", [1], kind="company"), [4])
    assert roots(lived, *frames[1:])[("东湖区", "瑞丰装修公司")] == "瑞丰装修公司"


def test_of_two_other_names_the_one_with_fewer_trade_words_is_not_the_root() -> None:
    """瑞丰装修公司, written first and by more callers this fortnight, and 瑞丰装饰工程公司 are one company:
    its identity is the name with the trade written in full (which form most callers write changes)."""
    first = pd.Timestamp("2025-04-03")
    found = roots(
        filed(named("瑞丰装修公司", range(8), kind="company"), [0, 1]).assign(first=first),
        filed(named("瑞丰装饰工程公司", range(10, 16), kind="company"), [0, 1]).assign(
            first=first + pd.Timedelta(days=2)
        ),
    )
    assert set(found.values()) == {"瑞丰装饰工程公司"}


def test_of_two_names_the_same_callers_merge_the_less_named_is_not_the_root() -> None:
    """福临装修公司, written first, and 福临装饰公司 are one company by their callers: the name fewer
    callers write is the other name, never the root."""
    found = roots(
        named("福临装修公司", [1, 2, 3], kind="company").assign(first=pd.Timestamp("2025-03-01")),
        named("福临装饰公司", range(1, 9), kind="company").assign(first=pd.Timestamp("2025-03-02")),
    )
    assert set(found.values()) == {"福临装饰公司"}


def test_a_thing_named_in_other_weeks_or_by_few_is_not_another_name() -> None:
    """福临装修公司 named in a week without 福临装饰工程公司 has a life of its own; next to a company named
    by four callers only, nothing says they are one."""
    lived = roots(
        filed(named("福临装饰工程公司", range(30), kind="company"), [0] * 15 + [1] * 15),
        filed(named("福临装修公司", range(40, 46), kind="company"), [0, 4]),
    )
    assert lived[("东湖区", "福临装修公司")] == "福临装修公司"
    few = roots(
        filed(named("福临装饰工程公司", range(4), kind="company"), [0]),
        filed(named("福临装修公司", range(40, 42), kind="company"), [0]),
    )
    assert few[("东湖区", "福临装修公司")] == "福临装修公司"


def test_an_estate_written_with_xiaoqu_is_the_estate_its_callers_complain_like() -> None:
    """远大小区 could be 远大苑 or 远大公寓; in its week, two callers name 远大苑 with the same complaint
    and two name 远大公寓 with another: 远大苑. Without the categories neither is named three times as
    often: apart."""
    frames = (
        filed(named("远大苑", range(10), district="东湖区"), [0, 0, 3, 4, 5, 6, 7, 8, 9, 9], "城市管理"),
        filed(named("远大苑", [20, 21]), [0]),
        filed(named("远大公寓", range(30, 32)), [0], "城市管理"),
        filed(named("远大公寓", range(33, 38)), [2, 4, 6, 8, 9], "城市管理"),
        filed(named("远大小区", range(40, 43)), [0]),
    )
    assert roots(*frames)[("东湖区", "远大小区")] == "远大苑"
    uncategorised = roots(*(frame.drop(columns="category") for frame in frames))
    assert uncategorised[("东湖区", "远大小区")] == "远大小区"


# ---------------------------------------------------------------- things in no place


def test_a_platform_is_one_thing_in_the_district_most_of_its_mentions_are_in() -> None:
    districts = pd.Series(["南城区", "江北区", "南城区", "江北区", "东湖区", None, "东湖区"])
    keys = pd.Series(["宏达金融APP", "宏达APP", "宏达金融平台", "快贷APP", "阳光花园", "宏达APP", "快贷APP"])
    kinds = pd.Series(["platform"] * 4 + ["estate", "platform", "platform"])
    assert home_districts(districts, keys, kinds).tolist() == [
        "南城区",
        "南城区",
        "南城区",
        "东湖区",  # a tie: the first district in order
        "东湖区",
        "南城区",
        "东湖区",
    ]


# ---------------------------------------------------------------- the windows of the calls


def in_windows(frame: pd.DataFrame, blocks: list[int]) -> pd.DataFrame:
    """The mentions with their windows, taken in turn."""
    return frame.assign(block=[blocks[i % len(blocks)] for i in range(len(frame))])


def test_a_short_form_is_the_thing_most_named_in_its_windows() -> None:
    """Over ten windows 鑫源建筑工程公司 has ten callers and 鑫源装饰工程公司 five: neither dominates. In
    the window 鑫源公司 is named in, the first has eight and the second none."""
    frames = (
        in_windows(named("鑫源建筑工程公司", range(10), kind="company"), [0] * 8 + [5, 6]),
        in_windows(named("鑫源装饰工程公司", range(20, 25), kind="company"), [1, 3, 5, 7, 9]),
        in_windows(named("鑫源公司", range(30, 33), kind="company"), [0]),
    )
    assert roots(*frames)[("东湖区", "鑫源公司")] == "鑫源建筑工程公司"
    without = [frame.drop(columns="block") for frame in frames]
    assert roots(*without)[("东湖区", "鑫源公司")] == "鑫源公司"


def test_a_short_form_counts_the_thing_s_callers_of_every_category_it_is_filed_under_then() -> None:
    """鑫源工程公司 (one caller, filed under 欠薪) fits both 鑫源 companies. In its week 鑫源建筑工程公司 is
    named by six callers, two filed under 欠薪 and four under 劳动保障 (one wage grievance filed under
    two categories): filed under 欠薪 that week, all six count, and with its own caller seven of the
    five needed. Named only under 环境保护 that week, the company's callers complain of something else:
    none count, and the short form stays apart."""
    short = filed(named("鑫源工程公司", [50], kind="company"), [0], "欠薪")
    other = filed(named("鑫源装饰工程公司", range(20, 25), kind="company"), [1, 3, 5, 7, 9], "欠薪")
    wages = pd.concat(
        [
            filed(named("鑫源建筑工程公司", range(2), kind="company"), [0], "欠薪"),
            filed(named("鑫源建筑工程公司", range(2, 6), kind="company"), [0], "劳动保障"),
            filed(named("鑫源建筑工程公司", range(6, 10), kind="company"), [5, 6], "欠薪"),
        ],
        ignore_index=True,
    )
    assert roots(wages, other, short)[("东湖区", "鑫源工程公司")] == "鑫源建筑工程公司"
    fumes = wages.assign(category=wages["category"].where(wages["block"] != 0, "环境保护"))
    assert roots(fumes, other, short)[("东湖区", "鑫源工程公司")] == "鑫源工程公司"
    only_wages = wages[wages["category"] == "欠薪"]  # two callers of its week: with its own, three
    assert roots(only_wages, other, short)[("东湖区", "鑫源工程公司")] == "鑫源工程公司"


def test_a_short_form_with_a_life_of_its_own_counts_only_the_thing_s_calls_of_its_categories() -> None:
    """鑫源工程公司 is also named in a week neither company is (a thing of its own, maybe): only the
    company's two callers filed under 欠薪 in its week count, with its own caller's two weeks four of the
    five needed, and it stays apart. So too when it is named by more callers than the company."""
    wages = pd.concat(
        [
            filed(named("鑫源建筑工程公司", range(2), kind="company"), [0], "欠薪"),
            filed(named("鑫源建筑工程公司", range(2, 6), kind="company"), [0], "劳动保障"),
            filed(named("鑫源建筑工程公司", range(6, 10), kind="company"), [5, 6], "欠薪"),
        ],
        ignore_index=True,
    )
    other = filed(named("鑫源装饰工程公司", range(20, 25), kind="company"), [1, 3, 5, 7, 9], "欠薪")
    short = filed(named("鑫源工程公司", [50, 50], kind="company"), [0, 2], "欠薪")
    assert roots(wages, other, short)[("东湖区", "鑫源工程公司")] == "鑫源工程公司"
    once = short[short["block"] == 0]
    assert roots(wages, other, once)[("东湖区", "鑫源工程公司")] == "鑫源建筑工程公司"
    # Named in the company's week only but by seven callers, more than the company's six, with one
    # caller of 鑫源装饰工程公司 that week: by the company's two calls under 欠薪, not three times one.
    many = filed(named("鑫源工程公司", range(50, 57), kind="company"), [0], "欠薪")
    rival = pd.concat([other, filed(named("鑫源装饰工程公司", [26], kind="company"), [0], "欠薪")])
    assert roots(wages, rival, many)[("东湖区", "鑫源工程公司")] == "鑫源工程公司"
    assert roots(wages, rival, once)[("东湖区", "鑫源工程公司")] == "鑫源建筑工程公司"


def test_a_project_named_by_a_surging_place_is_that_place() -> None:
    """绿洲征迁项目 is named in the windows the road 绿洲高速 surges in (twelve callers a window, usually
    one): one thing. 锦绣片区改造项目 shares its name with the estate 锦绣花园, named as usual (four
    callers a window): two."""
    found = roots(
        in_windows(
            named("绿洲高速", range(30), district="临川县", kind="road"),
            [0] * 12 + [1] * 12 + list(range(2, 8)),
        ),
        in_windows(named("绿洲征迁项目", range(40, 43), district="临川县", kind="project"), [0, 1]),
        in_windows(named("锦绣花园", range(100, 140), district="临川县"), list(range(10))),
        in_windows(named("锦绣片区改造项目", range(70, 74), district="临川县", kind="project"), [0, 1]),
    )
    assert found[("临川县", "绿洲征迁项目")] == "绿洲高速"
    assert found[("临川县", "锦绣片区改造项目")] == "锦绣片区改造项目"


def test_a_two_character_trade_name_miswritten_is_the_company_when_the_data_says_so() -> None:
    """华连食品公司 is named only in the week 华联食品公司 surges, by one caller (filed under another
    category: the spelling is the evidence): 华联食品公司 miswritten. 华安食品公司 named in weeks of its own
    is another company; so is 华连食品公司 next to a company named by four callers, and 华连服装公司
    (another trade)."""
    thing = filed(named("华联食品公司", range(8), kind="company"), [0] * 8)
    found = roots(
        thing,
        filed(named("华连食品公司", [20], kind="company"), [0], "劳动保障"),
        filed(named("华安食品公司", [30, 31], kind="company"), [2, 5]),
        filed(named("华连服装公司", [40], kind="company"), [0]),
    )
    assert found[("东湖区", "华连食品公司")] == "华联食品公司"
    assert found[("东湖区", "华安食品公司")] == "华安食品公司"
    assert found[("东湖区", "华连服装公司")] == "华连服装公司"
    few = roots(
        filed(named("华联食品公司", range(4), kind="company"), [0] * 4),
        filed(named("华连食品公司", [20], kind="company"), [0]),
    )
    assert few[("东湖区", "华连食品公司")] == "华连食品公司"


def test_a_two_character_trade_name_miswritten_first_is_not_the_root() -> None:
    """The one caller who wrote 华连食品公司 called before the eight who wrote 华联食品公司: once merged,
    the miswritten name does not become the company's identity (its cluster would change that day)."""
    thing = filed(named("华联食品公司", range(8), kind="company"), [0] * 8)
    typo = filed(named("华连食品公司", [20], kind="company"), [0])
    found = roots(
        thing.assign(first=pd.Timestamp("2025-03-03")), typo.assign(first=pd.Timestamp("2025-03-01"))
    )
    assert set(found.values()) == {"华联食品公司"}


def test_a_miswritten_spelling_of_another_name_written_first_is_not_the_root() -> None:
    """The grievance's first caller wrote 佳禾装修公司 (佳 for 嘉, 装修 for 装饰工程) a week before anyone
    wrote 嘉禾装饰工程公司; a week later one caller wrote 嘉禾装修公司. 佳禾装修公司 is a spelling of
    嘉禾装修公司, itself another name of 嘉禾装饰工程公司 with fewer trade words: a form of a form of the
    company, so neither is its identity (seed 23 of bench.grievance_quality: the cluster changed for a
    day)."""
    first = pd.Timestamp("2025-03-06")
    frames = (
        filed(named("佳禾装修公司", [1], kind="company"), [1]).assign(first=first),
        filed(named("嘉禾装饰工程公司", range(2, 12), kind="company"), [1] * 5 + [0] * 5).assign(
            first=first + pd.Timedelta(days=2)
        ),
        filed(named("嘉禾装修公司", [20], kind="company"), [0]).assign(first=first + pd.Timedelta(days=13)),
    )
    assert set(roots(*frames).values()) == {"嘉禾装饰工程公司"}


def test_a_longer_name_miswritten_first_is_not_the_root() -> None:
    """The one caller who wrote 伊景园宾河苑 (one character miswritten in a name of five) called before the
    eight who wrote 伊景园滨河苑: merged, the miswritten name is not the estate's identity (its cluster
    would change when that call leaves the lookback); two spellings each named by as many callers keep
    the one named first."""
    thing = named("伊景园滨河苑", range(8)).assign(first=pd.Timestamp("2025-03-03"))
    typo = named("伊景园宾河苑", [20]).assign(first=pd.Timestamp("2025-03-01"))
    assert set(roots(thing, typo).values()) == {"伊景园滨河苑"}
    even = named("伊景园滨河苑", [1]).assign(first=pd.Timestamp("2025-03-03"))
    assert set(roots(even, typo).values()) == {"伊景园宾河苑"}


def test_a_project_named_by_one_caller_while_its_place_surges_is_that_place() -> None:
    """One caller names 绿洲征迁项目 in the week the road 绿洲高速 has five callers (one in the nine other
    weeks: median none; 锦绣花园 is named every week): the road's surge is the evidence, one thing.
    Named by one caller in a week the road has its usual two callers (two a week for ten weeks), it
    stays apart."""
    others = in_windows(named("锦绣花园", range(100, 110), district="临川县"), list(range(10)))  # every week
    surging = in_windows(named("绿洲高速", range(6), district="临川县", kind="road"), [0] * 5 + [6])
    project = in_windows(named("绿洲征迁项目", [40], district="临川县", kind="project"), [0])
    assert roots(others, surging, project)[("临川县", "绿洲征迁项目")] == "绿洲高速"
    usual = in_windows(named("绿洲高速", range(20), district="临川县", kind="road"), list(range(10)) * 2)
    assert roots(others, usual, project)[("临川县", "绿洲征迁项目")] == "绿洲征迁项目"
