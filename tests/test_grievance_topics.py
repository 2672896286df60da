"""Topics of calls that name no thing: paraphrases grouped within a district, unrelated complaints,
boilerplate and masks kept apart, keys deterministic, words never personal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.grievance_topics import COLUMNS, KEY_PREFIX, LABEL_SEPARATOR, TopicConfig, topic_groups

START = pd.Timestamp("2025-03-03 09:00", tz="Asia/Shanghai")

# One complaint (the rubbish station at the estate gate stinks), said five ways.
RUBBISH = (
    "市民来电反映：小区门口的垃圾站臭气熏天，夏天更严重，没人管。联系电话[电话]",
    "[姓名]来电称我们小区门口那个垃圾站太臭了，夏天根本受不了，请相关部门核实处理。",
    "门口垃圾站味道很大，臭气熏天，一到夏天更严重。",
    "来电人反映小区大门口垃圾站臭得不行，没人管，夏天尤其严重，要求处理。",
    "垃圾站就在小区门口，臭气熏天，希望有人管管。",
)
# Another complaint (the street lights are out), said five ways.
LIGHTS = (
    "市民来电反映：路边的路灯坏了好几天，晚上走夜路很危险。",
    "这条路上的路灯晚上不亮，走夜路很危险，老人孩子出门不方便。",
    "来电人称路灯全黑了，晚上走夜路看不清，要求尽快处理。",
    "路灯一直不亮，晚上走夜路很危险，请相关部门核实处理。",
    "[姓名]来电反映人行道的路灯坏了，晚上出门走夜路很危险。",
)
# Unrelated one-off complaints.
OTHERS = (
    "楼上邻居装修噪音太大，周末也不停。",
    "咨询社保缴费基数怎么调整。",
    "公交车司机态度恶劣，不等老人坐稳就开车。",
    "菜市场旁边的下水道堵了，污水流到马路上。",
)


def calls(texts, district: str = "东湖区", callers=None, hours: int = 0) -> pd.DataFrame:
    """One call per text, an hour apart from START + hours, each from its own caller by default."""
    n = len(texts)
    return pd.DataFrame(
        {
            "text": list(texts),
            "district": district,
            "received_at": [START + pd.Timedelta(hours=hours + k) for k in range(n)],
            "caller": [f"{district}-{hours}-{k}" for k in range(n)] if callers is None else list(callers),
        }
    )


def groups_of(frame: pd.DataFrame, out: pd.DataFrame) -> set[frozenset[int]]:
    """The groups found, as sets of row positions, keyed by (district, key)."""
    district = frame["district"].to_numpy()[out["pos"].to_numpy()]
    by_key = out.assign(district=district).groupby(["district", "key"])["pos"]
    return {frozenset(positions) for _, positions in by_key}


def test_one_complaint_in_five_phrasings_is_one_group() -> None:
    frame = calls(RUBBISH + OTHERS)
    out = topic_groups(frame)
    assert list(out.columns) == list(COLUMNS)
    assert groups_of(frame, out) == {frozenset(range(5))}
    assert out["key"].nunique() == 1 and out["key"].iloc[0].startswith(KEY_PREFIX)
    assert "垃圾站" in out["key"].iloc[0] and "垃圾站" in out["label"].iloc[0].split(LABEL_SEPARATOR)


def test_the_same_texts_in_another_district_are_another_group() -> None:
    frame = pd.concat(
        [calls(RUBBISH + OTHERS, "东湖区"), calls(RUBBISH + OTHERS, "西山区")], ignore_index=True
    )
    out = topic_groups(frame)
    assert groups_of(frame, out) == {frozenset(range(5)), frozenset(range(9, 14))}


def test_groups_never_cross_districts() -> None:
    """Three callers in one district and two in another say the same: with three callers needed, only
    the first district has a group; the other's two callers do not join it."""
    frame = pd.concat([calls(RUBBISH[:3], "东湖区"), calls(RUBBISH[3:], "西山区")], ignore_index=True)
    out = topic_groups(frame, TopicConfig(min_neighbours=2))
    assert groups_of(frame, out) == {frozenset(range(3))}


def test_unrelated_complaints_do_not_join() -> None:
    frame = calls(RUBBISH + LIGHTS + OTHERS)
    out = topic_groups(frame)
    assert groups_of(frame, out) == {frozenset(range(5)), frozenset(range(5, 10))}
    labels = out.groupby("label")["pos"].min().sort_values().index
    assert "垃圾站" in labels[0].split(LABEL_SEPARATOR) and "路灯" in labels[1].split(LABEL_SEPARATOR)


def test_boilerplate_only_texts_do_not_group() -> None:
    boilerplate = (
        "市民来电反映，请相关部门核实处理。联系电话[电话]",
        "来电人反映，要求尽快处理，谢谢。[电话]",
        "[姓名]来电反映情况，请相关部门核实处理。",
        "市民来电称，希望相关部门尽快解决问题。[身份证号]",
        "您好，市民反映，要求回复。[电话][姓名]",
    )
    assert topic_groups(calls(boilerplate * 2)).empty


def test_masks_and_boilerplate_do_not_join_unrelated_complaints() -> None:
    """Unrelated complaints wrapped in the same masked name, phone, ID and boilerplate stay apart."""
    wrapped = [
        f"[姓名]来电反映：{text}联系电话[电话]，身份证号[身份证号]，请相关部门核实处理，要求回复。"
        for text in (*OTHERS, "小区电梯经常坏。", "学校门口早上堵车。")
    ]
    assert topic_groups(calls(wrapped)).empty


def test_stop_words_are_learned_across_districts_and_weeks() -> None:
    """A phrase every district's callers add is not a topic; a complaint of one district is."""
    rng = np.random.default_rng(5)
    filler = "麻烦尽快派人过来看一下谢谢配合"
    frames = []
    for district in ("东湖区", "西山区", "南湖区"):
        # texts of random characters (their n-grams are unique) and the common phrase
        noise = ["".join(chr(c) for c in rng.integers(0x4E00, 0x9FA5, 12)) + "，" + filler for _ in range(20)]
        frames.append(calls(noise, district))
    frames.append(calls(RUBBISH, "东湖区", hours=100))
    frame = pd.concat(frames, ignore_index=True)
    learned = topic_groups(frame, TopicConfig(stop_cell_texts=20))
    assert groups_of(frame, learned) == {frozenset(range(60, 65))}
    # without a cell large enough to learn from, the phrase alone groups each district's noise
    unlearned = topic_groups(frame, TopicConfig(stop_cell_texts=1000))
    assert frozenset(range(20)) in groups_of(frame, unlearned)


def test_keys_are_deterministic_and_do_not_depend_on_row_order() -> None:
    frame = calls(RUBBISH + LIGHTS + OTHERS)
    first = topic_groups(frame)
    pd.testing.assert_frame_equal(first, topic_groups(frame.copy()))
    order = np.random.default_rng(3).permutation(len(frame))
    shuffled = topic_groups(frame.iloc[order].reset_index(drop=True))
    back = shuffled.assign(pos=order[shuffled["pos"].to_numpy()]).sort_values("pos", ignore_index=True)
    pd.testing.assert_frame_equal(first, back)


def test_one_caller_is_not_a_group_but_calls_without_a_caller_each_count() -> None:
    same_caller = calls(RUBBISH, callers=["p1"] * 5)
    assert topic_groups(same_caller).empty
    assert groups_of(same_caller, topic_groups(same_caller, TopicConfig(min_group_size=1))) == {
        frozenset(range(5))
    }
    anonymous = calls(RUBBISH, callers=[None, np.nan, None, pd.NA, None])
    assert groups_of(anonymous, topic_groups(anonymous)) == {frozenset(range(5))}
    assert groups_of(anonymous, topic_groups(anonymous.drop(columns="caller"))) == {frozenset(range(5))}


def test_empty_input_and_missing_texts() -> None:
    empty = topic_groups(calls([]))
    assert empty.empty and list(empty.columns) == list(COLUMNS) and empty["pos"].dtype == np.int64
    assert topic_groups(calls([None, np.nan, pd.NA, "", "   "])).empty
    frame = calls([None, *RUBBISH[:3], np.nan, *RUBBISH[3:], pd.NA])
    frame.loc[6, "district"] = None  # a call without a district joins nothing
    out = topic_groups(frame)
    assert groups_of(frame, out) == {frozenset({1, 2, 3, 5})}


def test_only_the_most_recent_texts_of_a_district_are_grouped_beyond_the_cap() -> None:
    frame = pd.concat([calls(RUBBISH + OTHERS, hours=0), calls(LIGHTS, hours=200)], ignore_index=True)
    assert groups_of(frame, topic_groups(frame)) == {frozenset(range(5)), frozenset(range(9, 14))}
    capped = topic_groups(frame, TopicConfig(max_texts=5))
    assert groups_of(frame, capped) == {frozenset(range(9, 14))}


def test_keys_and_labels_hold_shared_words_only_never_names_numbers_or_texts() -> None:
    """A person's name all callers mention (one jieba knows as a name) and numbers never show; every
    word shown is in the texts of at least three callers."""
    texts = [f"物业经理李强说{t}3号楼门牌{k}" for k, t in enumerate(RUBBISH)]
    frame = calls(texts)
    out = topic_groups(frame)
    assert groups_of(frame, out) == {frozenset(range(5))}
    shown = set(out["label"].iloc[0].split(LABEL_SEPARATOR)) | set(
        out["key"].iloc[0][len(KEY_PREFIX) :].split("·")
    )
    assert "李强" not in "".join(shown) and not any(ch.isdigit() for ch in "".join(shown))
    assert all(sum(word in text for text in texts) >= 3 for word in shown)
    assert not set(out["label"]) & set(texts)


@pytest.mark.parametrize(
    "bad",
    [
        {"similarity": 0.0},
        {"similarity": 1.5},
        {"ngram_range": (3, 2)},
        {"ngram_range": (0, 2)},
        {"ngram_range": (3, 4)},
        {"min_group_size": 0},
        {"max_texts": 0},
        {"stop_share": 0.0},
        {"key_share": 1.5},
        {"key_terms": 3, "label_terms": 2},
    ],
)
def test_config_is_validated(bad: dict) -> None:
    with pytest.raises(ValueError):
        TopicConfig(**bad)
