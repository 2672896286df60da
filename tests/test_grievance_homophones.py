"""A miswritten short form of a thing's name (one character of the same toneless pinyin: 新源公司 for
鑫源建筑工程公司) is the thing when the data says so, never when both forms are things of their own
(features.grievance_homophones, features.grievance_aliases)."""

from __future__ import annotations

import pandas as pd

from features.grievance_aliases import alias_roots
from features.grievance_homophones import Evidence, homophone_pairs, is_miswritten, read_alike, readings


def said(
    key: str,
    callers: range | list[int],
    windows: list[int],
    district: str = "河口区",
    category: str = "欠薪",
) -> pd.DataFrame:
    """Each caller names the key once in each window (0 the latest), in the window's first hours."""
    rows = [
        (
            district,
            key,
            "company",
            f"p{c}",
            w,
            pd.Timestamp("2025-04-01") - pd.Timedelta(days=7 * w),
            category,
        )
        for c in callers
        for w in windows
    ]
    return pd.DataFrame(rows, columns=["district", "key", "kind", "caller", "block", "first", "category"])


def roots(*frames: pd.DataFrame) -> dict[str, str]:
    found = alias_roots(pd.concat(frames, ignore_index=True))
    return {f"{d}/{k}": r for d, k, r in zip(found["district"], found["key"], found["root"], strict=True)}


# ---------------------------------------------------------------- readings and candidates


def test_characters_read_alike_by_any_toneless_reading() -> None:
    assert readings("新") == frozenset({"xin"})
    assert read_alike("新", "鑫")  # xīn, xīn
    assert read_alike("常", "长")  # 长 is chang and zhang
    assert read_alike("原", "源")  # yuán
    assert not read_alike("新", "新")  # the same character is no miswriting
    assert not read_alike("星", "新")  # xing, xin
    assert not read_alike("A", "a") and readings("A") == frozenset()


def test_a_character_pypinyin_cannot_read_has_no_reading() -> None:
    """兙 (U+5159, a unit of weight) is in the ideographs block without a reading: a name holding it is
    compared like any other, it reads like nothing."""
    assert readings("兙") == frozenset() and not read_alike("兙", "克")
    keys = pd.DataFrame({"block": [0, 0], "name": ["兙源", "克源"], "trade": ["", ""]})
    assert homophone_pairs(keys, rare_keys=5) == []


def test_candidates_are_names_of_one_block_one_character_read_alike_of_no_other_trade() -> None:
    keys = pd.DataFrame(
        [
            (0, "鑫源", "建筑工程"),  # 0
            (0, "新源", ""),  # 1: a short form with a homophone: a candidate of 0
            (0, "新源", "物业"),  # 2: another trade: never 0's
            (0, "星源", ""),  # 3: xing is not xin
            (1, "新源", ""),  # 4: another district or kind
            (0, "伊景园", ""),  # 5
            (0, "依景园", ""),  # 6: yi, three characters: a candidate of 5
            (0, "新原", ""),  # 7: two characters differ from 鑫源: no
        ],
        columns=["block", "name", "trade"],
    )
    assert homophone_pairs(keys, rare_keys=30) == [(0, 1), (1, 7), (2, 7), (5, 6)]
    assert homophone_pairs(keys.assign(name=keys["name"].replace({"新源": "新"})), rare_keys=30) == [(5, 6)]


def test_a_name_shared_by_too_many_keys_is_no_candidate() -> None:
    keys = pd.DataFrame(
        [(0, "鑫源", t) for t in ("建筑", "装饰", "机械")] + [(0, "新源", "")],
        columns=["block", "name", "trade"],
    )
    assert homophone_pairs(keys, rare_keys=3) == [(0, 3), (1, 3), (2, 3)]
    assert homophone_pairs(keys, rare_keys=2) == []


# ---------------------------------------------------------------- the rule


def evidence(**changes: object) -> Evidence:
    base = dict(
        alias_callers=1,
        thing_callers=8,
        alias_windows=frozenset({0}),
        thing_windows=frozenset({0, 1}),
        alias_callers_then=1,
        thing_callers_then=6,
        shared_callers=0,
    )
    return Evidence(**{**base, **changes})  # type: ignore[arg-type]


def test_the_rarer_form_is_the_thing_miswritten_when_it_lives_only_in_the_things_life() -> None:
    assert is_miswritten(evidence(), established=5, dominance=3.0)
    # named in a window the thing was not named in: a life of its own
    assert not is_miswritten(evidence(alias_windows=frozenset({0, 3})), established=5, dominance=3.0)
    # the week before the thing's first counts as its own (a grievance's first caller)
    assert is_miswritten(evidence(alias_windows=frozenset({2})), established=5, dominance=3.0)
    assert not is_miswritten(evidence(alias_windows=frozenset()), established=5, dominance=3.0)


def test_much_smaller_means_established_and_dominance_times_the_alias_at_the_same_time() -> None:
    assert not is_miswritten(evidence(thing_callers_then=4), established=5, dominance=3.0)
    assert is_miswritten(evidence(alias_callers_then=2, thing_callers_then=6), established=5, dominance=3.0)
    assert not is_miswritten(
        evidence(alias_callers_then=3, thing_callers_then=8), established=5, dominance=3.0
    )


def test_a_shared_caller_backs_a_small_alias_but_never_two_established_things() -> None:
    small_then = {"thing_callers_then": 2, "thing_callers": 3}
    assert not is_miswritten(evidence(**small_then), established=5, dominance=3.0)
    assert is_miswritten(evidence(**small_then, shared_callers=1), established=5, dominance=3.0)
    both = {"alias_callers": 6, "alias_callers_then": 6, "thing_callers": 9, "thing_callers_then": 9}
    assert not is_miswritten(evidence(**both, shared_callers=2), established=5, dominance=3.0)
    assert not is_miswritten(evidence(**both), established=5, dominance=3.0)


# ---------------------------------------------------------------- merged keys (alias_roots)


def test_a_homophone_short_form_named_with_the_thing_is_the_thing() -> None:
    """One caller writes 新源公司 the week eight callers name 鑫源建筑工程公司: the same thing."""
    found = roots(said("鑫源建筑工程公司", range(8), [0, 1]), said("新源公司", [50], [0]))
    assert found == {"河口区/新源公司": "鑫源建筑工程公司", "河口区/鑫源建筑工程公司": "鑫源建筑工程公司"}


def test_two_real_companies_of_homophone_names_stay_two() -> None:
    """新源公司 and 鑫源建筑工程公司 each named by several callers, week after week: two companies."""
    found = roots(
        said("鑫源建筑工程公司", range(8), [0, 1, 2, 3]), said("新源公司", range(50, 56), [0, 1, 2, 3])
    )
    assert found == {"河口区/新源公司": "新源公司", "河口区/鑫源建筑工程公司": "鑫源建筑工程公司"}
    # a small one with a life of its own (named weeks before the other) stays apart too
    alone = roots(said("鑫源建筑工程公司", range(8), [0]), said("新源公司", [50], [0, 3]))
    assert alone["河口区/新源公司"] == "新源公司"


def test_no_merge_across_districts_trades_or_categories_without_a_shared_caller() -> None:
    thing = said("鑫源建筑工程公司", range(8), [0, 1])
    assert roots(thing, said("新源公司", [50], [0], district="东湖区"))["东湖区/新源公司"] == "新源公司"
    assert roots(thing, said("新源物业公司", [50], [0]))["河口区/新源物业公司"] == "新源物业公司"
    filed = roots(thing, said("新源公司", [50], [0], category="城市管理"))  # complains of something else
    assert filed["河口区/新源公司"] == "新源公司"
    told = roots(thing, said("新源公司", [3], [0], category="城市管理"))  # ... but one of its callers
    assert told["河口区/新源公司"] == "鑫源建筑工程公司"


def test_of_two_homophone_things_the_one_a_caller_also_named_or_the_one_most_named() -> None:
    """鑫源建筑工程公司 and 鑫源装饰工程公司 are both there: 新源公司 is the one most named at the same
    time, or the one its caller also named; with both named alike, none."""
    build, deco = said("鑫源建筑工程公司", range(12), [0, 1]), said("鑫源装饰工程公司", range(20, 23), [0, 1])
    assert roots(build, deco, said("新源公司", [50], [0]))["河口区/新源公司"] == "鑫源建筑工程公司"
    even = said("鑫源装饰工程公司", range(20, 30), [0, 1])
    assert roots(build, even, said("新源公司", [50], [0]))["河口区/新源公司"] == "新源公司"
    assert roots(build, even, said("新源公司", [21], [0]))["河口区/新源公司"] == "鑫源装饰工程公司"


def test_without_windows_nothing_is_merged_by_sound() -> None:
    plain = pd.concat(
        [said("鑫源建筑工程公司", range(8), [0]), said("新源公司", [50], [0])], ignore_index=True
    )
    found = alias_roots(plain.drop(columns=["block", "first", "category"]))
    assert dict(zip(found["key"], found["root"], strict=True))["新源公司"] == "新源公司"
