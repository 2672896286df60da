"""Keys of the emerging grievances: one key for a thing however callers write it, and no key for words
that name no particular thing.

- `normalise_keys`: the key of each thing read from a text: '有限公司' read as '公司', any platform's
  suffix as '平台' ('宏达金融APP' is '宏达金融平台'), a short form of a suffix written in full ('职院' as
  '职业学院', '高速公路' as '高速': ABBREVIATED_SUFFIXES); a project named after a place is that place
  ("XX地铁站项目" is the station);
  administrative places before the name taken off ("浙江省杭州市西湖区阳光花园", "青山镇华联村": any run of
  two or more characters ending with 省/市/区/县/镇/乡/街道 ..., not 小区/社区/超市/城市 ...), unless what
  is left would be a generic institution ("清江市人民医院" stays); property and descriptor words before it
  ("商品房", "整个", "导致" ...); metro lines written with digits. A key whose core (what stands before the
  suffix) is only trade words ("自来水公司", "建设项目", "市政工程公司", "工业园区征地项目") names a trade,
  not a thing, and is dropped (''), as is one left without a core ("整个小区"). Building, unit and room
  numbers, letter codes of places ("A市", "K9县"), full-width forms and spaces are handled in the texts
  before they are read (`features.grievances.thing_mentions`).
- `home_districts`: a thing in no place (an online platform) is one thing in the district most of its
  mentions are in, not one per district its callers live in (for `features.grievances` to key it by).
- `generic_keys`: learned from the calls: a key whose callers are spread over the districts and over the
  hotline categories about as widely as all named things' callers are, and who seldom name it in more
  than one window, is a word in common use, not a thing.
- `alias_roots`: keys are first compared without the administrative places they start with, learned from
  the data (`place_names`: the districts of the district column and the provinces and cities keys start
  with, also without their unit word: "临川世纪高速" is "世纪高速" where 临川县 is a district). Within a
  district and a kind, keys that are one thing written differently are merged: the same core
  ("宏达服装厂"/"宏达服装公司"), one key ending another ("滨河苑"/"伊景园滨河苑"), one core starting or
  ending another of at least three characters ("伊景园小区"/"伊景园滨河苑") or written with characters
  left out, the first two kept ("翠湖天地苑"/"翠湖国际新天地苑"), or, for organisations, schools and
  hospitals, the same trade name with fewer (or abbreviated) words of the trade ("鑫源公司",
  "鑫源建工公司"/"鑫源建筑工程公司"); one character written differently in a distinctive name (the trade
  name of an organisation, the core of a place) of at least three characters, two apart from each other
  in one of six or more, the rest the same ("伊景园宾河苑"/"伊景园滨河苑", but not
  "东方明珠国际花园"/"星河明珠国际花园"); or the same callers naming both, when they share rare
  character pairs.
  Suffixes must be the same or one must stand for any of the kind (小区 for an estate, 公司 or 厂 for a
  company, any platform's suffix for another ...: STANDS_FOR), so 红星小学 and 红星中学, 长青苑 and
  长青花园 stay apart; two estates that share only a generic ending ("阳光花园", "明月花园") share no
  character pair of their cores and stay apart. A key written with a suffix that stands for others
  ("红星学校") is contained in those of the same core.
  **A shorter form inside several things that cannot be one** ("鑫源公司" with 鑫源建筑工程公司 and
  鑫源装饰工程公司 in one district; "长青小区" with 长青苑 and 长青花园) is merged with the one the same
  callers name; else with the one named by at least DOMINANT_CALLERS callers and DOMINANCE times as many
  as the others together (a caller who writes the short form most likely means the thing most callers
  talk about: three chances in four or more); else it stays apart, shown on its own, because merging two
  different things is worse for an analyst than showing one thing twice. The short forms that are clear
  are merged before those that are not. When the windows of the calls are known (a `block` column),
  the callers counted are those of the windows the short form was named in (the thing most named at the
  same time). Then a project named by a place's name only ("绿洲征迁项目") is that place ("绿洲高速", an
  estate, village or road) when the place surges in the windows the project is named in: named there by
  CO_TIMING times its usual callers a window or more (a shared name alone is no evidence: a district's
  "锦绣片区改造项目" and "锦绣花园" are two things most of the time).
  **Another name of a thing**: keys with the same distinctive name (an organisation's trade name, a
  place's core) but other trade words or another suffix ("福临装修公司"/"福临装饰工程公司",
  "远大小区"/"远大苑") are one thing only when the data says so: the other name is named only in the
  windows the thing is named in, under the hotline categories the thing's calls are filed under there,
  by fewer callers than the thing (at least DOMINANT_CALLERS of them): it has no life of its own. A
  name shared by more than RARE_PAIR_KEYS keys of a district and kind, or generic, never is. When the
  categories of the calls are known (a `category` column), a short form inside several things also
  counts only the callers of its windows filed under its categories, its own callers towards
  DOMINANT_CALLERS (its callers complain of what the thing's callers complain of).
  A merged key's root (the cluster's identity, kept from day to day whichever form is written most that
  week) is the member whose suffix names its kind precisely (顺发花园 before 顺发小区), then whose suffix
  is listed first (`SUFFIX_KINDS`: 公司 before 厂), then that is not a shorter or other name of a member
  named by at least a DOMINANCE-th as many callers (盛世建筑公司 is never the root of
  盛世建筑工程公司, whichever was named first), then, when the times of the mentions are known (a
  `first` column), the one named first (which form most callers write changes from day to day while few
  have called: the first one stays while it is in the lookback), then named by most callers, named most
  often, the longest and the first in order.

Pure functions on Series and DataFrames; loops run over distinct keys, never over records.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from features.named_things import GENERIC_WORDS, LINE_SUFFIX, SUFFIX_KINDS, kind_of, split_suffix

# Administrative places before a name: a province (its name may be cut short by the 12-character reading
# window), or two or more characters ending with a unit word that is not part of an ordinary word.
_ADMIN = re.compile(
    "^(?:[\u4e00-\u9fff]{0,8}?(?:省|自治区|特别行政区)"
    "|[\u4e00-\u9fff]{2,8}?(?:自治州|自治县|自治旗|地区|街道办事处|街道办|街道|县"
    "|(?<![超城都门集菜夜股上花鱼楼])市|(?<![小社校厂景园片户宅活业场矿营库站港税营])区"
    "|(?<![小古])镇|(?<![水家故老])乡|(?<![红国])旗|(?<![联])盟))"
)
# A province or city at the start of a key, and the unit word ending an administrative place.
_PROVINCE_OR_CITY = re.compile(
    "^([\u4e00-\u9fff]{2,6}?(?:省|自治区|自治州|(?<![超城都门集菜夜股上花鱼楼])市))"
)
_PLACE_UNIT = re.compile(
    "(?:特别行政区|自治区|自治州|自治县|自治旗|街道办事处|街道办|街道|新区|地区|省|市|区|县|旗|盟|镇|乡)$"
)
# Words before a name that describe it, not name it.
DESCRIPTORS: tuple[str, ...] = (
    "商品房",
    "安置房",
    "保障房",
    "经济适用房",
    "经适房",
    "廉租房",
    "公租房",
    "回迁房",
    "拆迁房",
    "还建房",
    "小产权房",
    "限价房",
    "商住房",
    "人才房",
    "新建",
    "在建",
    "已建",
    "拟建",
    "整个",
    "整栋",
    "全体",
    "导致",
    "造成",
    "影响",
    "位于",
    "地处",
    "坐落于",
    "所在",
    "所属",
    "我们",
    "我家",
    "家住",
    "居住",
    "这个",
    "那个",
    "这些",
    "那些",
    "业主",
    "楼盘",
    "附近",
    "周边",
    "旁边",
    "隔壁",
    "对面",
    "门口",
    "当地",
    "本地",
    "外地",
    "外省",
    "异地",
    "老旧",
    "某",
)
_DESCRIPTOR = re.compile("^(?:" + "|".join(sorted(DESCRIPTORS, key=len, reverse=True)) + ")")
# Words that say what trade an organisation or works is in: a core of only these names no one thing.
TRADE_WORDS: tuple[str, ...] = (
    "建设",
    "建筑",
    "建工",
    "工程",
    "市政",
    "水利",
    "绿化",
    "道路",
    "公路",
    "房屋",
    "安装",
    "装修",
    "装饰",
    "维修",
    "改造",
    "整改",
    "施工",
    "拆迁",
    "征迁",
    "征地",
    "征收",
    "安置",
    "土地",
    "物业",
    "开发",
    "房地产",
    "地产",
    "置业",
    "自来水",
    "供水",
    "水务",
    "燃气",
    "天然气",
    "煤气",
    "供电",
    "电力",
    "电网",
    "热力",
    "供热",
    "供暖",
    "通信",
    "移动",
    "联通",
    "电信",
    "网络",
    "宽带",
    "快递",
    "物流",
    "运输",
    "客运",
    "出租车",
    "网约车",
    "外卖",
    "银行",
    "保险",
    "金融",
    "理财",
    "投资",
    "贷款",
    "网贷",
    "借贷",
    "小额",
    "车贷",
    "信息",
    "科技",
    "技术",
    "服务",
    "管理",
    "咨询",
    "培训",
    "教育",
    "医疗",
    "商贸",
    "贸易",
    "实业",
    "集团",
    "控股",
    "环保",
    "环卫",
    "保洁",
    "保安",
    "劳务",
    "人力资源",
    "中介",
    "家政",
    "餐饮",
    "提质",
    "提升",
    "拓宽",
    "旧城",
    "旧改",
    "棚改",
    "棚户区",
    "城中村",
    "扩建",
    "改建",
    "重点",
    "民生",
    "公共",
    "管网",
    "污水",
    "雨污分流",
    "管道",
    "电梯",
    "消防",
    "建材",
    "水电",
    "城建",
    "城投",
    "公用事业",
    "交通",
    "地铁",
    "公交",
    "新建",
    "在建",
    "相关",
    "有关",
    "片区",
    "园区",
    "工业园区",
    "工业园",
    "产业园区",
    "产业园",
    "开发区",
    "电子",
    "电器",
    "服装",
    "制衣",
    "纺织",
    "鞋业",
    "家具",
    "木业",
    "食品",
    "机械",
    "制造",
    "化工",
    "印刷",
    "包装",
    "塑料",
    "塑胶",
    "五金",
    "模具",
    "玩具",
    "钢铁",
    "钢结构",
    "水泥",
    "陶瓷",
    "玻璃",
    "汽车",
    "汽配",
    "农业",
    "养殖",
    "文化",
    "传媒",
    "广告",
    "旅游",
    "酒店",
    "健身",
    "美容",
    "生物",
    "医药",
    "能源",
    "新能源",
    "材料",
    "新材料",
    "机电",
    "设备",
    "工贸",
    "发展",
)
# Words of institutions' common names: a name of only these and trade words needs the place before it.
INSTITUTION_WORDS: tuple[str, ...] = (
    "人民",
    "中心",
    "第[一二三四五六七八九十]+",
    "实验",
    "中医",
    "中西医结合",
    "妇幼保健",
    "妇幼",
    "儿童",
    "精神",
    "口腔",
    "眼科",
    "骨科",
    "肿瘤",
    "职业技术",
    "职业",
    "技工",
    "师范",
    "理工",
    "财经",
    "农业",
    "工业",
    "商业",
    "城市",
    "外国语",
    "附属",
    "卫生",
    "社区卫生服务",
    "民族",
    "公安",
    "政务服务",
    "广播电视",
    "开放",
    "体育",
    "艺术",
    "机关",
    "中心卫生",
)
_ORGANISATIONS = ("company", "project", "platform", "business")  # kinds whose name may be a trade only
# Kinds whose names are a trade name followed by words of their trade or institution ("鑫源" + "建筑工程"),
# so that a short form keeps the trade name and fewer of those words ("鑫源公司", "鑫源工程公司").
_TRADE_NAMED = (*_ORGANISATIONS, "school", "hospital")
_TRADE = re.compile("(?:" + "|".join(sorted(TRADE_WORDS, key=len, reverse=True)) + ")+")
_TRAILING_GENERIC = re.compile(
    "(?:" + "|".join(sorted((*TRADE_WORDS, *INSTITUTION_WORDS), key=len, reverse=True)) + ")+$"
)
_GENERIC_NAME = re.compile(
    "(?:" + "|".join(sorted((*TRADE_WORDS, *INSTITUTION_WORDS), key=len, reverse=True)) + ")+"
)
PLATFORM = "平台"  # the suffix of every platform's key
# Short forms of a suffix written in full: a school's (职院 for 职业学院 ...) and a road's (高速公路 is 高速).
ABBREVIATED_SUFFIXES: dict[str, str] = {
    "职院": "职业学院",
    "职校": "职业学校",
    "技校": "技工学校",
    "卫校": "卫生学校",
    "高速公路": "高速",
}
_NUMERALS = dict(zip("一二三四五六七八九", "123456789", strict=True))
_LINE = re.compile(f"^(.*?)([一二三四五六七八九十]+){LINE_SUFFIX}$")


def _line_number(chinese: str) -> str:
    """A Chinese numeral up to 99 in digits ('十二' -> '12', '二十' -> '20')."""
    if "十" not in chinese:
        return "".join(_NUMERALS.get(c, c) for c in chinese)
    tens, _, units = chinese.partition("十")
    return str(int(_NUMERALS.get(tens, "1")) * 10 + int(_NUMERALS.get(units, "0")))


def spelling(name: str) -> str:
    """'有限责任公司'/'有限公司' read as '公司', any platform's suffix as '平台' ('快易贷APP', '快易贷网贷'
    and '快易贷平台' are one key: one kind of thing, PLATFORM), metro lines with digits, a short form of a
    suffix written in full (ABBREVIATED_SUFFIXES: '职院' as '职业学院')."""
    name = name.replace("有限责任公司", "公司").replace("有限公司", "公司")
    if name[-3:].upper() == "APP":
        name = name[:-3] + "APP"
    core, suffix = split_suffix(name)
    if core and SUFFIX_KINDS.get(suffix) == "platform":
        name = core + PLATFORM
    for short, full in ABBREVIATED_SUFFIXES.items():
        if name.endswith(short) and len(name) > len(short):
            name = name[: -len(short)] + full
    line = _LINE.match(name)
    return f"{line.group(1)}{_line_number(line.group(2))}{LINE_SUFFIX}" if line else name


def is_generic_name(core: str) -> bool:
    """The core is a generic name (a trade or institution's common name, no particular thing)."""
    return _GENERIC_NAME.fullmatch(core) is not None


def _undescribed(key: str) -> str:
    """The key without descriptor words before it ('' when they leave no name)."""
    while (descriptor := _DESCRIPTOR.match(key)) is not None:
        key = key[descriptor.end() :]
        if len(split_suffix(key)[0]) < 2:
            return ""
    return key


def _stripped(key: str) -> str:
    """The key without administrative places and descriptor words before it ('' when descriptors leave
    no name, with or without places before them: "整个小区", "麓谷街道某小区")."""
    while True:
        key = _undescribed(key)
        admin = _ADMIN.match(key)
        if not key or admin is None or admin.end() == len(key):
            return key
        rest = _undescribed(key[admin.end() :])
        if not rest:
            return ""
        core = split_suffix(rest)[0]
        if len(core) < 2 or is_generic_name(core):
            return key
        key = rest


def normalise_key(name: str, kind: str) -> tuple[str, str]:
    """(key, kind) of a thing read from a text (see the module docstring); key '' when it names a trade
    or nothing."""
    name = spelling(unicodedata.normalize("NFKC", name).replace(" ", ""))
    core, _ = split_suffix(name)
    place = kind_of(core) if kind == "project" else None
    if place is not None and place != "project":
        name, kind = core, place
    key = _stripped(name)
    core = split_suffix(key)[0]
    if not key or (kind in _ORGANISATIONS and _TRADE.fullmatch(core) is not None):
        return "", kind
    return key, kind


def normalise_keys(things: pd.Series, kinds: pd.Series) -> pd.DataFrame:
    """Per thing (with its kind as read): its key and kind (`normalise_key`), same index. A loop over
    the distinct (thing, kind) pairs."""
    pairs = pd.Series(list(zip(things.to_numpy(dtype=object), kinds.to_numpy(dtype=object), strict=True)))
    codes, distinct = pd.factorize(pairs)
    done = pd.DataFrame([normalise_key(thing, kind) for thing, kind in distinct], columns=["key", "kind"])
    return pd.DataFrame(
        {
            "key": done["key"].to_numpy(dtype=object)[codes],
            "kind": done["kind"].to_numpy(dtype=object)[codes],
        },
        index=things.index,
    )


# ---------------------------------------------------------------- things in no place


PLACELESS_KINDS = ("platform",)  # things in no district: an online platform's callers live anywhere


def home_districts(districts: pd.Series, keys: pd.Series, kinds: pd.Series) -> np.ndarray:
    """Per mention (district, key and kind, one row each): its district, or for a thing in no place
    (PLACELESS_KINDS) the district most mentions of its distinctive name are in (`trade_name`: '宏达' of
    '宏达金融APP', '宏达APP' and '宏达金融平台'), so that one platform is one thing in one district."""
    out = districts.astype(object).to_numpy(copy=True)
    placeless = kinds.isin(PLACELESS_KINDS).to_numpy()
    if not placeless.any():
        return out
    codes, distinct = pd.factorize(keys[placeless])
    names = np.array([trade_name(split_suffix(k)[0])[0] for k in distinct], dtype=object)[codes]
    frame = pd.DataFrame({"name": names, "district": out[placeless]})
    counts = frame[frame["district"].notna()].value_counts(["name", "district"], sort=False).reset_index()
    counts = counts.sort_values(["name", "count", "district"], ascending=[True, False, True], kind="stable")
    home = counts.drop_duplicates("name").set_index("name")["district"]
    found = home.reindex(frame["name"]).to_numpy(dtype=object)
    out[placeless] = np.where(pd.notna(found), found, out[placeless])
    return out


# ---------------------------------------------------------------- generic keys, from the data


def _effective_number(counts: pd.Series, level: str) -> pd.Series:
    """Per value of `level` of a (level, other) count series: the inverse Simpson index of the other."""
    shares = counts / counts.groupby(level=level).transform("sum")
    return 1.0 / (shares**2).groupby(level=level).sum()


def _spread(pairs: pd.DataFrame, column: str) -> tuple[pd.Series, float]:
    """Per key: the effective number of `column` values its callers are spread over; and the same over
    all keys' callers together."""
    pairs = pairs[pairs[column] != ""]
    per_key = pairs.drop_duplicates(["key", "caller", column]).groupby(["key", column]).size()
    overall = pairs.drop_duplicates(["key", "caller", column])[column].value_counts()
    everyone = float(1.0 / ((overall / overall.sum()) ** 2).sum()) if len(overall) else 0.0
    return _effective_number(per_key, "key"), everyone


def generic_keys(mentions: pd.DataFrame, min_callers: int, spread: float, max_repeat: float) -> pd.Index:
    """The keys that are words in common use: named by at least `min_callers` distinct callers, whose
    callers are spread over at least max(2, `spread` x that of all named things' callers) districts and
    as many hotline categories (effective numbers: inverse Simpson indices), and of whose callers at
    most `max_repeat` named it in more than one window. `mentions`: key, district, category ('' when
    none), caller (None when unknown) and block (the window) of every call's mention."""
    known = mentions[mentions["caller"].notna()]
    if known.empty:
        return pd.Index([], dtype=object)
    callers = known.groupby("key")["caller"].nunique()
    windows = known.drop_duplicates(["key", "caller", "block"]).groupby(["key", "caller"]).size()
    repeat = (windows > 1).groupby(level="key").mean()
    districts, all_districts = _spread(known, "district")
    categories, all_categories = _spread(known, "category")
    frame = pd.DataFrame({"callers": callers, "repeat": repeat})
    frame["districts"] = districts.reindex(frame.index).fillna(0.0)
    frame["categories"] = categories.reindex(frame.index).fillna(0.0)
    generic = (
        (frame["callers"] >= min_callers)
        & (frame["districts"] >= max(2.0, spread * all_districts))
        & (frame["categories"] >= max(2.0, spread * all_categories))
        & (frame["repeat"] <= max_repeat)
    )
    return frame.index[generic.to_numpy()]


# ---------------------------------------------------------------- aliases


RARE_PAIR_KEYS = 30  # a character pair of cores found in more keys of a district and kind is not rare
# A short form inside several things that cannot be one is the thing named by at least DOMINANT_CALLERS
# callers and DOMINANCE times as many as the others together (a caller who writes "鑫源公司" when
# twenty-five name 鑫源建筑工程公司 and five 鑫源装饰工程公司 most likely means the first); else it stays
# apart: merging two things is worse for an analyst than showing one twice.
_SUFFIX_RANK = {suffix: rank for rank, suffix in enumerate(SUFFIX_KINDS)}  # the root's suffix: first listed
DOMINANT_CALLERS = 5
DOMINANCE = 3.0
PLACE_KINDS = ("estate", "village", "road")  # kinds of places a project may be named after
# A place named by this many times its usual callers a window (the median over the other windows, plus
# one) in the windows a project of its name is named in: it surges then.
CO_TIMING = 4.0
CO_TIMING_CALLERS = 2  # ... by at least this many callers
# Per kind, the suffixes that may stand for any other of the kind (an estate is a 小区 too, a factory a
# 公司, a platform its APP): keys with other different suffixes (红星小学, 红星中学) are different things.
STANDS_FOR: dict[str, frozenset[str]] = {
    "estate": frozenset({"小区"}),
    "company": frozenset({"公司", "厂"}),
    "project": frozenset({"项目", "工程", "工地", "改造", "拆迁"}),
    "school": frozenset({"学校"}),
    "platform": frozenset(s for s, kind in SUFFIX_KINDS.items() if kind == "platform"),
    "road": frozenset({"路口"}),
}


def _grams(core: str) -> list[str]:
    """The character pairs of a core (a two-character core is its own pair)."""
    return [core[i : i + 2] for i in range(max(len(core) - 1, 1))]


def trade_name(core: str) -> tuple[str, str]:
    """(trade name, trade words) of an organisation's core: what comes before the trade and institution
    words it ends with ('鑫源建筑工程' -> ('鑫源', '建筑工程'))."""
    found = _TRAILING_GENERIC.search(core)
    return (core[: found.start()], core[found.start() :]) if found else (core, "")


def _described(mentions: pd.DataFrame) -> pd.DataFrame:
    """Per distinct (district, key): kind, mentions, distinct callers, first mention (NaT when the
    mentions have no `first` time), core, suffix, distinctive name and trade words (the trade name and
    its words for organisations, schools and hospitals; the core and nothing for places), and block
    (district and kind)."""
    grouped = mentions.groupby(["district", "key"], sort=True)
    keys = grouped.agg(kind=("kind", "first"), mentions=("kind", "size"), callers=("caller", "nunique"))
    keys["first"] = grouped["first"].min() if "first" in mentions else pd.NaT
    keys = keys.reset_index()
    split = [split_suffix(k) for k in keys["key"].tolist()]
    keys["core"] = pd.Series([c for c, _ in split], dtype=object)
    keys["suffix"] = pd.Series([x for _, x in split], dtype=object)
    named = [
        trade_name(core) if kind in _TRADE_NAMED else (core, "")
        for core, kind in zip(keys["core"].tolist(), keys["kind"].tolist(), strict=True)
    ]
    keys["name"] = pd.Series([n for n, _ in named], dtype=object)
    keys["trade"] = pd.Series([t for _, t in named], dtype=object)
    keys["block"] = pd.factorize(pd.MultiIndex.from_frame(keys[["district", "kind"]]))[0]
    return keys


def _interchangeable(keys: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of key positions (same kind): their suffixes are the same or one stands for the other."""
    suffix, kind = keys["suffix"].tolist(), keys["kind"].tolist()
    return np.array(
        [
            suffix[x] == suffix[y] or bool({suffix[x], suffix[y]} & STANDS_FOR.get(kind[x], frozenset()))
            for x, y in zip(a.tolist(), b.tolist(), strict=True)
        ],
        dtype=bool,
    )


def _candidate_pairs(keys: pd.DataFrame) -> pd.DataFrame:
    """Pairs (id_a < id_b, positions in keys) of the same district and kind sharing a rare character
    pair of their cores: how many pairs they share (`common`), the share of their pairs' weight (idf)
    they have in common (`similarity`), and whether their suffixes may stand for each other
    (`interchangeable`)."""
    grams = pd.DataFrame(
        [(i, g) for i, core in enumerate(keys["core"].tolist()) for g in dict.fromkeys(_grams(core))],
        columns=["id", "gram"],
    )
    grams["block"] = keys["block"].to_numpy()[grams["id"].to_numpy()]
    df = grams.groupby(["block", "gram"])["id"].transform("size")
    grams["weight"] = np.log1p(keys.groupby("block")["key"].transform("size").to_numpy()[grams["id"]] / df)
    total = grams.groupby("id")["weight"].sum()
    rare = grams[df.to_numpy() <= RARE_PAIR_KEYS]
    pairs = rare.merge(rare, on=["block", "gram"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["id_a"] < pairs["id_b"]]
    shared = pairs.groupby(["id_a", "id_b"]).agg(weight=("weight_a", "sum"), common=("gram", "size"))
    shared = shared.reset_index()
    union = total.reindex(shared["id_a"]).to_numpy() + total.reindex(shared["id_b"]).to_numpy()
    shared["similarity"] = shared["weight"] / (union - shared["weight"])
    shared["interchangeable"] = _interchangeable(keys, shared["id_a"].to_numpy(), shared["id_b"].to_numpy())
    return shared


def _shared_callers(mentions: pd.DataFrame, keys: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Per candidate pair: the number of callers who named both keys."""
    if pairs.empty:
        return np.zeros(0, dtype=np.int64)
    position = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["district", "key"]]))
    named = mentions[mentions["caller"].notna()].drop_duplicates(["district", "key", "caller"])
    ids = position.reindex(pd.MultiIndex.from_frame(named[["district", "key"]])).to_numpy()
    callers = pd.DataFrame({"id": ids, "caller": named["caller"].to_numpy(dtype=object)})
    callers = callers[callers["id"].isin(np.union1d(pairs["id_a"], pairs["id_b"]))]
    both = callers.merge(callers, on="caller", suffixes=("_a", "_b"))
    counts = both.groupby(["id_a", "id_b"]).size()
    index = pd.MultiIndex.from_frame(pairs[["id_a", "id_b"]])
    return counts.reindex(index).fillna(0).to_numpy(dtype=np.int64)


def _one_thing(
    keys: pd.DataFrame, pairs: pd.DataFrame, shared_callers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate pair with interchangeable suffixes: whether the two keys are one thing by the same
    core (the same suffix, or both standing for others), one character of the distinctive name written
    differently (two apart from each other in names of six or more characters; the name of at least
    three, the trade words the same), or the same callers (at least two, half of the fewer's, with a
    weighted share of character pairs of at least 0.3); and whether by the same callers."""
    a, b = pairs["id_a"].to_numpy(), pairs["id_b"].to_numpy()
    core, name = keys["core"].to_numpy(dtype=object), keys["name"].to_numpy(dtype=object)
    trade = keys["trade"].to_numpy(dtype=object)
    length = keys["name"].str.len().to_numpy()
    shortest = np.minimum(length[a], length[b])
    maybe = (trade[a] == trade[b]) & (shortest >= 3) & (np.abs(length[a] - length[b]) <= 2)
    distance = np.full(len(pairs), 99, dtype=np.int64)
    if maybe.any():
        distance[maybe] = process.cpdist(
            name[a[maybe]], name[b[maybe]], scorer=Levenshtein.distance, workers=1
        )
    typo = maybe & (distance <= np.where(shortest < 6, 1, 2))
    twice = np.flatnonzero(typo & (distance == 2))
    typo[twice] = [_apart(name[a[i]], name[b[i]]) for i in twice.tolist()]
    callers = keys["callers"].to_numpy()
    fewer = np.minimum(callers[a], callers[b])
    similar = pairs["similarity"].to_numpy() >= 0.3
    same_callers = (shared_callers >= 2) & (shared_callers >= 0.5 * fewer) & similar
    same_core = (core[a] == core[b]) & (_stands_for(keys, a) == _stands_for(keys, b))
    interchangeable = pairs["interchangeable"].to_numpy(dtype=bool)
    return (same_core | typo | same_callers) & interchangeable, same_callers & interchangeable


def _apart(a: str, b: str) -> bool:
    """Two characters written differently are apart in the names (a word of two characters written
    differently is another name: '东方明珠国际'/'星河明珠国际')."""
    places = sorted({op.src_pos for op in Levenshtein.editops(a, b)})
    return len(places) == 2 and places[1] - places[0] > 1


def _stands_for(keys: pd.DataFrame, at: np.ndarray) -> np.ndarray:
    """Per key position: its suffix stands for any of its kind (STANDS_FOR)."""
    suffix, kind = keys["suffix"].to_numpy(dtype=object)[at], keys["kind"].to_numpy(dtype=object)[at]
    return np.array(
        [x in STANDS_FOR.get(k, frozenset()) for x, k in zip(suffix.tolist(), kind.tolist(), strict=True)],
        dtype=bool,
    )


def _contains(long: str, short: str, long_core: str, short_core: str) -> bool:
    """The shorter key ends the longer one, or its core (of at least three characters) starts or ends
    the longer one's core."""
    if len(short) >= len(long):
        return False
    if long.endswith(short):
        return True
    return len(short_core) >= 3 and (long_core.startswith(short_core) or long_core.endswith(short_core))


def _shortened(short: str, long: str) -> bool:
    """A core of three or more characters written with characters of a longer one left out, the first
    two kept ('翠湖天地' of '翠湖国际新天地')."""
    return len(short) >= 3 and short[:2] == long[:2] and _abbreviates(short, long)


def _abbreviates(short: str, long: str) -> bool:
    """The characters of `short` occur in `long` in order, and `short` is shorter ('建工' of '建筑工程')."""
    rest = iter(long)
    return len(short) < len(long) and all(c in rest for c in short)


def _same_trade_name(keys: pd.DataFrame) -> list[tuple[int, int]]:
    """(shorter, longer) pairs of keys of an organisation kind in the same district with the same trade
    name (of at least two characters, shared by at most RARE_PAIR_KEYS keys) and interchangeable
    suffixes, whose trade words the shorter one abbreviates ('鑫源公司', '鑫源工程公司' of
    '鑫源建筑工程公司')."""
    frame = keys[keys["kind"].isin(_TRADE_NAMED) & (keys["name"].str.len() >= 2)][["block", "name"]]
    frame = frame[frame.groupby(["block", "name"])["name"].transform("size").between(2, RARE_PAIR_KEYS)]
    pairs = frame.reset_index().merge(frame.reset_index(), on=["block", "name"], suffixes=("_a", "_b"))
    a, b = pairs["index_a"].to_numpy(), pairs["index_b"].to_numpy()
    trades = keys["trade"].tolist()
    return [
        (x, y)
        for x, y, same in zip(a.tolist(), b.tolist(), _interchangeable(keys, a, b), strict=True)
        if same and _abbreviates(trades[x], trades[y])
    ]


def _contained(keys: pd.DataFrame, pairs: pd.DataFrame) -> list[tuple[int, int]]:
    """(shorter, longer) of the pairs of keys where one contains the other: of the candidate pairs with
    interchangeable suffixes by `_contains` (only pairs whose shorter core shares all its character
    pairs can, so only those are looked at) or by the same core with a suffix standing for the other,
    and by `_same_trade_name`."""
    key, core = keys["key"].tolist(), keys["core"].tolist()
    grams = np.array([len(_grams(c)) for c in core] + [0], dtype=np.int64)
    a, b = pairs["id_a"].to_numpy(), pairs["id_b"].to_numpy()
    interchangeable = pairs["interchangeable"].to_numpy(dtype=bool)
    whole = (pairs["common"].to_numpy() == np.minimum(grams[a], grams[b])) & interchangeable
    general = _stands_for(keys, np.arange(len(keys))).tolist()
    out = []
    for x, y in zip(a[whole].tolist(), b[whole].tolist(), strict=True):
        if core[x] == core[y]:  # contained when one suffix only stands for others (红星学校, 红星小学)
            if general[x] != general[y]:
                out.append((x, y) if general[x] else (y, x))
        elif _contains(key[x], key[y], core[x], core[y]):
            out.append((y, x))
        elif _contains(key[y], key[x], core[y], core[x]):
            out.append((x, y))
    for x, y in zip(a[interchangeable & ~whole].tolist(), b[interchangeable & ~whole].tolist(), strict=True):
        if _shortened(core[x], core[y]):
            out.append((x, y))
        elif _shortened(core[y], core[x]):
            out.append((y, x))
    return list(dict.fromkeys(out + _same_trade_name(keys)))


def _variants(keys: pd.DataFrame, contained: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(alias, thing) position pairs, both ways, of keys of the same district and kind with the same
    distinctive name (the trade name of an organisation, school or hospital, the core of a place: at
    least two characters, neither generic nor shared by more than RARE_PAIR_KEYS keys) but other trade
    words or another suffix ('福临装修公司'/'福临装饰工程公司', '远大小区'/'远大苑'), not already one
    containing the other. Whether they are one thing is for the data to say (`_Callers.variant_of`)."""
    names = keys["name"]
    usable = (names.str.len() >= 2) & ~names.isin(GENERIC_WORDS) & ~names.map(is_generic_name).astype(bool)
    frame = keys[usable][["block", "name"]]
    frame = frame[frame.groupby(["block", "name"])["name"].transform("size").between(2, RARE_PAIR_KEYS)]
    pairs = frame.reset_index().merge(frame.reset_index(), on=["block", "name"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["index_a"] != pairs["index_b"]]
    known = set(contained) | {(y, x) for x, y in contained}
    return sorted(
        (x, y)
        for x, y in zip(pairs["index_a"].tolist(), pairs["index_b"].tolist(), strict=True)
        if (x, y) not in known
    )


class _Forest:
    """Disjoint sets of key positions (union-find); a set is named by its smallest position."""

    def __init__(self, size: int) -> None:
        self.parent = np.arange(size)

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return int(x)

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        self.parent[max(ra, rb)] = min(ra, rb)

    def components(self) -> np.ndarray:
        return np.array([self.find(x) for x in range(len(self.parent))], dtype=np.int64)


def _components(
    keys: pd.DataFrame, pairs: pd.DataFrame, shared_callers: np.ndarray, windows: pd.DataFrame | None
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Per key, its merged thing (see the module docstring): the candidate pairs that are one thing
    joined first, then each shorter key contained in longer ones (longest shorter keys first) with
    them, unless two of those are (by then) different things whose cores neither start nor end one
    another; then with those having the same callers, if they may be one thing, else with the one
    most named (`_Callers.dominant`); then another name of a thing with it when the data says so
    (`_variants`, `_Callers.variant_of`). And the (form, thing) position pairs merged as a shorter or
    other name of a thing."""
    forest = _Forest(len(keys))
    contained = _contained(keys, pairs)
    one, same_callers = _one_thing(keys, pairs, shared_callers)
    ordered = pd.MultiIndex.from_tuples([(min(x, y), max(x, y)) for x, y in contained], names=["a", "b"])
    key_pairs = pd.MultiIndex.from_arrays([pairs["id_a"], pairs["id_b"]], names=["a", "b"])
    one &= ~key_pairs.isin(ordered)  # a contained key is merged only by the rule for contained keys
    for a, b in zip(
        pairs["id_a"].to_numpy()[one].tolist(), pairs["id_b"].to_numpy()[one].tolist(), strict=True
    ):
        forest.join(a, b)
    backed = set(key_pairs[same_callers].tolist())
    inside: dict[int, list[int]] = {}
    for short, long in contained:
        inside.setdefault(short, []).append(long)
    key, core = keys["key"].tolist(), keys["core"].tolist()

    def compatible(x: int, y: int) -> bool:  # may be one thing: one core starts or ends the other
        shorter, longer = sorted((core[x], core[y]), key=len)
        same_kind_of = _interchangeable(keys, np.array([x]), np.array([y]))[0]
        return bool(same_kind_of) and (longer.startswith(shorter) or longer.endswith(shorter))

    callers, shorter = _Callers(keys, forest, windows), np.zeros(len(keys), dtype=bool)
    forms: list[tuple[int, int]] = []
    for by_most_named in (False, True):  # the short forms that are clear first, then the others
        for short in sorted(inside, key=lambda x: (-len(key[x]), key[x])):
            if shorter[short]:
                continue
            longs = inside[short]
            things = {forest.find(long): long for long in longs}
            if any(not compatible(x, y) for x in things.values() for y in things.values()):
                # in several things that cannot be one: the same callers decide, else the one most named
                things = {forest.find(x): x for x in longs if (min(short, x), max(short, x)) in backed}
                if by_most_named and not things:
                    things = callers.dominant({forest.find(x): x for x in longs}, short)
            if len(things) >= 1 and all(compatible(x, y) for x in things.values() for y in things.values()):
                for long in things.values():
                    forest.join(short, long)
                    forms.append((short, long))
                shorter[short] = True
    for alias, thing in _variants(keys, contained):  # another name of a thing: when the data says so
        if forest.find(alias) != forest.find(thing) and callers.variant_of(alias, thing):
            forest.join(alias, thing)
            forms.append((alias, thing))
    for project, place in _projects_of_places(keys, callers):
        forest.join(project, place)
    return forest.components(), forms


class _Callers:
    """The callers of the merged things of a district, as they are merged (each key's distinct callers
    summed over the keys of the thing), over all windows or over those a given key was named in (and,
    when the hotline categories are known, in the categories its calls were filed under)."""

    def __init__(self, keys: pd.DataFrame, forest: _Forest, windows: pd.DataFrame | None) -> None:
        self.forest, self.callers = forest, keys["callers"].to_numpy()
        self.district = {d: np.asarray(at) for d, at in keys.groupby("district").indices.items()}
        self.of = keys["district"].tolist()
        self.windows: dict[int, dict[int, int]] = {}
        self.filed: dict[int, dict[tuple[int, str], int]] = {}
        if windows is not None:
            for (at, block), n in windows.groupby(["at", "block"])["caller"].nunique().items():
                self.windows.setdefault(int(at), {})[int(block)] = int(n)
            for (at, block, category), n in (
                windows.groupby(["at", "block", "category"])["caller"].nunique().items()
            ):
                self.filed.setdefault(int(at), {})[(int(block), str(category))] = int(n)
        self.categories = any(category for seen in self.filed.values() for _, category in seen)

    def members(self, root: int) -> list[int]:
        """The key positions of the merged thing named by its root position."""
        return [i for i in self.district[self.of[root]].tolist() if self.forest.find(i) == root]

    def of_thing(self, root: int, blocks: set[int] | None = None) -> int:
        """The callers of the merged thing named by its root position (in the windows `blocks` only)."""
        if blocks is None:
            return int(sum(int(self.callers[i]) for i in self.members(root)))
        return sum(n for i in self.members(root) for b, n in self.windows.get(i, {}).items() if b in blocks)

    def filed_as(self, root: int, key: int) -> dict[tuple[int, str], int]:
        """Per (window, category) the key at position `key` was named in and filed under (category ''
        when unknown): the callers of the merged thing named by its root position."""
        named = dict.fromkeys(self.filed.get(key, {}), 0)
        for i in self.members(root):
            for at, n in self.filed.get(i, {}).items():
                if at in named:
                    named[at] += n
        return named

    def dominant(self, things: dict[int, int], short: int) -> dict[int, int]:
        """Of several things (root: member) a short form may be, the one named by at least
        DOMINANT_CALLERS callers and DOMINANCE times as many as the others together (empty when none
        is), in the windows the short form was named in when they are known (a short form is most
        likely the thing most named at the same time), else over all. When the categories of the calls
        are known, only the callers of those windows filed under the short form's categories count
        (its callers complain of what the thing's callers complain of), and the short form's own
        callers count towards DOMINANT_CALLERS."""
        if short in self.filed:
            named = {root: sum(self.filed_as(root, short).values()) for root in things}
        else:
            named = {root: self.of_thing(root) for root in things}
        own = sum(self.filed_as(self.forest.find(short), short).values()) if self.categories else 0
        most = max(named, key=lambda r: (named[r], -r))
        others = sum(named.values()) - named[most]
        if named[most] > 0 and named[most] + own >= DOMINANT_CALLERS and named[most] >= DOMINANCE * others:
            return {most: things[most]}
        return {}

    def variant_of(self, alias: int, thing: int) -> bool:
        """The key at position `alias` is another name of the merged thing of the key at `thing`: that
        thing was named in each window the alias was named in and under each category the alias's
        calls were filed under there (when the categories are known), by at least DOMINANT_CALLERS
        callers in all and by more than the alias's own thing: the alias has no life of its own. False
        when the windows are unknown."""
        if alias not in self.filed:
            return False
        named = self.filed_as(self.forest.find(thing), alias)
        own = sum(self.filed_as(self.forest.find(alias), alias).values())
        total = sum(named.values())
        return all(named.values()) and total >= DOMINANT_CALLERS and total > own


def _projects_of_places(keys: pd.DataFrame, callers: _Callers) -> list[tuple[int, int]]:
    """(project, place) positions of the projects named by the name of a place of their district only
    ('绿洲征迁项目' and the road '绿洲高速', an estate, village or road: PLACE_KINDS) when the windows of
    the calls are known and, in the windows the project was named in, that place is named by most
    callers (`_Callers.dominant`) and by at least CO_TIMING times its usual callers a window (the median
    over the other windows, plus one): the place surges when the project is named. A place's name alone is no
    evidence (a district's '锦绣片区改造项目' and '锦绣花园' are two things most of the time)."""
    if not callers.windows:
        return []
    places = keys[keys["kind"].isin(PLACE_KINDS) & (keys["core"].str.len() >= 2)]
    at_place = places.groupby(["district", "core"]).indices
    projects = keys[(keys["kind"] == "project") & (keys["name"].str.len() >= 2)]
    every = {b for seen in callers.windows.values() for b in seen}
    out = []
    for project, district, name in zip(
        projects.index.tolist(), projects["district"].tolist(), projects["name"].tolist(), strict=True
    ):
        found = at_place.get((district, name))
        named_by = sum(callers.windows.get(project, {}).values())
        if found is None or named_by < CO_TIMING_CALLERS or is_generic_name(name):
            continue
        blocks = set(callers.windows[project])
        rest = every - blocks
        things = {callers.forest.find(int(p)): int(p) for p in places.index.to_numpy()[found]}
        for root, place in callers.dominant(things, project).items():
            then = callers.of_thing(root, blocks) / len(blocks)
            usual = float(np.median([callers.of_thing(root, {b}) for b in rest])) + 1.0 if rest else np.inf
            if then >= CO_TIMING * usual:
                out.append((project, place))
    return out


def _window_callers(mentions: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame | None:
    """The distinct (key position, window, category, caller) of the mentions with a caller and a window
    (`block`; category '' when the mentions have none), None without a block column."""
    if "block" not in mentions:
        return None
    known = mentions[mentions["caller"].notna() & mentions["block"].notna()]
    position = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["district", "key"]]))
    at = position.reindex(pd.MultiIndex.from_frame(known[["district", "key"]])).to_numpy()
    category = known["category"].fillna("") if "category" in known else pd.Series("", index=known.index)
    frame = pd.DataFrame(
        {
            "at": at,
            "block": known["block"].to_numpy(),
            "category": category.astype(object).to_numpy(),
            "caller": known["caller"].to_numpy(),
        }
    )
    return frame.drop_duplicates(ignore_index=True)


def place_names(districts: pd.Series, keys: pd.Series) -> tuple[str, ...]:
    """The administrative places a key may be written after, learned from the data: every district of
    the district column, and every province or city that at least two distinct keys start with, each
    also without its unit word when two or more characters are left ('临川县' and '临川', '清江市' and
    '清江'); longest first."""
    distinct = pd.Series(pd.unique(keys.astype(object)), dtype=object)
    found = distinct.str.extract(_PROVINCE_OR_CITY, expand=False).dropna()
    counted = found.value_counts()
    places = {str(d) for d in pd.unique(districts.astype(object)) if isinstance(d, str) and d}
    places |= set(counted.index[counted >= 2].tolist())
    bare = {_PLACE_UNIT.sub("", place) for place in places}
    return tuple(sorted(places | {b for b in bare if len(b) >= 2}, key=lambda p: (-len(p), p)))


def _is_name(key: str) -> bool:
    """The key still names a thing: a core of at least two characters that is neither generic nor a
    suffix itself ('花园' of '花园小区')."""
    core, suffix = split_suffix(key)
    return (
        bool(suffix)
        and len(core) >= 2
        and len(split_suffix(core)[0]) >= 2
        and core not in GENERIC_WORDS
        and not is_generic_name(core)
    )


def without_places(key: str, places: tuple[str, ...]) -> str:
    """The key without the places (`place_names`) it starts with, when a name is left ('临川绿洲征迁项目'
    -> '绿洲征迁项目'; '东湖花园' and '东湖人民医院' stay)."""
    stripped = True
    while stripped:
        stripped = False
        for place in places:
            if key.startswith(place) and _is_name(key[len(place) :]):
                key, stripped = key[len(place) :], True
                break
    return key


def _forms_of_named(keys: pd.DataFrame, forms: list[tuple[int, int]]) -> np.ndarray:
    """Per key position: it was merged as a shorter or other name of a key named by at least a
    DOMINANCE-th as many callers (a form of a thing its callers name too: never its root; a form of a
    name hardly written, '新世纪平台' of '新世纪理财平台' named by one caller of ten, may be)."""
    callers = keys["callers"].to_numpy()
    out = np.zeros(len(keys), dtype=bool)
    for form, thing in forms:
        out[form] |= bool(callers[thing] * DOMINANCE >= callers[form])
    return out


def alias_roots(mentions: pd.DataFrame) -> pd.DataFrame:
    """Per distinct (district, key): the root key of its merged thing (itself when it has no alias).
    `mentions`: district, key, kind and caller (None when unknown) of every mention, calls and cases,
    and optionally block (the window of a call's mention, missing for a case's): a short form inside
    several things is then judged by the callers of the windows it was named in (`_Callers.dominant`),
    and another name of a thing by the windows it was named in (`_Callers.variant_of`); category (the
    hotline category of a call's mention, missing or '' for a case's): only the callers of those
    windows filed under the same categories are then counted; and first (the time of a call's mention,
    missing for a case's): the root is then the form named first among those of the most precise suffix
    that are not forms of another.
    Keys are compared without the administrative places they start with (`without_places`), so the
    root may be such a key without its place."""
    if mentions.empty:
        return pd.DataFrame({"district": [], "key": [], "root": []}, dtype=object)
    places = place_names(mentions["district"], mentions["key"])
    codes, distinct = pd.factorize(mentions["key"])
    bare = np.array([without_places(k, places) for k in distinct], dtype=object)
    keys = _described(mentions.assign(key=bare[codes]))
    pairs = _candidate_pairs(keys)
    bare_mentions = mentions.assign(key=bare[codes])
    shared = _shared_callers(bare_mentions, keys, pairs)
    component, forms = _components(keys, pairs, shared, _window_callers(bare_mentions, keys))
    ranked = keys.assign(
        component=component,
        form=_forms_of_named(keys, forms),
        general=_stands_for(keys, np.arange(len(keys))),
        suffix_rank=keys["suffix"].map(_SUFFIX_RANK).fillna(len(_SUFFIX_RANK)),
        length=keys["key"].str.len(),
    )
    order = ranked.sort_values(
        [
            "component",
            "general",
            "suffix_rank",
            "form",
            "first",
            "callers",
            "mentions",
            "length",
            "key",
        ],
        ascending=[True, True, True, True, True, False, False, False, True],
        na_position="last",
        kind="stable",
    )
    root = order.drop_duplicates("component").set_index("component")["key"]
    root_of = pd.Series(
        root.reindex(component).to_numpy(dtype=object),
        index=pd.MultiIndex.from_frame(keys[["district", "key"]]),
    )
    written = mentions[["district", "key"]].drop_duplicates().sort_values(["district", "key"])
    as_compared = pd.MultiIndex.from_arrays(
        [written["district"], pd.Series(bare[pd.Index(distinct).get_indexer(written["key"])])]
    )
    return pd.DataFrame(
        {
            "district": written["district"].to_numpy(dtype=object),
            "key": written["key"].to_numpy(dtype=object),
            "root": root_of.reindex(as_compared).to_numpy(dtype=object),
        }
    )
