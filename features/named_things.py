"""The grammar of named things: how a company, project, estate, village, school, hospital, platform or road
is written in a Chinese hotline text, shared by call linking (`features.link_text.named_things`) and
the emerging grievances (`features.grievances.thing_mentions`, which reads whole columns with Arrow's RE2
and the same patterns).

A named thing is a run of 2-12 Chinese characters before a suffix that says its kind (SUFFIXES), cut
after the last context word before it (反映, 在, 的 ...: BOUNDARY_WORDS), with at least two characters
left before the suffix that are not a generic word (这个, 物业 ...). It is read in two passes: first the
*strong* suffixes (公司, 小区, 医院, 学院, 平台 ...), then, in what they left, the *weak* ones (路, 街,
站, 工程, 改造, 拆迁 and metro lines such as 地铁3号线), which also end ordinary words and would
otherwise cut names short ("丝路花园", "中山路小学" and "宏达路桥公司" are read whole in the first
pass). A suffix character inside an ordinary word ("路灯", "出路", "站出来", "街道", "工程款",
"坐公交"), or an estate's suffix where the name of a school or hospital goes on
("清江市翠苑职业技术学院", not the estate "清江市翠苑"), is first replaced by a private stand-in
(PROTECTED) that still counts as a character of a name but not as a suffix, and is written back in the
names read.
"""

from __future__ import annotations

import re

from contracts.person_names import CLAUSE_PREFILTER, name_spans

# Suffixes read in the first pass and the kind each names (a longer suffix is tried before a shorter one
# at the same place).
STRONG_SUFFIXES: dict[str, str] = {
    "有限公司": "company",
    "公司": "company",
    "厂": "company",
    "项目": "project",
    "工地": "project",
    "小区": "estate",
    "花园": "estate",
    "家园": "estate",
    "新村": "estate",
    "公寓": "estate",
    "苑": "estate",
    "村": "village",
    "卫生院": "hospital",
    "医院": "hospital",
    "诊所": "hospital",
    "学院": "school",
    "大学": "school",
    "中学": "school",
    "小学": "school",
    "幼儿园": "school",
    "学校": "school",
    "职院": "school",  # short for 职业(技术)学院, as 职校 for 职业学校 ...
    "职校": "school",
    "技校": "school",
    "卫校": "school",
    "平台": "platform",
    "网贷": "platform",
    "商城": "platform",
    "网店": "platform",
    "网站": "platform",
    "APP": "platform",
    "App": "platform",
    "app": "platform",
    "酒店": "business",
    "商场": "business",
    "超市": "business",
    "家电城": "business",
    "会所": "business",
    "中心": "business",
    "大道": "road",
    "路口": "road",
    "大街": "road",
    "公路": "road",
    "高速": "road",
}
# Suffixes read in the second pass, in what the first left: they also end ordinary words.
WEAK_SUFFIXES: dict[str, str] = {
    "路": "road",
    "街": "road",
    "站": "road",
    "工程": "project",
    "改造": "project",
    "拆迁": "project",
    "公交": "road",
}
LINE_SUFFIX = "号线"  # metro lines: 地铁3号线, 轻轨二号线 (read in the second pass)
SUFFIX_KINDS: dict[str, str] = {**STRONG_SUFFIXES, **WEAK_SUFFIXES, LINE_SUFFIX: "road"}
THING_KINDS: tuple[str, ...] = tuple(dict.fromkeys(SUFFIX_KINDS.values()))

# Context words: a name is what follows the last of them.
BOUNDARY_WORDS: tuple[str, ...] = (
    "反映",
    "关于",
    "称",
    "在",
    "与",
    "跟",
    "同",
    "向",
    "对",
    "到",
    "从",
    "给",
    "被",
    "的",
    "了",
    "是",
    "等",
    "及",
    "说",
    "去",
    "找",
    "让",
    "把",
)
COMPLAINT_WORDS: tuple[str, ...] = ("投诉", "举报", "咨询", "要求", "请问")  # words that open a complaint
# Words that are not names when they are all that stands before the suffix (物业公司, 这个小区 ...).
GENERIC_WORDS: frozenset[str] = frozenset(
    ("物业", "这个", "那个", "这家", "那家", "我们", "他们", "你们", "所在", "当地", "附近", "两个")
)

# A suffix character inside an ordinary word, and its stand-in: (pattern, replacement) pairs, the
# stand-ins private-use characters that count as characters of a name but end none.
_STAND_IN = {"路": "\ue000", "街": "\ue001", "站": "\ue002", "工": "\ue003", "拆": "\ue004", "高": "\ue005"}
_STAND_IN["公"] = "\ue006"
_STAND_IN["苑"] = "\ue007"
_STAND_IN["园"] = "\ue008"
# What starts the name of a school or hospital: an estate suffix before it is part of that name
# ("翠苑职业技术学院", "阳光花园小学"), not the end of an estate's.
_INSTITUTION_START = "职业|技术|职院|职校|技校|卫校|学院|大学|中学|小学|幼儿园|学校|实验|外国语|医院|卫生院"
PROTECTED: tuple[tuple[str, str], ...] = (
    # 路 starting a word (路灯, 路面 ...) and ending one (出路, 走路 ...; 路口 is a suffix)
    ("路(灯|面|边|过|费|途|况|人|子|程|径|桥|由|基|牌|障|沿|政|线|演|数|考)", _STAND_IN["路"] + r"\1"),
    (
        "(出|走|马|道|线|思|迷|带|让|上|修|半|老|小|进|退|去|来|套|弯|近|销|活|死|回|开|问|赶|拦|挡|堵|"
        "封|过|顺|绕|夜|岔|歧|末|条|段|这|那|此|该|的|网|电|铁)路([^口]|$)",
        r"\1" + _STAND_IN["路"] + r"\2",
    ),
    ("街(道|坊|头|面|办|舞|景)", _STAND_IN["街"] + r"\1"),
    ("(上|逛|满|沿|临|过|扫|当|整|半|这|那|条)街", r"\1" + _STAND_IN["街"]),
    ("站(出|起|着|住|稳|队|岗|在|立|长|好|定|满)", _STAND_IN["站"] + r"\1"),
    ("(我|你|他|她|都|也|就|还|又|人|家|们|一|这|那|到|进|出|上|下|能|再|要)站", r"\1" + _STAND_IN["站"]),
    ("工程(款|师|队|车|量|部)", _STAND_IN["工"] + r"程\1"),
    ("拆迁(户|办|款|费)", _STAND_IN["拆"] + r"迁\1"),
    ("高速(发展|增长|运转|行驶|旋转|运行|度)", _STAND_IN["高"] + r"速\1"),
    ("(坐|乘|等|搭|乘坐)公交", r"\1" + _STAND_IN["公"] + "交"),
    # 苑 and the 园 of 花园/家园 inside the name of a school or hospital
    (f"苑({_INSTITUTION_START})", _STAND_IN["苑"] + r"\1"),
    (f"(花|家)园({_INSTITUTION_START})", r"\1" + _STAND_IN["园"] + r"\2"),
)
_ORIGINAL = {stand_in: character for character, stand_in in _STAND_IN.items()}
RUN = "\u4e00-\u9fff" + "".join(_STAND_IN.values())  # characters of a name


def _alternatives(suffixes: list[str]) -> str:
    """The suffixes as a regular expression alternation, longer ones first."""
    return "|".join(sorted(suffixes, key=len, reverse=True))


STRONG_PATTERN = f"[{RUN}]{{2,12}}?(?:{_alternatives(list(STRONG_SUFFIXES))})"
LINE_PATTERN = f"(?:地铁|轻轨|轨道交通)[0-9一二三四五六七八九十]{{1,3}}{LINE_SUFFIX}"
WEAK_PATTERN = f"[{RUN}]{{2,12}}?(?:{_alternatives(list(WEAK_SUFFIXES))})|{LINE_PATTERN}"
SEPARATOR = "，"  # written where a thing read in the first pass was, and other breaks between names
_LENGTHS = sorted({len(s) for s in SUFFIX_KINDS}, reverse=True)


def boundary_pattern(words: tuple[str, ...] = BOUNDARY_WORDS) -> str:
    """Everything up to the last context word (removed from a name read)."""
    return ".*(?:" + "|".join(words) + ")"


def restore(name: str) -> str:
    """A name read with its protected characters written back."""
    return "".join(_ORIGINAL.get(c, c) for c in name)


def split_suffix(name: str) -> tuple[str, str]:
    """(core, suffix): the longest suffix the name ends with and what stands before it ('' when none)."""
    for length in _LENGTHS:
        if len(name) >= length and name[-length:] in SUFFIX_KINDS:
            return name[:-length], name[-length:]
    return name, ""


def names_person(name: str) -> bool:
    """Whether a thing read holds a person's name (王建国工地, 孙建国厂: a name the masker missed), as the
    masker (`contracts.person_names.name_spans`) finds it: such a thing is never published."""
    if not _SURNAME.search(name):
        return False
    return bool(name_spans(_CONTEXT + name))  # read as in a text, not at its start (a cue)


def kind_of(name: str) -> str | None:
    """The kind of a name read by the patterns (after its context is cut and its characters restored), or
    None when it is not a thing: fewer than two characters before the suffix, a generic word there, or a
    person's name in it (`names_person`)."""
    core, suffix = split_suffix(name)
    if not suffix or len(core) < 2 or core in GENERIC_WORDS or names_person(name):
        return None
    return SUFFIX_KINDS[suffix]


_SURNAME = re.compile(CLAUSE_PREFILTER)
_CONTEXT = "在"  # a word before a thing that announces no name
_PROTECT = tuple((re.compile(pattern), replacement) for pattern, replacement in PROTECTED)
_PASSES = (re.compile(STRONG_PATTERN), re.compile(WEAK_PATTERN))
_BOUNDARY = re.compile(boundary_pattern())


def protect(text: str) -> str:
    """The text with the suffix characters of ordinary words replaced by their stand-ins."""
    for pattern, replacement in _PROTECT:
        text = pattern.sub(replacement, text)
    return text


def read_names(text: str) -> list[tuple[str, str]]:
    """(name, kind) of every thing a text names, in the order of the two passes (a name may repeat)."""
    text = protect(text)
    found = []
    for pattern in _PASSES:
        for match in pattern.finditer(text):
            name = restore(_BOUNDARY.sub("", match.group()))
            kind = kind_of(name)
            if kind is not None:
                found.append((name, kind))
        text = pattern.sub(SEPARATOR, text)
    return found
