"""The dispute categories of the demo city: shares, money at stake, parties, the kind of thing each is about,
hidden tension and escalation leanings, hotline labels; district kinds' multipliers and sources."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.vocabulary import CATEGORIES


@dataclass(frozen=True)
class Category:
    share: float
    amount_median: float
    amount_sigma: float
    amount_missing: float
    crowd: bool  # heavy-tailed party_count
    entity: str  # company | estate | village | project | hospital | road | store | none
    tension: float
    violence: float  # log-hazard offsets of the escalation types
    group: float
    litigation: float
    hotline_labels: tuple[str, ...]


CATEGORY_PROFILES: dict[str, Category] = {
    "邻里纠纷": Category(
        0.26, 2_000, 1.2, 0.55, False, "estate", 0.1, 0.9, -3.0, -1.0, ("城市管理", "邻里矛盾")
    ),
    "婚姻家庭": Category(
        0.20, 50_000, 1.4, 0.55, False, "none", 0.1, 0.9, -3.5, 0.0, ("家庭纠纷", "妇女儿童")
    ),
    "劳资纠纷": Category(0.11, 30_000, 0.9, 0.20, True, "company", 0.2, -1.0, 0.6, 0.0, ("劳动保障", "欠薪")),
    "土地山林": Category(
        0.07, 20_000, 1.1, 0.35, False, "village", 0.2, 0.3, -0.8, -0.8, ("农业农村", "自然资源")
    ),
    "征地拆迁": Category(
        0.04, 200_000, 1.2, 0.25, True, "project", 0.4, 0.0, 0.8, -0.3, ("征地拆迁", "住房城乡建设")
    ),
    "物业纠纷": Category(
        0.08, 3_000, 1.0, 0.30, True, "estate", 0.0, -1.2, -0.2, -0.8, ("物业管理", "住房城乡建设")
    ),
    "消费纠纷": Category(
        0.07, 5_000, 1.1, 0.25, False, "store", -0.2, -2.0, -1.5, -0.2, ("市场监管", "消费维权")
    ),
    "医疗纠纷": Category(0.03, 80_000, 1.0, 0.30, False, "hospital", 0.3, -0.3, -1.5, 0.6, ("卫生健康",)),
    "交通事故": Category(
        0.06, 30_000, 1.0, 0.25, False, "road", 0.0, -1.5, -3.5, 0.7, ("交通运输", "公安交管")
    ),
    "其他": Category(0.08, 10_000, 1.3, 0.40, False, "none", -0.1, -0.8, -2.5, 0.0, ("其他", "咨询")),
}
KIND_MULTIPLIERS: dict[str, dict[str, float]] = {
    "urban": {"土地山林": 0.15, "征地拆迁": 0.6, "物业纠纷": 1.7, "消费纠纷": 1.4, "医疗纠纷": 1.3},
    "industrial": {"劳资纠纷": 2.2, "土地山林": 0.4, "物业纠纷": 0.8},
    "rural": {"土地山林": 2.4, "征地拆迁": 1.6, "物业纠纷": 0.25, "消费纠纷": 0.6, "劳资纠纷": 0.8},
}
SOURCE_SHARES = np.array([0.24, 0.14, 0.26, 0.05, 0.16, 0.15])  # in SOURCES order
SOURCE_OVERRIDES: dict[str, np.ndarray] = {
    "交通事故": np.array([0.10, 0.55, 0.10, 0.10, 0.10, 0.05]),
    "婚姻家庭": np.array([0.15, 0.10, 0.30, 0.05, 0.30, 0.10]),
    "医疗纠纷": np.array([0.25, 0.05, 0.35, 0.10, 0.20, 0.05]),
}


def profile_array(attribute: str) -> np.ndarray:
    """One attribute of every category profile, in CATEGORIES order."""
    return np.array([getattr(CATEGORY_PROFILES[c], attribute) for c in CATEGORIES])
