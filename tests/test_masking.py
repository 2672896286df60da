"""Masking of free text: phone and ID numbers in any Unicode spelling, other people's names, ordinary words
kept, a minimum recall on labelled texts, and the fast prefilter never narrower than the masker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import masking as ps
from contracts.masking import mask_column, mask_free_text, mask_text
from contracts.masks import ID_MASK, NAME_MASK, PHONE_MASK
from contracts.person_names import ALLOW_LIST, name_spans
from ingest.pseudonymise import pseudonym

LABELLED = Path(__file__).resolve().parent.parent / "bench" / "data" / "masking_labelled.jsonl"


@pytest.mark.parametrize(
    "number",
    [
        "139\u00a02468\u00a01357",
        "139\u20092468\u20091357",
        "139\u202f2468\u202f1357",
        "139\u30002468\u30001357",
        "139\u200b2468\u200b1357",
        "138 - 1234 - 5678",
        "138/1234/5678",
        "138  1234  5678",
        "138.1234.5678",
        "１３８－１２３４－５６７８",
        "１３８／１２３４／５６７８",
        "+86 138 1234 5678",
        "＋８６ １３８ １２３４ ５６７８",
        "0086-138-1234-5678",
        "+86 571 8877 6655",
        "0571 - 8877 6655",
    ],
)
def test_phone_numbers_in_any_unicode_spelling_are_masked(number: str) -> None:
    assert mask_text(f"电话{number}。") == f"电话{PHONE_MASK}。"
    assert mask_column(pd.Series([f"电话{number}。"]))[0] == f"电话{PHONE_MASK}。"


@pytest.mark.parametrize(
    "number",
    [
        "11010119900307451Ｘ",
        "11010119900307451ｘ",
        "110101 19900307 451X",
        "110101-19900307-4514",
        "１１０１０１１９９００３０７４５１４",
    ],
)
def test_id_numbers_with_full_width_characters_or_separators_are_masked(number: str) -> None:
    assert mask_column(pd.Series([f"身份证{number}。"]))[0] == f"身份证{ID_MASK}。"


@pytest.mark.parametrize(
    "text",
    [
        "赔偿金额12000元",
        "2025年3月1日",
        "5号楼2单元301室",
        "(2025)浙0106民初1234号",
        "订单号123456789012345678",
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert mask_column(pd.Series([text]))[0] == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机一三八一二三四五六七八", f"手机{PHONE_MASK}"),
        ("电话幺三八-一二三四-五六七八。", f"电话{PHONE_MASK}。"),
        ("电话一三八1234五六七八", f"电话{PHONE_MASK}"),
        ("身份证号三三零一零六一九八五零三一二零零一X", f"身份证号{ID_MASK}"),
        ("身份证号三三〇一〇六一九八五〇三一二〇〇一九，", f"身份证号{ID_MASK}，"),
        # short runs and runs that are no phone or ID number stay as written
        ("拖欠三个月工资，一二三四五六七号", "拖欠三个月工资，一二三四五六七号"),
    ],
)
def test_numbers_in_chinese_numerals_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert mask_column(pd.Series([text]))[0] == expected


_NUMBER_PIECES = (
    "13812345678",
    "１３８１２３４５６７８",
    "一三八一二三四五六七八",
    "幺三八-一二三四-五六七八",
    "一三八1234五六七八",
    "三三零一零六一九八五零三一二零零一X",
    "110101199003074514",
    "0571-88776655",
    "+86 138 1234 5678",
    "一二三四五六七",
    "三个月",
    "二十余人",
    "12000元",
    "电话",
    "，",
    "。",
    " ",
    "-",
    "\n",
    "1",
    "一",
    "零",
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NUMBER_PIECES), max_size=8).map("".join))
def test_mask_text_masks_exactly_the_number_spans(text: str) -> None:
    """mask_text takes shortcuts (no numeral run to read: one pass of the patterns); it masks exactly
    the spans number_spans finds, in the text with its digits translated."""
    expected = text.translate(ps.FULL_WIDTH_DIGITS)
    for start, end, mask in reversed(ps.number_spans(text)):
        expected = expected[:start] + mask + expected[end:]
    assert mask_text(text) == expected


def test_full_width_digits_give_the_same_pseudonym() -> None:
    assert pseudonym("１３８１２３４５６７８", "phone", b"k") == pseudonym("13812345678", "phone", b"k")
    assert pseudonym("11010119900307451Ｘ", "id_number", b"k") == pseudonym(
        "11010119900307451x", "id_number", b"k"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("吴云反映与邻居陈建国因宅基地边界发生争执。", "[姓名]反映与邻居[姓名]因宅基地边界发生争执。"),
        ("申请人与被申请人欧阳娜娜系邻居。", "申请人与被申请人[姓名]系邻居。"),
        ("指派调解员黄晓燕跟进。", "指派调解员[姓名]跟进。"),
        ("村民李某某与王某发生口角。", "村民[姓名]与[姓名]发生口角。"),
        ("张先生和刘女士称楼上漏水。", "[姓名]和[姓名]称楼上漏水。"),
        ("老王说小李欠钱不还。", "[姓名]说[姓名]欠钱不还。"),
        ("司马强被赵文斌打伤。", "[姓名]被[姓名]打伤。"),
        # names next to property words and estate parts
        ("商品房房小明反映漏水。", "商品房[姓名]反映漏水。"),
        ("安置房业主张伟称要维权。", "安置房业主[姓名]称要维权。"),
        ("二号楼邻居房立新反映噪音。", "二号楼邻居[姓名]反映噪音。"),
        ("安置房与房小明协商未果。", "安置房与[姓名]协商未果。"),
        ("安置房，房小明二期的住户。", "安置房，[姓名]二期的住户。"),
        # a trade and a bare 公司 or 厂 after a name may say where the person works: masked
        ("申请人刘洋服装厂打工。", "申请人[姓名]服装厂打工。"),
        ("王芳装修公司的老板。", "[姓名]装修公司的老板。"),
        # a name before an informal workplace word is its owner's or foreman's: masked, the word kept
        ("我在王建国工地干活，老板拖欠工资", "我在[姓名]工地干活，老板拖欠工资"),
        ("孙建国厂拖欠工资三个月。", "[姓名]厂拖欠工资三个月。"),
        ("刘德明项目的工人讨薪。", "[姓名]项目的工人讨薪。"),
        ("在王建国队干活。", "在[姓名]队干活。"),
        ("李强班组拖欠工资。", "[姓名]班组拖欠工资。"),
        # cue words before a name, and a name after a role word whatever follows it
        ("本人刘志强，反映噪音。", "本人[姓名]，反映噪音。"),
        ("联系人刘志强", "联系人[姓名]"),
        ("业主投诉邻居高志远噪音扰民", "业主投诉邻居[姓名]噪音扰民"),
        ("吴桂芳投诉吴桂兰", "[姓名]投诉[姓名]"),
        ("何秀英举报何秀云占道。", "[姓名]举报[姓名]占道。"),
        ("吴怡称王波借款1300元。", "[姓名]称[姓名]借款1300元。"),
        ("丈夫林国庆经常殴打她", "丈夫[姓名]经常殴打她"),
        ("邻居王芳经常吵闹。", "邻居[姓名]经常吵闹。"),
    ],
)
def test_other_peoples_names_are_masked(text: str, expected: str) -> None:
    assert mask_column(pd.Series([text]))[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "高新区创业大道施工噪音扰民。",
        "文明路段共享单车乱停放。",
        "在华为授权店购买的手机故障。",
        "金华市场周边流动摊贩较多。",
        "江山村村委会公示低保名单。",
        "海宁皮革城内商户销售假冒商品。",
        "平安大街红绿灯故障。",
        "向阳小区电梯长期故障。",
        "当事人已向人民法院提起诉讼。",
        "申请人要求赔偿损失2000元。",
        # an estate's name between a property word and a part of the estate
        "安置房顺发二期漏水严重。",
        "商品房顺发3号楼电梯故障。",
        "小区金海5栋外墙脱落。",
        # a registered company's trade name, whatever its characters (华连 could be a person's)
        "反映华连食品有限公司拖欠工资。",
        "华连食品有限公司拖欠工资。",
        "鑫源装饰工程有限责任公司欠款。",
        # registered names and workplace words after ordinary words, whatever their first character
        "华联食品有限公司拖欠工资。",
        "鑫源建筑工程有限公司拖欠工资。",
        "锦绣片区棚户区改造项目征收补偿不到位。",
        "绿洲高速公路征迁项目补偿款未发放。",
        "富康花园停水。",
        "在王府井百货买的衣服。",
        "在永盛服装厂打工。",
        "华联厂拖欠工资。",
        "高铁工地夜间施工。",
        "钟表店不给退货。",
        "车辆在路边排队。",
        "对方全责。",
        "锦绣苑附近工地晚上施工。",
        "他经常排队买菜。",
    ],
)
def test_place_and_organisation_words_are_kept(text: str) -> None:
    assert mask_column(pd.Series([text]))[0] == text


def test_allow_listed_words_alone_are_never_names() -> None:
    assert all(name_spans(f"{word}。") == [] for word in ALLOW_LIST)


def test_the_rows_own_name_is_masked_first() -> None:
    masked = mask_column(pd.Series(["王小明说邻居吴云占地"]), pd.Series(["王小明"]))
    assert masked[0] == f"{NAME_MASK}说邻居{NAME_MASK}占地"


def test_each_distinct_text_is_masked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = ps.mask_names
    monkeypatch.setattr(ps, "mask_names", lambda text, mask: calls.append(text) or original(text, mask))
    masked = mask_column(pd.Series(["邻居吴云占地", "邻居吴云占地", None, "邻居吴云占地"]))
    assert calls == ["邻居吴云占地"]
    assert masked.tolist()[:2] == ["邻居[姓名]占地"] * 2 and pd.isna(masked[2])


@pytest.fixture(scope="session")
def labelled() -> list[dict[str, object]]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_recall_and_false_masks_on_the_hand_written_set(labelled: list[dict[str, object]]) -> None:
    found = total = 0
    ordinary = masked_ordinary = 0
    for row in labelled[:80]:
        text, names = str(row["text"]), [str(n) for n in row["names"]]  # type: ignore[attr-defined]
        spans = name_spans(text)
        covered = {i for s, e in spans for i in range(s, e)}
        labelled_chars: set[int] = set()
        for name in names:
            start = text.find(name)
            total += 1
            found += all(i in covered for i in range(start, start + len(name)))
            labelled_chars |= set(range(start, start + len(name)))
        for i, ch in enumerate(text):
            if i not in labelled_chars and "\u4e00" <= ch <= "\u9fff":
                ordinary += 1
                masked_ordinary += i in covered
    assert found / total >= 0.9
    assert masked_ordinary / ordinary <= 0.02


DIGITS = "0123456789０１２３４５６７８９٣"
SEPARATORS = " \u00a0\u2009\u202f\u3000\u200b-－—–‐./／()（）+＋\t\n"
NUMBERY = st.text(alphabet=DIGITS + SEPARATORS + "XxＸｘ王电话号一三八零〇幺", max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.lists(NUMBERY, min_size=1, max_size=20))
def test_the_prefilter_selects_every_text_the_number_masker_changes(texts: list[str]) -> None:
    selected = set(ps._candidates(np.array(texts, dtype=object)).tolist())
    for i, text in enumerate(texts):
        if ps.number_spans(text):
            assert i in selected, text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="王李欧阳吴云与邻居称因老小某先生高新区文明华为的了。，12", max_size=20), max_size=10
    )
)
def test_mask_column_equals_the_row_by_row_masker(texts: list[str]) -> None:
    masked = mask_column(pd.Series(texts, dtype="object"))
    assert masked.astype(object).where(masked.notna(), None).tolist() == [
        mask_free_text(t) or None for t in texts
    ]


def test_names_are_judged_per_distinct_clause_as_whole_texts_would_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [
        "邻居吴云占地，上官云说要报警。\n李强称欧阳娜娜与王某某吵架",
        "邻居吴云占地，无人处理",
        "，，",
        "张先生！",
        "高新区某小区噪音扰民",
        "上官云说\x00李强称",  # holds the cut mark: judged whole
    ]
    whole = [ps.mask_names(text, NAME_MASK) for text in texts]
    calls: list[str] = []
    original = ps.mask_names
    monkeypatch.setattr(ps, "mask_names", lambda text, mask: calls.append(text) or original(text, mask))
    masked = ps._names_masked(np.array(texts, dtype=object))
    assert masked.tolist() == whole
    assert whole[0] == "邻居[姓名]占地，[姓名]说要报警。\n[姓名]称[姓名]与[姓名]吵架"
    assert calls.count("邻居吴云占地，") == 1  # a clause shared by two texts, judged once
    assert "无人处理" not in calls  # no surname in it: never judged
    assert calls[-1] == "上官云说\x00李强称"


def test_masking_names_keeps_texts_without_names_and_an_empty_array() -> None:
    texts = np.array(["无人处理", "噪音扰民。"], dtype=object)
    assert ps._names_masked(texts) is texts
    assert len(ps._names_masked(np.array([], dtype=object))) == 0
