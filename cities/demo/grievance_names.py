"""How callers name a grievance's thing, as on a real message board: short forms, places before it,
building numbers after it, miswritten characters, or no name at all (only what is wrong)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cities.demo.config import SimulationConfig
from cities.demo.formats import amount_text
from cities.demo.grievance_scenarios import Scenario
from cities.demo.places import CITY, DISTRICTS, ENTITY_SUFFIXES, Places
from cities.demo.templates import render

# How callers name a grievance's thing, given that they name it other than by its full name: a short
# form (its word with one of the endings below, or without the first character of a long word) with
# _SHORT_SHARE, a property word before an estate with _PROPERTY_SHARE, a building, unit or room number
# after it with _UNIT_SHARE (in full-width digits with _FULL_WIDTH_SHARE), a place before it with
# _PLACE_SHARE; a short form when none of these applies.
_SHORT_ENDINGS: dict[str, tuple[str, ...]] = {
    "建筑工程有限公司": ("建筑公司", "建筑", "建工", "公司", "工程公司"),
    "服装厂": ("服装", "厂", "制衣厂", "服装公司"),
    "电子科技有限公司": ("电子", "科技", "电子公司", "科技公司", "电子厂"),
    "物流有限公司": ("物流", "物流公司"),
    "食品有限公司": ("食品", "食品厂", "食品公司"),
    "家具厂": ("家具", "厂", "家具公司"),
    "装饰工程有限公司": ("装饰", "装饰公司", "装修公司"),
    "机械制造有限公司": ("机械", "机械厂", "机械公司"),
    "花园": ("", "小区"),
    "小区": ("",),
    "家园": ("", "小区"),
    "苑": ("小区", "苑小区"),
    "新村": ("", "小区"),
    "公寓": ("", "小区"),
    "片区棚户区改造项目": ("棚改项目", "片区棚改", "棚改", "片区改造项目"),
    "高速公路征迁项目": ("高速征迁", "高速项目", "征迁项目", "高速公路项目"),
    "工业园区征地项目": ("工业园征地", "工业园", "征地项目", "园区项目"),
    "旧城改造项目": ("旧改项目", "旧改", "改造项目"),
    "职业技术学院": ("职院", "职业学院", "技术学院", "职校"),
    "网贷平台": ("网贷", "平台", "理财平台", "APP"),
    "金融APP": ("金融", "金融app", "金融平台", "APP"),
    "路改造工程": ("路", "路施工", "路工地", "路改造"),
    "大道拓宽工程": ("大道", "大道施工", "大道工地"),
    "地铁站项目": ("地铁站", "站工地", "地铁站施工"),
}
_UNITS: dict[str, tuple[str, ...]] = {
    "estate": ("{a}幢{b}单元", "{a}栋", "{a}号楼", "{a}栋{b}单元{c}室", "二期", "{a}幢"),
    "company": ("{a}号厂房", "二车间", "{a}号车间", "宿舍"),
    "project": ("{a}标段", "工地", "二期"),
    "works": ("{a}标段", "工地"),
}
_PROPERTY_WORDS = ("商品房", "安置房", "还建房")
_PROVINCE = "江南省"
_SHORT_SHARE, _PROPERTY_SHARE, _UNIT_SHARE, _FULL_WIDTH_SHARE, _PLACE_SHARE = 0.5, 0.25, 0.3, 0.3, 0.4
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# A character of a name and one a caller (or the operator typing the call) writes for it by mistake: a
# homophone or a near form.
_MISWRITTEN = dict(
    zip(
        "宏达鑫源华联永盛金鹰恒泰东方新世纪锦绣翠苑富康兴旺长青明珠阳光天成瑞丰嘉禾福临远大顺发乐桥绿洲星河湖园",
        "洪大新原化连勇胜今英衡太冬芳欣市记金秀萃院福慷星望常清鸣株杨广添城睿峰佳和富林源达舜法勒乔禄州兴和胡元",
        strict=True,
    )
)


@dataclass(frozen=True)
class Naming:
    """A grievance's thing and what callers may write for it."""

    full: str
    word: str  # the distinctive part before the suffix
    suffix: str
    kind: str
    places: tuple[str, ...]  # places written before it (province, city, district, town ...)


def thing_naming(thing: str, scenario: Scenario, district: int, town: int, places: Places) -> Naming:
    """How the grievance's thing is built (its word and suffix) and the places that may precede it."""
    suffixes = sorted((*ENTITY_SUFFIXES.get(scenario.entity, ()), *scenario.names), key=len, reverse=True)
    suffix = next((x for x in suffixes if thing.endswith(x) and len(thing) > len(x)), "")
    d, t = DISTRICTS[district].name, str(places.town_names[town])
    where = (_PROVINCE + CITY, CITY, d, d[:-1], t, CITY + d, d + t, _PROVINCE + CITY + d + t)
    return Naming(thing, thing[: len(thing) - len(suffix)], suffix, scenario.entity, where)


def _short_forms(naming: Naming) -> tuple[str, ...]:
    """The thing's short forms: its word with a shorter ending, or a long word without its first
    character."""
    forms = [naming.word + e for e in _SHORT_ENDINGS.get(naming.suffix, ("",))]
    if len(naming.word) >= 3:
        forms.append(naming.word[1:] + naming.suffix)
    return tuple(dict.fromkeys(f for f in forms if f != naming.full))


def _unit(rng: np.random.Generator, kind: str) -> str:
    """A building, unit, room, workshop or section number written after the thing."""
    options = _UNITS[kind]
    text = options[int(rng.integers(len(options)))].format(
        a=int(rng.integers(1, 31)), b=int(rng.integers(1, 7)), c=int(rng.integers(101, 2_601))
    )
    return text.translate(_FULL_WIDTH) if rng.random() < _FULL_WIDTH_SHARE else text


def _varied_name(rng: np.random.Generator, naming: Naming) -> str:
    """One way of naming the thing other than its full name (see _SHORT_ENDINGS)."""
    short = _short_forms(naming)
    name = short[int(rng.integers(len(short)))] if rng.random() < _SHORT_SHARE else naming.full
    if naming.kind == "estate" and rng.random() < _PROPERTY_SHARE:
        name = _PROPERTY_WORDS[int(rng.integers(len(_PROPERTY_WORDS)))] + name
    if naming.kind in _UNITS and rng.random() < _UNIT_SHARE:
        name += _unit(rng, naming.kind)
    if rng.random() < _PLACE_SHARE:
        name = naming.places[int(rng.integers(len(naming.places)))] + name
    return name if name != naming.full else short[int(rng.integers(len(short)))]


def _miswritten(rng: np.random.Generator, name: str) -> str:
    """The name with one of its characters written as a homophone or near form (unchanged when none has
    one)."""
    positions = [i for i, c in enumerate(name) if c in _MISWRITTEN]
    if not positions:
        return name
    i = positions[int(rng.integers(len(positions)))]
    return name[:i] + _MISWRITTEN[name[i]] + name[i + 1 :]


def call_names(rng: np.random.Generator, naming: Naming, n: int, config: SimulationConfig) -> np.ndarray:
    """Per call of a grievance, how it names the thing: by its full name, another way (with
    config.grievance_name_variety), with a character miswritten (config.grievance_typo_rate), or not at
    all (None, with config.grievance_topic_only)."""
    topic_only = rng.random(n) < config.grievance_topic_only
    varied = rng.random(n) < config.grievance_name_variety
    typo = rng.random(n) < config.grievance_typo_rate
    out = np.full(n, naming.full, dtype=object)
    for i in np.flatnonzero(varied).tolist():
        out[i] = _varied_name(rng, naming)
    for i in np.flatnonzero(typo).tolist():
        out[i] = _miswritten(rng, out[i])
    out[topic_only] = None
    return out


def topic_texts(rng: np.random.Generator, scenario: Scenario, names: np.ndarray) -> np.ndarray:
    """What the calls naming no thing (names None) say instead: the issue in their own words."""
    rows = np.flatnonzero(pd.isna(names))
    out = np.full(len(names), None, dtype=object)
    if rows.size:
        amounts = amount_text(np.round(rng.uniform(0.3, 1.5, rows.size) * scenario.per_party / 100) * 100)
        out[rows] = render(
            scenario.topics,
            rng.integers(0, len(scenario.topics), rows.size),
            {"amount": amounts, "months": rng.integers(2, 7, rows.size)},
        )
    return out
