"""Keys of the emerging grievances: one key for a thing however callers write it, and no key for words
that name no particular thing (the words: `features.grievance_words`; keys in common use:
`features.grievance_generic_keys`; one thing's keys merged: `features.grievance_aliases`).

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
- `place_names`, `without_places`: the administrative places a key may be written after, learned from
  the data, and a key without them (for `features.grievance_aliases` to compare keys by).

Pure functions on Series and DataFrames; loops run over distinct keys, never over records.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from contracts.trade_words import TRADE_WORDS
from features.grievance_words import (
    ABBREVIATED_SUFFIXES,
    DESCRIPTORS,
    INSTITUTION_WORDS,
    NEUTRAL_TRADE_WORDS,
    PLATFORM,
    TRADE_FAMILIES,
)
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
_DESCRIPTOR = re.compile("^(?:" + "|".join(sorted(DESCRIPTORS, key=len, reverse=True)) + ")")
_ORGANISATIONS = ("company", "project", "platform", "business")  # kinds whose name may be a trade only
# Kinds whose names are a trade name followed by words of their trade or institution ("鑫源" + "建筑工程"),
# so that a short form keeps the trade name and fewer of those words ("鑫源公司", "鑫源工程公司").
TRADE_NAMED_KINDS = (*_ORGANISATIONS, "school", "hospital")
_TRADE = re.compile("(?:" + "|".join(sorted(TRADE_WORDS, key=len, reverse=True)) + ")+")
_TRAILING_GENERIC = re.compile(
    "(?:" + "|".join(sorted((*TRADE_WORDS, *INSTITUTION_WORDS), key=len, reverse=True)) + ")+$"
)
_GENERIC_NAME = re.compile(
    "(?:" + "|".join(sorted((*TRADE_WORDS, *INSTITUTION_WORDS), key=len, reverse=True)) + ")+"
)
_TRADE_WORD = re.compile(
    "|".join(sorted(dict.fromkeys((*TRADE_WORDS, *INSTITUTION_WORDS)), key=len, reverse=True))
)
_FAMILY_OF = {word: family[0] for family in TRADE_FAMILIES for word in family}
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
    thing_codes, distinct_things = pd.factorize(things.to_numpy(dtype=object), use_na_sentinel=False)
    kind_codes, distinct_kinds = pd.factorize(kinds.to_numpy(dtype=object), use_na_sentinel=False)
    width = max(len(distinct_kinds), 1)
    codes, pairs = pd.factorize(thing_codes.astype(np.int64) * width + kind_codes)
    done = pd.DataFrame(
        [normalise_key(distinct_things[p // width], distinct_kinds[p % width]) for p in pairs],
        columns=["key", "kind"],
    )
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


# ---------------------------------------------------------------- names and places within keys


def trade_name(core: str) -> tuple[str, str]:
    """(trade name, trade words) of an organisation's core: what comes before the trade and institution
    words it ends with ('鑫源建筑工程' -> ('鑫源', '建筑工程'))."""
    found = _TRAILING_GENERIC.search(core)
    return (core[: found.start()], core[found.start() :]) if found else (core, "")


def trade_families(trade: str) -> frozenset[str]:
    """The trades the trade words of a name say (`trade_name`'s second part), each word read as its
    family (TRADE_FAMILIES: '装修' and '装饰' are one trade), words said of any trade left out
    (NEUTRAL_TRADE_WORDS): '装饰工程' and '装修' -> {'装饰'}; '物业' -> {'物业'}; '' -> {}."""
    words = _TRADE_WORD.findall(trade)
    return frozenset(_FAMILY_OF.get(w, w) for w in words if w not in NEUTRAL_TRADE_WORDS)


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
