"""The demo city's geography: districts and towns, the named companies, estates, villages ... of each town,
mediators, and reporters' addresses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cities.demo.categories import profile_array
from cities.demo.draws import choose, choose_rows
from cities.demo.people import draw_names


def _words(text: str) -> tuple[str, ...]:
    """A tuple of the space-separated words of text (compact literal lists)."""
    return tuple(text.split())


@dataclass(frozen=True)
class District:
    name: str
    weight: float
    kind: str  # urban | industrial | rural
    towns: tuple[str, ...]


CITY = "清江市"
DISTRICTS: tuple[District, ...] = (
    District("东湖区", 0.21, "urban", ("东湖街道", "湖滨街道", "新桥街道", "梅园街道", "滨江街道")),
    District("江北区", 0.17, "urban", ("江北街道", "望江街道", "柳林街道", "北城街道")),
    District("南城区", 0.14, "urban", ("南门街道", "文昌街道", "桂花街道", "高新街道")),
    District("河口区", 0.13, "industrial", ("河口街道", "临港街道", "工业园街道", "沙洲镇")),
    District("青山县", 0.13, "rural", ("城关街道", "青山镇", "石门镇", "白沙镇", "竹林镇", "凤岭镇")),
    District("临川县", 0.12, "rural", ("临川镇", "马坪镇", "双河镇")),
    District("云溪县", 0.10, "rural", ("云溪镇", "黄土岭镇", "清水镇", "金鸡镇")),
)


WORDS = _words(
    "宏达 鑫源 华联 永盛 金鹰 恒泰 东方 新世纪 锦绣 翠苑 富康 兴旺 长青 "
    "明珠 阳光 盛世 天成 瑞丰 嘉禾 福临 远大 顺发 康乐 金桥 绿洲 星河"
)
ENTITY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "company": (
        "建筑工程有限公司",
        "服装厂",
        "电子科技有限公司",
        "物流有限公司",
        "食品有限公司",
        "家具厂",
        "装饰工程有限公司",
        "机械制造有限公司",
    ),
    "estate": ("花园", "小区", "家园", "苑", "新村", "公寓"),
    "village": ("村",),
    "project": ("片区棚户区改造项目", "高速公路征迁项目", "工业园区征地项目", "旧城改造项目"),
    "store": ("超市", "家电城", "健身会所", "教育培训中心", "汽车4S店", "装修公司"),
    "road": ("路", "大道", "路口"),
}


@dataclass(frozen=True)
class Places:
    """Towns of the city and the named entities (companies, estates, ...) in each."""

    town_names: np.ndarray  # global town index -> name
    town_district: np.ndarray  # global town index -> district index
    town_weight: np.ndarray  # within-district weight
    entities: dict[str, list[np.ndarray]]  # kind -> per town, names
    mediators: list[np.ndarray]  # per town, mediator names


def draw_places(rng: np.random.Generator) -> Places:
    """The towns of the city with pools of named companies, estates, villages... per town."""
    names, districts, weights = [], [], []
    for d, district in enumerate(DISTRICTS):
        for rank, town in enumerate(district.towns):
            names.append(town)
            districts.append(d)
            weights.append(1.0 / np.sqrt(rank + 1.0))
    n_towns = len(names)
    entities: dict[str, list[np.ndarray]] = {kind: [] for kind in ENTITY_SUFFIXES}
    for _ in range(n_towns):
        for kind, suffixes in ENTITY_SUFFIXES.items():
            size = int(rng.integers(3, 9))
            words, ends = choose(rng, WORDS, size), choose(rng, suffixes, size)
            entities[kind].append(np.unique(words + ends))
    district_names = np.array([DISTRICTS[d].name for d in districts], dtype=object)
    town_arr = np.array(names, dtype=object)
    entities["hospital"] = [
        np.array(
            [district_names[t][:-1] + "人民医院", town_arr[t][:-2] + "卫生院", town_arr[t][:-2] + "中医院"],
            dtype=object,
        )
        for t in range(n_towns)
    ]
    mediators = [draw_names(rng, 3) for _ in range(n_towns)]
    return Places(town_arr, np.array(districts), np.array(weights), entities, mediators)


def draw_towns(rng: np.random.Generator, district: np.ndarray, places: Places) -> np.ndarray:
    """A town of its district for each row, weighted by town size."""
    probs = np.where(
        places.town_district[None, :] == np.arange(len(DISTRICTS))[:, None], places.town_weight, 0
    )
    return choose_rows(rng, probs[district])


def pick_in_town(rng: np.random.Generator, pools: list[np.ndarray], town: np.ndarray) -> np.ndarray:
    """One name from each row's town pool."""
    u = rng.random(len(town))
    return np.array(
        [pools[t][int(x * len(pools[t]))] for t, x in zip(town.tolist(), u.tolist(), strict=True)],
        dtype=object,
    )


def draw_addresses(
    rng: np.random.Generator,
    district: np.ndarray,
    town: np.ndarray,
    entity: np.ndarray,
    category: np.ndarray,
    places: Places,
) -> np.ndarray:
    """Reporters' addresses: estate flats in urban districts, village groups in rural ones."""
    n = len(district)
    rural = np.array([DISTRICTS[d].kind == "rural" for d in district])
    kinds = profile_array("entity")[category]
    home = np.where(
        rural,
        pick_in_town(rng, places.entities["village"], town),
        pick_in_town(rng, places.entities["estate"], town),
    )
    home = np.where((kinds == "estate") | (kinds == "village"), entity, home)
    a, b, c = rng.integers(1, 30, n), rng.integers(1, 7, n), rng.integers(101, 2_600, n)
    city = np.where(rng.random(n) < 0.5, CITY, "")
    district_names = np.array([d.name for d in DISTRICTS], dtype=object)[district]
    town_names = places.town_names[town]
    return np.array(
        [
            f"{ci}{dn}{tn}{h}{x}组{z % 100 + 1}号" if r else f"{ci}{dn}{tn}{h}{x}栋{y}单元{z}室"
            for ci, dn, tn, h, x, y, z, r in zip(
                city, district_names, town_names, home, a, b, c, rural, strict=True
            )
        ],
        dtype=object,
    )
